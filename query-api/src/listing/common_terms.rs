//! How many postings the commonest search terms have, from the planner's statistics of the
//! postings (`pg_stats`, `ANALYZE`d by autovacuum), kept for a minute per read schema.
//!
//! Why: a search of several words reads the postings of its rarest word and checks the others
//! on each candidate, so picking the rarest word right decides how many rows a page reads
//! ("granite kettle": 22 000 kettles against 110 000 granite products). Counting each word's
//! postings at every request costs a millisecond a word; the statistics already hold the counts
//! of the words that matter (any word outside them is rare enough to count up to a bound).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio_postgres::{Error, types::Type};

use super::prepared::{Preparing, run};

/// How long the statistics are reused: they change when autovacuum analyses the table, which
/// on a busy catalog is every few minutes at most.
pub const REFRESH_AFTER: Duration = Duration::from_secs(60);

/// The commonest terms of `$1`'s postings and about how many postings each has.
const STATISTICS: &str = "
    SELECT v.term, (v.freq * greatest(c.reltuples, 0))::int8
    FROM pg_stats st
    JOIN pg_namespace n ON n.nspname = st.schemaname
    JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = st.tablename
    CROSS JOIN LATERAL unnest(st.most_common_vals::text::text[], st.most_common_freqs)
        AS v(term, freq)
    WHERE st.schemaname = $1 AND st.tablename = 'search_postings' AND st.attname = 'term'";

type Counts = Arc<HashMap<String, i64>>;

#[derive(Debug, Default)]
pub struct CommonTerms {
    cached: Mutex<Option<(String, Instant, Counts)>>,
}

impl CommonTerms {
    /// The counts for `schema`, read again when older than `REFRESH_AFTER` or of another schema.
    pub async fn of(&self, conn: &impl Preparing, schema: &str) -> Result<Counts, Error> {
        if let Some(counts) = self.fresh(schema) {
            return Ok(counts);
        }
        let rows = run(conn, STATISTICS, &[(&schema, Type::TEXT)]).await?;
        let counts: Counts = Arc::new(
            rows.iter()
                .map(|row| (row.get::<_, String>(0), row.get::<_, i64>(1)))
                .collect(),
        );
        // A poisoned lock only loses the cache; the counts are still right for this request.
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some((schema.to_owned(), Instant::now(), counts.clone()));
        }
        Ok(counts)
    }

    fn fresh(&self, schema: &str) -> Option<Counts> {
        let cached = self.cached.lock().ok()?;
        let (name, at, counts) = cached.as_ref()?;
        (name == schema && at.elapsed() < REFRESH_AFTER).then(|| counts.clone())
    }
}
