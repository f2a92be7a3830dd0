//! ISO 4217 currencies a price may be given in, with their minor-unit exponents.

use std::fmt;

use super::error::ValueError;

/// An active ISO 4217 currency, e.g. `EUR` (2 minor units) or `JPY` (none).
///
/// Only codes from [`ACTIVE`] can be built, so `minor_units` is always known. Fund codes
/// (`BOV`, `CHE`, `USN` ...), precious metals and `XXX`/`XTS` are left out on purpose: none is a
/// means of payment a shop prices in. Codes withdrawn from circulation (`HRK`, `SLL`, `ZWL`,
/// `ANG`) are left out too, so no new price is written in them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: &'static str,
    minor_units: u8,
}

/// `(code, minor units)`, sorted by code for binary search. From ISO 4217 list one.
static ACTIVE: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

impl Currency {
    pub const EUR: Currency = Currency::known("EUR", 2);
    pub const USD: Currency = Currency::known("USD", 2);
    pub const GBP: Currency = Currency::known("GBP", 2);
    pub const JPY: Currency = Currency::known("JPY", 0);

    /// For the constants above only; a test checks each against [`ACTIVE`].
    const fn known(code: &'static str, minor_units: u8) -> Currency {
        Currency { code, minor_units }
    }

    /// Parses a three-letter code; surrounding spaces and lowercase are forgiven.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let field = "currency";
        let code = input.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err(ValueError::Empty { field });
        }
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ValueError::Invalid {
                field,
                reason: "must be a three-letter ISO 4217 code such as EUR",
            });
        }
        ACTIVE
            .binary_search_by(|(known, _)| (*known).cmp(code.as_str()))
            .map(|index| {
                let (code, minor_units) = ACTIVE[index];
                Currency { code, minor_units }
            })
            .map_err(|_| ValueError::Invalid {
                field,
                reason: "is not an active ISO 4217 currency code",
            })
    }

    /// Every currency that `parse` accepts, sorted by code.
    pub fn all() -> impl Iterator<Item = Currency> {
        ACTIVE
            .iter()
            .map(|&(code, minor_units)| Currency { code, minor_units })
    }

    pub fn as_str(&self) -> &'static str {
        self.code
    }

    /// Digits after the decimal point: 2 for EUR (cents), 0 for JPY, 3 for KWD.
    pub fn minor_units(&self) -> u8 {
        self.minor_units
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl std::str::FromStr for Currency {
    type Err = ValueError;

    fn from_str(input: &str) -> Result<Self, ValueError> {
        Self::parse(input)
    }
}

impl TryFrom<String> for Currency {
    type Error = ValueError;

    fn try_from(input: String) -> Result<Self, ValueError> {
        Self::parse(&input)
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code)
    }
}

impl<'de> serde::Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Currency {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Currency".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // A pattern rather than an `enum` of today's codes: consumers must not break when ISO
        // adds a currency and we start accepting it.
        schemars::json_schema!({
            "type": "string",
            "description": "ISO 4217 currency code.",
            "pattern": "^[A-Z]{3}$"
        })
    }
}
