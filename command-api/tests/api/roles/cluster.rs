//! The cluster the role tests run on: the TLS-only one of `ci/stack/postgres-tls.sh` (started
//! here if it is not running), the one test cluster that checks passwords (SCRAM for every role
//! but the `postgres` superuser), as a managed database does.
//!
//! Roles are cluster-wide. On the plain cluster other tests create `cc_writer` and the others
//! with no password and other rights (`e2e/tests/e2e/roles.rs`, the projector's schema tests),
//! so these tests stay off it; here they are the only ones that touch those roles, and
//! [`exclusive`] runs them one at a time (an advisory lock, which also holds across test
//! processes) from a cluster without them.

use std::{process::Command, sync::Once, time::Duration};

use platform::db::{DbSettings, connect_dedicated};
use secrecy::SecretString;
use tokio_postgres::Client;
use uuid::Uuid;

/// Taken for a whole test: no two role tests run at once.
const ROLE_TESTS_LOCK: i64 = 0x4343_524f_4c45_5445;

/// Prefix of the databases and admin roles these tests make, and drop again.
const PREFIX: &str = "cc_roles_";

/// The roles `command-api migrate` provisions, in its order (`command_api::service_roles`).
pub const SERVICE_ROLES: [&str; 4] = ["cc_writer", "cc_projector", "cc_reader", "cc_notifier"];

fn start() {
    static START: Once = Once::new();
    START.call_once(|| {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let status = Command::new("bash")
            .args(["ci/stack/postgres-tls.sh", "start"])
            .current_dir(root)
            .status()
            .expect("running ci/stack/postgres-tls.sh");
        assert!(status.success(), "the TLS-only PostgreSQL did not start");
    });
}

/// A URL of the cluster as `user` (with `:password` in it, if wanted) on `database`.
pub fn url(user: &str, database: &str) -> String {
    let port = std::env::var("CC_TEST_PG_TLS_PORT").unwrap_or_else(|_| "54339".to_owned());
    format!("postgres://{user}@127.0.0.1:{port}/{database}?sslmode=require")
}

/// Connects the way the services do (`DbSettings`, its separate password included).
pub async fn connect(url: &str, password: Option<&str>) -> anyhow::Result<Client> {
    let settings = DbSettings {
        url: SecretString::from(url.to_owned()),
        password: password.map(|p| SecretString::from(p.to_owned())),
        pool_size: 1,
        // Long enough to wait for another test's lock.
        statement_timeout: Duration::from_secs(300),
        acquire_timeout: Duration::from_secs(5),
        application_name: "command-api-role-test".to_owned(),
        tls: platform::db_tls::TlsOverride::default(),
    };
    let (client, connection) = connect_dedicated(&settings.target()?).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// The cluster to one test, without service roles, until it is dropped.
#[derive(Debug)]
pub struct Exclusive {
    /// The superuser session that holds the lock.
    pub admin: Client,
}

pub async fn exclusive() -> Exclusive {
    platform::telemetry::init("warn");
    start();
    let admin = connect(&url("postgres", "postgres"), None).await.unwrap();
    admin
        .execute("SELECT pg_advisory_lock($1)", &[&ROLE_TESTS_LOCK])
        .await
        .unwrap();
    // What earlier tests left: their databases hold the roles' rights, which keep the roles
    // from being dropped, so the databases go first.
    let pattern = format!("{}%", PREFIX.replace('_', "\\_"));
    for row in admin
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE $1",
            &[&pattern],
        )
        .await
        .unwrap()
    {
        let name: String = row.get(0);
        admin
            .batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .await
            .unwrap();
    }
    let mut roles: Vec<String> = SERVICE_ROLES.map(str::to_owned).to_vec();
    for row in admin
        .query(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE $1",
            &[&pattern],
        )
        .await
        .unwrap()
    {
        roles.push(row.get(0));
    }
    for role in roles {
        admin
            .batch_execute(&format!("DROP ROLE IF EXISTS \"{role}\""))
            .await
            .unwrap();
    }
    Exclusive { admin }
}

impl Exclusive {
    /// A new empty database, owned by `owner` (else the superuser).
    pub async fn database(&self, owner: Option<&str>) -> String {
        let name = format!("{PREFIX}{}", Uuid::new_v4().simple());
        let owner = owner.map_or(String::new(), |owner| format!(" OWNER \"{owner}\""));
        self.admin
            .batch_execute(&format!("CREATE DATABASE {name}{owner}"))
            .await
            .unwrap();
        name
    }

    /// A role that may log in with `password` and create roles, and nothing more: the admin a
    /// managed database hands out.
    pub async fn createrole_admin(&self, password: &str) -> String {
        let name = format!("{PREFIX}admin_{}", Uuid::new_v4().simple());
        let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
        self.admin
            .batch_execute(&format!(
                "CREATE ROLE {name} LOGIN CREATEROLE NOSUPERUSER PASSWORD '{verifier}'"
            ))
            .await
            .unwrap();
        name
    }

    /// `(role, superuser, createdb, createrole, replication, bypassrls, login)` of each service
    /// role that exists.
    pub async fn service_role_attributes(&self) -> Vec<(String, [bool; 6])> {
        self.admin
            .query(
                "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolreplication,
                        rolbypassrls, rolcanlogin
                 FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname",
                &[&SERVICE_ROLES.to_vec()],
            )
            .await
            .unwrap()
            .iter()
            .map(|row| {
                (
                    row.get(0),
                    [1, 2, 3, 4, 5, 6].map(|column| row.get::<_, bool>(column)),
                )
            })
            .collect()
    }
}

/// What `command-api migrate` said and whether it succeeded.
#[derive(Debug)]
pub struct Migrate {
    pub success: bool,
    pub output: String,
}

/// Runs the real binary: `command-api migrate` against `url` with `env`.
pub async fn migrate(url: &str, env: &[(&str, &str)]) -> Migrate {
    let mut command = Command::new(env!("CARGO_BIN_EXE_command-api"));
    command
        .arg("migrate")
        .env("CC_DATABASE__URL", url)
        .env("RUST_LOG", "info")
        .env_remove("CC_DATABASE__PASSWORD")
        .env_remove("CC_LOG_FORMAT");
    for variable in ["WRITER", "PROJECTOR", "READER", "NOTIFIER"] {
        command.env_remove(format!("CC_MIGRATE__{variable}_PASSWORD"));
    }
    command.envs(env.iter().copied());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("command-api runs");
    Migrate {
        success: output.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}
