//! One active replica at a time: the other stands by, says so, and takes over when the active
//! one stops; a replica that starts again resumes after what was handled, from the offsets
//! committed to the group.

use std::time::Duration;

use rdkafka::{
    Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Setup, TestEvent, TestNotifier, eventually, new_user, publish};

async fn role(notifier: &TestNotifier) -> Option<String> {
    let response = notifier.get("/health/ready").await;
    if response.status() != StatusCode::OK {
        return None;
    }
    let body: Value = response.json().await.ok()?;
    body["role"].as_str().map(str::to_owned)
}

/// Sum of the offsets the group committed on the user topic.
async fn committed(notifier: &TestNotifier) -> i64 {
    let (kafka, group) = (notifier.kafka(), notifier.group_id.clone());
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = kafka
            .client_config()
            .set("group.id", &group)
            .create()
            .unwrap();
        let mut partitions = TopicPartitionList::new();
        for partition in 0..kafka.partitions {
            partitions.add_partition(&kafka.topics.user, partition);
        }
        consumer
            .committed_offsets(partitions, Duration::from_secs(10))
            .unwrap()
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(offset) => Some(offset),
                _ => None,
            })
            .sum()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_standby_takes_over_when_the_active_replica_stops_and_nothing_is_mailed_twice() {
    let setup = Setup::fresh().await;
    let first = setup.spawn().await;
    eventually("an active replica", Duration::from_secs(20), || async {
        (role(&first).await.as_deref() == Some("active")).then_some(())
    })
    .await;
    let second = setup.spawn().await;
    eventually("a standby", Duration::from_secs(20), || async {
        (role(&second).await.as_deref() == Some("standby")).then_some(())
    })
    .await;
    let metrics = first.get("/metrics").await.text().await.unwrap();
    for name in [
        "notifier_active",
        "notifier_consumer_lag",
        "notifier_retries_total",
    ] {
        assert!(metrics.contains(name), "/metrics lacks {name}");
    }
    assert_eq!(first.get("/health/live").await.status(), StatusCode::OK);

    let (user, email) = new_user();
    publish(
        &first.db,
        &first.kafka(),
        &[TestEvent::registered(user, &email, "Ada")],
    )
    .await;
    first.wait_for_mails(&email, 1).await;
    eventually("an offset committed", Duration::from_secs(20), || async {
        (committed(&first).await >= 1).then_some(())
    })
    .await;
    first.stop().await.unwrap();

    eventually("the standby active", Duration::from_secs(20), || async {
        (role(&second).await.as_deref() == Some("active")).then_some(())
    })
    .await;
    let (next, next_email) = new_user();
    publish(
        &second.db,
        &second.kafka(),
        &[TestEvent::registered(next, &next_email, "Bo")],
    )
    .await;
    second.wait_for_mails(&next_email, 1).await;
    second.stop().await.unwrap();

    // A replica started again resumes where the group left off: both old events stay mailed once.
    let (last, last_email) = new_user();
    let third = setup.spawn().await;
    publish(
        &third.db,
        &third.kafka(),
        &[TestEvent::registered(last, &last_email, "Cy")],
    )
    .await;
    third.wait_for_mails(&last_email, 1).await;
    assert_eq!(third.mails_to(&email).len(), 1);
    assert_eq!(third.mails_to(&next_email).len(), 1);
    eventually(
        "every offset committed",
        Duration::from_secs(20),
        || async { (committed(&third).await >= 3).then_some(()) },
    )
    .await;
    third.stop().await.unwrap();
}
