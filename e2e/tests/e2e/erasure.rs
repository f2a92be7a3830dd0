//! Crypto-shredding end to end: a user's address and name are sealed in every event from the
//! start, and after `DELETE /v1/users/{id}/personal-data` nothing anywhere the stack keeps
//! (every table of the database, every message on the topics) holds them in clear; the read
//! side shows the account erased, a rebuild agrees, and the address can sign up again.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use e2e::{
    settings::{self, ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD},
    stack::{Stack, consistency_token},
};

const EMAIL: &str = "erasable.person@example.com";
const NAME: &str = "Erasable Q. Person";

/// Every row of every table outside PostgreSQL's own schemas that holds `needle`, as
/// `schema.table`: the row as text, and each bytea column's raw bytes (a stored HTTP answer is
/// bytes, which the row's text shows as hex).
async fn tables_holding(stack: &Stack, needle: &str) -> Vec<String> {
    let client = stack.db.connect().await.unwrap();
    let tables = client
        .query(
            "SELECT c.table_schema, c.table_name,
                    coalesce(array_agg(c.column_name::text) FILTER (WHERE c.data_type = 'bytea'),
                             '{}')
             FROM information_schema.columns c
             JOIN information_schema.tables t
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE t.table_type = 'BASE TABLE'
               AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
             GROUP BY 1, 2",
            &[],
        )
        .await
        .unwrap();
    assert!(
        tables.len() > 20,
        "the scan sees every table: {}",
        tables.len()
    );
    let mut holding = Vec::new();
    for table in tables {
        let (schema, name): (String, String) = (table.get(0), table.get(1));
        let bytea: Vec<String> = table.get(2);
        let mut test = vec!["position(lower($1) IN lower(t::text)) > 0".to_owned()];
        test.extend(
            bytea
                .iter()
                .map(|column| format!("position(convert_to($1, 'UTF8') IN t.\"{column}\") > 0")),
        );
        let sql = format!(
            "SELECT count(*) FROM \"{schema}\".\"{name}\" t WHERE {}",
            test.join(" OR ")
        );
        let count: i64 = client.query_one(&sql, &[&needle]).await.unwrap().get(0);
        if count > 0 {
            holding.push(format!("{schema}.{name} ({count} rows)"));
        }
    }
    holding
}

/// Every message on the stack's topics (and the notifier's dead letters) that holds `needle`
/// in its payload or headers, once the topics hold at least `at_least` messages.
async fn messages_holding(stack: &Stack, needle: &str, at_least: usize) -> Vec<String> {
    let dead_letters = format!("{}.dead-letters", stack.topics.user);
    let topics = [
        stack.topics.user.as_str(),
        stack.topics.product.as_str(),
        dead_letters.as_str(),
    ];
    let events = testkit::read_events(&topics, Duration::from_secs(20), |read| {
        read.len() >= at_least
    })
    .await
    .unwrap();
    assert!(events.len() >= at_least, "read {} messages", events.len());
    events
        .iter()
        .filter(|e| {
            let text = format!("{} {:?}", e.payload, e.headers).to_lowercase();
            text.contains(&needle.to_lowercase())
        })
        .map(|e| format!("{} {}@{}", e.event_type, e.topic, e.offset))
        .collect()
}

async fn erase(stack: &Stack, id: Uuid, token: &str, body: Option<&Value>) -> reqwest::Response {
    let path = format!("/v1/users/{id}/personal-data");
    stack
        .command(Method::DELETE, &path, Some(token), body)
        .await
}

