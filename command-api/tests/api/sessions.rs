//! Sessions: refresh tokens rotate on every use, a spent one presented again ends the whole
//! session, sign-out ends it, and a password, role or status change ends every session of the
//! user, access tokens included.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{PASSWORD, TestApp, assert_problem, spawn_app};

fn field(body: &Value, name: &str) -> String {
    body[name].as_str().expect(name).to_owned()
}

/// A command only a live session may send: the user renames themself.
async fn rename(app: &TestApp, user_id: uuid::Uuid, token: &str) -> StatusCode {
    app.send(
        Method::PATCH,
        &format!("/v1/users/{user_id}"),
        Some(token),
        Some(&json!({ "display_name": "Renamed" })),
        &[],
    )
    .await
    .status()
}

#[tokio::test]
async fn a_refresh_rotates_both_tokens_and_reusing_a_spent_one_ends_the_session() {
    let app = spawn_app().await;
    let user_id = app.register("rotate@example.com").await;
    let first = app.sign_in("rotate@example.com", PASSWORD).await;
    assert_eq!(first["refresh_expires_in"], 14 * 86_400);

    let response = app.refresh(&field(&first, "refresh_token")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let second: Value = response.json().await.unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(
        rename(&app, user_id, &field(&second, "access_token")).await,
        StatusCode::OK
    );

    // Someone replays the first refresh token: the session ends for everyone holding it.
    let replay = app.refresh(&field(&first, "refresh_token")).await;
    assert_problem(replay, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    assert_eq!(
        rename(&app, user_id, &field(&second, "access_token")).await,
        StatusCode::UNAUTHORIZED
    );
    let successor = app.refresh(&field(&second, "refresh_token")).await;
    assert_problem(successor, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;

    let client = app.db.connect().await.unwrap();
    let reason: String = client
        .query_one(
            "SELECT end_reason FROM es.sessions WHERE user_id = $1",
            &[&user_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(reason, "refresh_token_reused");
    // Only hashes are stored: no row holds a token, and the hash is SHA-256 of it.
    let hashes: Vec<Vec<u8>> = client
        .query("SELECT token_hash FROM es.refresh_tokens", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let first_hash = Sha256::digest(field(&first, "refresh_token").as_bytes()).to_vec();
    assert!(hashes.contains(&first_hash));
    for hash in &hashes {
        assert!(!String::from_utf8_lossy(hash).contains("ccr_"));
    }
}

#[tokio::test]
async fn of_parallel_refreshes_with_one_token_exactly_one_succeeds() {
    let app = spawn_app().await;
    app.register("race@example.com").await;
    let session = app.sign_in("race@example.com", PASSWORD).await;
    let token = field(&session, "refresh_token");
    let statuses: Vec<StatusCode> =
        join_all((0..8).map(|_| async { app.refresh(&token).await.status() })).await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!((ok, refused), (1, 7), "{statuses:?}");
}

#[tokio::test]
async fn sign_out_ends_the_access_and_refresh_token_of_that_session_only() {
    let app = spawn_app().await;
    let user_id = app.register("leave@example.com").await;
    let phone = app.sign_in("leave@example.com", PASSWORD).await;
    let laptop = app.sign_in("leave@example.com", PASSWORD).await;
    let sign_out = |token: String| {
        let app = &app;
        async move {
            app.send(
                Method::DELETE,
                "/v1/sessions/current",
                Some(&token),
                None,
                &[],
            )
            .await
        }
    };
    let response = sign_out(field(&phone, "access_token")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        rename(&app, user_id, &field(&phone, "access_token")).await,
        StatusCode::UNAUTHORIZED
    );
    let refresh = app.refresh(&field(&phone, "refresh_token")).await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    let again = sign_out(field(&phone, "access_token")).await;
    assert_problem(again, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    // The other device is untouched.
    assert_eq!(
        rename(&app, user_id, &field(&laptop, "access_token")).await,
        StatusCode::OK
    );
    let anonymous = app
        .send(Method::DELETE, "/v1/sessions/current", None, None, &[])
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_password_change_ends_every_session_of_the_user_and_no_one_elses() {
    let app = spawn_app().await;
    let user_id = app.register("moving@example.com").await;
    app.register("bystander@example.com").await;
    let bystander = app.sign_in("bystander@example.com", PASSWORD).await;
    let phone = app.sign_in("moving@example.com", PASSWORD).await;
    let laptop = app.sign_in("moving@example.com", PASSWORD).await;
    let change = json!({ "password": "a-brand-new-password", "current_password": PASSWORD });
    let response = app
        .send(
            Method::PATCH,
            &format!("/v1/users/{user_id}"),
            Some(&field(&laptop, "access_token")),
            Some(&change),
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    for session in [&phone, &laptop] {
        assert_eq!(
            rename(&app, user_id, &field(session, "access_token")).await,
            StatusCode::UNAUTHORIZED
        );
        let refresh = app.refresh(&field(session, "refresh_token")).await;
        assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    }
    let refresh = app.refresh(&field(&bystander, "refresh_token")).await;
    assert_eq!(refresh.status(), StatusCode::OK);
    let fresh = app
        .login("moving@example.com", "a-brand-new-password")
        .await;
    assert_eq!(rename(&app, user_id, &fresh).await, StatusCode::OK);
}

#[tokio::test]
async fn a_role_change_ends_the_sessions_of_the_user_whose_role_changed() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let user_id = app.register("promoted@example.com").await;
    app.verify_email(user_id).await;
    let before = app.sign_in("promoted@example.com", PASSWORD).await;
    let response = app
        .send(
            Method::PUT,
            &format!("/v1/users/{user_id}/role"),
            Some(&admin),
            Some(&json!({ "role": "seller" })),
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        rename(&app, user_id, &field(&before, "access_token")).await,
        StatusCode::UNAUTHORIZED
    );
    let refresh = app.refresh(&field(&before, "refresh_token")).await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    // Signing in again, right away, gives a token with the new role that works.
    let after = app.login("promoted@example.com", PASSWORD).await;
    assert_eq!(rename(&app, user_id, &after).await, StatusCode::OK);
}

#[tokio::test]
async fn refresh_tokens_that_are_not_ours_get_401_or_400_and_change_nothing() {
    let app = spawn_app().await;
    let before = app.event_count().await;
    for token in ["", "ccr_00", "not a token", &"x".repeat(60_000)] {
        let response = app.refresh(token).await;
        assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    }
    let nul = json!({ "refresh_token": "ccr_\u{0}\u{0}" });
    for body in [
        json!({}),
        json!({ "refresh_token": 7 }),
        json!({ "token": "x" }),
        nul,
    ] {
        let response = app.post("/v1/sessions/refresh", None, &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn the_sweep_deletes_ended_sessions_with_their_refresh_tokens_and_keeps_live_ones() {
    let app = spawn_app().await;
    let user_id = app.register("sweep@example.com").await;
    let ended = app.sign_in("sweep@example.com", PASSWORD).await;
    let live = app.sign_in("sweep@example.com", PASSWORD).await;
    let response = app
        .send(
            Method::DELETE,
            "/v1/sessions/current",
            Some(&field(&ended, "access_token")),
            None,
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let client = app.db.connect().await.unwrap();
    let swept = store::sessions::sweep(&client, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(swept, 1);
    let tokens: i64 = client
        .query_one(
            "SELECT count(*) FROM es.refresh_tokens t JOIN es.sessions s ON s.id = t.session_id
             WHERE s.user_id = $1",
            &[&user_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(tokens, 1, "only the live session's token is left");
    let refresh = app.refresh(&field(&live, "refresh_token")).await;
    assert_eq!(refresh.status(), StatusCode::OK);
}
