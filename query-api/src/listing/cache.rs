//! A short-lived in-process copy of recent listing pages. Catalog browsing asks for the same few
//! pages (the first page, popular categories) thousands of times a second; within a fraction of
//! a second the answer cannot differ by more than what `Cache-Control: max-age=5` already lets
//! every shared cache serve, so each replica asks PostgreSQL once per page and lifetime.
//!
//! What it does not do: serve a request carrying a `Consistency-Token` (the client waits for its
//! own write, which a copy may predate), or grow without bound (at `MAX_ENTRIES` it starts over:
//! a full reset is cheaper to reason about than an LRU, and a miss costs one query).
//! Rejected: caching rendered bytes in front of actix (the `ETag` and `304` logic would move),
//! and a shared cache such as Redis (another network hop and another thing to run, for pages
//! that are cheap to build).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::page::ProductPage;

/// Distinct listings kept at once; a page is a few kilobytes.
pub const MAX_ENTRIES: usize = 1_024;

#[derive(Debug)]
pub struct ListingCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Arc<ProductPage>)>>,
}

impl ListingCache {
    /// A cache keeping pages for `ttl`; zero turns it off.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The page stored under `key` if it is younger than the time to live.
    pub fn get(&self, key: &str) -> Option<Arc<ProductPage>> {
        let entries = self.entries.lock().ok()?;
        let (stored_at, page) = entries.get(key)?;
        (stored_at.elapsed() < self.ttl).then(|| page.clone())
    }

    pub fn put(&self, key: String, page: Arc<ProductPage>) {
        if !self.enabled() {
            return;
        }
        // A poisoned lock only means a panic elsewhere mid-insert; the map is still usable.
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (Instant::now(), page));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Arc<ProductPage> {
        Arc::new(ProductPage {
            items: vec![],
            next_cursor: None,
            total: None,
            total_is_lower_bound: None,
        })
    }

    #[test]
    fn a_page_is_served_until_its_time_to_live_runs_out() {
        let cache = ListingCache::new(Duration::from_millis(50));
        cache.put("limit=20".to_owned(), page());
        assert!(cache.get("limit=20").is_some());
        assert!(cache.get("limit=21").is_none());
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get("limit=20").is_none());
    }

    #[test]
    fn a_disabled_cache_keeps_nothing() {
        let cache = ListingCache::new(Duration::ZERO);
        cache.put("limit=20".to_owned(), page());
        assert!(cache.get("limit=20").is_none());
    }

    #[test]
    fn a_full_cache_starts_over_instead_of_growing() {
        let cache = ListingCache::new(Duration::from_secs(60));
        for n in 0..=MAX_ENTRIES {
            cache.put(format!("limit={n}"), page());
        }
        assert!(cache.get(&format!("limit={MAX_ENTRIES}")).is_some());
        assert!(cache.get("limit=0").is_none());
    }
}
