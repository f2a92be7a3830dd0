//! A fresh read schema and a script that decides product commands into the events the consumer
//! would decode, for the tests that apply batches without a broker.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use domain::{Aggregate, Product, ProductCommand, ProductState};
use kafka::DecodedEvent;
use projector::{BatchOutcome, Projection, ReadSchema, schema};
use serde_json::Value;
use testkit::{TestDatabase, unique_topics};
use uuid::Uuid;

use crate::history;

/// A fresh read schema, and a script that decides product commands into decoded events at
/// increasing offsets of partition 0.
pub struct Harness {
    pub client: tokio_postgres::Client,
    pub projection: Projection,
    pub seller: Uuid,
    pub products: HashMap<Uuid, (ProductState, i64)>,
    pub offset: i64,
    pub clock: DateTime<Utc>,
    _db: TestDatabase,
}

pub async fn harness() -> Harness {
    let db = TestDatabase::create().await.unwrap();
    let mut client = db.connect().await.unwrap();
    let schema = schema::prepare(&mut client).await.unwrap();
    assert_eq!(schema, ReadSchema::generation(1));
    Harness {
        client,
        projection: Projection::new(schema, unique_topics(), testkit::test_keyring()),
        seller: Uuid::now_v7(),
        products: HashMap::new(),
        offset: 0,
        clock: history::now(),
        _db: db,
    }
}

impl Harness {
    /// The events `command` records for product `id`, as the consumer would decode them.
    pub fn product(&mut self, id: Uuid, command: ProductCommand) -> Vec<DecodedEvent> {
        let topic = self.topic();
        let (state, version) = self.products.entry(id).or_default();
        let decided = Product::decide(state, &history::seller_actor(self.seller), command).unwrap();
        let mut out = Vec::new();
        for event in decided {
            *state = Product::evolve(std::mem::take(state), &event);
            *version += 1;
            self.clock += chrono::Duration::milliseconds(1500);
            let recorded = history::record_one(id, "product", *version, &event, self.clock);
            out.push(history::decoded(&recorded, &topic, 0, self.offset));
            self.offset += 1;
        }
        out
    }

    pub fn topic(&self) -> String {
        self.projection.topics().product.clone()
    }

    pub fn create(&mut self, id: Uuid, index: usize) -> Vec<DecodedEvent> {
        let seller = self.seller;
        self.product(id, history::create(id, seller, index))
    }

    pub fn move_to(&mut self, id: Uuid, category: &str) -> Vec<DecodedEvent> {
        let command = ProductCommand::UpdateDetails {
            name: None,
            description: None,
            category: Some(category.parse().unwrap()),
        };
        self.product(id, command)
    }

    pub async fn apply(&mut self, events: &[DecodedEvent]) -> BatchOutcome {
        self.projection
            .apply_events(&mut self.client, events)
            .await
            .unwrap()
    }

    pub async fn row(&self, id: Uuid) -> Value {
        let sql = format!(
            "SELECT to_jsonb(p) - 'search' FROM {}.products p WHERE id = $1",
            self.projection.schema()
        );
        self.client.query_one(&sql, &[&id]).await.unwrap().get(0)
    }

    pub async fn categories(&self) -> BTreeMap<String, i64> {
        let sql = format!(
            "SELECT slug, published_count FROM {}.categories",
            self.projection.schema()
        );
        let rows = self.client.query(&sql, &[]).await.unwrap();
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    }

    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {}.{table}", self.projection.schema());
        self.client.query_one(&sql, &[]).await.unwrap().get(0)
    }
}
