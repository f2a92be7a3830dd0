//! What each event mails, and what it must not: tokens stored as hashes with the right owner
//! and life, one mail per event however often it is read, nothing for history.

use chrono::Utc;

use crate::helpers::{
    LINK_BASE, Setup, TestEvent, new_user, outcome_of, publish, record, sha256, spawn_notifier,
    stored_token, token_in,
};

#[tokio::test]
async fn a_registration_mails_one_verification_token_stored_only_as_its_hash() {
    let notifier = spawn_notifier().await;
    let (user, email) = new_user();
    let registered = TestEvent::registered(user, &email, "Ada <Lovelace> & \"Co\"");
    publish(
        &notifier.db,
        &notifier.kafka(),
        std::slice::from_ref(&registered),
    )
    .await;

    let mails = notifier.wait_for_mails(&email, 1).await;
    let mail = &mails[0];
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Confirm your email address")
    );
    assert_eq!(mail.recipients(), std::slice::from_ref(&email));
    assert!(
        mail.header("From")
            .unwrap()
            .contains("<no-reply@cloudcommerce.dev>")
    );
    let token = token_in(mail);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let text = mail.text().unwrap();
    let link = format!("{LINK_BASE}/verify-email#user={user}&token={token}");
    assert!(text.contains(&link), "{text}");
    assert!(
        text.contains(&format!("POST /v1/users/{user}/email-verification")),
        "{text}"
    );
    let html = mail.html().unwrap();
    assert!(
        html.contains("Ada &lt;Lovelace&gt; &amp; &quot;Co&quot;"),
        "{html}"
    );
    assert!(!html.contains("<Lovelace>"), "{html}");

    let (owner, life, left) = stored_token(&notifier.db, "es.email_verification_tokens", &token)
        .await
        .expect("the token's hash is stored");
    assert_eq!(owner, user);
    assert_eq!(life, 24.0 * 3600.0);
    assert!(
        left > 24.0 * 3600.0 - 120.0 && left <= 24.0 * 3600.0,
        "{left}"
    );
    assert_eq!(outcome_of(&notifier.db, registered.event_id).await, "sent");
    let client = notifier.db.connect().await.unwrap();
    let recipient = client
        .query_one(
            "SELECT email FROM notifier.recipients WHERE user_id = $1",
            &[&user],
        )
        .await
        .unwrap();
    assert_eq!(recipient.get::<_, String>(0), email);

    // The same message once more (a relay re-send), then a marker behind it: once the marker
    // is mailed, the repeat has been read, and mailed nothing.
    let (marker, marker_email) = new_user();
    publish(
        &notifier.db,
        &notifier.kafka(),
        &[
            registered.clone(),
            TestEvent::registered(marker, &marker_email, "Marker"),
        ],
    )
    .await;
    notifier.wait_for_mails(&marker_email, 1).await;
    assert_eq!(
        notifier.mails_to(&email).len(),
        1,
        "the repeat mailed again"
    );
    let tokens: i64 = client
        .query_one(
            "SELECT count(*) FROM es.email_verification_tokens WHERE user_id = $1",
            &[&user],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(tokens, 1);
    notifier.stop().await.unwrap();
}

