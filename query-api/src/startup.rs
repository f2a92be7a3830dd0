//! Building and running query-api: bind first, serve until SIGTERM, drain in-flight requests.

use actix_web::{dev::Server, middleware::from_fn, web};
use platform::{
    server::{self, Scaffold, ServerOptions},
    token::TokenVerifier,
};

use crate::{
    consistency::{self, waiter::Waiter},
    listing::{cache::ListingCache, common_terms::CommonTerms},
    read_conn::ActiveSchema,
    routes::{audit, categories, health, openapi, products, users},
    settings::Settings,
    state::{AppState, FreshnessBound},
};

pub struct Application {
    port: u16,
    admin_port: u16,
    /// The public API, then the admin listener: stopped in that order.
    servers: Vec<Server>,
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
        platform::prometheus::install();
        crate::metrics::describe();
        let pool = settings.database.pool()?;
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            schema: ActiveSchema::new(settings.schema_cache),
            consistency_wait: settings.consistency_wait,
            consistency: Waiter::new(settings.max_consistency_waiters),
            listings: ListingCache::new(settings.listing_cache),
            common_terms: CommonTerms::default(),
            freshness: FreshnessBound {
                max_lag: settings.max_projection_lag,
                unready_when_stale: settings.unready_when_stale,
            },
        });
        tokio::spawn(consistency::serve_waiters(
            state.clone(),
            settings.database.target()?,
        ));
        let verifier = web::Data::new(TokenVerifier::new(&settings.jwks)?);
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
        let admin_state = state.clone();
        let (admin, admin_port) = server::serve_admin(
            &settings.admin_host,
            settings.admin_port,
            settings.shutdown_timeout,
            pool,
            move |config| {
                config
                    .app_data(admin_state.clone())
                    .route("/health/ready", web::get().to(health::ready_details));
            },
        )?;
        let server = server::serve(listener, &options, scaffold, move |config| {
            config
                .app_data(state.clone())
                .app_data(verifier.clone())
                .route("/health/ready", web::get().to(health::ready))
                .service(
                    web::scope("/v1")
                        .wrap(from_fn(consistency::read_your_writes))
                        .route("/products", web::get().to(products::list))
                        .route("/products/{id}", web::get().to(products::detail))
                        .route("/categories", web::get().to(categories::list))
                        .route("/users/me", web::get().to(users::me))
                        .route("/users/{id}", web::get().to(users::by_id))
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
                );
        })?;
        Ok(Self {
            port,
            admin_port,
            servers: vec![server, admin],
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The admin listener's port (`/metrics`, readiness).
    pub fn admin_port(&self) -> u16 {
        self.admin_port
    }

    /// Serves until SIGINT/SIGTERM, then stops accepting and lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        server::until_stopped(self.servers).await?;
        tracing::info!("query-api stopped");
        Ok(())
    }
}
