//! A generated catalog (products with ten-event lifecycles, and users) with the assertion the
//! crash and replica tests end on: the read model equals the fold of every stream's events,
//! with exactly one audit row per (stream, version).

use std::collections::{BTreeMap, BTreeSet};

use domain::{Aggregate, Product, ProductEvent, ProductStatus, User, UserEvent};
use projector::ReadSchema;
use serde_json::{Value, json};
use store::RecordedEvent;
use uuid::Uuid;

use crate::history;

#[derive(Debug)]
pub struct Catalog {
    /// Every event, interleaved across streams (all first versions, then all second, ...) the
    /// way concurrent sellers would produce them; each stream's events stay in order.
    pub events: Vec<RecordedEvent>,
    products: BTreeMap<Uuid, Vec<ProductEvent>>,
    users: BTreeMap<Uuid, Vec<UserEvent>>,
}

impl Catalog {
    pub fn generate(products: usize, users: usize) -> Self {
        let start = history::now();
        let seller = Uuid::now_v7();
        let mut streams: Vec<Vec<RecordedEvent>> = Vec::new();
        let mut product_events = BTreeMap::new();
        for index in 0..products {
            let id = Uuid::now_v7();
            let events = history::decide_product(seller, history::lifecycle(id, seller, index));
            streams.push(history::record(id, "product", &events, start));
            product_events.insert(id, events);
        }
        let mut user_events = BTreeMap::new();
        for index in 0..users {
            let id = Uuid::now_v7();
            let events = history::user_history(id, index);
            streams.push(history::record(id, "user", &events, start));
            user_events.insert(id, events);
        }
        let longest = streams.iter().map(Vec::len).max().unwrap_or(0);
        let events = (0..longest)
            .flat_map(|i| streams.iter().filter_map(move |s| s.get(i).cloned()))
            .collect();
        Self {
            events,
            products: product_events,
            users: user_events,
        }
    }

    /// The events up to and including `version` of each stream, and the rest.
    pub fn split_at_version(&self, version: i64) -> (Vec<RecordedEvent>, Vec<RecordedEvent>) {
        self.events
            .iter()
            .cloned()
            .partition(|e| e.stream_version <= version)
    }

    /// Asserts that `schema` holds exactly what folding every stream gives.
    pub async fn assert_projected(&self, client: &tokio_postgres::Client, schema: &ReadSchema) {
        let rows = rows_by_id(
            client,
            &format!("SELECT id, to_jsonb(p) FROM {schema}.products p"),
        )
        .await;
        assert_eq!(rows.len(), self.products.len(), "one row per product");
        let mut listed: BTreeMap<String, i64> = BTreeMap::new();
        for (id, events) in &self.products {
            let state = Product::fold(events);
            let price = state.price.unwrap();
            let expected = json!({
                "seller_id": state.seller_id,
                "sku": state.sku.as_ref().map(|s| s.as_str()),
                "name": state.name.as_ref().map(|s| s.as_str()),
                "description": state.description.as_ref().map(|s| s.as_str()),
                "category": state.category.as_ref().map(|s| s.as_str()),
                "price_minor": price.amount_minor(),
                "currency": price.currency().as_str(),
                "stock": state.stock,
                "status": serde_json::to_value(state.status).unwrap(),
                "version": events.len(),
            });
            let row = &rows[id];
            for (field, value) in expected.as_object().unwrap() {
                assert_eq!(&row[field], value, "products.{field} of {id}");
            }
            if state.status == ProductStatus::Published {
                let category = state.category.unwrap().as_str().to_owned();
                *listed.entry(category).or_default() += 1;
            }
        }
        let categories: BTreeMap<String, i64> = client
            .query(
                &format!("SELECT slug, published_count FROM {schema}.categories"),
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(categories, listed, "published counts per category");

        // The search postings, kept up to date batch by batch, are exactly what deriving them
        // from the final rows gives: every published product's lexemes, nothing of the others.
        let postings = client
            .query_one(
                &format!(
                    "WITH derived AS (
                         SELECT u.lexeme COLLATE \"C\" AS term,
                                {schema}.search_impact(u.weights) AS impact, p.id AS product_id
                         FROM {schema}.products p, unnest(p.search) AS u
                         WHERE p.status = 'published'),
                     kept AS (SELECT term, impact, product_id FROM {schema}.search_postings)
                     SELECT (SELECT count(*) FROM kept),
                            (SELECT count(*) FROM (SELECT * FROM derived EXCEPT SELECT * FROM kept) m),
                            (SELECT count(*) FROM (SELECT * FROM kept EXCEPT SELECT * FROM derived) x)"
                ),
                &[],
            )
            .await
            .unwrap();
        let (kept, missing, extra): (i64, i64, i64) =
            (postings.get(0), postings.get(1), postings.get(2));
        assert!(
            kept > 0 || listed.is_empty(),
            "published products have postings"
        );
        assert_eq!((missing, extra), (0, 0), "search postings of {kept}");

        let users = rows_by_id(
            client,
            &format!("SELECT id, to_jsonb(u) FROM {schema}.users u"),
        )
        .await;
        assert_eq!(users.len(), self.users.len(), "one row per user");
        for (id, events) in &self.users {
            let state = User::fold(events);
            let row = &users[id];
            assert_eq!(row["email"], state.email.unwrap().as_str());
            assert_eq!(row["display_name"], state.display_name.unwrap().as_str());
            assert_eq!(row["role"], state.role.as_str());
            assert_eq!(row["active"], state.active);
            assert_eq!(row["version"], events.len());
        }

        let audited: Vec<(Uuid, i64, Uuid)> = client
            .query(
                &format!("SELECT stream_id, version, event_id FROM {schema}.audit_events"),
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let expected: BTreeSet<(Uuid, i64, Uuid)> = self
            .events
            .iter()
            .map(|e| (e.stream_id, e.stream_version, e.event_id))
            .collect();
        assert_eq!(audited.len(), expected.len(), "one audit row per event");
        assert_eq!(audited.into_iter().collect::<BTreeSet<_>>(), expected);

        let versions = client
            .query(
                &format!("SELECT stream_id, version FROM {schema}.stream_versions"),
                &[],
            )
            .await
            .unwrap();
        let lengths: BTreeMap<Uuid, usize> = self
            .products
            .iter()
            .map(|(id, e)| (*id, e.len()))
            .chain(self.users.iter().map(|(id, e)| (*id, e.len())))
            .collect();
        assert_eq!(versions.len(), lengths.len());
        for row in versions {
            let (id, version): (Uuid, i64) = (row.get(0), row.get(1));
            assert_eq!(Some(version as usize), lengths.get(&id).copied());
        }
    }
}

async fn rows_by_id(client: &tokio_postgres::Client, sql: &str) -> BTreeMap<Uuid, Value> {
    client
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}
