//! Messages that can never be handled go to the dead-letter topic verbatim, with where they
//! came from and why, and the notifier goes on with the next one.

use rdkafka::{
    Message,
    message::{Headers, OwnedMessage},
};
use serde_json::json;

use crate::helpers::{
    TestEvent, eventually, new_user, outcome_of, publish, publish_raw, read_raw, record, send,
    spawn_notifier,
};

fn header(message: &OwnedMessage, name: &str) -> Option<Vec<u8>> {
    message.headers().and_then(|headers| {
        headers
            .iter()
            .find(|h| h.key == name)
            .and_then(|h| h.value.map(<[u8]>::to_vec))
    })
}

fn text_header(message: &OwnedMessage, name: &str) -> String {
    String::from_utf8(header(message, name).unwrap_or_default()).unwrap()
}

#[tokio::test]
async fn undecodable_and_mismatched_messages_are_dead_lettered_verbatim_and_passed() {
    let notifier = spawn_notifier().await;
    let kafka = notifier.kafka();
    let (user, email) = new_user();
    // All keyed by the same user, so they share a partition and are read in this order.
    let key = user.to_string();
    publish_raw(
        &kafka,
        key.as_bytes(),
        &[
            ("ce_type", b"user.registered"),
            ("x-binary", &[0, 159, 255]),
        ],
        b"not json {",
    )
    .await;
    let mismatched = TestEvent::new(
        user,
        1,
        "user.registered",
        json!({ "user_id": user, "email": "not an address", "display_name": "X" }),
    );
    let mut valid = TestEvent::registered(user, &email, "Ada");
    valid.version = 2;
    publish(&notifier.db, &kafka, &[mismatched.clone(), valid.clone()]).await;

    notifier.wait_for_mails(&email, 1).await;
    assert_eq!(
        outcome_of(&notifier.db, mismatched.event_id).await,
        "dead_lettered"
    );
    assert_eq!(outcome_of(&notifier.db, valid.event_id).await, "sent");

    let dead = read_raw(&kafka, &notifier.dead_letter_topic, 2).await;
    assert_eq!(dead.len(), 2, "both copies on the dead-letter topic");
    let undecodable = dead
        .iter()
        .find(|m| m.payload() == Some(b"not json {".as_slice()))
        .expect("the undecodable message, verbatim");
    assert_eq!(undecodable.key(), Some(key.as_bytes()));
    assert_eq!(header(undecodable, "x-binary"), Some(vec![0, 159, 255]));
    assert_eq!(text_header(undecodable, "ce_type"), "user.registered");
    assert!(text_header(undecodable, "cc_dlq_reason").starts_with("undecodable: "));
    assert_eq!(
        text_header(undecodable, "cc_dlq_source_topic"),
        notifier.topics.user
    );
    let partition: i32 = text_header(undecodable, "cc_dlq_source_partition")
        .parse()
        .unwrap();
    let offset: i64 = text_header(undecodable, "cc_dlq_source_offset")
        .parse()
        .unwrap();
    assert!(partition >= 0 && offset >= 0);
    let failed_at = text_header(undecodable, "cc_dlq_failed_at");
    assert!(
        chrono::DateTime::parse_from_rfc3339(&failed_at).is_ok(),
        "{failed_at}"
    );

    let copy = dead
        .iter()
        .find(|m| m.payload() != Some(b"not json {".as_slice()))
        .unwrap();
    assert_eq!(text_header(copy, "ce_id"), mismatched.event_id.to_string());
    assert!(text_header(copy, "cc_dlq_reason").starts_with("invalid_payload: "));
    assert!(
        !text_header(copy, "cc_dlq_reason").contains("not an address"),
        "the reason never quotes the payload"
    );
    assert_eq!(
        text_header(copy, "cc_dlq_source_offset")
            .parse::<i64>()
            .unwrap(),
        offset + 1
    );
    let metrics = notifier.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("notifier_dead_letters_total{reason=\"undecodable\"}"),
        "{metrics}"
    );
    notifier.stop().await.unwrap();
}

