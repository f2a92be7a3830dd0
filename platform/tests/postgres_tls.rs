//! TLS to PostgreSQL against a real server that refuses plaintext, as a managed database with
//! "require SSL" does (`ci/stack/postgres-tls.sh`, started here if it is not running): each
//! `sslmode` connects or is refused as libpq's would be, through the pool and through a
//! dedicated connection alike.

// A failed unwrap is a failed test, which is what a test helper should do.
#![allow(clippy::unwrap_used)]

use std::{path::PathBuf, process::Command, sync::Once, time::Duration};

use platform::{
    db::{DbSettings, connect_dedicated},
    db_tls::TlsOverride,
};
use secrecy::SecretString;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Starts the TLS-only cluster once per test run; its certificates are in `.dev/pg-tls/certs`.
fn certificates() -> PathBuf {
    static START: Once = Once::new();
    START.call_once(|| {
        let status = Command::new("bash")
            .arg("ci/stack/postgres-tls.sh")
            .arg("start")
            .current_dir(workspace_root())
            .status()
            .expect("running ci/stack/postgres-tls.sh");
        assert!(status.success(), "the TLS-only PostgreSQL did not start");
    });
    workspace_root().join(".dev/pg-tls/certs")
}

fn port() -> String {
    std::env::var("CC_TEST_PG_TLS_PORT").unwrap_or_else(|_| "54339".to_owned())
}

fn settings(host: &str, query: &str) -> DbSettings {
    DbSettings {
        url: SecretString::from(format!(
            "postgres://postgres@{host}:{}/postgres{query}",
            port()
        )),
        password: None,
        pool_size: 2,
        statement_timeout: Duration::from_secs(5),
        acquire_timeout: Duration::from_secs(5),
        application_name: "platform-tls-test".to_owned(),
        tls: TlsOverride::default(),
    }
}

/// Whether the server sees `client`'s connection as TLS.
async fn encrypted(client: &tokio_postgres::Client) -> anyhow::Result<bool> {
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

/// Whether the pooled connection for `host` and `query` is encrypted; an error when refused.
async fn pooled_tls(host: &str, query: &str) -> anyhow::Result<bool> {
    let pool = settings(host, query).pool()?;
    let client = pool.get().await?;
    encrypted(&client).await
}

fn ca(name: &str) -> String {
    certificates().join(name).display().to_string()
}

#[tokio::test]
async fn verify_full_connects_to_the_host_its_certificate_names() {
    let query = format!("?sslmode=verify-full&sslrootcert={}", ca("ca.crt"));
    assert!(pooled_tls("localhost", &query).await.unwrap());
    assert!(pooled_tls("127.0.0.1", &query).await.unwrap());
    // The same for the dedicated connections of LISTEN and advisory locks.
    let target = settings("localhost", &query).target().unwrap();
    let (client, connection) = connect_dedicated(&target).await.unwrap();
    tokio::spawn(connection);
    assert!(encrypted(&client).await.unwrap());
}

#[tokio::test]
async fn verify_full_refuses_a_wrong_host_name_that_verify_ca_accepts() {
    // 127.0.0.2 reaches the same server, whose certificate names localhost and 127.0.0.1 only.
    let full = format!("?sslmode=verify-full&sslrootcert={}", ca("ca.crt"));
    let error = pooled_tls("127.0.0.2", &full).await.unwrap_err();
    assert!(
        format!("{error:?}").contains("certificate verify failed"),
        "{error:?}"
    );
    let ca_only = format!("?sslmode=verify-ca&sslrootcert={}", ca("ca.crt"));
    assert!(pooled_tls("127.0.0.2", &ca_only).await.unwrap());
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused_when_verifying_only() {
    for mode in ["verify-ca", "verify-full"] {
        let query = format!("?sslmode={mode}&sslrootcert={}", ca("other-ca.crt"));
        let error = pooled_tls("localhost", &query).await.unwrap_err();
        assert!(
            format!("{error:?}").contains("certificate verify failed"),
            "{mode}: {error:?}"
        );
    }
    // require and prefer encrypt without asking who signed.
    assert!(pooled_tls("localhost", "?sslmode=require").await.unwrap());
    assert!(pooled_tls("localhost", "").await.unwrap());
}

#[tokio::test]
async fn without_tls_a_server_that_requires_it_refuses_the_connection() {
    certificates();
    let error = pooled_tls("127.0.0.1", "?sslmode=disable")
        .await
        .unwrap_err();
    assert!(format!("{error:?}").contains("pg_hba.conf"), "{error:?}");
}

#[tokio::test]
async fn sslmode_and_sslrootcert_beside_the_url_win_over_the_urls_own() {
    // A URL that comes whole from a secret (CloudNativePG's `uri`) says nothing of TLS.
    let mut settings = settings("127.0.0.2", "?sslmode=disable");
    settings.tls = TlsOverride {
        mode: Some("verify-full".to_owned()),
        root_cert: Some(ca("ca.crt")),
    };
    let error = settings.pool().unwrap().get().await.unwrap_err();
    assert!(
        format!("{error:?}").contains("certificate verify failed"),
        "{error:?}"
    );
    settings.tls.mode = Some("verify-ca".to_owned());
    let client = settings.pool().unwrap().get().await.unwrap();
    assert!(encrypted(&client).await.unwrap());
}
