//! The read schema's DDL: idempotent under concurrent start-ups, and readable (only) by the
//! query API's role.

use projector::{ReadSchema, schema};
use testkit::TestDatabase;

const TABLES: [&str; 6] = [
    "products",
    "categories",
    "users",
    "audit_events",
    "stream_versions",
    "checkpoints",
];

#[tokio::test]
async fn replicas_starting_together_agree_on_one_active_schema() {
    let db = TestDatabase::create().await.unwrap();
    let (mut a, mut b) = (db.connect().await.unwrap(), db.connect().await.unwrap());

    let (first, second) = tokio::join!(schema::prepare(&mut a), schema::prepare(&mut b));
    let again = schema::prepare(&mut a).await.unwrap();

    let v1 = ReadSchema::generation(1);
    assert_eq!(
        (first.unwrap(), second.unwrap(), again),
        (v1.clone(), v1.clone(), v1)
    );
    let schemas: i64 = a
        .query_one("SELECT count(*) FROM read_meta.schemas", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(schemas, 1);
}

#[tokio::test]
async fn the_reader_role_may_select_every_read_table_and_change_none() {
    let db = TestDatabase::create().await.unwrap();
    let mut client = db.connect().await.unwrap();
    // Roles are per cluster; concurrent tests may race to create it.
    client
        .batch_execute(
            "DO $$ BEGIN CREATE ROLE cc_reader NOLOGIN;
             EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        )
        .await
        .unwrap();

    let active = schema::prepare(&mut client).await.unwrap();

    let may = |table: String, privilege: &'static str| {
        let client = &client;
        async move {
            client
                .query_one(
                    "SELECT has_table_privilege('cc_reader', $1, $2)",
                    &[&table, &privilege],
                )
                .await
                .unwrap()
                .get::<_, bool>(0)
        }
    };
    assert!(may("read_meta.active".to_owned(), "SELECT").await);
    for table in TABLES {
        let name = format!("{active}.{table}");
        assert!(may(name.clone(), "SELECT").await, "SELECT on {name}");
        assert!(!may(name.clone(), "INSERT").await, "no INSERT on {name}");
        assert!(!may(name.clone(), "UPDATE").await, "no UPDATE on {name}");
    }
}
