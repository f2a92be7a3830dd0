//! The opaque listing cursor: base64url of the last row's sort key and id, plus a hash of the
//! filters and sort it belongs to.
//!
//! Why a key and not an offset: `OFFSET n` rescans n rows per page and shifts when a product is
//! added or removed mid-walk; `(key, id) < (last key, last id)` starts where the previous page
//! ended, on the index. Why the hash: a cursor of a "price_asc under 10 €" walk means nothing
//! in a "newest in shoes" walk, and silently returning rows from an arbitrary position would
//! look like data loss to a client. The key itself is not secret: forging one only moves the
//! start of a walk the client could have made anyway, so no signature.

use actix_web::http::StatusCode;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use platform::Problem;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_postgres::Row;
use uuid::Uuid;

use super::{
    filters::{Filters, Sort},
    search::MAX_WORDS,
};

/// The highest impact a posting can have (name, category and description: 4 + 2 + 1).
const MAX_IMPACT: i64 = 7;
use crate::{error::ApiError, metrics as m};

/// Longer than any real cursor (the largest key, a name of 200 four-byte characters, encodes to
/// about 1 300): refuse before decoding.
pub const MAX_ENCODED_LEN: usize = 2048;

/// The sort key of the last row of a page, in the type the SQL compares it as.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SortKey {
    /// `created_at` in microseconds since the epoch: PostgreSQL's own precision, so exact.
    #[serde(rename = "t")]
    CreatedAt(i64),
    #[serde(rename = "p")]
    Price(i64),
    #[serde(rename = "n")]
    Name(String),
    /// A search's impact (`search_postings.impact`) and which of its words drove the walk (its
    /// place among the words found): every page of a walk must read the same word's postings,
    /// even when the statistics that picked it change in between.
    #[serde(rename = "s")]
    Relevance {
        #[serde(rename = "m")]
        impact: i64,
        #[serde(rename = "d")]
        driver: u8,
    },
}

impl SortKey {
    fn fits(&self, sort: Sort) -> bool {
        matches!(
            (self, sort),
            (SortKey::CreatedAt(_), Sort::Newest)
                | (SortKey::Price(_), Sort::PriceAsc | Sort::PriceDesc)
                | (SortKey::Name(_), Sort::Name)
                | (SortKey::Relevance { .. }, Sort::Relevance)
        )
    }

    /// `created_at` as the timestamp the SQL binds.
    pub fn created_at(micros: i64) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_micros(micros)
    }
}

/// A position in one listing: the row after which the next page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub key: SortKey,
    pub id: Uuid,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    /// Hash of the filters and sort (see `scope`).
    f: String,
    k: SortKey,
    i: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("the cursor is not one this API issued")]
    Malformed,
    #[error("the cursor belongs to a listing with other filters or another sort")]
    OtherListing,
}

impl CursorError {
    pub fn into_api_error(self) -> ApiError {
        metrics::counter!(m::CURSOR_ERRORS).increment(1);
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
            "The cursor is not valid for this request",
        )
        .with_detail(format!(
            "{self}; start again without a cursor, or repeat the parameters of the page that gave it"
        ))
        .with_field("cursor", self.to_string())
        .into()
    }
}

impl Cursor {
    /// The cursor after `row`, a row of the listing's SQL (`sql::page`) for `sort`; `driver` is
    /// the search word the page read (`sql::driver`), 0 without a search.
    pub fn after_row(sort: Sort, row: &Row, driver: usize) -> Result<Self, tokio_postgres::Error> {
        let key = match sort {
            Sort::Newest => SortKey::CreatedAt(
                row.try_get::<_, DateTime<Utc>>("created_at")?
                    .timestamp_micros(),
            ),
            Sort::PriceAsc | Sort::PriceDesc => SortKey::Price(row.try_get("price_minor")?),
            Sort::Name => SortKey::Name(row.try_get("name")?),
            Sort::Relevance => SortKey::Relevance {
                impact: row.try_get("rank")?,
                driver: u8::try_from(driver).unwrap_or(u8::MAX),
            },
        };
        Ok(Self {
            key,
            id: row.try_get("id")?,
        })
    }

    pub fn encode(&self, filters: &Filters, sort: Sort) -> String {
        let wire = Wire {
            f: scope(filters, sort),
            k: self.key.clone(),
            i: self.id,
        };
        // Serialising a struct of strings and numbers cannot fail; an empty cursor would be
        // refused as malformed on the next request rather than go unnoticed.
        let json = serde_json::to_vec(&wire).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(raw: &str, filters: &Filters, sort: Sort) -> Result<Self, CursorError> {
        if raw.len() > MAX_ENCODED_LEN {
            return Err(CursorError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(raw.trim())
            .map_err(|_| CursorError::Malformed)?;
        let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| CursorError::Malformed)?;
        if wire.f != scope(filters, sort) {
            return Err(CursorError::OtherListing);
        }
        let valid_key = match &wire.k {
            SortKey::CreatedAt(micros) => SortKey::created_at(*micros).is_some(),
            SortKey::Relevance { impact, driver } => {
                (0..=MAX_IMPACT).contains(impact) && usize::from(*driver) < MAX_WORDS
            }
            SortKey::Price(_) | SortKey::Name(_) => true,
        };
        if !wire.k.fits(sort) || !valid_key {
            return Err(CursorError::Malformed);
        }
        Ok(Self {
            key: wire.k,
            id: wire.i,
        })
    }
}

/// What a cursor is valid for: the first 64 bits of a SHA-256 over the normalised filters and
/// the sort. The page size is left out on purpose: changing it mid-walk is harmless.
fn scope(filters: &Filters, sort: Sort) -> String {
    let canonical = serde_json::json!([
        sort.as_str(),
        filters.category,
        filters.min_price,
        filters.max_price,
        filters.in_stock,
        filters.seller,
        filters.q,
    ]);
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    hex::encode(&digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap_shoes() -> Filters {
        Filters {
            category: Some("shoes".to_owned()),
            max_price: Some(1000),
            ..Filters::default()
        }
    }

    #[test]
    fn a_cursor_round_trips_within_its_listing() {
        let cursor = Cursor {
            key: SortKey::Relevance {
                impact: 5,
                driver: 1,
            },
            id: Uuid::now_v7(),
        };
        let q = Filters {
            q: Some("mug".to_owned()),
            ..Filters::default()
        };
        let raw = cursor.encode(&q, Sort::Relevance);
        assert_eq!(Cursor::decode(&raw, &q, Sort::Relevance), Ok(cursor));
    }

    #[test]
    fn a_cursor_is_refused_by_other_filters_or_sorts() {
        let cursor = Cursor {
            key: SortKey::Price(999),
            id: Uuid::now_v7(),
        };
        let raw = cursor.encode(&cheap_shoes(), Sort::PriceAsc);
        let other = Filters {
            max_price: Some(2000),
            ..cheap_shoes()
        };
        assert_eq!(
            Cursor::decode(&raw, &other, Sort::PriceAsc),
            Err(CursorError::OtherListing)
        );
        assert_eq!(
            Cursor::decode(&raw, &cheap_shoes(), Sort::PriceDesc),
            Err(CursorError::OtherListing)
        );
        assert_eq!(
            Cursor::decode("not-base64!", &cheap_shoes(), Sort::PriceAsc),
            Err(CursorError::Malformed)
        );
    }
}
