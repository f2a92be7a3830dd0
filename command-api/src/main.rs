//! command-api entry point: `serve` (default), `migrate`, `create-admin`, `seed`, `republish`,
//! `seal-personal-data`, `keygen` or `jwks`.

use command_api::{
    service_roles::RolePasswords,
    settings::Settings,
    startup::{Application, migrate},
};

const USAGE: &str =
    "usage: command-api [serve | migrate | create-admin | seed | republish | seal-personal-data | keygen | jwks]
  serve          run the HTTP API and the outbox relay (default)
  migrate        apply the write-side schema migrations and exit; with all three of
                 CC_MIGRATE__WRITER_PASSWORD, CC_MIGRATE__PROJECTOR_PASSWORD and
                 CC_MIGRATE__READER_PASSWORD (a managed database, no operator), first create
                 the login roles cc_writer, cc_projector, cc_reader where missing and set their
                 passwords (needs CREATEROLE); the roles get their grants on every run
  create-admin   create the admin named by CC_BOOTSTRAP_ADMIN__EMAIL/__PASSWORD and exit
  seed [N]       top the demo catalog up to N products (default 10000) through the event store
  republish [--from-position N] [--stream-type user|product] [--wait-secs S]
                 publish stored events to Kafka again (all by default), with progress, through
                 the running relay: rebuilds lost topics; consumers dedupe the copies
  seal-personal-data --operator NAME
                 once, as the database owner with CC_PERSONAL_DATA__MASTER_KEY: seal the
                 personal fields of events recorded before they were sealed, with progress;
                 audited in es.personal_data_sealings (k8s/README.md has the whole procedure)
  keygen         print a new Ed25519 signing key (PKCS#8 PEM) for CC_AUTH__SIGNING_KEYS
  jwks           print the public JWK set of CC_AUTH__SIGNING_KEYS, for CC_AUTH__JWKS";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Held to the end: dropping it flushes spans still waiting for OTLP export.
    let _telemetry = platform::telemetry::init("info");
    let command = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned());
    match command.as_str() {
        "serve" => {
            let settings = Settings::from_env()?;
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "command-api listening");
            app.run_until_stopped().await
        }
        "keygen" => {
            print!("{}", platform::signing_keys::SigningKeys::generate_pem()?);
            Ok(())
        }
        "jwks" => {
            let bundle = platform::env::secret("CC_AUTH__SIGNING_KEYS")?;
            let keys = platform::signing_keys::SigningKeys::from_pem_bundle(&bundle)?;
            println!("{}", serde_json::to_string(&keys.jwks())?);
            Ok(())
        }
        "migrate" => {
            let database = platform::db::DbSettings::from_env("command-api-migrate")?;
            let role_passwords = RolePasswords::from_env()?;
            let applied = migrate(&database, role_passwords.as_ref()).await?;
            tracing::info!(applied, "migrations applied");
            Ok(())
        }
        "create-admin" => {
            let settings = Settings::from_env()?;
            let keyring = settings.keyring()?;
            let (email, password) = settings.bootstrap_admin.ok_or_else(|| {
                anyhow::anyhow!("set CC_BOOTSTRAP_ADMIN__EMAIL and CC_BOOTSTRAP_ADMIN__PASSWORD")
            })?;
            let pool = settings.database.pool()?;
            command_api::bootstrap::ensure_admin(&pool, &email, &password, &keyring).await?;
            Ok(())
        }
        "seed" => {
            let products = match std::env::args().nth(2) {
                Some(n) => n
                    .parse()
                    .map_err(|_| anyhow::anyhow!("seed takes a product count"))?,
                None => 10_000,
            };
            let database = platform::db::DbSettings::from_env("command-api-seed")?;
            let keyring = personal::Keyring::from_env()?;
            let added = command_api::seed::seed(&database.pool()?, products, &keyring).await?;
            tracing::info!(added, total = products, "catalog seeded");
            Ok(())
        }
        "republish" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            let request = command_api::republish::Request::parse(&args)?;
            let database = platform::db::DbSettings::from_env("command-api-republish")?;
            let kafka = kafka::KafkaSettings::from_env()?;
            command_api::republish::republish(&database.pool()?, &kafka.topics, &request).await?;
            Ok(())
        }
        "seal-personal-data" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            let operator = match args.as_slice() {
                [flag, name] if flag == "--operator" && !name.trim().is_empty() => name.clone(),
                _ => anyhow::bail!("seal-personal-data takes --operator <who runs it>\n{USAGE}"),
            };
            let database = platform::db::DbSettings::from_env("command-api-seal")?;
            let keyring = personal::Keyring::from_env()?;
            let (mut client, connection) =
                platform::db::connect_dedicated(&database.target()?).await?;
            let driver = tokio::spawn(connection);
            let sealed = command_api::seal_personal_data::seal_personal_data(
                &mut client,
                &keyring,
                &operator,
                |done, total| {
                    println!(
                        "sealed {} and dropped {} of {total} events in clear",
                        done.events_sealed, done.events_stripped
                    );
                },
            )
            .await;
            drop(client);
            let _ = driver.await;
            let sealed = sealed?;
            println!(
                "done: {} events sealed, {} of erased users dropped, {} user snapshots deleted",
                sealed.events_sealed, sealed.events_stripped, sealed.snapshots_dropped
            );
            Ok(())
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => anyhow::bail!("unknown command {other:?}\n{USAGE}"),
    }
}
