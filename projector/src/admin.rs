//! The admin listener: liveness, readiness and `/metrics`. No Service routes traffic here; the
//! kubelet probes it and Prometheus scrapes it.
//!
//! Readiness means "the database and the broker answer", never "this replica owns partitions":
//! with more replicas than partitions some own none, and that is healthy.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{App, HttpResponse, HttpServer, dev::Server, web};
use anyhow::Context;
use deadpool_postgres::Pool;
use kafka::KafkaSettings;
use metrics_exporter_prometheus::PrometheusHandle;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::json;

/// Shared by the handlers.
struct AdminState {
    pool: Pool,
    /// A metadata-only client: it joins no group and fetches nothing.
    broker_probe: Arc<BaseConsumer>,
}

/// Serves the admin routes on `listener` (bound by the caller, so tests can use port 0).
pub fn server(
    listener: TcpListener,
    pool: Pool,
    kafka: &KafkaSettings,
    prometheus: PrometheusHandle,
) -> anyhow::Result<Server> {
    let broker_probe: BaseConsumer = kafka
        .client_config()
        .create()
        .context("creating the broker probe")?;
    let state = web::Data::new(AdminState {
        pool,
        broker_probe: Arc::new(broker_probe),
    });
    let prometheus = web::Data::new(prometheus);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(
                platform::http_metrics::record,
            ))
            .app_data(state.clone())
            .app_data(prometheus.clone())
            .route("/health/live", web::get().to(live))
            .route("/health/ready", web::get().to(ready))
            .route("/metrics", web::get().to(platform::prometheus::render))
            .default_service(web::to(platform::problem::not_found))
    })
    .listen(listener)?
    // The application decides the shutdown order: consumer first, then this listener.
    .disable_signals()
    .workers(1)
    .shutdown_timeout(5)
    .run();
    Ok(server)
}

/// The process is up. Checks nothing else, so a slow dependency never gets the pod killed.
async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The read database answers and the broker's metadata can be fetched.
async fn ready(state: web::Data<AdminState>) -> HttpResponse {
    let database = platform::db::ping(&state.pool).await;
    let probe = state.broker_probe.clone();
    let broker = tokio::task::spawn_blocking(move || {
        probe
            .fetch_metadata(None, Duration::from_secs(2))
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!("broker metadata: {e}"))
    })
    .await
    .unwrap_or_else(|e| Err(anyhow::anyhow!("probe task failed: {e}")));
    let check = |result: &anyhow::Result<()>| match result {
        Ok(()) => json!({ "ok": true }),
        Err(e) => json!({ "ok": false, "reason": format!("{e:#}") }),
    };
    let ok = database.is_ok() && broker.is_ok();
    let body = json!({
        "status": if ok { "ready" } else { "not_ready" },
        "checks": { "database": check(&database), "broker": check(&broker) },
    });
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
