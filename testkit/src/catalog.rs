//! A large generated catalog written straight into a read schema's `products` table, for the
//! EXPLAIN test and the catalog-read benchmark: both need a million realistic rows in a minute,
//! which the event path (seed, relay, projector) cannot give.

use std::time::{Duration, Instant};

use anyhow::Context;
use tokio_postgres::Client;

/// A catalog shaped like a real one: 50 categories (2 % each), 2 000 sellers (100 products
/// each), prices spread over 1-1 000 EUR, 5 % sold out, 10 % drafts and 3 % archived, names
/// from 20 x 15 x 40 words (so a noun such as "kettle" is in 2.5 % of names). Each attribute
/// comes from its own hash of the row number, so no two are correlated by construction (a
/// correlation, say every sold-out product being a draft, would make a plan look better or
/// worse than it would be on real data).
const GENERATE: &str = "
INSERT INTO {schema}.products (id, seller_id, sku, name, description, category, price_minor,
    currency, stock, status, created_at, updated_at, version)
SELECT md5('p' || g)::uuid,
       md5('s' || (g % 2000))::uuid,
       'SKU-' || g,
       (ARRAY['Classic','Modern','Rustic','Compact','Deluxe','Vintage','Smart','Portable','Heavy-duty',
              'Minimal','Elegant','Sturdy','Soft','Bright','Quiet','Slim','Large','Tiny','Premium',
              'Everyday'])[1 + abs(hashint8(g * 3)) % 20]
         || ' ' || (ARRAY['oak','walnut','steel','brass','ceramic','glass','linen','wool','cotton',
              'bamboo','copper','marble','leather','rattan','granite'])[1 + abs(hashint8(g * 5)) % 15]
         || ' ' || (ARRAY['chair','table','lamp','mug','kettle','desk','shelf','rug','vase','bowl',
              'plate','stool','sofa','bench','mirror','clock','basket','pillow','blanket','curtain',
              'jar','pan','pot','knife','spoon','fork','tumbler','bottle','tray','frame','candle',
              'planter','hook','rack','cabinet','drawer','bed','crib','lantern','teapot'])[1 + abs(hashint8(g * 7)) % 40],
       'Made of ' || (ARRAY['oak','walnut','steel','brass','ceramic','glass','linen','wool','cotton',
              'bamboo','copper','marble','leather','rattan','granite'])[1 + (g / 7) % 15]
         || ' for ' || (ARRAY['kitchens','living rooms','offices','gardens','bedrooms','bathrooms',
              'patios','studios'])[1 + g % 8]
         || '. Item ' || g || ' of a catalog that ships worldwide.',
       'category-' || (1 + abs(hashint8(g * 11)) % 50),
       100 + abs(hashint8(g)) % 100000,
       'EUR',
       CASE WHEN abs(hashint8(g * 13)) % 20 = 0 THEN 0 ELSE 1 + abs(hashint8(g + 1)) % 200 END,
       CASE WHEN abs(hashint8(g * 17)) % 10 = 0 THEN 'draft' WHEN abs(hashint8(g * 17)) % 33 = 1 THEN 'archived' ELSE 'published' END,
       timestamptz '2023-01-01' + g * interval '1 minute',
       timestamptz '2023-01-01' + g * interval '1 minute',
       1 + g % 5
FROM generate_series(1, $1::bigint) AS g";

/// Loads `rows` generated products into `schema` the fast way: without the secondary indexes,
/// then `read_model_ddl` (the projector's idempotent DDL, `{schema}` as placeholder) builds them
/// in bulk, the search postings included (its backfill of a table found empty), then statistics. Returns how long it took.
pub async fn load_generated(
    client: &Client,
    schema: &str,
    read_model_ddl: &str,
    rows: i64,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let ddl = read_model_ddl.replace("{schema}", schema);
    client.batch_execute(&ddl).await.context("read model DDL")?;
    let indexes = client
        .query(
            "SELECT indexname FROM pg_indexes
             WHERE schemaname = $1 AND tablename = 'products' AND indexname <> 'products_pkey'",
            &[&schema],
        )
        .await
        .context("listing indexes")?;
    for index in indexes {
        let name: String = index.get(0);
        client
            .batch_execute(&format!("DROP INDEX {schema}.{name}"))
            .await
            .context("dropping an index for the bulk load")?;
    }
    client
        .execute(&GENERATE.replace("{schema}", schema), &[&rows])
        .await
        .context("generating the catalog")?;
    client
        .batch_execute(&format!("SET maintenance_work_mem = '256MB'; {ddl}"))
        .await
        .context("building the indexes")?;
    // Its own statements: VACUUM refuses to run inside the implicit transaction of a batch. The
    // postings' statistics are what a search reads to pick its rarest word.
    for table in ["products", "search_postings"] {
        client
            .batch_execute(&format!("VACUUM ANALYZE {schema}.{table}"))
            .await
            .context("statistics")?;
    }
    Ok(started.elapsed())
}
