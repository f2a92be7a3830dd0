//! Which rows a listing shows and in which order.

use uuid::Uuid;

/// Which rows: every filter is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub category: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub in_stock: Option<bool>,
    pub seller: Option<Uuid>,
    /// Full-text search in websearch syntax (`"exact phrase"`, `or`, `-excluded`).
    pub q: Option<String>,
}

/// The order of a listing. Every order ends with `id`, so it is total and a cursor names one
/// position exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sort {
    /// `created_at DESC, id DESC` (the default without `q`).
    Newest,
    /// `price_minor ASC, id ASC`.
    PriceAsc,
    /// `price_minor DESC, id DESC`.
    PriceDesc,
    /// `name ASC, id ASC`, in the database's collation.
    Name,
    /// `ts_rank_cd DESC, id DESC` (the default with `q`; without `q`, the same as `Newest`).
    Relevance,
}

impl Sort {
    pub const ALL: [Sort; 5] = [
        Sort::Newest,
        Sort::PriceAsc,
        Sort::PriceDesc,
        Sort::Name,
        Sort::Relevance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Newest => "newest",
            Sort::PriceAsc => "price_asc",
            Sort::PriceDesc => "price_desc",
            Sort::Name => "name",
            Sort::Relevance => "relevance",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|sort| sort.as_str() == raw)
            .ok_or_else(|| {
                "must be one of newest, price_asc, price_desc, name, relevance".to_owned()
            })
    }
}
