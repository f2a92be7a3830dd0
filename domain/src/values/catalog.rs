//! Values that describe a catalog product: SKU, name, description, category and stock reasons.

use super::{
    error::ValueError,
    text::{Lines, bounded_text, string_value},
};

/// A stock-keeping unit: trimmed, uppercased, 1-64 of `A-Z 0-9 - _ .`, starting alphanumeric.
///
/// Uppercased so that `ab-1` and `AB-1` are one SKU, which is what people mean when they type one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(String);

impl Sku {
    pub const MAX_LEN: usize = 64;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let field = "sku";
        let sku = input.trim().to_ascii_uppercase();
        let Some(first) = sku.chars().next() else {
            return Err(ValueError::Empty { field });
        };
        if sku.chars().count() > Self::MAX_LEN {
            return Err(ValueError::TooLong {
                field,
                max: Self::MAX_LEN,
            });
        }
        if !sku
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(ValueError::Invalid {
                field,
                reason: "may contain only letters A-Z, digits and - _ .",
            });
        }
        if !first.is_ascii_alphanumeric() {
            return Err(ValueError::Invalid {
                field,
                reason: "must start with a letter or digit",
            });
        }
        Ok(Self(sku))
    }
}

string_value!(Sku, {
    "type": "string",
    "description": "Stock-keeping unit, uppercased.",
    "minLength": 1,
    "maxLength": 64,
    "pattern": "^[A-Z0-9][A-Z0-9._-]*$"
});

/// A product's name: trimmed, 1-200 chars, one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProductName(String);

impl ProductName {
    pub const MAX_LEN: usize = 200;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        bounded_text("name", input, 1, Self::MAX_LEN, Lines::Single).map(Self)
    }
}

string_value!(ProductName, {
    "type": "string",
    "description": "Product name; trimmed, no control characters.",
    "minLength": 1,
    "maxLength": 200
});

/// A product's description: 0-5000 chars, trimmed; line breaks and tabs allowed.
///
/// Empty is allowed because a seller may publish before writing copy; trimming drops only the
/// blank lines around the text, which never carry meaning.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Description(String);

impl Description {
    pub const MAX_LEN: usize = 5000;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        bounded_text("description", input, 0, Self::MAX_LEN, Lines::Multi).map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

string_value!(Description, {
    "type": "string",
    "description": "Product description; may span several lines.",
    "maxLength": 5000
});

/// A category's URL slug: 1-64 of `a-z 0-9 -`, not starting or ending with `-`.
///
/// Input is trimmed and lowercased, so `Shoes` files under `shoes` rather than a second category.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CategorySlug(String);

impl CategorySlug {
    pub const MAX_LEN: usize = 64;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let field = "category";
        let slug = input.trim().to_ascii_lowercase();
        if slug.is_empty() {
            return Err(ValueError::Empty { field });
        }
        if slug.chars().count() > Self::MAX_LEN {
            return Err(ValueError::TooLong {
                field,
                max: Self::MAX_LEN,
            });
        }
        if !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(ValueError::Invalid {
                field,
                reason: "may contain only letters a-z, digits and -",
            });
        }
        if slug.starts_with('-') || slug.ends_with('-') {
            return Err(ValueError::Invalid {
                field,
                reason: "must not start or end with -",
            });
        }
        Ok(Self(slug))
    }
}

string_value!(CategorySlug, {
    "type": "string",
    "description": "Category slug, lowercase.",
    "minLength": 1,
    "maxLength": 64,
    "pattern": "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
});

/// Why stock was adjusted ("restock from supplier", "damaged in transit"): trimmed, 1-200 chars.
///
/// Required so that every change of a number that affects money has an explanation on record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StockReason(String);

impl StockReason {
    pub const MAX_LEN: usize = 200;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        bounded_text("reason", input, 1, Self::MAX_LEN, Lines::Single).map(Self)
    }
}

string_value!(StockReason, {
    "type": "string",
    "description": "Why the stock level changed; trimmed, no control characters.",
    "minLength": 1,
    "maxLength": 200
});
