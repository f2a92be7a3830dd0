//! The admin listener: readiness here, liveness and `/metrics` from the same server scaffold as
//! every service. No Service routes traffic here; the kubelet probes it and Prometheus scrapes it.
//!
//! Readiness means "PostgreSQL answers", where the lock, the dedupe and the tokens live; a
//! standby is as ready as the active replica (it takes over within seconds), and the body says
//! which one this is and, on the active one, how many messages wait. A broker outage shows in
//! the lag and the retries, not here: failing readiness would not bring the broker back.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{HttpResponse, dev::Server, web};
use deadpool_postgres::Pool;
use platform::server::{self, Scaffold, ServerOptions};
use serde_json::json;

use crate::status::Status;

struct AdminState {
    pool: Pool,
    status: Arc<Status>,
}

/// Serves the admin routes on `listener` (bound by the caller, so tests can use port 0).
pub fn server(listener: TcpListener, pool: Pool, status: Arc<Status>) -> anyhow::Result<Server> {
    let state = web::Data::new(AdminState {
        pool: pool.clone(),
        status,
    });
    let options = ServerOptions {
        workers: Some(1),
        shutdown_timeout: Duration::from_secs(5),
        cors_origins: Vec::new(),
    };
    let scaffold = Scaffold {
        openapi: None,
        pool,
        serves_metrics: true,
    };
    server::serve(listener, &options, scaffold, move |config| {
        config
            .app_data(state.clone())
            .route("/health/ready", web::get().to(ready));
    })
}

/// 200 while PostgreSQL answers, else 503 with `Retry-After`; the body says whether this
/// replica is the active one and its lag.
async fn ready(state: web::Data<AdminState>) -> HttpResponse {
    let database = platform::db::ping(&state.pool).await;
    let active = state.status.is_active();
    let mut extra = serde_json::Map::new();
    extra.insert(
        "role".to_owned(),
        json!(if active { "active" } else { "standby" }),
    );
    extra.insert("consumer_lag".to_owned(), json!(state.status.lag()));
    platform::health::readiness_with(&[("database", &database)], extra).for_operators()
}
