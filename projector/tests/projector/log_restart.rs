//! A checkpoint taken on a log that is gone (a wiped broker, a topic recreated, Kafka rebuilt
//! from the event store) is noticed, and the partition is read again from offset 0: every event
//! is applied once, however the new log's offsets compare with the old ones.

use std::time::Duration;

use projector::ReadSchema;
use testkit::{TestDatabase, unique_topics};
use uuid::Uuid;

use crate::{
    catalog::Catalog,
    helpers::{ProjectorProcess, checkpointed, create_topics, eventually},
    history::produce,
};

/// Pretends the projector consumed another log of these topics: a checkpoint per partition at
/// `next_offset`, after an event id nobody published.
async fn stale_checkpoints(db: &TestDatabase, topics: &kafka::Topics, next_offset: i64) {
    let mut client = db.connect().await.unwrap();
    projector::schema::prepare(&mut client).await.unwrap();
    for topic in topics.all() {
        client
            .execute(
                "INSERT INTO read_v1.checkpoints (topic, partition, next_offset, last_event_id)
                 VALUES ($1, 0, $2, $3)",
                &[&topic, &next_offset, &Uuid::now_v7()],
            )
            .await
            .unwrap();
    }
}

async fn projects_everything_after_restarting_from(next_offset: i64) {
    let db = TestDatabase::create().await.unwrap();
    let topics = unique_topics();
    let kafka = create_topics(&topics, 1).await;
    let catalog = Catalog::generate(40, 5);
    produce(&kafka, &catalog.events).await;
    let total = catalog.events.len() as i64;
    stale_checkpoints(&db, &topics, next_offset).await;

    let group = format!("projector-log-{}", Uuid::new_v4().simple());
    let projector = ProjectorProcess::start(&db, &topics, &group, 100);
    let client = db.connect().await.unwrap();
    let schema = ReadSchema::generation(1);
    eventually(
        "every partition read again from its start",
        Duration::from_secs(60),
        || async { (checkpointed(&client, &schema).await == total).then_some(()) },
    )
    .await;
    catalog.assert_projected(&client, &schema).await;
    let metrics = projector.scrape().await.unwrap_or_default();
    assert!(
        metrics.contains("projector_log_restarts_total"),
        "the restart is counted:\n{metrics}"
    );
}

#[tokio::test]
async fn a_checkpoint_beyond_the_end_of_the_log_restarts_the_partition_from_offset_0() {
    projects_everything_after_restarting_from(100_000).await;
}

#[tokio::test]
async fn a_checkpoint_after_another_event_than_the_log_has_there_restarts_the_partition() {
    // The log is long enough to reach the checkpoint, but the event before it is not the one
    // the checkpoint was taken after: the log was replaced and grew back.
    projects_everything_after_restarting_from(20).await;
}
