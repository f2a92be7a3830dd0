//! The admin listener: liveness, readiness and `/metrics`. No Service routes traffic here; the
//! kubelet probes it and Prometheus scrapes it.
//!
//! Readiness means "the database and the broker answer", never "this replica owns partitions":
//! with more replicas than partitions some own none, and that is healthy.

use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, dev::Server, web};
use deadpool_postgres::Pool;
use kafka::KafkaSettings;
use metrics_exporter_prometheus::PrometheusHandle;

/// Shared by the handlers.
struct AdminState {
    pool: Pool,
    /// A metadata-only client: it joins no group and fetches nothing.
    broker_probe: kafka::probe::BrokerProbe,
}

/// Serves the admin routes on `listener` (bound by the caller, so tests can use port 0).
pub fn server(
    listener: TcpListener,
    pool: Pool,
    kafka: &KafkaSettings,
    prometheus: PrometheusHandle,
) -> anyhow::Result<Server> {
    let state = web::Data::new(AdminState {
        pool,
        broker_probe: kafka::probe::BrokerProbe::new(kafka)?,
    });
    let prometheus = web::Data::new(prometheus);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(
                platform::http_metrics::record,
            ))
            .app_data(state.clone())
            .app_data(prometheus.clone())
            .route("/health/live", web::get().to(platform::health::live))
            .route("/health/ready", web::get().to(ready))
            .route("/metrics", web::get().to(metrics))
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

/// `GET /metrics`, with the pool gauges sampled at scrape time.
async fn metrics(
    state: web::Data<AdminState>,
    handle: web::Data<PrometheusHandle>,
) -> HttpResponse {
    platform::pool_metrics::sample(&state.pool);
    platform::prometheus::render(handle).await
}

/// The read database answers and the broker's metadata can be fetched. Deliberately not tied
/// to having partitions: a replica beyond the partition count is idle, not broken.
async fn ready(state: web::Data<AdminState>) -> HttpResponse {
    let database = platform::db::ping(&state.pool).await;
    let broker = state.broker_probe.check().await;
    platform::health::readiness(&[("database", &database), ("broker", &broker)])
}
