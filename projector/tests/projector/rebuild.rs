//! Guarantee 5: a rebuild from the first event next to the live schema, a flip that readers
//! never notice, the live projector following it; and a verify that finds a rebuilt model
//! identical to the live one, and finds a row someone tampered with.

use std::{
    collections::BTreeSet,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use projector::{ReadSchema, rebuild::Rebuilt, settings::Settings};
use testkit::TestDatabase;
use tokio::{sync::watch, task::JoinHandle};
use uuid::Uuid;

use crate::{
    catalog::Catalog,
    helpers::{TestProjector, checkpointed, eventually, spawn_projector, test_settings},
    history,
};

/// A live projector that has applied `catalog`.
async fn caught_up(catalog: &Catalog) -> (TestProjector, tokio_postgres::Client) {
    let live = spawn_projector().await;
    history::produce(&live.kafka(), &catalog.events).await;
    let client = live.db.connect().await.unwrap();
    let total = catalog.events.len() as i64;
    eventually(
        "the live projector to catch up",
        Duration::from_secs(30),
        || async { (checkpointed(&client, &live.schema).await == total).then_some(()) },
    )
    .await;
    (live, client)
}

fn settings_for(live: &TestProjector) -> Settings {
    let mut settings = test_settings(&live.db, &live.topics);
    settings.rebuild_grace = Duration::from_millis(500);
    settings
}

/// Reads like the query API, as fast as it can: the active schema, then a listing from it.
struct Reader {
    stop: Arc<AtomicBool>,
    task: JoinHandle<(usize, BTreeSet<String>, Vec<String>)>,
}

impl Reader {
    async fn start(db: &TestDatabase) -> Self {
        let client = db.connect().await.unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let task = tokio::spawn(async move {
            let (mut reads, mut seen, mut errors) = (0, BTreeSet::new(), Vec::new());
            while !stopping.load(Ordering::Relaxed) {
                let row = client.query_one("SELECT schema FROM read_meta.active", &[]);
                let schema: String = row.await.unwrap().get(0);
                let sql = format!(
                    "SELECT id FROM {schema}.products WHERE status = 'published' \
                     ORDER BY created_at DESC, id DESC LIMIT 20"
                );
                match client.query(&sql, &[]).await {
                    Ok(rows) if !rows.is_empty() => reads += 1,
                    Ok(_) => errors.push(format!("{schema}: an empty listing")),
                    Err(e) => errors.push(format!("{schema}: {e}")),
                }
                seen.insert(schema);
                tokio::task::yield_now().await;
            }
            (reads, seen, errors)
        });
        Self { stop, task }
    }

    async fn stop(self) -> (usize, BTreeSet<String>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap()
    }
}

#[tokio::test]
async fn a_rebuild_flips_to_an_identical_schema_while_readers_keep_reading() {
    let catalog = Catalog::generate(80, 10);
    let (live, client) = caught_up(&catalog).await;
    let (v1, v2) = (ReadSchema::generation(1), ReadSchema::generation(2));
    let reader = Reader::start(&live.db).await;

    let (_keep, running) = watch::channel(false);
    let rebuilt = projector::rebuild::rebuild(&settings_for(&live), running)
        .await
        .unwrap();

    let (reads, seen, errors) = reader.stop().await;
    let expected = Rebuilt {
        schema: v2.clone(),
        previous: v1.clone(),
        dropped_previous: true,
    };
    assert_eq!(rebuilt, expected);
    assert!(errors.is_empty(), "readers noticed the flip: {errors:?}");
    assert!(
        reads > 0 && seen.contains("read_v1") && seen.contains("read_v2"),
        "{seen:?}"
    );
    let active = projector::schema::active(&client).await.unwrap();
    assert_eq!(active, Some(v2.clone()));
    catalog.assert_projected(&client, &v2).await;
    let old = client
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'read_v1'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        old.get::<_, i64>(0),
        0,
        "the previous schema is dropped after the grace"
    );

    // The live projector follows the flip: a product created now lands in the new schema.
    let id = Uuid::now_v7();
    let events = history::decide_product(id, history::lifecycle(id, id, 5));
    let recorded = history::record(id, "product", &events, history::now());
    history::produce(&live.kafka(), &recorded).await;
    let sql = format!("SELECT version FROM {v2}.products WHERE id = $1");
    eventually(
        "the new product in read_v2",
        Duration::from_secs(20),
        || async {
            let row = client.query_opt(&sql, &[&id]).await.unwrap()?;
            (row.get::<_, i64>(0) == 10).then_some(())
        },
    )
    .await;
    live.stop().await.unwrap();
}

#[tokio::test]
async fn verify_finds_a_rebuild_identical_and_reports_a_tampered_row() {
    let catalog = Catalog::generate(40, 5);
    let (live, client) = caught_up(&catalog).await;
    let settings = settings_for(&live);
    let (_keep, running) = watch::channel(false);

    let clean = projector::verify::verify(&settings, running.clone())
        .await
        .unwrap();
    assert!(clean.differences.is_empty(), "{:#}", clean.to_json());
    assert!(clean.in_flight.is_empty());
    assert_eq!(clean.compared.get("products"), Some(&40));
    assert!(
        clean
            .compared
            .get("search_postings")
            .is_some_and(|n| *n > 0)
    );
    assert_eq!(
        clean.compared.get("audit_events"),
        Some(&(catalog.events.len() as i64))
    );

    let tampered: Uuid = client
        .query_one(
            &format!("UPDATE {}.products SET price_minor = 1 WHERE id = (SELECT id FROM {0}.products ORDER BY id LIMIT 1) RETURNING id", live.schema),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    // A search posting lost (say, by a hand-made "fix" of the table) is found as well.
    let lost = client
        .query_one(
            &format!(
                "DELETE FROM {0}.search_postings WHERE ctid = (SELECT ctid FROM {0}.search_postings
                 WHERE product_id <> $1 LIMIT 1) RETURNING term || ' ' || impact || ' ' || product_id",
                live.schema
            ),
            &[&tampered],
        )
        .await
        .unwrap()
        .get::<_, String>(0);
    let report = projector::verify::verify(&settings, running).await.unwrap();
    assert_eq!(report.differences.len(), 2, "{:#}", report.to_json());
    let posting = &report.differences[1];
    assert_eq!(
        (posting.table, posting.key.clone()),
        ("search_postings", lost)
    );
    assert!(posting.live.is_none() && posting.shadow.is_some());
    let difference = &report.differences[0];
    assert_eq!(
        (difference.table, difference.key.clone()),
        ("products", tampered.to_string())
    );
    assert_eq!(difference.live.as_ref().unwrap()["price_minor"], 1);
    assert_ne!(difference.shadow.as_ref().unwrap()["price_minor"], 1);
    let shadows = client
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'read_verify_%'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        shadows.get::<_, i64>(0),
        0,
        "verify drops its shadow schema"
    );
    live.stop().await.unwrap();
}