#[tokio::test]
async fn a_reset_request_mails_a_token_for_30_minutes_and_a_new_password_a_notice() {
    let notifier = spawn_notifier().await;
    let (user, email) = new_user();
    let reset = TestEvent::request(user, 2, "user.password_reset_requested");
    let changed = TestEvent::request(user, 3, "user.password_reset");
    publish(
        &notifier.db,
        &notifier.kafka(),
        &[
            TestEvent::registered(user, &email, "Ada"),
            reset.clone(),
            changed.clone(),
        ],
    )
    .await;

    let mails = notifier.wait_for_mails(&email, 3).await;
    let subjects: Vec<String> = mails.iter().filter_map(|m| m.header("Subject")).collect();
    assert_eq!(
        subjects,
        [
            "Confirm your email address",
            "Reset your password",
            "Your password was changed"
        ]
    );
    let token = token_in(&mails[1]);
    let text = mails[1].text().unwrap();
    assert!(
        text.contains(&format!("{LINK_BASE}/reset-password#token={token}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("POST /v1/password-resets/{token}")),
        "{text}"
    );
    let (owner, life, _) = stored_token(&notifier.db, "es.password_reset_tokens", &token)
        .await
        .expect("the reset token's hash is stored");
    assert_eq!((owner, life), (user, 30.0 * 60.0));
    assert!(
        stored_token(&notifier.db, "es.email_verification_tokens", &token)
            .await
            .is_none(),
        "a reset token is no verification token"
    );
    let notice = mails[2].text().unwrap();
    assert!(
        !notice.contains("token"),
        "a notice carries no token: {notice}"
    );
    assert_eq!(outcome_of(&notifier.db, reset.event_id).await, "sent");
    assert_eq!(outcome_of(&notifier.db, changed.event_id).await, "sent");
    notifier.stop().await.unwrap();
}

#[tokio::test]
async fn history_mails_nobody_and_a_user_without_an_address_is_recorded_as_such() {
    let notifier = spawn_notifier().await;
    let (old_user, old_email) = new_user();
    let two_days_ago = Utc::now() - chrono::Duration::days(2);
    let stale = TestEvent::registered(old_user, &old_email, "Old").at(two_days_ago);
    let old_reset = TestEvent::request(old_user, 2, "user.password_reset_requested")
        .at(Utc::now() - chrono::Duration::minutes(31));
    let (stranger, _) = new_user();
    let unknown = TestEvent::request(stranger, 2, "user.password_reset_requested");
    let (renamed, renamed_email) = new_user();
    publish(
        &notifier.db,
        &notifier.kafka(),
        &[
            stale.clone(),
            old_reset.clone(),
            unknown.clone(),
            TestEvent::registered(renamed, &renamed_email, "Before").at(two_days_ago),
            TestEvent::new(
                renamed,
                2,
                "user.display_name_changed",
                serde_json::json!({ "user_id": renamed, "display_name": "After" }),
            ),
            TestEvent::request(renamed, 3, "user.email_verification_requested"),
        ],
    )
    .await;

    assert_eq!(outcome_of(&notifier.db, stale.event_id).await, "stale");
    assert_eq!(outcome_of(&notifier.db, old_reset.event_id).await, "stale");
    assert_eq!(
        outcome_of(&notifier.db, unknown.event_id).await,
        "no_recipient"
    );
    // The stale registration still taught the notifier the address, and the rename the name.
    let mails = notifier.wait_for_mails(&renamed_email, 1).await;
    assert!(
        mails[0].header("To").unwrap().contains("After"),
        "{:?}",
        mails[0].header("To")
    );
    assert!(notifier.mails_to(&old_email).is_empty());
    notifier.stop().await.unwrap();
}

/// A mail sent again for one request (the notifier died after the relay took it) carries a new
/// token, which replaces the first: one request, one token that works.
#[tokio::test]
async fn a_request_issued_again_keeps_only_its_latest_token() {
    let setup = Setup::fresh().await;
    let (user, _) = new_user();
    let reset = TestEvent::request(user, 2, "user.password_reset_requested");
    record(&setup.db, std::slice::from_ref(&reset)).await;
    let client = setup.db.connect().await.unwrap();
    for token in ["first", "second"] {
        client
            .execute(
                "SELECT es.issue_mailed_token($1, $2, $3)",
                &[&reset.event_id, &user, &sha256(token)],
            )
            .await
            .unwrap();
    }
    let hashes: Vec<Vec<u8>> = client
        .query(
            "SELECT token_hash FROM es.password_reset_tokens WHERE user_id = $1",
            &[&user],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(hashes, [sha256("second")]);
}
