//! The `products` and `categories` tables: one row per product, folded with `Product::evolve`
//! from the stored row, and the published count per category, moved by the difference each
//! batch made to each product's "listed in category X" status; and the search postings of
//! every product whose words or publication changed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use domain::{
    Product, ProductState, ProductStatus,
    values::{CategorySlug, Currency, Description, Money, ProductName, Sku},
};
use tokio_postgres::{GenericClient, Row};
use uuid::Uuid;

use super::{
    error::{ApplyError, db},
    fold::{self, Folded},
    journal::Fresh,
    outcome::BatchOutcome,
};
use read_model::ReadSchema;

const LOAD: &str = "
    SELECT id, seller_id, sku, name, description, category, price_minor, currency, stock,
           status, created_at, updated_at, version
    FROM {schema}.products WHERE id = ANY($1)";

/// Rows arrive sorted by id, so concurrent batches lock product rows in one order.
const UPSERT: &str = "
    INSERT INTO {schema}.products (id, seller_id, sku, name, description, category, price_minor,
                                   currency, stock, status, created_at, updated_at, version)
    SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::bigint[], $8::text[], $9::bigint[], $10::text[], $11::timestamptz[],
                         $12::timestamptz[], $13::bigint[])
    ON CONFLICT (id) DO UPDATE SET
        seller_id = EXCLUDED.seller_id, sku = EXCLUDED.sku, name = EXCLUDED.name,
        description = EXCLUDED.description, category = EXCLUDED.category,
        price_minor = EXCLUDED.price_minor, currency = EXCLUDED.currency, stock = EXCLUDED.stock,
        status = EXCLUDED.status, created_at = EXCLUDED.created_at,
        updated_at = EXCLUDED.updated_at, version = EXCLUDED.version";

/// Category rows are shared by every partition: one statement per batch, slugs sorted, so two
/// replicas' batches take these row locks in the same order and never deadlock.
const MOVE_CATEGORIES: &str = "
    INSERT INTO {schema}.categories AS c (slug, published_count)
    SELECT * FROM UNNEST($1::text[], $2::bigint[])
    ON CONFLICT (slug) DO UPDATE SET published_count = c.published_count + EXCLUDED.published_count";

/// The read model's own functions (`read_model.sql`), so the postings are derived from the row
/// exactly as `products.search` is. Ids sorted: concurrent batches lock in one order.
const UNINDEX_SEARCH: &str = "SELECT {schema}.unindex_search($1::uuid[])";
const INDEX_SEARCH: &str = "SELECT {schema}.index_search($1::uuid[])";

const PRUNE_CATEGORIES: &str =
    "DELETE FROM {schema}.categories WHERE slug = ANY($1) AND published_count = 0";

pub(super) async fn apply(
    tx: &impl GenericClient,
    schema: &ReadSchema,
    events: &[Fresh<'_>],
    outcome: &mut BatchOutcome,
) -> Result<(), ApplyError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut rows = fold::load(tx, &schema.sql(LOAD), "products", events, from_row).await?;
    let listed_before: HashMap<Uuid, String> = rows
        .iter()
        .filter_map(|(id, row)| listed_in(&row.state).map(|c| (*id, c.to_owned())))
        .collect();
    let searched_before: HashMap<Uuid, Searchable> = rows
        .iter()
        .filter_map(|(id, row)| searchable(&row.state).map(|s| (*id, s)))
        .collect();
    let changed = fold::fold::<Product>(&mut rows, events, None, outcome);

    let mut columns = Columns::default();
    let mut deltas: BTreeMap<String, i64> = BTreeMap::new();
    let mut reindexed: BTreeSet<Uuid> = BTreeSet::new();
    for id in changed {
        let Some(row) = rows.get(&id) else { continue };
        if !columns.push(id, row) {
            fold::not_created("products", id, outcome);
            continue;
        }
        if searched_before.get(&id) != searchable(&row.state).as_ref() {
            reindexed.insert(id);
        }
        let (before, after) = (
            listed_before.get(&id).map(String::as_str),
            listed_in(&row.state),
        );
        if before != after {
            if let Some(category) = before {
                *deltas.entry(category.to_owned()).or_default() -= 1;
            }
            if let Some(category) = after {
                *deltas.entry(category.to_owned()).or_default() += 1;
            }
        }
    }
    // Postings follow the rows: the old ones are found from the rows before they change.
    let reindexed: Vec<Uuid> = reindexed.into_iter().collect();
    if !reindexed.is_empty() {
        tx.execute(&schema.sql(UNINDEX_SEARCH), &[&reindexed])
            .await
            .map_err(db("removing search postings"))?;
    }
    columns.write(tx, schema).await?;
    if !reindexed.is_empty() {
        tx.execute(&schema.sql(INDEX_SEARCH), &[&reindexed])
            .await
            .map_err(db("writing search postings"))?;
    }
    move_categories(tx, schema, deltas).await
}

/// What a product's search postings are made of; `None` while it is not published (only
/// published products have postings). A price or stock change leaves it as it is.
#[derive(Debug, PartialEq, Eq)]
struct Searchable {
    name: String,
    description: String,
    category: String,
}

