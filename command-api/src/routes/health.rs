//! Readiness: PostgreSQL and the broker reachable. The public port answers the verdict alone;
//! the admin listener adds each check's reason. (Liveness and `/metrics` are the platform
//! scaffold's.)

use actix_web::{HttpResponse, web};
use platform::health::Readiness;

use crate::state::AppState;

/// Ready to take commands: the event store answers and the broker's metadata can be fetched.
async fn check(state: &AppState) -> Readiness {
    let database = platform::db::ping(&state.pool).await;
    let broker = state.broker_probe.check().await;
    platform::health::readiness(&[("database", &database), ("broker", &broker)])
}

/// The public port's readiness: `{"status": ...}` with 200 or 503.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    check(&state).await.for_public()
}

/// The admin listener's readiness, with every check's reason.
pub async fn ready_details(state: web::Data<AppState>) -> HttpResponse {
    check(&state).await.for_operators()
}
