//! Building and running query-api: bind first, serve until SIGTERM, drain in-flight requests.

use std::net::TcpListener;

use actix_web::{App, HttpServer, dev::Server, middleware, web};
use anyhow::Context;
use deadpool_postgres::Pool;

use crate::{routes::health, settings::Settings};

#[derive(Debug)]
pub struct AppState {
    pub pool: Pool,
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
        let state = web::Data::new(AppState {
            pool: settings.database.pool()?,
        });
        let listener = TcpListener::bind((settings.host.as_str(), settings.port))
            .with_context(|| format!("binding {}:{}", settings.host, settings.port))?;
        let port = listener.local_addr()?.port();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(middleware::from_fn(platform::http_metrics::record))
                .app_data(state.clone())
                .app_data(prometheus.clone())
                .route("/health/live", web::get().to(health::live))
                .route("/health/ready", web::get().to(health::ready))
                .route("/metrics", web::get().to(health::metrics))
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
