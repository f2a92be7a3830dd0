//! A relay that is down holds the message in place and retries it with a backoff; the mail goes
//! out once the relay is back.

use std::time::Duration;

use testkit::mail_sink::MailSink;

use crate::helpers::{
    Setup, TestEvent, fresh_mail_dir, mails_to, new_user, outcome_of, publish, record, send,
};

#[tokio::test]
async fn a_mail_refused_by_a_relay_that_is_down_goes_out_once_it_is_up() {
    // A free port nobody listens on yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mail_dir = fresh_mail_dir();
    let setup = Setup::with_smtp(&format!("smtp://127.0.0.1:{port}"), mail_dir.clone()).await;
    let notifier = setup.spawn().await;
    let (user, email) = new_user();
    let registered = TestEvent::registered(user, &email, "Ada");
    let (second, second_email) = new_user();
    publish(
        &notifier.db,
        &notifier.kafka(),
        &[
            registered.clone(),
            TestEvent::registered(second, &second_email, "Bo"),
        ],
    )
    .await;

    let retried = crate::helpers::eventually("retries", Duration::from_secs(30), || async {
        let metrics = notifier.get("/metrics").await.text().await.ok()?;
        let line = metrics
            .lines()
            .find(|line| line.starts_with("notifier_retries_total "))?;
        let count: f64 = line.rsplit(' ').next()?.parse().ok()?;
        (count >= 2.0).then_some(count)
    })
    .await;
    assert!(retried >= 2.0);
    assert!(mails_to(&mail_dir, &email).is_empty());

    MailSink::start_at(("127.0.0.1", port), &mail_dir)
        .await
        .unwrap();
    notifier.wait_for_mails(&email, 1).await;
    notifier.wait_for_mails(&second_email, 1).await;
    assert_eq!(outcome_of(&notifier.db, registered.event_id).await, "sent");
    assert_eq!(notifier.mails_to(&email).len(), 1);
    notifier.stop().await.unwrap();
}

#[tokio::test]
async fn a_database_outage_holds_the_mail_until_it_is_back_and_mails_it_once() {
    let setup = Setup::fresh().await;
    let notifier = setup.spawn().await;
    let (warm, warm_email) = new_user();
    publish(
        &notifier.db,
        &notifier.kafka(),
        &[TestEvent::registered(warm, &warm_email, "Warm")],
    )
    .await;
    notifier.wait_for_mails(&warm_email, 1).await;

    let (user, email) = new_user();
    let registered = TestEvent::registered(user, &email, "Ada");
    record(&notifier.db, std::slice::from_ref(&registered)).await;

    // Cut every connection (the lock's too) and refuse new ones, as a restarting server would.
    let admin = testkit::database::admin_client().await.unwrap();
    let name = &setup.db.name;
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false;
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
        ))
        .await
        .unwrap();
    send(&notifier.kafka(), std::slice::from_ref(&registered)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        notifier.mails_to(&email).is_empty(),
        "mailed without a database"
    );

    admin
        .batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    notifier.wait_for_mails(&email, 1).await;
    assert_eq!(outcome_of(&notifier.db, registered.event_id).await, "sent");
    // Give a second mail, if any were coming, the time to arrive.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(notifier.mails_to(&email).len(), 1);
    assert_eq!(notifier.mails_to(&warm_email).len(), 1);
    notifier.stop().await.unwrap();
}