#[tokio::test]
async fn an_erased_person_is_nowhere_in_clear_and_the_address_signs_up_again() {
    let stack = Stack::start().await;
    let id = stack.register(EMAIL).await;
    let session = stack.login(EMAIL, PASSWORD).await;
    let renamed = stack
        .command(
            Method::PATCH,
            &format!("/v1/users/{id}"),
            Some(&session),
            Some(&json!({ "display_name": NAME })),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let shown = stack
        .account(id, &session, &consistency_token(&renamed))
        .await;
    assert_eq!(
        (shown["email"].as_str(), shown["display_name"].as_str()),
        (Some(EMAIL), Some(NAME))
    );

    // Sealed from the start: the store and the topics never held either in clear.
    let client = stack.db.connect().await.unwrap();
    let payloads: Vec<String> = client
        .query(
            "SELECT payload::text FROM es.events WHERE stream_id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        payloads.len() >= 2
            && payloads
                .iter()
                .all(|p| !p.contains(EMAIL) && !p.contains(NAME)),
        "{payloads:?}"
    );
    let recorded: i64 = client
        .query_one("SELECT count(*) FROM es.events", &[])
        .await
        .unwrap()
        .get(0);
    let recorded = usize::try_from(recorded).unwrap();
    assert_eq!(
        messages_holding(&stack, EMAIL, recorded).await,
        Vec::<String>::new()
    );

    // The user themself, re-authenticated: no password or a wrong one is refused.
    let missing = erase(&stack, id, &session, None).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let wrong = erase(
        &stack,
        id,
        &session,
        Some(&json!({ "current_password": "not-the-password-at-all" })),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let erased = erase(
        &stack,
        id,
        &session,
        Some(&json!({ "current_password": PASSWORD })),
    )
    .await;
    assert_eq!(erased.status(), StatusCode::OK);
    let consistency = consistency_token(&erased);

    // The session ended with it; an admin sees the account erased.
    let after = stack
        .command(
            Method::PATCH,
            &format!("/v1/users/{id}"),
            Some(&session),
            Some(&json!({ "display_name": "Back" })),
        )
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let admin = stack.admin_token().await;
    let shown = stack.account(id, &admin, &consistency).await;
    assert_eq!(shown["erased"], true);
    assert_eq!(
        (shown["email"].clone(), shown["display_name"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(shown["active"], false);

    // The notifier forgets its copy of the address on `user.erased`.
    testkit::eventually(
        "the notifier to forget the address",
        Duration::from_secs(20),
        || async {
            let count: i64 = client
                .query_one(
                    "SELECT count(*) FROM notifier.recipients WHERE user_id = $1",
                    &[&id],
                )
                .await
                .unwrap()
                .get(0);
            (count == 0).then_some(())
        },
    )
    .await;
    let keys: i64 = client
        .query_one(
            "SELECT count(*) FROM es.personal_keys WHERE user_id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(keys, 0, "the data key is destroyed");
    for needle in [EMAIL, NAME] {
        assert_eq!(
            tables_holding(&stack, needle).await,
            Vec::<String>::new(),
            "{needle}"
        );
    }
    let recorded: i64 = client
        .query_one("SELECT count(*) FROM es.events", &[])
        .await
        .unwrap()
        .get(0);
    let recorded = usize::try_from(recorded).unwrap();
    for needle in [EMAIL, NAME] {
        assert_eq!(
            messages_holding(&stack, needle, recorded).await,
            Vec::<String>::new(),
            "{needle}"
        );
    }
    // A replay from the first event into a shadow schema yields the same rows as the live one:
    // the key is gone there too, so the registration reads as erased from the start.
    let (_keep, running) = tokio::sync::watch::channel(false);
    let report = projector::verify::verify(&settings::projector(&stack.db, &stack.topics), running)
        .await
        .unwrap();
    assert!(report.differences.is_empty(), "{:#}", report.to_json());
    assert!(
        report.compared.get("users").is_some_and(|n| *n >= 2),
        "{:#}",
        report.to_json()
    );

    // Erasing again changes nothing; downstream consumers got `user.erased`.
    let again = erase(&stack, id, &admin, None).await;
    assert_eq!(again.status(), StatusCode::OK);
    let erased_events: i64 = client
        .query_one(
            "SELECT count(*) FROM es.events WHERE stream_id = $1 AND event_type = 'user.erased'",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(erased_events, 1);

    // The address is free for a new account, with a new id and a new key.
    let new_id = stack.register(EMAIL).await;
    assert_ne!(new_id, id);
    stack.login(EMAIL, PASSWORD).await;
}

#[tokio::test]
async fn someone_else_cannot_erase_a_user_and_the_last_admin_cannot_be_erased() {
    let stack = Stack::start().await;
    let victim = stack.register("victim.of.erasure@example.com").await;
    stack.register("mallory.eraser@example.com").await;
    let mallory = stack.login("mallory.eraser@example.com", PASSWORD).await;
    let refused = erase(
        &stack,
        victim,
        &mallory,
        Some(&json!({ "current_password": PASSWORD })),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let unknown = erase(&stack, Uuid::now_v7(), &stack.admin_token().await, None).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let admin = stack.admin_token().await;
    let client = stack.db.connect().await.unwrap();
    let admin_id: Uuid = client
        .query_one(
            "SELECT user_id FROM es.email_reservations WHERE email = $1",
            &[&ADMIN_EMAIL],
        )
        .await
        .unwrap()
        .get(0);
    let last = erase(
        &stack,
        admin_id,
        &admin,
        Some(&json!({ "current_password": ADMIN_PASSWORD })),
    )
    .await;
    assert_eq!(last.status(), StatusCode::CONFLICT);
    let body: Value = last.json().await.unwrap();
    assert_eq!(body["code"], "last_admin");
}
