//! query-api entry point.

use query_api::{settings::Settings, startup::Application};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Held to the end: dropping it flushes spans still waiting for OTLP export.
    let _telemetry = platform::telemetry::init("info");
    let app = Application::build(Settings::from_env()?).await?;
    tracing::info!(port = app.port(), "query-api listening");
    app.run_until_stopped().await
}
