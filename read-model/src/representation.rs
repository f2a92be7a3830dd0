//! The resources as the read side serves them, one shape for both services: query-api answers
//! reads with these, and command-api answers a write asked with `Prefer: return=representation`
//! with the same types, built from the state the domain folded. A client sees one `Product` and
//! one `Account`, whichever service it asked.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::Row;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Price {
    /// Amount in the currency's minor unit (cents for EUR).
    #[schema(example = 1299)]
    pub amount_minor: i64,
    #[schema(example = "EUR")]
    pub currency: String,
}

/// A product as listings show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProductItem {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: Price,
    pub stock: i64,
    pub in_stock: bool,
    pub seller_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Stream version of the last event this row reflects.
    pub version: i64,
}

impl ProductItem {
    /// A row of a listing or of the detail query (same leading columns).
    pub fn from_row(row: &Row) -> Result<Self, tokio_postgres::Error> {
        let stock: i64 = row.try_get("stock")?;
        Ok(Self {
            id: row.try_get("id")?,
            sku: row.try_get("sku")?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            category: row.try_get("category")?,
            price: Price {
                amount_minor: row.try_get("price_minor")?,
                currency: row.try_get("currency")?,
            },
            stock,
            in_stock: stock > 0,
            seller_id: row.try_get("seller_id")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            version: row.try_get("version")?,
        })
    }
}

/// A product page: a listing item plus its lifecycle status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProductDetail {
    #[serde(flatten)]
    pub product: ProductItem,
    /// `draft`, `published` or `archived`; only sellers and admins ever see the first and last.
    pub status: String,
}

/// A user account, for the user themself and admins (never anything secret: the events carry
/// none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Account {
    pub id: Uuid,
    /// `null` once the user's personal data was erased.
    pub email: Option<String>,
    /// `null` once the user's personal data was erased.
    pub display_name: Option<String>,
    /// `customer`, `seller` or `admin`.
    pub role: String,
    pub active: bool,
    /// Whether the user proved they receive mail at `email` (a link from the verification
    /// mail). Only verified accounts can be made sellers or admins.
    pub email_verified: bool,
    /// The user's personal data was erased: the account is closed for good and `email` and
    /// `display_name` are gone.
    pub erased: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Stream version of the last event this answer reflects; the `ETag` is `"<version>"`.
    pub version: i64,
}

impl Account {
    /// A row of `users` with the columns named as the fields.
    pub fn from_row(row: &Row) -> Result<Self, tokio_postgres::Error> {
        let email: Option<String> = row.try_get("email")?;
        let erased = email.is_none();
        Ok(Self {
            id: row.try_get("id")?,
            email,
            display_name: row.try_get("display_name")?,
            role: row.try_get("role")?,
            active: row.try_get("active")?,
            email_verified: row.try_get("email_verified")?,
            // Only an erasure leaves a registered account without an address.
            erased,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            version: row.try_get("version")?,
        })
    }
}
