//! A write's answer when the client asks `Prefer: return=representation` (RFC 7240): the
//! resource's new state, folded by the domain in the command's own transaction, in exactly the
//! shape query-api serves (`read_model::representation`), so a client needs no second request
//! and no second type. The times are those of the stream's first and last events, which the
//! projector uses too.

use chrono::{DateTime, Utc};
use domain::{
    Aggregate,
    product::{Product, ProductState, ProductStatus},
    user::{User, UserState},
};
use read_model::representation::{Account, Price, ProductDetail, ProductItem};
use store::StoreError;
use tokio_postgres::GenericClient;
use uuid::Uuid;

/// When a stream began and last changed, as recorded in `es.events`.
#[derive(Debug, Clone, Copy)]
pub struct StreamTimes {
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl StreamTimes {
    /// Read in the command's transaction, so they include the events just appended.
    pub async fn load(
        client: &impl GenericClient,
        stream_id: Uuid,
    ) -> Result<Option<Self>, StoreError> {
        let row = client
            .query_one(
                "SELECT (SELECT recorded_at FROM es.events
                         WHERE stream_id = $1 ORDER BY stream_version LIMIT 1),
                        (SELECT recorded_at FROM es.events
                         WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1)",
                &[&stream_id],
            )
            .await
            .map_err(StoreError::db("reading a stream's times"))?;
        let (first, last): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) =
            (row.get(0), row.get(1));
        Ok(first.zip(last).map(|(created_at, updated_at)| Self {
            created_at,
            updated_at,
        }))
    }
}

/// A write model whose state has a read-side representation.
pub trait Represented: Aggregate {
    /// The resource as query-api would serve it at `version`; `None` for a stream that holds
    /// no resource (never the case after a successful command).
    fn representation(
        state: &Self::State,
        version: i64,
        times: StreamTimes,
    ) -> Option<serde_json::Value>;
}

impl Represented for User {
    fn representation(
        state: &UserState,
        version: i64,
        times: StreamTimes,
    ) -> Option<serde_json::Value> {
        let account = Account {
            id: state.id?,
            email: state.email.as_ref().map(|e| e.as_str().to_owned()),
            display_name: state.display_name.as_ref().map(|n| n.as_str().to_owned()),
            role: state.role.as_str().to_owned(),
            active: state.active,
            email_verified: state.email_verified,
            erased: state.erased,
            created_at: times.created_at,
            updated_at: times.updated_at,
            version,
        };
        serde_json::to_value(account).ok()
    }
}

impl Represented for Product {
    fn representation(
        state: &ProductState,
        version: i64,
        times: StreamTimes,
    ) -> Option<serde_json::Value> {
        let status = match state.status {
            ProductStatus::NotCreated => return None,
            ProductStatus::Draft => "draft",
            ProductStatus::Published => "published",
            ProductStatus::Archived => "archived",
        };
        let price = state.price?;
        let detail = ProductDetail {
            product: ProductItem {
                id: state.id?,
                sku: state.sku.as_ref()?.as_str().to_owned(),
                name: state.name.as_ref()?.as_str().to_owned(),
                description: state
                    .description
                    .as_ref()
                    .map(|d| d.as_str().to_owned())
                    .unwrap_or_default(),
                category: state.category.as_ref()?.as_str().to_owned(),
                price: Price {
                    amount_minor: price.amount_minor(),
                    currency: price.currency().as_str().to_owned(),
                },
                stock: state.stock,
                in_stock: state.stock > 0,
                seller_id: state.seller_id?,
                created_at: times.created_at,
                updated_at: times.updated_at,
                version,
            },
            status: status.to_owned(),
        };
        serde_json::to_value(detail).ok()
    }
}

/// Whether a `Prefer` header asks for `return=representation` (RFC 7240: a comma-separated list
/// of preferences, each possibly with `;` parameters; names are case-insensitive).
pub fn asks_for_representation(prefer: &str) -> bool {
    prefer.split(',').any(|preference| {
        let token = preference.split(';').next().unwrap_or_default().trim();
        token.split_once('=').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("return")
                && value.trim().trim_matches('"') == "representation"
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefer_lists_are_searched_for_return_representation() {
        assert!(asks_for_representation("return=representation"));
        assert!(asks_for_representation(
            "respond-async, RETURN=representation; x=1"
        ));
        assert!(asks_for_representation("return=\"representation\""));
        assert!(!asks_for_representation("return=minimal"));
        assert!(!asks_for_representation("handling=strict"));
        assert!(!asks_for_representation(""));
    }
}
