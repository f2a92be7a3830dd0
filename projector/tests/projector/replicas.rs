//! Two replicas share the partitions through their leases; one stopped with SIGTERM or killed
//! with SIGKILL in the middle of the stream lets its partitions go at once (its connection, and
//! with it its leases, closes), and the other finishes them from their checkpoints, without loss
//! or duplication.

use std::time::Duration;

use projector::ReadSchema;
use testkit::{TestDatabase, unique_topics};
use uuid::Uuid;

use crate::{
    catalog::Catalog,
    helpers::{ProjectorProcess, checkpointed, create_topics, eventually},
    history::produce,
};

#[tokio::test]
async fn a_replica_stopped_with_sigterm_hands_its_partitions_to_the_other() {
    let db = TestDatabase::create().await.unwrap();
    let topics = unique_topics();
    let kafka = create_topics(&topics, 4).await;
    let catalog = Catalog::generate(300, 20);
    let total = catalog.events.len() as i64;
    let group = format!("projector-replicas-{}", Uuid::new_v4().simple());
    let schema = ReadSchema::generation(1);
    let client = db.connect().await.unwrap();

    let mut a = ProjectorProcess::start(&db, &topics, &group, 5);
    let b = ProjectorProcess::start(&db, &topics, &group, 5);
    both_own_partitions(&a, &b).await;

    // Both replicas apply the first half of every stream.
    let (early, late) = catalog.split_at_version(5);
    produce(&kafka, &early).await;
    let early_count = early.len() as i64;
    eventually(
        "both replicas to apply the first half",
        Duration::from_secs(30),
        || async {
            let (done, started) = (
                checkpointed(&client, &schema).await,
                started_partitions(&client, &schema).await,
            );
            (done == early_count && started == 8).then_some(())
        },
    )
    .await;

    // A is stopped while the second half streams in.
    let producing = tokio::spawn(async move { produce(&kafka, &late).await });
    eventually(
        "the second half under way",
        Duration::from_secs(30),
        || async { (checkpointed(&client, &schema).await > early_count + 100).then_some(()) },
    )
    .await;
    a.terminate();
    let status = a.exited_within(Duration::from_secs(30)).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "SIGTERM: A finishes its batch, leaves the group and exits 0 within 30 s ({status:?})"
    );
    let when_a_left = checkpointed(&client, &schema).await;
    eprintln!("A left at {when_a_left} of {total} messages");
    assert!(
        when_a_left < total,
        "A left mid-stream ({when_a_left} of {total})"
    );
    producing.await.unwrap();

    eventually(
        "B to own every partition",
        Duration::from_secs(30),
        || async { (b.gauge("projector_assigned_partitions").await? == 8.0).then_some(()) },
    )
    .await;
    eventually(
        "B to finish every partition",
        Duration::from_secs(45),
        || async { (checkpointed(&client, &schema).await == total).then_some(()) },
    )
    .await;
    catalog.assert_projected(&client, &schema).await;
}

#[tokio::test]
async fn a_replica_killed_with_sigkill_has_its_partitions_taken_over_within_seconds() {
    let db = TestDatabase::create().await.unwrap();
    let topics = unique_topics();
    let kafka = create_topics(&topics, 4).await;
    let catalog = Catalog::generate(200, 10);
    let total = catalog.events.len() as i64;
    let group = format!("projector-kill-{}", Uuid::new_v4().simple());
    let schema = ReadSchema::generation(1);
    let client = db.connect().await.unwrap();

    let mut a = ProjectorProcess::start(&db, &topics, &group, 5);
    let b = ProjectorProcess::start(&db, &topics, &group, 5);
    both_own_partitions(&a, &b).await;
    let producing = tokio::spawn(async move {
        produce(&kafka, &catalog.events).await;
        catalog
    });
    eventually("the stream under way", Duration::from_secs(30), || async {
        (checkpointed(&client, &schema).await > 100).then_some(())
    })
    .await;
    a.kill();
    // No session timeout to wait out: the lease connection died with the process.
    eventually(
        "B to own every partition",
        Duration::from_secs(10),
        || async { (b.gauge("projector_assigned_partitions").await? == 8.0).then_some(()) },
    )
    .await;
    let catalog = producing.await.unwrap();
    eventually(
        "B to finish every partition",
        Duration::from_secs(45),
        || async { (checkpointed(&client, &schema).await == total).then_some(()) },
    )
    .await;
    catalog.assert_projected(&client, &schema).await;
}

/// Waits until the two replicas split the 2 topics x 4 partitions between them.
async fn both_own_partitions(a: &ProjectorProcess, b: &ProjectorProcess) {
    eventually(
        "both replicas to own partitions",
        Duration::from_secs(30),
        || async {
            let owned = (
                a.gauge("projector_assigned_partitions").await?,
                b.gauge("projector_assigned_partitions").await?,
            );
            (owned.0 > 0.0 && owned.1 > 0.0 && owned.0 + owned.1 == 8.0).then_some(())
        },
    )
    .await;
}

/// Partitions with at least one applied batch.
async fn started_partitions(client: &tokio_postgres::Client, schema: &ReadSchema) -> i64 {
    let sql = format!("SELECT count(*) FROM {schema}.checkpoints WHERE next_offset > 0");
    client.query_one(&sql, &[]).await.unwrap().get(0)
}
