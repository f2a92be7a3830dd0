//! notifier entry point: `run` (the default).

use notifier::{settings::Settings, startup::Application};

const USAGE: &str = "usage: notifier [run]
  run   mail what the user topic asks for (email verification, password reset, notices of
        password changes) until SIGTERM; settings from CC_* variables (see src/settings.rs)";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Held to the end: dropping it flushes spans still waiting for OTLP export.
    let _telemetry = platform::telemetry::init("info");
    let command = std::env::args().nth(1).unwrap_or_else(|| "run".to_owned());
    match command.as_str() {
        "run" => {
            let settings = Settings::from_env()?;
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "notifier running");
            app.run_until_stopped().await
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => anyhow::bail!("unknown command {other:?}\n{USAGE}"),
    }
}
