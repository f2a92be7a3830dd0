//! Sign-up, sign-in, roles and profile changes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, assert_problem, spawn_app};

#[tokio::test]
async fn register_returns_201_with_id_and_normalises_the_email() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/v1/users",
            None,
            &json!({ "email": "  Ada@Example.COM ", "password": PASSWORD, "display_name": "Ada" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().contains_key("location"));
    assert_eq!(response.headers()["etag"], "\"1\"");
    let token = app.login("ada@example.com", PASSWORD).await;
    assert!(!token.is_empty());
}

#[tokio::test]
async fn register_returns_400_naming_every_invalid_field_and_records_nothing() {
    let app = spawn_app().await;
    let before = app.event_count().await;
    let response = app
        .post(
            "/v1/users",
            None,
            &json!({ "email": "not-an-email", "password": "short", "display_name": "" }),
        )
        .await;
    let body = assert_problem(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["email", "display_name", "password"]);
    assert_eq!(app.event_count().await, before);
}

#[tokio::test]
async fn register_with_a_taken_email_returns_409() {
    let app = spawn_app().await;
    app.register("taken@example.com").await;
    let response = app
        .post(
            "/v1/users",
            None,
            &json!({ "email": "TAKEN@example.com", "password": PASSWORD, "display_name": "Again" }),
        )
        .await;
    assert_problem(response, StatusCode::CONFLICT, "email_taken").await;
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_401() {
    let app = spawn_app().await;
    app.register("known@example.com").await;
    let wrong_password = app
        .post(
            "/v1/sessions",
            None,
            &json!({ "email": "known@example.com", "password": "wrong-password-123" }),
        )
        .await;
    let unknown_email = app
        .post(
            "/v1/sessions",
            None,
            &json!({ "email": "nobody@example.com", "password": PASSWORD }),
        )
        .await;
    let a = assert_problem(
        wrong_password,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let b = assert_problem(
        unknown_email,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(a, b);
}

#[tokio::test]
async fn sign_in_returns_a_bearer_token_that_expires_in_15_minutes() {
    let app = spawn_app().await;
    app.register("token@example.com").await;
    let response = app
        .post(
            "/v1/sessions",
            None,
            &json!({ "email": "token@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["access_token"].as_str().unwrap().split('.').count(), 3);
}

#[tokio::test]
async fn only_an_admin_may_assign_roles() {
    let app = spawn_app().await;
    let user = app.register("customer@example.com").await;
    let customer = app.login("customer@example.com", PASSWORD).await;
    let path = format!("/v1/users/{user}/role");
    let body = json!({ "role": "seller" });
    let by_customer = app
        .send(Method::PUT, &path, Some(&customer), Some(&body), &[])
        .await;
    assert_problem(by_customer, StatusCode::FORBIDDEN, "forbidden").await;
    let anonymous = app.send(Method::PUT, &path, None, Some(&body), &[]).await;
    assert_problem(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let admin = app.admin_token().await;
    let unverified = app
        .send(Method::PUT, &path, Some(&admin), Some(&body), &[])
        .await;
    assert_problem(unverified, StatusCode::CONFLICT, "email_not_verified").await;
    app.verify_email(user).await;
    let by_admin = app
        .send(Method::PUT, &path, Some(&admin), Some(&body), &[])
        .await;
    assert_eq!(by_admin.status(), StatusCode::OK);
    let bad_role = app
        .send(
            Method::PUT,
            &path,
            Some(&admin),
            Some(&json!({ "role": "emperor" })),
            &[],
        )
        .await;
    assert_problem(bad_role, StatusCode::BAD_REQUEST, "malformed_body").await;
}

#[tokio::test]
async fn users_change_their_own_display_name_but_not_someone_elses() {
    let app = spawn_app().await;
    let me = app.register("me@example.com").await;
    let other = app.register("other@example.com").await;
    let token = app.login("me@example.com", PASSWORD).await;
    let body = json!({ "display_name": "New Name" });
    let own = app
        .send(
            Method::PATCH,
            &format!("/v1/users/{me}"),
            Some(&token),
            Some(&body),
            &[],
        )
        .await;
    assert_eq!(own.status(), StatusCode::OK);
    let theirs = app
        .send(
            Method::PATCH,
            &format!("/v1/users/{other}"),
            Some(&token),
            Some(&body),
            &[],
        )
        .await;
    assert_problem(theirs, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn changing_your_own_password_needs_the_current_one() {
    let app = spawn_app().await;
    let me = app.register("pw@example.com").await;
    let token = app.login("pw@example.com", PASSWORD).await;
    let path = format!("/v1/users/{me}");
    let without = json!({ "password": "another-long-password" });
    let response = app
        .send(Method::PATCH, &path, Some(&token), Some(&without), &[])
        .await;
    assert_problem(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    let wrong =
        json!({ "password": "another-long-password", "current_password": "not-the-password" });
    let response = app
        .send(Method::PATCH, &path, Some(&token), Some(&wrong), &[])
        .await;
    assert_problem(response, StatusCode::FORBIDDEN, "wrong_current_password").await;
    let right = json!({ "password": "another-long-password", "current_password": PASSWORD });
    let response = app
        .send(Method::PATCH, &path, Some(&token), Some(&right), &[])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    app.login("pw@example.com", "another-long-password").await;
}

#[tokio::test]
async fn a_deactivated_user_can_neither_sign_in_nor_act_with_an_old_token() {
    let app = spawn_app().await;
    let me = app.register("leaving@example.com").await;
    let token = app.login("leaving@example.com", PASSWORD).await;
    let path = format!("/v1/users/{me}");
    // Their own account: only with the current password.
    let response = app
        .send(Method::DELETE, &path, Some(&token), None, &[])
        .await;
    assert_problem(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    let wrong = json!({ "current_password": "not-my-password-at-all" });
    let response = app
        .send(Method::DELETE, &path, Some(&token), Some(&wrong), &[])
        .await;
    assert_problem(response, StatusCode::FORBIDDEN, "wrong_current_password").await;
    let right = json!({ "current_password": PASSWORD });
    let response = app
        .send(Method::DELETE, &path, Some(&token), Some(&right), &[])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let sign_in = app
        .post(
            "/v1/sessions",
            None,
            &json!({ "email": "leaving@example.com", "password": PASSWORD }),
        )
        .await;
    assert_problem(sign_in, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let with_old_token = app
        .send(
            Method::PATCH,
            &format!("/v1/users/{me}"),
            Some(&token),
            Some(&json!({ "display_name": "Ghost" })),
            &[],
        )
        .await;
    // The deactivation ended the session the token belongs to.
    assert_problem(with_old_token, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn the_bootstrap_admin_exists_once_and_no_secret_is_stored_in_events() {
    let app = spawn_app().await;
    app.register("secret@example.com").await;
    let client = app.db.connect().await.unwrap();
    let admins: i64 = client
        .query_one(
            "SELECT count(*) FROM es.email_reservations WHERE email = $1",
            &[&ADMIN_EMAIL],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(admins, 1);
    let payloads: Vec<String> = client
        .query("SELECT payload::text FROM es.events", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(!payloads.is_empty());
    for payload in payloads {
        assert!(!payload.contains(PASSWORD), "{payload}");
        assert!(!payload.contains("argon2"), "{payload}");
        assert!(!payload.contains("password"), "{payload}");
    }
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_throttled_with_429_for_known_and_unknown_addresses() {
    let app = spawn_app().await;
    app.register("guessed@example.com").await;
    for email in ["guessed@example.com", "ghost@example.com"] {
        let wrong = json!({ "email": email, "password": "wrong-password-123" });
        for _ in 0..5 {
            let response = app.post("/v1/sessions", None, &wrong).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        let right = json!({ "email": email, "password": PASSWORD });
        let response = app.post("/v1/sessions", None, &right).await;
        assert!(response.headers().contains_key("retry-after"));
        assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    }
    // Other addresses are unaffected.
    app.register("fine@example.com").await;
    app.login("fine@example.com", PASSWORD).await;
}

#[tokio::test]
async fn the_last_active_admin_cannot_demote_or_deactivate_themselves() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let admin_id = admin_id(&app).await;
    let before = app.event_count().await;
    let demote = json!({ "role": "seller" });
    let path = format!("/v1/users/{admin_id}/role");
    let response = app
        .send(Method::PUT, &path, Some(&admin), Some(&demote), &[])
        .await;
    let body = assert_problem(response, StatusCode::CONFLICT, "last_admin").await;
    assert!(body["detail"].is_string(), "{body}");
    let path = format!("/v1/users/{admin_id}");
    let password = json!({ "current_password": ADMIN_PASSWORD });
    let response = app
        .send(Method::DELETE, &path, Some(&admin), Some(&password), &[])
        .await;
    assert_problem(response, StatusCode::CONFLICT, "last_admin").await;
    assert_eq!(app.event_count().await, before, "nothing was recorded");

    // With a second admin, the first may step down.
    let second = app.register("second-admin@example.com").await;
    app.verify_email(second).await;
    let promote = json!({ "role": "admin" });
    let response = app
        .send(
            Method::PUT,
            &format!("/v1/users/{second}/role"),
            Some(&admin),
            Some(&promote),
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .send(
            Method::PUT,
            &format!("/v1/users/{admin_id}/role"),
            Some(&admin),
            Some(&demote),
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn two_admins_stepping_down_at_once_leave_one_admin() {
    let app = spawn_app().await;
    let first = app.admin_token().await;
    let second_id = app.register("co-admin@example.com").await;
    app.verify_email(second_id).await;
    let promote = json!({ "role": "admin" });
    let response = app
        .send(
            Method::PUT,
            &format!("/v1/users/{second_id}/role"),
            Some(&first),
            Some(&promote),
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let second = app.login("co-admin@example.com", PASSWORD).await;
    let first_id = admin_id(&app).await;
    let demote = json!({ "role": "customer" });
    let (first_path, second_path) = (
        format!("/v1/users/{first_id}/role"),
        format!("/v1/users/{second_id}/role"),
    );
    let (a, b) = tokio::join!(
        app.send(Method::PUT, &first_path, Some(&first), Some(&demote), &[]),
        app.send(Method::PUT, &second_path, Some(&second), Some(&demote), &[]),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "exactly one stepped down");
    let client = app.db.connect().await.unwrap();
    let admins: i64 = client
        .query_one("SELECT count(*) FROM es.active_admins", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(admins, 1);
}

/// The bootstrap admin's user id.
async fn admin_id(app: &crate::helpers::TestApp) -> uuid::Uuid {
    let client = app.db.connect().await.unwrap();
    client
        .query_one(
            "SELECT user_id FROM es.email_reservations WHERE email = $1",
            &[&ADMIN_EMAIL],
        )
        .await
        .unwrap()
        .get(0)
}
