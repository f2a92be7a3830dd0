//! The request bodies' JSON Schemas as the domain's parsers see them: every length, pattern,
//! range and "at least one of" that a handler or the domain enforces is stated here, so that a
//! body the document calls valid is never refused for its shape, and a client (or a fuzzer)
//! generating bodies from the document sends only what the service takes.
//!
//! The derived schemas (`#[derive(ToSchema)]` on the body structs) give the property names;
//! `apply` replaces each with its hand-written twin, and a test checks both list the same
//! properties, so a field added to a struct cannot go undocumented.

use domain::values::{
    CategorySlug, Currency, Description, DisplayName, Email, Password, ProductName, Role, Sku,
    StockReason,
};
use platform::text_patterns::{self, CONTROL, CONTROL_BUT_LINE_BREAKS, TRIMMED};
use serde_json::{Value, json};

/// Any JSON string the input guard lets through: no NUL anywhere in a body.
const NO_NUL: &str = r"^[^\u0000]*$";
/// The largest initial stock (`domain::product` refuses more).
const MAX_STOCK: i64 = 1_000_000_000;

/// A free-text field as `bounded_text` checks it: surrounding white space is trimmed, the rest
/// is `min..=max` characters without control characters (line breaks allowed in `multi_line`).
fn trimmed_text(min: usize, max: usize, multi_line: bool, description: &str) -> Value {
    let refused = if multi_line {
        CONTROL_BUT_LINE_BREAKS
    } else {
        CONTROL
    };
    json!({
        "type": "string",
        "description": description,
        "pattern": text_patterns::trimmed(min, max, refused),
    })
}

/// An email address as `Email::parse` takes it: trimmed, one `@`, a dotted domain, no spaces or
/// control characters, at most `Email::MAX_LEN` characters as sent.
fn email(description: &str) -> Value {
    let part = format!("[^@{TRIMMED}{CONTROL}]");
    let label = format!("[^@.{TRIMMED}{CONTROL}]");
    json!({
        "type": "string",
        "description": description,
        "maxLength": Email::MAX_LEN,
        "pattern": format!("^[{TRIMMED}]*{part}+@{label}+(?:\\.{label}+)+[{TRIMMED}]*$"),
        "example": "ada@example.com",
    })
}

/// A new password: every character counts, none is trimmed.
fn new_password(description: &str) -> Value {
    json!({
        "type": "string",
        "format": "password",
        "description": description,
        "minLength": Password::MIN_LEN,
        "maxLength": Password::MAX_LEN,
        "pattern": NO_NUL,
    })
}

/// A password to check (sign-in, re-authentication): anything the input guard lets through; a
/// wrong one is a 401 or 403, never a 400.
fn password_to_check(description: &str) -> Value {
    json!({ "type": "string", "format": "password", "description": description, "pattern": NO_NUL })
}

fn nullable(mut schema: Value) -> Value {
    schema["type"] = json!([schema["type"].clone(), "null"]);
    schema
}

fn sku() -> Value {
    json!({
        "type": "string",
        "description": "Stock-keeping unit; trimmed and uppercased, so `ket-001` is `KET-001`.",
        "pattern": format!(
            "^[{TRIMMED}]*[A-Za-z0-9][A-Za-z0-9._-]{{0,{}}}[{TRIMMED}]*$",
            Sku::MAX_LEN - 1
        ),
        "example": "KET-001",
    })
}

fn category() -> Value {
    json!({
        "type": "string",
        "description": "Category slug; trimmed and lowercased, so `Kitchen` is `kitchen`.",
        "pattern": text_patterns::slug(CategorySlug::MAX_LEN),
        "example": "kitchen",
    })
}

fn product_name() -> Value {
    let mut schema = trimmed_text(1, ProductName::MAX_LEN, false, "Product name, one line.");
    schema["example"] = json!("Kettle");
    schema
}

fn description() -> Value {
    trimmed_text(
        0,
        Description::MAX_LEN,
        true,
        "Product description; may span several lines.",
    )
}

fn display_name() -> Value {
    let mut schema = trimmed_text(
        1,
        DisplayName::MAX_LEN,
        false,
        "Name shown to others, one line.",
    );
    schema["example"] = json!("Ada");
    schema
}

fn price() -> Value {
    let codes: Vec<&str> = Currency::all().map(|c| c.as_str()).collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["amount_minor", "currency"],
        "properties": {
            "amount_minor": {
                "type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX,
                "description": "Amount in the currency's minor unit (cents for EUR), greater than zero.",
                "example": 2599,
            },
            "currency": {
                "type": "string", "enum": codes,
                "description": "Active ISO 4217 code.", "example": "EUR",
            },
        },
    })
}

