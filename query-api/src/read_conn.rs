//! Connections to the read model: which read schema is active (a rebuild flips
//! `read_meta.active`, see the `read-model` crate), cached for at most a second, and queries
//! whose errors become `ApiError`s.
//!
//! Why a cache and not one lookup per request: the lookup is a round trip on every read, and the
//! pointer changes a few times a year. Why not longer than a second: after a flip, readers must
//! follow quickly, and the projector drops the old schema only after a grace period of minutes,
//! so a name up to a second old still resolves.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use deadpool_postgres::{Object, Pool};
use tokio_postgres::{
    Row,
    error::SqlState,
    types::{ToSql, Type},
};

use read_model::ReadSchema;

use crate::{error::ApiError, metrics as m};

/// The active read schema's name, remembered for `ttl`.
#[derive(Debug)]
pub struct ActiveSchema {
    ttl: Duration,
    cached: Mutex<Option<(ReadSchema, Instant)>>,
}

impl ActiveSchema {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            cached: Mutex::new(None),
        }
    }

    /// The active schema, from the cache while it is fresh, else from `read_meta.active`.
    /// 503 while no schema is active yet (the projector has not started).
    pub async fn resolve(&self, client: &Object) -> Result<ReadSchema, ApiError> {
        if let Some(name) = self.fresh() {
            return Ok(name);
        }
        let active =
            read_model::pointer::active(&***client)
                .await
                .map_err(|error| match error {
                    read_model::pointer::PointerError::Database(e) => ApiError::from(e),
                    invalid => ApiError::Internal(invalid.into()),
                })?;
        let Some(name) = active else {
            return Err(ApiError::Unavailable(
                "the read model is not built yet".to_owned(),
            ));
        };
        self.remember(&name);
        Ok(name)
    }

    /// Forgets the cached name, so the next request reads the pointer again.
    pub fn invalidate(&self) {
        if let Ok(mut cached) = self.cached.lock() {
            *cached = None;
        }
    }

    fn fresh(&self) -> Option<ReadSchema> {
        let cached = self.cached.lock().ok()?;
        cached
            .as_ref()
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(name, _)| name.clone())
    }

    fn remember(&self, name: &ReadSchema) {
        // A poisoned lock only means another thread panicked mid-update of a plain value;
        // skipping the cache is always correct, merely slower.
        let Ok(mut cached) = self.cached.lock() else {
            return;
        };
        if let Some((previous, _)) = cached.as_ref()
            && previous != name
        {
            tracing::info!(from = %previous, to = %name, "active read schema changed");
            metrics::counter!(m::SCHEMA_SWITCHES).increment(1);
        }
        *cached = Some((name.clone(), Instant::now()));
    }
}

/// One pooled connection plus the schema it reads. Every query's error becomes an `ApiError`,
/// and an error saying the schema is gone forgets the cached name.
pub struct ReadConn<'a> {
    client: Object,
    pub schema: ReadSchema,
    active: &'a ActiveSchema,
}

impl std::fmt::Debug for ReadConn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadConn")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl<'a> ReadConn<'a> {
    pub async fn open(pool: &Pool, active: &'a ActiveSchema) -> Result<Self, ApiError> {
        let client = pool.get().await?;
        let schema = active.resolve(&client).await?;
        Ok(Self {
            client,
            schema,
            active,
        })
    }

    /// `{schema}` in `template` replaced by the active schema's name.
    pub fn sql(&self, template: &str) -> String {
        template.replace("{schema}", self.schema.as_str())
    }

    pub async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, ApiError> {
        self.client
            .query(sql, params)
            .await
            .map_err(|e| self.fail(e))
    }

    pub async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, ApiError> {
        self.client
            .query_opt(sql, params)
            .await
            .map_err(|e| self.fail(e))
    }

    /// One round trip, and planned for these very values (an unnamed statement), which is what
    /// the listing needs: a generic plan cannot know how selective a category or a search is.
    pub async fn query_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, ApiError> {
        self.client
            .query_typed(sql, params)
            .await
            .map_err(|e| self.fail(e))
    }

    /// Like `query_typed`, through a statement this connection keeps prepared: for a statement
    /// whose best plan does not depend on its values (a listing, a search page read from the
    /// postings), parsing and planning it at every request is pure overhead. Values are always
    /// parameters, so the cache holds one statement per shape (filters x sort x cursor, and
    /// alternatives per search word): bounded, at most about a thousand per connection.
    pub async fn query_prepared(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, ApiError> {
        crate::listing::prepared::run(&*self.client, sql, params)
            .await
            .map_err(|e| self.fail(e))
    }

    /// `q` resolved against this schema's search postings (see `listing::search`).
    pub async fn resolve_search(
        &self,
        text: &crate::listing::search::SearchText,
        common: &crate::listing::common_terms::CommonTerms,
    ) -> Result<crate::listing::search::Resolved, ApiError> {
        crate::listing::search::resolve(&*self.client, self.schema.as_str(), text, common)
            .await
            .map_err(|e| self.fail(e))
    }

    fn fail(&self, error: tokio_postgres::Error) -> ApiError {
        if let Some(code) = error.code()
            && (*code == SqlState::UNDEFINED_TABLE || *code == SqlState::INVALID_SCHEMA_NAME)
        {
            self.active.invalidate();
        }
        error.into()
    }
}