#[tokio::test]
async fn a_dead_lettered_event_produced_again_once_fixed_is_mailed() {
    let notifier = spawn_notifier().await;
    let kafka = notifier.kafka();
    let (user, email) = new_user();
    let broken = TestEvent::new(
        user,
        1,
        "user.registered",
        json!({ "user_id": user, "email": "not an address", "display_name": "X" }),
    );
    publish(&notifier.db, &kafka, std::slice::from_ref(&broken)).await;
    read_raw(&kafka, &notifier.dead_letter_topic, 1).await;
    assert_eq!(
        outcome_of(&notifier.db, broken.event_id).await,
        "dead_lettered"
    );
    // The operator fixes the cause and produces the event again, under its own id.
    let mut fixed = TestEvent::registered(user, &email, "Ada");
    fixed.event_id = broken.event_id;
    publish(&notifier.db, &kafka, &[fixed]).await;
    notifier.wait_for_mails(&email, 1).await;
    // The outcome is recorded just after the mail goes.
    eventually(
        "the outcome to become sent",
        std::time::Duration::from_secs(10),
        || async { (outcome_of(&notifier.db, broken.event_id).await == "sent").then_some(()) },
    )
    .await;
    notifier.stop().await.unwrap();
}

/// The store issues a token only for a request it recorded, for that request's account: a
/// request that reached the topic some other way, one that names another account's event, or
/// a recorded event that asks for no token gets no token and no mail.
#[tokio::test]
async fn a_request_the_store_did_not_record_gets_no_token_and_is_dead_lettered() {
    let notifier = spawn_notifier().await;
    let kafka = notifier.kafka();
    let (user, email) = new_user();
    let (other, other_email) = new_user();
    publish(
        &notifier.db,
        &kafka,
        &[
            TestEvent::registered(user, &email, "Ada"),
            TestEvent::registered(other, &other_email, "Bo"),
        ],
    )
    .await;
    notifier.wait_for_mails(&email, 1).await;

    let unrecorded = TestEvent::request(user, 2, "user.password_reset_requested");
    let others = TestEvent::request(other, 2, "user.password_reset_requested");
    let mut borrowed = TestEvent::request(user, 3, "user.password_reset_requested");
    borrowed.event_id = others.event_id;
    let promotion = TestEvent::new(
        user,
        4,
        "user.role_assigned",
        json!({ "user_id": user, "role": "seller", "previous_role": "customer" }),
    );
    let mut disguised = TestEvent::request(user, 4, "user.password_reset_requested");
    disguised.event_id = promotion.event_id;
    record(&notifier.db, &[others, promotion]).await;
    send(
        &kafka,
        &[unrecorded.clone(), borrowed.clone(), disguised.clone()],
    )
    .await;

    let dead = read_raw(&kafka, &notifier.dead_letter_topic, 3).await;
    let reason_of = |event: &TestEvent| {
        let copy = dead
            .iter()
            .find(|m| text_header(m, "ce_id") == event.event_id.to_string())
            .expect("the request on the dead-letter topic");
        text_header(copy, "cc_dlq_reason")
    };
    assert!(reason_of(&unrecorded).starts_with("unrecorded_request: "));
    assert!(reason_of(&borrowed).starts_with("request_mismatch: "));
    assert!(reason_of(&disguised).starts_with("request_mismatch: "));
    for event in [&unrecorded, &borrowed, &disguised] {
        assert_eq!(
            outcome_of(&notifier.db, event.event_id).await,
            "dead_lettered"
        );
    }
    let client = notifier.db.connect().await.unwrap();
    let tokens: i64 = client
        .query_one(
            "SELECT count(*) FROM es.password_reset_tokens WHERE user_id = ANY($1)",
            &[&vec![user, other]],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(tokens, 0, "no reset token was issued");
    assert_eq!(notifier.mails_to(&email).len(), 1, "the verification only");
    assert_eq!(notifier.mails_to(&other_email).len(), 1);
    notifier.stop().await.unwrap();
}
