//! Attacks on sign-in, sign-up and re-authentication, each against the real server and database:
//! parallel guessing, guessing spread over networks, one network trying many accounts, sign-up
//! floods, hash floods; and what is stored or sent that an attacker could use.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{PASSWORD, TestApp, assert_problem, spawn_app, spawn_app_with};

/// Statuses of `responses`, counted: (401s, 429s, others).
fn tally(statuses: &[StatusCode]) -> (usize, usize, Vec<StatusCode>) {
    let unauthorized = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    let others = statuses
        .iter()
        .copied()
        .filter(|s| *s != StatusCode::UNAUTHORIZED && *s != StatusCode::TOO_MANY_REQUESTS)
        .collect();
    (unauthorized, throttled, others)
}

async fn sign_in_from(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> StatusCode {
    app.post_via(
        client,
        "/v1/sessions",
        None,
        &json!({ "email": email, "password": password }),
    )
    .await
    .status()
}

#[tokio::test]
async fn fifty_parallel_wrong_passwords_get_exactly_the_budget_of_401s() {
    let app = spawn_app().await;
    app.register("target@example.com").await;
    let wrong = json!({ "email": "target@example.com", "password": "wrong-password-123" });
    let statuses: Vec<StatusCode> =
        join_all((0..50).map(|_| async { app.post("/v1/sessions", None, &wrong).await.status() }))
            .await;
    let (unauthorized, throttled, others) = tally(&statuses);
    // Five attempts per account and network (the default), however many arrive at once.
    assert_eq!((unauthorized, throttled), (5, 45), "{statuses:?}");
    assert!(others.is_empty(), "{others:?}");
}

#[tokio::test]
async fn the_owner_keeps_signing_in_while_other_networks_hammer_the_account() {
    let app = spawn_app_with(|s| s.auth_limits.per_account = 10).await;
    app.register("owner@example.com").await;
    let owner = TestApp::client_from("127.0.0.3");
    assert_eq!(
        sign_in_from(&app, &owner, "owner@example.com", PASSWORD).await,
        StatusCode::OK
    );

    // Thirty guesses from ten networks, three each: under every per-network budget.
    let attackers: Vec<reqwest::Client> = (0..10)
        .map(|i| TestApp::client_from(&format!("127.0.1.{}", i + 1)))
        .collect();
    let guesses = attackers.iter().flat_map(|client| {
        (0..3).map(|_| sign_in_from(&app, client, "owner@example.com", "wrong-password-123"))
    });
    let statuses = join_all(guesses).await;
    let (unauthorized, throttled, others) = tally(&statuses);
    // The owner's first sign-in, from a network not yet trusted, took one of the ten.
    assert_eq!((unauthorized, throttled), (9, 21), "{statuses:?}");
    assert!(others.is_empty(), "{others:?}");

    // The owner's network signed in before, so the account's budget does not apply to it...
    assert_eq!(
        sign_in_from(&app, &owner, "owner@example.com", PASSWORD).await,
        StatusCode::OK
    );
    // ...while a network the account has never seen waits for the window, right password or not.
    let stranger = TestApp::client_from("127.0.0.9");
    assert_eq!(
        sign_in_from(&app, &stranger, "owner@example.com", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn one_network_trying_many_accounts_is_cut_off_and_others_are_not() {
    let app = spawn_app_with(|s| s.auth_limits.per_client = 10).await;
    let sprayer = TestApp::client_from("127.0.0.4");
    let attempts = (0..15).map(|i| {
        let email = format!("user-{i}@example.com");
        let sprayer = &sprayer;
        let app = &app;
        async move { sign_in_from(app, sprayer, &email, "Summer2026!Summer").await }
    });
    let statuses = join_all(attempts).await;
    let (unauthorized, throttled, others) = tally(&statuses);
    assert_eq!((unauthorized, throttled), (10, 5), "{statuses:?}");
    assert!(others.is_empty(), "{others:?}");
    let neighbour = TestApp::client_from("127.0.0.5");
    assert_eq!(
        sign_in_from(&app, &neighbour, "user-1@example.com", "Summer2026!Summer").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn sign_ups_from_one_network_are_throttled_and_change_nothing_beyond_the_budget() {
    let app = spawn_app_with(|s| s.auth_limits.sign_ups_per_client = 3).await;
    let flooder = TestApp::client_from("127.0.0.6");
    let before = app.event_count().await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let body = json!({ "email": format!("bot-{i}@example.com"), "password": PASSWORD, "display_name": "Bot" });
        let response = app.post_via(&flooder, "/v1/users", None, &body).await;
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().contains_key("retry-after"));
            assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
        }
    }
    assert_eq!(
        statuses,
        [
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    assert_eq!(app.event_count().await, before + 3);
    let person = TestApp::client_from("127.0.0.7");
    let body =
        json!({ "email": "person@example.com", "password": PASSWORD, "display_name": "Person" });
    assert_eq!(
        app.post_via(&person, "/v1/users", None, &body)
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn beyond_the_global_password_budget_sign_ins_get_503_with_retry_after() {
    let app = spawn_app_with(|s| s.auth_limits.global_per_second = 3).await;
    let clients: Vec<reqwest::Client> = (0..12)
        .map(|i| TestApp::client_from(&format!("127.0.2.{}", i + 1)))
        .collect();
    let responses = join_all(clients.iter().enumerate().map(|(i, client)| {
        let body =
            json!({ "email": format!("nobody-{i}@example.com"), "password": "wrong-password-123" });
        let app = &app;
        async move { app.post_via(client, "/v1/sessions", None, &body).await }
    }))
    .await;
    let mut shed = 0;
    for response in responses {
        match response.status() {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                shed += 1;
                assert!(response.headers().contains_key("retry-after"));
                assert_problem(response, StatusCode::SERVICE_UNAVAILABLE, "auth_busy").await;
            }
            other => panic!("unexpected {other}"),
        }
    }
    // At most two one-second windows' worth got through, however the burst fell across them.
    assert!(shed >= 12 - 6, "only {shed} of 12 were shed");
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_like_sign_ins() {
    let app = spawn_app().await;
    let id = app.register("changer@example.com").await;
    let token = app.login("changer@example.com", PASSWORD).await;
    let path = format!("/v1/users/{id}");
    let guess =
        json!({ "password": "a-brand-new-password", "current_password": "guessing-123456" });
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response = app
            .send(Method::PATCH, &path, Some(&token), Some(&guess), &[])
            .await;
        statuses.push(response.status());
    }
    assert_eq!(&statuses[..5], &[StatusCode::FORBIDDEN; 5], "{statuses:?}");
    assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn stored_idempotency_fingerprints_cannot_be_recomputed_from_a_guessed_password() {
    let app = spawn_app().await;
    let body =
        json!({ "email": "keyed@example.com", "password": PASSWORD, "display_name": "Keyed" });
    let sign_up = || {
        app.send(
            Method::POST,
            "/v1/users",
            None,
            Some(&body),
            &[("idempotency-key", "keyed-1")],
        )
    };
    assert_eq!(sign_up().await.status(), StatusCode::CREATED);
    let raw = serde_json::to_vec(&body).unwrap();
    let client = app.db.connect().await.unwrap();
    let stored: Vec<u8> = client
        .query_one(
            "SELECT request_hash FROM es.idempotency_keys WHERE key = 'keyed-1'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let mut plain = Sha256::new();
    plain.update(b"POST /v1/users");
    plain.update([0]);
    plain.update(&raw);
    assert_ne!(
        stored,
        plain.finalize().to_vec(),
        "the fingerprint is a plain digest"
    );
    // It still recognises the same request: a replay answers as the first time did.
    assert_eq!(sign_up().await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let ok = app.http.get(app.url("/health/live")).send().await.unwrap();
    let missing = app.http.get(app.url("/nowhere")).send().await.unwrap();
    let bad = app
        .post("/v1/users", None, &Value::String("x".into()))
        .await;
    for response in [ok, missing, bad] {
        let headers = response.headers();
        assert_eq!(
            headers["x-content-type-options"],
            "nosniff",
            "{}",
            response.url()
        );
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["cache-control"], "no-store");
    }
}

#[tokio::test]
async fn a_forged_snapshot_does_not_make_anyone_an_admin() {
    let app = spawn_app().await;
    let mallory = app.register("mallory@example.com").await;
    let victim = app.register("victim@example.com").await;
    // Whoever can write es.snapshots (the writer role can) writes an admin state for themselves.
    let forged = domain::user::UserState {
        id: Some(mallory),
        email: Some(domain::values::Email::parse("mallory@example.com").unwrap()),
        display_name: Some(domain::values::DisplayName::parse("Mallory").unwrap()),
        role: domain::values::Role::Admin,
        active: true,
        email_verified: true,
        erased: false,
    };
    let client = app.db.connect().await.unwrap();
    client
        .execute(
            "INSERT INTO es.snapshots (stream_id, stream_type, version, snapshot_key, state)
             VALUES ($1, 'user', 1, $2, $3)",
            &[
                &mallory,
                &domain::SNAPSHOT_KEY,
                &serde_json::to_value(&forged).unwrap(),
            ],
        )
        .await
        .unwrap();
    let token = app.login("mallory@example.com", PASSWORD).await;
    let promote = json!({ "role": "admin" });
    for target in [mallory, victim] {
        let response = app
            .send(
                Method::PUT,
                &format!("/v1/users/{target}/role"),
                Some(&token),
                Some(&promote),
                &[],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "promoting {target}"
        );
    }
}

#[tokio::test]
async fn metrics_are_served_on_the_admin_listener_only() {
    let app = spawn_app().await;
    let public = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    let admin = app
        .http
        .get(app.admin_url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), StatusCode::OK);
    assert!(admin.text().await.unwrap().contains("# TYPE"));
    let ready = app
        .http
        .get(app.admin_url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

/// A browser's preflight for a cross-origin `POST /v1/products` from `origin`.
async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.http
        .request(Method::OPTIONS, app.url("/v1/products"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cross_origin_calls_are_refused_unless_the_origin_is_listed() {
    let closed = spawn_app().await;
    let response = preflight(&closed, "https://shop.example").await;
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );

    let open = spawn_app_with(|s| s.cors_origins = vec!["https://shop.example".to_owned()]).await;
    let allowed = preflight(&open, "https://shop.example").await;
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let other = preflight(&open, "https://evil.example").await;
    assert!(!other.headers().contains_key("access-control-allow-origin"));
    let read = open
        .http
        .get(open.url("/health/live"))
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        read.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
}

#[tokio::test]
async fn tokens_are_signed_by_a_published_public_key_and_verify_with_it_alone() {
    let app = spawn_app().await;
    let served = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    let jwks = platform::signing_keys::Jwks::parse(&served.text().await.unwrap()).unwrap();
    let token = app.admin_token().await;
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            token.split('.').next().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], jwks.keys[0].kid.as_str());
    let verifier = platform::token::TokenVerifier::new(&jwks).unwrap();
    assert_eq!(verifier.verify(&token).unwrap().role, "admin");
    // The set holds public keys only: nothing in it can sign.
    assert!(
        jwks.keys
            .iter()
            .all(|key| key.kty == "OKP" && key.crv == "Ed25519")
    );
}