/// At least one of `names` is present and not null (`anyOf` of one requirement each).
fn at_least_one_of(names: &[&str], properties: &Value) -> Value {
    let alternatives: Vec<Value> = names
        .iter()
        .map(|name| {
            let mut present = properties[*name].clone();
            if let Some(types) = present["type"].as_array() {
                present["type"] = types[0].clone();
            }
            json!({ "required": [name], "properties": { *name: present } })
        })
        .collect();
    json!(alternatives)
}

/// The hand-written schema of every request body, by component name.
pub fn all() -> Vec<(&'static str, Value)> {
    let update_user = json!({
        "display_name": nullable(display_name()),
        "password": nullable(new_password("New password; users changing their own also send `current_password`.")),
        "current_password": nullable(password_to_check("Required with `password` when users change their own password.")),
    });
    let update_product = json!({
        "name": nullable(product_name()),
        "description": nullable(description()),
        "category": nullable(category()),
    });
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    vec![
        (
            "RegisterUserBody",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["email", "password", "display_name"],
                "properties": {
                    "email": email("Email address; trimmed and lowercased."),
                    "password": new_password("Password, every character counts."),
                    "display_name": display_name(),
                },
            }),
        ),
        (
            "UpdateUserBody",
            json!({
                "type": "object", "additionalProperties": false,
                "description": "Changes the display name and/or the password; null means unchanged.",
                "anyOf": at_least_one_of(&["display_name", "password"], &update_user),
                "properties": update_user,
            }),
        ),
        (
            "DeactivateBody",
            json!({
                "type": "object", "additionalProperties": false,
                "description": "Users deactivating their own account send `current_password`; an admin deactivating someone else sends no body.",
                "properties": {
                    "current_password": nullable(password_to_check("The caller's current password.")),
                },
            }),
        ),
        (
            "ErasePersonalDataBody",
            json!({
                "type": "object", "additionalProperties": false,
                "description": "Users erasing their own personal data send `current_password`; an admin erasing someone else's sends no body.",
                "properties": {
                    "current_password": nullable(password_to_check("The caller's current password.")),
                },
            }),
        ),
        (
            "AssignRoleBody",
            json!({
                "type": "object", "additionalProperties": false, "required": ["role"],
                "properties": { "role": { "type": "string", "enum": roles, "example": "seller" } },
            }),
        ),
        (
            "SignInBody",
            json!({
                "type": "object", "additionalProperties": false, "required": ["email", "password"],
                "properties": {
                    "email": { "type": "string", "pattern": NO_NUL, "example": "ada@example.com" },
                    "password": password_to_check("The account's password."),
                },
            }),
        ),
        (
            "RefreshBody",
            json!({
                "type": "object", "additionalProperties": false, "required": ["refresh_token"],
                "properties": {
                    "refresh_token": {
                        "type": "string", "pattern": NO_NUL,
                        "description": "The refresh token of the last sign-in or refresh; this request spends it.",
                    },
                },
            }),
        ),
        (
            "VerifyEmailBody",
            json!({
                "type": "object", "additionalProperties": false, "required": ["token"],
                "properties": {
                    "token": {
                        "type": "string", "pattern": NO_NUL,
                        "description": "The token from the verification mail's link; a wrong one is a 410, never a 400.",
                        "example": "q3Xh0m1E6vO8mJf2d6wQ0yPpQe8rVZ4vYlqQmHk3b9s",
                    },
                },
            }),
        ),
        (
            "RequestResetBody",
            json!({
                "type": "object", "additionalProperties": false, "required": ["email"],
                "properties": { "email": email("The account's address; trimmed and lowercased.") },
            }),
        ),
        (
            "ResetPasswordBody",
            json!({
                "type": "object", "additionalProperties": false, "required": ["password"],
                "properties": { "password": new_password("The new password, every character counts.") },
            }),
        ),
        ("PriceBody", price()),
        (
            "CreateProductBody",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["sku", "name", "category", "price", "stock"],
                "properties": {
                    "sku": sku(),
                    "name": product_name(),
                    "description": description(),
                    "category": category(),
                    "price": price(),
                    "stock": {
                        "type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_STOCK,
                        "description": "Initial units in stock.", "example": 10,
                    },
                    "seller_id": {
                        "type": ["string", "null"], "format": "uuid",
                        "description": "Admins may create a product for a seller; sellers always create their own.",
                    },
                },
            }),
        ),
        (
            "UpdateProductBody",
            json!({
                "type": "object", "additionalProperties": false,
                "description": "Changes name, description and/or category; null means unchanged.",
                "anyOf": at_least_one_of(&["name", "description", "category"], &update_product),
                "properties": update_product,
            }),
        ),
        (
            "StockAdjustmentBody",
            json!({
                "type": "object", "additionalProperties": false, "required": ["delta", "reason"],
                "properties": {
                    "delta": {
                        "type": "integer", "format": "int64",
                        "minimum": i64::MIN, "maximum": i64::MAX, "not": { "const": 0 },
                        "description": "Units added (positive) or removed (negative); never zero.",
                        "example": -2,
                    },
                    "reason": trimmed_text(1, StockReason::MAX_LEN, false, "Why the stock changed, e.g. `sold`."),
                },
            }),
        ),
    ]
}

