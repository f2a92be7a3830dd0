//! A positive amount of one currency, counted in minor units (cents) so sums are exact.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{currency::Currency, error::ValueError};

/// A price: a positive integer number of minor units of one currency.
///
/// Integers, not floats or decimals, because every amount a shop charges is a whole number of
/// cents (or yen, or fils), and integers add and compare exactly. Zero and negative amounts are
/// refused: a free or negative price is a business decision we have not made, not a typo to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawMoney")]
pub struct Money {
    amount_minor: i64,
    currency: Currency,
}

/// The wire shape before validation.
#[derive(Deserialize)]
struct RawMoney {
    amount_minor: i64,
    currency: Currency,
}

impl TryFrom<RawMoney> for Money {
    type Error = ValueError;

    fn try_from(raw: RawMoney) -> Result<Self, ValueError> {
        Money::new(raw.amount_minor, raw.currency)
    }
}

impl Money {
    pub fn new(amount_minor: i64, currency: Currency) -> Result<Self, ValueError> {
        if amount_minor <= 0 {
            return Err(ValueError::NotPositive {
                field: "amount_minor",
            });
        }
        Ok(Money {
            amount_minor,
            currency,
        })
    }

    /// The amount in minor units: 2599 for EUR 25.99.
    pub fn amount_minor(&self) -> i64 {
        self.amount_minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }
}

/// `25.99 EUR`, `1500 JPY`: the amount in major units with the currency's own decimals.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let decimals = u32::from(self.currency.minor_units());
        let scale = 10_i64.pow(decimals);
        let (major, minor) = (self.amount_minor / scale, self.amount_minor % scale);
        if decimals == 0 {
            write!(f, "{major} {}", self.currency)
        } else {
            let width = decimals as usize;
            write!(f, "{major}.{minor:0width$} {}", self.currency)
        }
    }
}

impl schemars::JsonSchema for Money {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let currency = generator.subschema_for::<Currency>();
        schemars::json_schema!({
            "type": "object",
            "description": "A positive amount in the currency's minor units (cents): 2599 EUR is 25.99 EUR.",
            "properties": {
                "amount_minor": {
                    "type": "integer",
                    "format": "int64",
                    "minimum": 1
                },
                "currency": currency
            },
            "required": ["amount_minor", "currency"]
        })
    }
}
