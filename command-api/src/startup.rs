//! Building and running command-api: bind first (port 0 in tests), then serve until SIGTERM,
//! then drain requests, stop the relay and flush the producer.

use std::{net::TcpListener, time::Duration};

use actix_web::{App, HttpServer, dev::Server, middleware, web};
use anyhow::Context;
use deadpool_postgres::Pool;
use kafka::relay::{Relay, RelayOptions};
use tokio::{sync::watch, task::JoinHandle};

use platform::token::TokenKeys;

use crate::{
    auth::password,
    routes::{health, openapi, products, sessions, users},
    settings::Settings,
};

/// Shared by every request handler.
pub struct AppState {
    pub pool: Pool,
    pub tokens: TokenKeys,
    pub login_throttle: crate::settings::LoginThrottle,
    /// Verified against when an email is unknown, so sign-in timing reveals nothing.
    pub decoy_hash: String,
    /// A metadata-only client for the readiness check.
    pub broker_probe: kafka::probe::BrokerProbe,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

pub struct Application {
    port: u16,
    server: Server,
    relay: Option<(watch::Sender<bool>, JoinHandle<()>)>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// Applies the write-side migrations on a dedicated connection.
pub async fn migrate(settings: &platform::db::DbSettings) -> anyhow::Result<usize> {
    let (mut client, connection) = platform::db::connect_dedicated(&settings.pg_config()?).await?;
    let driver = tokio::spawn(connection);
    let applied = store::migrations::run(&mut client)
        .await
        .context("migrating the event store")?;
    drop(client);
    let _ = driver.await;
    Ok(applied)
}

/// Deletes idempotency records past their 24 hours, hourly. Every replica may run it: the
/// DELETE is idempotent and cheap on the `created_at` index.
async fn purge_idempotency_keys(pool: Pool) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        let purged = match pool.get().await {
            Ok(client) => store::idempotency::purge_expired(&**client)
                .await
                .map_err(anyhow::Error::from),
            Err(e) => Err(e.into()),
        };
        match purged {
            Ok(count) if count > 0 => tracing::info!(count, "purged expired idempotency keys"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = format!("{e:#}"), "purging idempotency keys failed"),
        }
    }
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let prometheus = platform::prometheus::install();
        crate::metrics::describe();
        if settings.migrate_on_start {
            let applied = migrate(&settings.database).await?;
            tracing::info!(applied, "migrations applied");
        }
        let pool = settings.database.pool()?;
        if let Some((email, password)) = &settings.bootstrap_admin {
            crate::bootstrap::ensure_admin(&pool, email, password).await?;
        }
        let broker_probe = kafka::probe::BrokerProbe::new(&settings.kafka)?;
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            tokens: TokenKeys::new(&settings.jwt_secret, settings.token_ttl),
            login_throttle: settings.login_throttle,
            decoy_hash: password::decoy_hash().await?,
            broker_probe,
        });
        let tokens = web::Data::new(TokenKeys::new(&settings.jwt_secret, settings.token_ttl));
        let prometheus = web::Data::new(prometheus);
        let body_limit = settings.body_limit_bytes;

        let listener = TcpListener::bind((settings.host.as_str(), settings.port))
            .with_context(|| format!("binding {}:{}", settings.host, settings.port))?;
        let port = listener.local_addr()?.port();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(middleware::from_fn(platform::http_metrics::record))
                // Outermost, so everything below (metrics, extractors, handlers) logs inside it.
                .wrap(middleware::from_fn(platform::request_span::instrument))
                .app_data(state.clone())
                .app_data(tokens.clone())
                .app_data(prometheus.clone())
                .app_data(web::PayloadConfig::new(body_limit))
                .configure(platform::problem::extractor_configs)
                .route("/health/live", web::get().to(health::live))
                .route("/health/ready", web::get().to(health::ready))
                .route("/metrics", web::get().to(health::metrics))
                .route("/openapi.json", web::get().to(openapi::document))
                .service(
                    web::scope("/v1")
                        .route("/users", web::post().to(users::register))
                        .route("/users/{id}", web::patch().to(users::update))
                        .route("/users/{id}", web::delete().to(users::deactivate))
                        .route("/users/{id}/role", web::put().to(users::assign_role))
                        .route("/sessions", web::post().to(sessions::sign_in))
                        .route("/products", web::post().to(products::create))
                        .route("/products/{id}", web::patch().to(products::update_details))
                        .route("/products/{id}", web::delete().to(products::archive))
                        .route(
                            "/products/{id}/price",
                            web::put().to(products::change_price),
                        )
                        .route(
                            "/products/{id}/stock-adjustments",
                            web::post().to(products::adjust_stock),
                        )
                        .route("/products/{id}/publish", web::post().to(products::publish))
                        .route(
                            "/products/{id}/unpublish",
                            web::post().to(products::unpublish),
                        ),
                )
                .default_service(web::to(platform::problem::not_found))
        })
        .listen(listener)?
        // Our own signal handling below decides the order: HTTP first, then the relay.
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout.as_secs());
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        let server = server.run();

        tokio::spawn(purge_idempotency_keys(pool.clone()));
        let relay = if settings.relay_enabled {
            let options = RelayOptions {
                batch_size: settings.relay_batch_size,
                ..RelayOptions::default()
            };
            let relay = Relay::new(
                pool,
                settings.database.pg_config()?,
                settings.kafka,
                options,
            )?;
            let (stop, stopped) = watch::channel(false);
            Some((stop, tokio::spawn(relay.run(stopped))))
        } else {
            None
        };
        Ok(Self {
            port,
            server,
            relay,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, then stops accepting, lets in-flight requests finish,
    /// stops the relay and flushes the producer.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        platform::serve::until_stopped(self.server).await?;
        if let Some((stop, task)) = self.relay {
            let _ = stop.send(true);
            let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
        }
        tracing::info!("command-api stopped");
        Ok(())
    }
}
