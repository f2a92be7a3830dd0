//! Least privilege, proven: each service runs as its production role (`cc_writer`,
//! `cc_projector`, `cc_reader`, `cc_notifier`, granted by the migrations and the read-model DDL
//! alone) and does its whole job (the seller's address is verified through the notifier's
//! mail); then each role is refused what is not its job.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio_postgres::{NoTls, error::SqlState};

use e2e::{
    settings::PASSWORD,
    stack::{Options, Stack},
};

/// Connects to the stack's database as `role`.
async fn connect_as(stack: &Stack, role: &str) -> tokio_postgres::Client {
    let url = e2e::stack::url_as_role(&stack.db.url, role);
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Runs `sql` and expects PostgreSQL's "permission denied".
async fn refused(client: &tokio_postgres::Client, role: &str, sql: &str) {
    let error = client
        .batch_execute(sql)
        .await
        .expect_err(&format!("{role} may not: {sql}"));
    assert_eq!(
        error.code(),
        Some(&SqlState::INSUFFICIENT_PRIVILEGE),
        "{role}: {sql}: {error}"
    );
}

#[tokio::test]
async fn each_service_does_its_job_as_its_own_role_and_nothing_more() {
    let stack = Stack::start_with(Options {
        least_privilege: true,
        ..Options::default()
    })
    .await;

    // The whole path: a sign-up, a product, its projection, a read-your-writes query.
    let (_, seller) = stack.seller().await;
    let created = stack
        .send(
            Method::POST,
            format!("{}/v1/products", stack.commands),
            Some(&seller),
            Some(&json!({
                "sku": "ROLE-1", "name": "Kettle", "description": "Boils water.",
                "category": "kitchen", "price": { "amount_minor": 2599, "currency": "EUR" },
                "stock": 3
            })),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let token = created.headers()["consistency-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let id = token.split(':').next().unwrap().to_owned();
    let read = stack
        .http
        .get(format!("{}/v1/products/{id}", stack.queries))
        .bearer_auth(&seller)
        .header("consistency-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    // The seller signs out; query-api, as cc_reader, learns it from es.session_is_live.
    let signed_out = stack
        .send(
            Method::DELETE,
            format!("{}/v1/sessions/current", stack.commands),
            Some(&seller),
            None,
        )
        .await;
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    let read = stack
        .http
        .get(format!("{}/v1/products/{id}", stack.queries))
        .bearer_auth(&seller)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::UNAUTHORIZED);
    let sign_in = json!({ "email": "nobody@example.com", "password": PASSWORD });
    let answer = stack
        .send(
            Method::POST,
            format!("{}/v1/sessions", stack.commands),
            None,
            Some(&sign_in),
        )
        .await;
    assert_eq!(
        answer.status(),
        StatusCode::UNAUTHORIZED,
        "the throttle tables are writable"
    );

    let admin = stack.db.connect().await.unwrap();
    let schema: String = admin
        .query_one("SELECT schema FROM read_meta.active", &[])
        .await
        .unwrap()
        .get(0);

    let writer = connect_as(&stack, "cc_writer").await;
    for sql in [
        "UPDATE es.events SET payload = payload",
        "DELETE FROM es.events",
        "TRUNCATE es.events",
        "CREATE SCHEMA writer_owned",
        // Only the notifier draws tokens; the writer can use them up, not make them.
        "INSERT INTO es.password_reset_tokens (token_hash, user_id, expires_at)
         VALUES (sha256('x'), gen_random_uuid(), now() + interval '1 minute')",
        "SELECT * FROM notifier.recipients",
        &format!("SELECT * FROM {schema}.products"),
        "SELECT * FROM read_meta.active",
    ] {
        refused(&writer, "cc_writer", sql).await;
    }

    let reader = connect_as(&stack, "cc_reader").await;
    reader
        .batch_execute(&format!("SELECT * FROM {schema}.products"))
        .await
        .expect("cc_reader reads the read model");
    for sql in [
        "SELECT * FROM es.events",
        "SELECT * FROM es.user_credentials",
        "SELECT * FROM es.sessions",
        "SELECT * FROM es.refresh_tokens",
        "SELECT * FROM es.email_verification_tokens",
        "SELECT * FROM notifier.recipients",
        &format!("DELETE FROM {schema}.products"),
        &format!("UPDATE {schema}.products SET stock = 0"),
        "UPDATE read_meta.active SET schema = 'read_v9'",
        "CREATE SCHEMA reader_owned",
    ] {
        refused(&reader, "cc_reader", sql).await;
    }

    let projector = connect_as(&stack, "cc_projector").await;
    for sql in [
        "SELECT * FROM es.events",
        "SELECT * FROM es.user_credentials",
        "INSERT INTO es.outbox SELECT * FROM es.outbox",
        "DROP SCHEMA es CASCADE",
        "CREATE TABLE es.planted (id int)",
    ] {
        refused(&projector, "cc_projector", sql).await;
    }
    let notifier = connect_as(&stack, "cc_notifier").await;
    for sql in [
        "SELECT * FROM es.events",
        "SELECT * FROM es.user_credentials",
        "SELECT * FROM es.email_reservations",
        // It issues tokens through es.issue_mailed_token only, and cannot read or remove
        // them: a token it mailed is command-api's to use up.
        "INSERT INTO es.password_reset_tokens (token_hash, user_id, expires_at)
         VALUES (sha256('x'), gen_random_uuid(), now() + interval '1 minute')",
        "SELECT * FROM es.password_reset_tokens",
        "DELETE FROM es.email_verification_tokens",
        &format!("SELECT * FROM {schema}.users"),
        "CREATE SCHEMA notifier_owned",
    ] {
        refused(&notifier, "cc_notifier", sql).await;
    }
    // The function it may call issues a token only for a request the store recorded (the
    // seller's verification above went through it).
    let made_up = notifier
        .batch_execute(
            "SELECT es.issue_mailed_token(gen_random_uuid(), gen_random_uuid(), sha256('x'))",
        )
        .await
        .expect_err("a token for a request never recorded");
    assert_eq!(made_up.code(), Some(&SqlState::NO_DATA_FOUND), "{made_up}");

    // Its own schemas it may create (a rebuild does) and drop.
    projector
        .batch_execute("CREATE SCHEMA read_v_role_check; DROP SCHEMA read_v_role_check")
        .await
        .expect("cc_projector creates its own schemas");
}
