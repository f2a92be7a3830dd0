//! The admin listener: readiness here, liveness and `/metrics` from the same server scaffold as
//! the APIs. No Service routes traffic here; the kubelet probes it and Prometheus scrapes it.
//!
//! Readiness means "the database and the broker answer", never "this replica owns partitions":
//! with more replicas than partitions some own none, and that is healthy. How fresh the
//! projection is, is reported in the body (from `projection_status`, see `freshness`) without
//! deciding readiness: a stall is the alerts' and the query API's business, and failing every
//! replica's readiness would only block the rollout that might fix it.

use std::{net::TcpListener, time::Duration};

use actix_web::{HttpResponse, dev::Server, web};
use deadpool_postgres::Pool;
use kafka::KafkaSettings;
use platform::server::{self, Scaffold, ServerOptions};
use serde_json::json;

/// Shared by the handlers.
struct AdminState {
    pool: Pool,
    /// A metadata-only client: it joins no group and fetches nothing.
    broker_probe: kafka::probe::BrokerProbe,
}

/// Serves the admin routes on `listener` (bound by the caller, so tests can use port 0).
pub fn server(listener: TcpListener, pool: Pool, kafka: &KafkaSettings) -> anyhow::Result<Server> {
    let state = web::Data::new(AdminState {
        pool: pool.clone(),
        broker_probe: kafka::probe::BrokerProbe::new(kafka)?,
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

/// The read database answers and the broker's metadata can be fetched; the body adds the last
/// freshness sample.
async fn ready(state: web::Data<AdminState>) -> HttpResponse {
    let database = platform::db::ping(&state.pool).await;
    let broker = state.broker_probe.check().await;
    let mut extra = serde_json::Map::new();
    if let Ok(freshness) = freshness(&state.pool).await {
        extra.insert("freshness".to_owned(), freshness);
    }
    // The projector's only listener is its admin one: monitoring reads the reasons.
    platform::health::readiness_with(&[("database", &database), ("broker", &broker)], extra)
        .for_operators()
}

async fn freshness(pool: &Pool) -> anyhow::Result<serde_json::Value> {
    let client = pool.get().await?;
    let Some(schema) = read_model::pointer::active(&**client).await? else {
        return Ok(json!(null));
    };
    let row = client
        .query_opt(
            &schema.sql(
                "SELECT lag_seconds, lag_messages, detail, sampled_at,
                        EXTRACT(EPOCH FROM now() - sampled_at)::float8
                 FROM {schema}.projection_status",
            ),
            &[],
        )
        .await?;
    Ok(match row {
        Some(row) => json!({
            "lag_seconds": row.get::<_, f64>(0),
            "lag_messages": row.get::<_, i64>(1),
            "detail": row.get::<_, serde_json::Value>(2),
            "sampled_seconds_ago": row.get::<_, f64>(4),
        }),
        None => json!(null),
    })
}