/// Replaces the derived request body schemas of `document` with the ones above.
pub fn apply(document: &mut Value) {
    for (name, schema) in all() {
        if let Some(slot) = document.pointer_mut(&format!("/components/schemas/{name}")) {
            *slot = schema;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn property_names(schema: &Value) -> BTreeSet<String> {
        schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[test]
    fn every_hand_written_schema_replaces_a_derived_one_with_the_same_properties() {
        let derived = crate::routes::openapi::derived_document();
        for (name, schema) in all() {
            let original = derived
                .pointer(&format!("/components/schemas/{name}"))
                .unwrap_or_else(|| panic!("{name} is not a component of the document"));
            assert_eq!(
                property_names(original),
                property_names(&schema),
                "{name}: the struct and its schema list different fields"
            );
        }
    }

    /// Whether `text` is valid for `schema`'s pattern and length bounds (what a generator
    /// producing "valid" strings would respect).
    fn schema_accepts(schema: &Value, text: &str) -> bool {
        let pattern = schema["pattern"].as_str().unwrap_or(".*");
        let regex = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 30)
            .build()
            .unwrap_or_else(|e| panic!("{pattern}: {e}"));
        let chars = text.chars().count();
        let min = schema["minLength"].as_u64().unwrap_or(0) as usize;
        let max = schema["maxLength"]
            .as_u64()
            .map_or(usize::MAX, |m| m as usize);
        regex.is_match(text) && (min..=max).contains(&chars)
    }

    /// Strings at every edge the parsers care about: empty, blank, surrounding and inner white
    /// space and control characters, the length bounds with and without padding.
    fn edge_cases(max: usize) -> Vec<String> {
        let mut cases: Vec<String> = [
            "",
            " ",
            "a",
            " a ",
            "\ta\n",
            "a b",
            "a\tb",
            "a\nb",
            "a\u{1}",
            "\u{1}a",
            "a\u{85}",
            "\u{85}a",
            "\u{a0}a\u{3000}",
            "a\u{a0}b",
            "\u{feff}",
            "a\u{7f}b",
            "a\u{9f}",
            "é",
            "\u{2028}",
            "a\u{2029}b",
            "\u{b}a",
            "a\u{b}b",
            "a\rb",
            "A-1",
            "-a",
            "a-",
            "ab.c_d",
            "a@b.co",
            " a@b.co ",
            "a@b",
            "a@b.",
            "a@.b",
            "@b.co",
            "a@@b.co",
            "a b@c.de",
            "a@b.c@d",
            "A@B.CO",
            "é@ü.de",
            "a\u{1}@b.co",
            "ab\u{0}",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        for len in [max.saturating_sub(1), max, max + 1] {
            cases.push("x".repeat(len));
            cases.push(format!(" {} ", "x".repeat(len)));
            cases.push(format!("x{}x", " ".repeat(len.saturating_sub(2))));
            cases.push(format!("{}@b.co", "x".repeat(len.saturating_sub(5))));
            cases.push(format!(" {}@b.co ", "x".repeat(len.saturating_sub(5))));
        }
        cases
    }

    fn agrees(name: &str, schema: &Value, max: usize, parse: impl Fn(&str) -> bool) {
        for case in edge_cases(max) {
            assert_eq!(
                schema_accepts(schema, &case),
                parse(&case),
                "{name}: schema and parser disagree on {case:?}"
            );
        }
    }

    #[test]
    fn text_schemas_agree_with_the_domain_parsers() {
        agrees("name", &product_name(), ProductName::MAX_LEN, |s| {
            ProductName::parse(s).is_ok()
        });
        agrees("description", &description(), Description::MAX_LEN, |s| {
            Description::parse(s).is_ok()
        });
        agrees("display_name", &display_name(), DisplayName::MAX_LEN, |s| {
            DisplayName::parse(s).is_ok()
        });
        let reason = trimmed_text(1, StockReason::MAX_LEN, false, "");
        agrees("reason", &reason, StockReason::MAX_LEN, |s| {
            StockReason::parse(s).is_ok()
        });
        agrees("sku", &sku(), Sku::MAX_LEN, |s| Sku::parse(s).is_ok());
        agrees("category", &category(), CategorySlug::MAX_LEN, |s| {
            CategorySlug::parse(s).is_ok()
        });
        agrees("email", &email(""), Email::MAX_LEN, |s| {
            Email::parse(s).is_ok()
        });
        // The input guard refuses NUL in any body string before the parser sees it.
        agrees("password", &new_password(""), Password::MAX_LEN, |s| {
            !s.contains('\0') && Password::parse(s).is_ok()
        });
    }
}
