//! Building and running command-api: bind first (port 0 in tests), then serve until SIGTERM,
//! then drain requests, stop the relay and flush the producer.

use std::time::Duration;

use actix_web::{dev::Server, web};
use platform::{
    server::{self, Scaffold, ServerOptions},
    signing_keys::SigningKeys,
    token::{TokenIssuer, TokenVerifier},
};
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    auth::password,
    housekeeping,
    relay::{Relay, RelayOptions},
    request::FingerprintKey,
    routes::{self, openapi},
    service_roles::{self, RolePasswords},
    settings::Settings,
    state::AppState,
};

pub struct Application {
    port: u16,
    admin_port: u16,
    /// The public API, then the admin listener: stopped in that order.
    servers: Vec<Server>,
    relay: Option<(watch::Sender<bool>, JoinHandle<()>)>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// Applies the write-side migrations on a dedicated connection, then grants the service roles
/// that exist their rights again, so a role created after the migrations that grant to it has
/// them all the same (`store::migrations::run_and_grant_service_roles`). With `role_passwords`
/// (`command-api migrate` on a managed database), first creates the missing service roles and
/// sets their passwords (`service_roles`).
pub async fn migrate(
    settings: &platform::db::DbSettings,
    role_passwords: Option<&RolePasswords>,
) -> anyhow::Result<usize> {
    let (mut client, connection) = platform::db::connect_dedicated(&settings.target()?).await?;
    let driver = tokio::spawn(connection);
    let applied = async {
        if let Some(passwords) = role_passwords {
            service_roles::provision(&client, passwords).await?;
        }
        anyhow::Ok(store::migrations::run_and_grant_service_roles(&mut client).await?)
    }
    .await;
    drop(client);
    let _ = driver.await;
    applied
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        platform::prometheus::install();
        crate::metrics::describe();
        if settings.migrate_on_start {
            let applied = migrate(&settings.database, None).await?;
            tracing::info!(applied, "migrations applied");
        }
        password::bound_queue(settings.hash_queue);
        let pool = settings.database.pool()?;
        let keyring = settings.keyring()?;
        if let Some((email, password)) = &settings.bootstrap_admin {
            crate::bootstrap::ensure_admin(&pool, email, password, &keyring).await?;
        }
        let signing_keys = SigningKeys::from_pem_bundle(&settings.signing_keys)?;
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            tokens: TokenIssuer::new(&signing_keys, settings.token_ttl)?,
            session_lifetimes: settings.session_lifetimes,
            auth_limits: settings.auth_limits,
            trusted_proxy_hops: settings.trusted_proxy_hops,
            read_api_url: settings.read_api_url.clone(),
            decoy_hash: password::decoy_hash().await?,
            broker_probe: kafka::probe::BrokerProbe::new(&settings.kafka)?,
            keyring,
        });
        let jwks = web::Data::new(signing_keys.jwks());
        let verifier = web::Data::new(TokenVerifier::new(&jwks)?);
        let fingerprint_key = web::Data::new(FingerprintKey::new(
            settings.fingerprint_key.as_ref(),
            &signing_keys,
        ));
        let body_limit = settings.body_limit_bytes;
        let (listener, port) = server::bind(&settings.host, settings.port)?;
        let options = ServerOptions {
            workers: settings.workers,
            shutdown_timeout: settings.shutdown_timeout,
            cors_origins: settings.cors_origins.clone(),
        };
        let scaffold = Scaffold {
            openapi: Some(openapi::document()),
            pool: pool.clone(),
            serves_metrics: false,
        };
        let public_state = state.clone();
        let server = server::serve(listener, &options, scaffold, move |config| {
            config
                .app_data(public_state.clone())
                .app_data(verifier.clone())
                .app_data(jwks.clone())
                .app_data(fingerprint_key.clone())
                .app_data(web::PayloadConfig::new(body_limit))
                .configure(routes::configure);
        })?;
        let (admin, admin_port) = server::serve_admin(
            &settings.admin_host,
            settings.admin_port,
            settings.shutdown_timeout,
            pool.clone(),
            move |config| {
                config
                    .app_data(state.clone())
                    .configure(routes::configure_admin);
            },
        )?;

        housekeeping::spawn(&pool);
        let relay = if settings.relay_enabled {
            let options = RelayOptions {
                batch_size: settings.relay_batch_size,
                ..RelayOptions::default()
            };
            let relay = Relay::new(pool, settings.database.target()?, settings.kafka, options)?;
            let (stop, stopped) = watch::channel(false);
            Some((stop, tokio::spawn(relay.run(stopped))))
        } else {
            None
        };
        Ok(Self {
            port,
            admin_port,
            servers: vec![server, admin],
            relay,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The admin listener's port (`/metrics`, readiness).
    pub fn admin_port(&self) -> u16 {
        self.admin_port
    }

    /// Serves until SIGINT/SIGTERM, then stops accepting, lets in-flight requests finish,
    /// stops the relay and flushes the producer.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        server::until_stopped(self.servers).await?;
        if let Some((stop, task)) = self.relay {
            let _ = stop.send(true);
            let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
        }
        tracing::info!("command-api stopped");
        Ok(())
    }
}
