//! projector entry point: `run` (default), `migrate`, `rebuild` or `verify`.

use projector::{rebuild, settings::Settings, startup::Application, verify};

const USAGE: &str = "usage: projector [run | migrate | rebuild | verify]
  run       consume the event topics into the active read schema (default)
  migrate   create read_meta and the active read schema if missing, then exit
  rebuild   build the next read schema from the first event, flip read_meta.active once caught
            up, drop the previous schema after CC_PROJECTOR__REBUILD_GRACE_SECS
  verify    rebuild into a shadow schema, print every row that differs from the live read
            model as JSON, drop the shadow; exit status 1 if any differs";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Held to the end: dropping it flushes spans still waiting for OTLP export.
    let _telemetry = platform::telemetry::init("info");
    let command = std::env::args().nth(1).unwrap_or_else(|| "run".to_owned());
    match command.as_str() {
        "run" => {
            let settings = Settings::from_env()?;
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), schema = %app.schema(), "projector running");
            app.run_until_stopped().await
        }
        "migrate" => {
            let settings = Settings::from_env()?;
            let pool = settings.database.pool()?;
            let schema = projector::startup::prepare(&settings, &pool).await?;
            tracing::info!(%schema, "read schema ready");
            Ok(())
        }
        "rebuild" => {
            let settings = Settings::from_env()?;
            let _admin = projector::startup::serve_admin(&settings)?;
            let rebuilt = rebuild::rebuild(&settings, rebuild::shutdown_on_signal()).await?;
            tracing::info!(?rebuilt, "rebuild finished");
            Ok(())
        }
        "verify" => {
            let settings = Settings::from_env()?;
            let _admin = projector::startup::serve_admin(&settings)?;
            let report = verify::verify(&settings, rebuild::shutdown_on_signal()).await?;
            println!("{:#}", report.to_json());
            if report.differences.is_empty() {
                tracing::info!(compared = ?report.compared, "the live read model matches a rebuild");
                Ok(())
            } else {
                tracing::error!(
                    differences = report.differences.len(),
                    "the live read model differs from a rebuild"
                );
                std::process::exit(1);
            }
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => anyhow::bail!("unknown command {other:?}\n{USAGE}"),
    }
}
