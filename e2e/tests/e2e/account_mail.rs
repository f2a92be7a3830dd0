//! The account lifecycle through the real mail path: command-api records the request, the
//! relay publishes it, the notifier draws a token and mails it through SMTP to the sink, and
//! the token from the mail is what the API takes. Then: no token anywhere but in the mail.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use e2e::{
    settings::PASSWORD,
    stack::{CHANGED_SUBJECT, RESET_SUBJECT, Stack, VERIFY_SUBJECT, consistency_token},
};

/// How many rows of `sql` (one text column per row) contain `needle`.
async fn rows_containing(stack: &Stack, sql: &str, needle: &str) -> usize {
    let client = stack.db.connect().await.unwrap();
    client
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .filter(|row| row.get::<_, String>(0).contains(needle))
        .count()
}

#[tokio::test]
async fn an_address_is_verified_with_the_mailed_link_and_only_then_promoted() {
    let stack = Stack::start().await;
    let email = "grace@example.com";
    let id = stack.register(email).await;
    let token = stack.mailed_token(email, VERIFY_SUBJECT, 1).await;
    let mail = &stack.mails_to(email)[0];
    let html = mail.html().expect("an HTML part");
    assert!(html.contains(&token) && html.contains("E2E User"), "{html}");
    assert!(mail.text().unwrap().contains(&format!(
        "https://shop.example/verify-email#user={id}&token={token}"
    )));

    let admin = stack.admin_token().await;
    let promote = json!({ "role": "seller" });
    let refused = stack
        .command(
            Method::PUT,
            &format!("/v1/users/{id}/role"),
            Some(&admin),
            Some(&promote),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "email_not_verified");

    let verified = stack
        .command(
            Method::POST,
            &format!("/v1/users/{id}/email-verification"),
            None,
            Some(&json!({ "token": token })),
        )
        .await;
    assert_eq!(verified.status(), StatusCode::OK);
    let shown = stack
        .account(id, &admin, &consistency_token(&verified))
        .await;
    assert_eq!(shown["email_verified"], true);
    let again = stack
        .command(
            Method::POST,
            &format!("/v1/users/{id}/email-verification"),
            None,
            Some(&json!({ "token": token })),
        )
        .await;
    assert_eq!(again.status(), StatusCode::GONE);
    let promoted = stack
        .command(
            Method::PUT,
            &format!("/v1/users/{id}/role"),
            Some(&admin),
            Some(&promote),
        )
        .await;
    assert_eq!(promoted.status(), StatusCode::OK);

    // The token was in the mail and nowhere else the stack keeps things.
    let schema: String = {
        let client = stack.db.connect().await.unwrap();
        client
            .query_one("SELECT schema FROM read_meta.active", &[])
            .await
            .unwrap()
            .get(0)
    };
    for sql in [
        "SELECT payload::text FROM es.events".to_owned(),
        "SELECT encode(token_hash, 'escape') FROM es.email_verification_tokens".to_owned(),
        format!("SELECT payload::text FROM {schema}.audit_events"),
        "SELECT encode(body, 'escape') FROM es.idempotency_keys".to_owned(),
    ] {
        assert_eq!(rows_containing(&stack, &sql, &token).await, 0, "{sql}");
    }
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_the_mail_and_every_session_ends() {
    let stack = Stack::start().await;
    let email = "hopper@example.com";
    let id = stack.register(email).await;
    let session = stack.login(email, PASSWORD).await;

    for address in [email, "nobody-here@example.com"] {
        let response = stack
            .command(
                Method::POST,
                "/v1/password-resets",
                None,
                Some(&json!({ "email": address })),
            )
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let token = stack.mailed_token(email, RESET_SUBJECT, 1).await;
    let reset = stack
        .command(
            Method::POST,
            &format!("/v1/password-resets/{token}"),
            None,
            Some(&json!({ "password": "a-freshly-reset-password" })),
        )
        .await;
    assert_eq!(reset.status(), StatusCode::OK);
    let old = stack
        .command(
            Method::PATCH,
            &format!("/v1/users/{id}"),
            Some(&session),
            Some(&json!({ "display_name": "Grace" })),
        )
        .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    stack.login(email, "a-freshly-reset-password").await;
    stack.mailed_token_free(email, CHANGED_SUBJECT).await;
    let reused = stack
        .command(
            Method::POST,
            &format!("/v1/password-resets/{token}"),
            None,
            Some(&json!({ "password": "a-third-password-now" })),
        )
        .await;
    assert_eq!(reused.status(), StatusCode::GONE);
    // The address without an account got nothing, though it was asked for first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(stack.mails_to("nobody-here@example.com").is_empty());
}