fn searchable(state: &ProductState) -> Option<Searchable> {
    if state.status != ProductStatus::Published {
        return None;
    }
    Some(Searchable {
        name: state.name.as_ref()?.to_string(),
        description: state.description.as_ref()?.to_string(),
        category: state.category.as_ref()?.to_string(),
    })
}

/// The category a product is listed in: its own, while published.
fn listed_in(state: &ProductState) -> Option<&str> {
    (state.status == ProductStatus::Published)
        .then(|| state.category.as_ref().map(CategorySlug::as_str))
        .flatten()
}

fn status_text(status: ProductStatus) -> Option<&'static str> {
    match status {
        ProductStatus::NotCreated => None,
        ProductStatus::Draft => Some("draft"),
        ProductStatus::Published => Some("published"),
        ProductStatus::Archived => Some("archived"),
    }
}

/// The stored row back as the aggregate state it was written from. Every value went through the
/// domain's `parse` on its way in, so parsing it again gives the same value.
fn from_row(row: &Row) -> Result<Folded<ProductState>, String> {
    let text = |i: usize| -> &str { row.get(i) };
    let status = match text(9) {
        "draft" => ProductStatus::Draft,
        "published" => ProductStatus::Published,
        "archived" => ProductStatus::Archived,
        other => return Err(format!("unknown status {other:?}")),
    };
    let currency = Currency::parse(text(7)).map_err(|e| e.to_string())?;
    let state = ProductState {
        id: Some(row.get(0)),
        seller_id: Some(row.get(1)),
        sku: Some(Sku::parse(text(2)).map_err(|e| e.to_string())?),
        name: Some(ProductName::parse(text(3)).map_err(|e| e.to_string())?),
        description: Some(Description::parse(text(4)).map_err(|e| e.to_string())?),
        category: Some(CategorySlug::parse(text(5)).map_err(|e| e.to_string())?),
        price: Some(Money::new(row.get(6), currency).map_err(|e| e.to_string())?),
        stock: row.get(8),
        status,
    };
    Ok(Folded {
        state,
        created_at: row.get(10),
        updated_at: row.get(11),
        version: row.get(12),
    })
}

/// The UNNEST arrays of one upsert.
#[derive(Default)]
struct Columns {
    id: Vec<Uuid>,
    seller_id: Vec<Uuid>,
    sku: Vec<String>,
    name: Vec<String>,
    description: Vec<String>,
    category: Vec<String>,
    price_minor: Vec<i64>,
    currency: Vec<&'static str>,
    stock: Vec<i64>,
    status: Vec<&'static str>,
    created_at: Vec<DateTime<Utc>>,
    updated_at: Vec<DateTime<Utc>>,
    version: Vec<i64>,
}

impl Columns {
    /// Adds the row; false if the product was never created (a field the creation sets is
    /// missing), in which case nothing is added.
    fn push(&mut self, id: Uuid, row: &Folded<ProductState>) -> bool {
        let s = &row.state;
        let (Some(seller_id), Some(sku), Some(name), Some(description), Some(category)) =
            (s.seller_id, &s.sku, &s.name, &s.description, &s.category)
        else {
            return false;
        };
        let (Some(price), Some(status)) = (s.price, status_text(s.status)) else {
            return false;
        };
        self.id.push(id);
        self.seller_id.push(seller_id);
        self.sku.push(sku.to_string());
        self.name.push(name.to_string());
        self.description.push(description.to_string());
        self.category.push(category.to_string());
        self.price_minor.push(price.amount_minor());
        self.currency.push(price.currency().as_str());
        self.stock.push(s.stock);
        self.status.push(status);
        self.created_at.push(row.created_at);
        self.updated_at.push(row.updated_at);
        self.version.push(row.version);
        true
    }

    async fn write(&self, tx: &impl GenericClient, schema: &ReadSchema) -> Result<(), ApplyError> {
        if self.id.is_empty() {
            return Ok(());
        }
        tx.execute(
            &schema.sql(UPSERT),
            &[
                &self.id,
                &self.seller_id,
                &self.sku,
                &self.name,
                &self.description,
                &self.category,
                &self.price_minor,
                &self.currency,
                &self.stock,
                &self.status,
                &self.created_at,
                &self.updated_at,
                &self.version,
            ],
        )
        .await
        .map_err(db("writing products"))?;
        Ok(())
    }
}

async fn move_categories(
    tx: &impl GenericClient,
    schema: &ReadSchema,
    deltas: BTreeMap<String, i64>,
) -> Result<(), ApplyError> {
    let (slugs, moves): (Vec<String>, Vec<i64>) =
        deltas.into_iter().filter(|(_, delta)| *delta != 0).unzip();
    if slugs.is_empty() {
        return Ok(());
    }
    tx.execute(&schema.sql(MOVE_CATEGORIES), &[&slugs, &moves])
        .await
        .map_err(db("moving category counts"))?;
    tx.execute(&schema.sql(PRUNE_CATEGORIES), &[&slugs])
        .await
        .map_err(db("pruning empty categories"))?;
    Ok(())
}
