//! Email verification and password reset against the real database: the tokens are drawn and
//! stored the way the notifier does it (`TestApp::mailed_token`), everything else is the API.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{PASSWORD, TestApp, assert_problem, spawn_app};

const VERIFICATION: &str = "email_verification_tokens";
const RESET: &str = "password_reset_tokens";

async fn verify(app: &TestApp, user_id: Uuid, token: &str) -> reqwest::Response {
    app.post(
        &format!("/v1/users/{user_id}/email-verification"),
        None,
        &json!({ "token": token }),
    )
    .await
}

async fn events_of(app: &TestApp, user_id: Uuid, event_type: &str) -> i64 {
    let client = app.db.connect().await.unwrap();
    client
        .query_one(
            "SELECT count(*) FROM es.events WHERE stream_id = $1 AND event_type = $2",
            &[&user_id, &event_type],
        )
        .await
        .unwrap()
        .get(0)
}

async fn tokens_of(app: &TestApp, table: &str, user_id: Uuid) -> i64 {
    let client = app.db.connect().await.unwrap();
    client
        .query_one(
            &format!("SELECT count(*) FROM es.{table} WHERE user_id = $1"),
            &[&user_id],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_verification_token_works_once_for_its_own_account_only() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let adas = app.mailed_token(VERIFICATION, ada, 86_400).await;
    let spare = app.mailed_token(VERIFICATION, ada, 86_400).await;

    let made_up = verify(&app, ada, "not-a-token-anyone-was-sent").await;
    assert_problem(made_up, StatusCode::GONE, "token_invalid").await;
    let someone_elses = verify(&app, bob, &adas).await;
    assert_problem(someone_elses, StatusCode::GONE, "token_invalid").await;
    assert_eq!(events_of(&app, bob, "user.email_verified").await, 0);

    let response = verify(&app, ada, &adas).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(events_of(&app, ada, "user.email_verified").await, 1);
    assert_eq!(tokens_of(&app, VERIFICATION, ada).await, 0, "all used up");
    for token in [adas, spare] {
        assert_problem(
            verify(&app, ada, &token).await,
            StatusCode::GONE,
            "token_invalid",
        )
        .await;
    }
}

#[tokio::test]
async fn an_expired_verification_token_is_refused() {
    let app = spawn_app().await;
    let ada = app.register("late@example.com").await;
    let token = "expired-token-from-a-mail-read-too-late";
    let hash = {
        use sha2::Digest;
        sha2::Sha256::digest(token.as_bytes()).to_vec()
    };
    let client = app.db.connect().await.unwrap();
    client
        .execute(
            "INSERT INTO es.email_verification_tokens (token_hash, user_id, issued_at, expires_at)
             VALUES ($1, $2, now() - interval '25 hours', now() - interval '1 hour')",
            &[&hash, &ada],
        )
        .await
        .unwrap();
    assert_problem(
        verify(&app, ada, token).await,
        StatusCode::GONE,
        "token_invalid",
    )
    .await;
    assert_eq!(events_of(&app, ada, "user.email_verified").await, 0);
}

#[tokio::test]
async fn the_database_refuses_a_token_that_would_outlive_its_purpose() {
    let app = spawn_app().await;
    let ada = app.register("long@example.com").await;
    let client = app.db.connect().await.unwrap();
    for (table, lifetime) in [(VERIFICATION, "25 hours"), (RESET, "31 minutes")] {
        let refused = client
            .execute(
                &format!(
                    "INSERT INTO es.{table} (token_hash, user_id, expires_at)
                     VALUES ($1, $2, now() + interval '{lifetime}')"
                ),
                &[&vec![7u8; 32], &ada],
            )
            .await;
        assert!(refused.is_err(), "{table} took a token for {lifetime}");
    }
}

#[tokio::test]
async fn another_verification_mail_is_throttled_and_only_for_the_owner_or_an_admin() {
    let app = spawn_app().await;
    let ada = app.register("resend@example.com").await;
    let token = app.login("resend@example.com", PASSWORD).await;
    let path = format!("/v1/users/{ada}/email-verification-requests");
    let mallory = app.register("mallory@example.com").await;
    let mallorys = app.login("mallory@example.com", PASSWORD).await;
    let by_someone_else = app
        .send(Method::POST, &path, Some(&mallorys), None, &[])
        .await;
    assert_problem(by_someone_else, StatusCode::FORBIDDEN, "forbidden").await;
    let anonymous = app.send(Method::POST, &path, None, None, &[]).await;
    assert_problem(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;

    // Mallory's attempt spent none of Ada's budget.
    let first = app.send(Method::POST, &path, Some(&token), None, &[]).await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    assert_eq!(
        events_of(&app, ada, "user.email_verification_requested").await,
        1
    );
    let again = app.send(Method::POST, &path, Some(&token), None, &[]).await;
    assert!(again.headers().contains_key("retry-after"));
    assert_problem(again, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    assert_eq!(
        events_of(&app, ada, "user.email_verification_requested").await,
        1
    );

    app.verify_email(mallory).await;
    let path = format!("/v1/users/{mallory}/email-verification-requests");
    let verified = app
        .send(Method::POST, &path, Some(&mallorys), None, &[])
        .await;
    assert_problem(verified, StatusCode::CONFLICT, "email_already_verified").await;
}

async fn request_reset(app: &TestApp, email: &str) -> reqwest::Response {
    app.post("/v1/password-resets", None, &json!({ "email": email }))
        .await
}

/// Waits for the reset request recorded after the 202.
async fn wait_for_events(app: &TestApp, user_id: Uuid, event_type: &str, count: i64) {
    for _ in 0..100 {
        if events_of(app, user_id, event_type).await >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{event_type} was not recorded {count} times");
}

#[tokio::test]
async fn a_reset_request_answers_the_same_whether_or_not_the_address_has_an_account() {
    let app = spawn_app().await;
    let ada = app.register("forgetful@example.com").await;
    let before = app.event_count().await;
    let known = request_reset(&app, "  Forgetful@Example.com ").await;
    let unknown = request_reset(&app, "nobody@example.com").await;
    assert_eq!(known.status(), StatusCode::ACCEPTED);
    assert_eq!(unknown.status(), StatusCode::ACCEPTED);
    let (known, unknown): (Value, Value) =
        (known.json().await.unwrap(), unknown.json().await.unwrap());
    assert_eq!(known, unknown);
    wait_for_events(&app, ada, "user.password_reset_requested", 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        app.event_count().await,
        before + 1,
        "nothing for the unknown address"
    );

    let malformed = request_reset(&app, "not an address").await;
    assert_problem(malformed, StatusCode::BAD_REQUEST, "validation_failed").await;
    // Three per address and window, for addresses with and without an account alike.
    for email in ["forgetful@example.com", "nobody@example.com"] {
        let mut statuses = Vec::new();
        for _ in 0..3 {
            statuses.push(request_reset(&app, email).await.status().as_u16());
        }
        // One of the three was spent above.
        assert_eq!(statuses, [202, 202, 429], "{email}");
    }
}

async fn reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post(
        &format!("/v1/password-resets/{token}"),
        None,
        &json!({ "password": password }),
    )
    .await
}

#[tokio::test]
async fn a_reset_sets_the_password_ends_every_session_and_works_once() {
    let app = spawn_app().await;
    let ada = app.register("reset@example.com").await;
    let session = app.sign_in("reset@example.com", PASSWORD).await;
    let access = session["access_token"].as_str().unwrap().to_owned();
    let token = app.mailed_token(RESET, ada, 1800).await;
    let spare = app.mailed_token(RESET, ada, 1800).await;

    let short = reset(&app, &token, "short").await;
    assert_problem(short, StatusCode::BAD_REQUEST, "validation_failed").await;
    let made_up = reset(&app, "made-up-token", "a-brand-new-password").await;
    assert_problem(made_up, StatusCode::GONE, "token_invalid").await;

    let response = reset(&app, &token, "a-brand-new-password").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(events_of(&app, ada, "user.password_reset").await, 1);
    assert_eq!(tokens_of(&app, RESET, ada).await, 0, "the spare went too");
    let old_session = app
        .send(
            Method::PATCH,
            &format!("/v1/users/{ada}"),
            Some(&access),
            Some(&json!({ "display_name": "Ada" })),
            &[],
        )
        .await;
    assert_eq!(old_session.status(), StatusCode::UNAUTHORIZED);
    let refresh = app
        .refresh(session["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    let old_password = app
        .post(
            "/v1/sessions",
            None,
            &json!({ "email": "reset@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(old_password.status(), StatusCode::UNAUTHORIZED);
    app.login("reset@example.com", "a-brand-new-password").await;

    for used in [token, spare] {
        let again = reset(&app, &used, "yet-another-password").await;
        assert_problem(again, StatusCode::GONE, "token_invalid").await;
    }
}

#[tokio::test]
async fn one_reset_token_presented_twice_at_once_resets_once() {
    let app = spawn_app().await;
    let ada = app.register("race@example.com").await;
    let token = app.mailed_token(RESET, ada, 1800).await;
    let (a, b) = tokio::join!(
        reset(&app, &token, "first-new-password"),
        reset(&app, &token, "second-new-password"),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 410]);
    assert_eq!(events_of(&app, ada, "user.password_reset").await, 1);
}

#[tokio::test]
async fn a_password_change_or_deactivation_makes_outstanding_tokens_useless() {
    let app = spawn_app().await;
    let ada = app.register("careful@example.com").await;
    let access = app.login("careful@example.com", PASSWORD).await;
    let reset_token = app.mailed_token(RESET, ada, 1800).await;
    let verification = app.mailed_token(VERIFICATION, ada, 86_400).await;
    let change = json!({ "password": "changed-the-usual-way", "current_password": PASSWORD });
    let response = app
        .send(
            Method::PATCH,
            &format!("/v1/users/{ada}"),
            Some(&access),
            Some(&change),
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let stale = reset(&app, &reset_token, "a-stale-reset-attempt").await;
    assert_problem(stale, StatusCode::GONE, "token_invalid").await;
    assert_eq!(tokens_of(&app, VERIFICATION, ada).await, 1);

    let admin = app.admin_token().await;
    let response = app
        .send(
            Method::DELETE,
            &format!("/v1/users/{ada}"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(tokens_of(&app, VERIFICATION, ada).await, 0);
    assert_problem(
        verify(&app, ada, &verification).await,
        StatusCode::GONE,
        "token_invalid",
    )
    .await;
}

#[tokio::test]
async fn a_retried_reset_or_verification_replays_its_first_answer_though_the_token_is_spent() {
    let app = spawn_app().await;
    let ada = app.register("retry@example.com").await;
    let reset_token = app.mailed_token(RESET, ada, 1800).await;
    let verification = app.mailed_token(VERIFICATION, ada, 86_400).await;
    let requests = [
        (
            format!("/v1/password-resets/{reset_token}"),
            json!({ "password": "a-password-set-once" }),
        ),
        (
            format!("/v1/users/{ada}/email-verification"),
            json!({ "token": verification }),
        ),
    ];
    for (n, (path, body)) in requests.into_iter().enumerate() {
        let key = format!("lost-answer-{n}");
        let key = [("idempotency-key", key.as_str())];
        let first = app.send(Method::POST, &path, None, Some(&body), &key).await;
        assert_eq!(first.status(), StatusCode::OK, "{path}");
        let retry = app.send(Method::POST, &path, None, Some(&body), &key).await;
        assert_eq!(retry.status(), StatusCode::OK, "{path}");
        assert_eq!(retry.headers()["idempotent-replayed"], "true");
        let without_key = app.send(Method::POST, &path, None, Some(&body), &[]).await;
        assert_problem(without_key, StatusCode::GONE, "token_invalid").await;
    }
    assert_eq!(events_of(&app, ada, "user.password_reset").await, 1);
}
