//! Readiness: PostgreSQL and the broker reachable, with the reasons in the body. (Liveness and
//! `/metrics` are the platform scaffold's.)

use actix_web::{HttpResponse, web};

use crate::state::AppState;

/// Ready to take commands: the event store answers and the broker's metadata can be fetched.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let database = platform::db::ping(&state.pool).await;
    let broker = state.broker_probe.check().await;
    platform::health::readiness(&[("database", &database), ("broker", &broker)])
}
