//! Building and running query-api: bind first, serve until SIGTERM, drain in-flight requests.

use std::{net::TcpListener, time::Duration};

use actix_web::{App, HttpServer, dev::Server, middleware, web};
use anyhow::Context;
use deadpool_postgres::Pool;
use platform::token::TokenKeys;

use crate::{
    consistency,
    listing_cache::ListingCache,
    read_model::ActiveSchema,
    routes::{audit, categories, health, openapi, products, users},
    settings::Settings,
};

/// Only verifies tokens; the lifetime is command-api's business (it is in the token).
const UNUSED_TOKEN_TTL: Duration = Duration::from_secs(900);

#[derive(Debug)]
pub struct AppState {
    pub pool: Pool,
    /// The read schema in use, following `read_meta.active`.
    pub schema: ActiveSchema,
    /// Bound of a `Consistency-Token` wait.
    pub consistency_wait: Duration,
    /// Recent listing pages, reused for identical requests.
    pub listings: ListingCache,
}

pub struct Application {
    port: u16,
    server: Server,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let prometheus = web::Data::new(platform::prometheus::install());
        platform::pool_metrics::describe();
        let state = web::Data::new(AppState {
            pool: settings.database.pool()?,
            schema: ActiveSchema::new(settings.schema_cache),
            consistency_wait: settings.consistency_wait,
            listings: ListingCache::new(settings.listing_cache),
        });
        let keys = web::Data::new(TokenKeys::new(&settings.jwt_secret, UNUSED_TOKEN_TTL));
        let listener = TcpListener::bind((settings.host.as_str(), settings.port))
            .with_context(|| format!("binding {}:{}", settings.host, settings.port))?;
        let port = listener.local_addr()?.port();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(middleware::from_fn(platform::http_metrics::record))
                // Outermost, so everything below (metrics, extractors, handlers) logs inside it.
                .wrap(middleware::from_fn(platform::request_span::instrument))
                .app_data(state.clone())
                .app_data(keys.clone())
                .app_data(prometheus.clone())
                .configure(platform::problem::extractor_configs)
                .route("/health/live", web::get().to(health::live))
                .route("/health/ready", web::get().to(health::ready))
                .route("/metrics", web::get().to(health::metrics))
                .route("/openapi.json", web::get().to(openapi::document))
                .service(
                    web::scope("/v1")
                        .wrap(middleware::from_fn(consistency::read_your_writes))
                        .route("/products", web::get().to(products::list))
                        .route("/products/{id}", web::get().to(products::detail))
                        .route("/categories", web::get().to(categories::list))
                        .route("/users/me", web::get().to(users::me))
                        .route(
                            "/audit/products/{id}/events",
                            web::get().to(audit::product_events),
                        )
                        .route(
                            "/audit/products/{id}/state",
                            web::get().to(audit::product_state),
                        )
                        .route(
                            "/audit/users/{id}/events",
                            web::get().to(audit::user_events),
                        ),
                )
                .default_service(web::to(platform::problem::not_found))
        })
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout.as_secs());
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        Ok(Self {
            port,
            server: server.run(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, then stops accepting and lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        platform::serve::until_stopped(self.server).await?;
        tracing::info!("query-api stopped");
        Ok(())
    }
}
