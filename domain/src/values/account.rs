//! Values that describe a user account: email, display name, password and role.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{
    error::ValueError,
    text::{Lines, bounded_text, string_value},
};

/// A normalised email address: trimmed and lowercased as a whole.
///
/// Lowercasing the local part is not what RFC 5321 says, but it is what every mailbox provider
/// does, and it is what makes "one address, one account" hold for `Ada@x.io` and `ada@x.io`.
/// Deliberately not a full RFC 5322 parser: the confirmation mail is the real check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;
    const FIELD: &'static str = "email";

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let field = Self::FIELD;
        let address = input.trim().to_lowercase();
        if address.is_empty() {
            return Err(ValueError::Empty { field });
        }
        // Counted as sent (what the API document's `maxLength` says) and once more lowercased,
        // since `İ` lowercases to two characters and the stored address must fit too.
        if input.chars().count() > Self::MAX_LEN || address.chars().count() > Self::MAX_LEN {
            return Err(ValueError::TooLong {
                field,
                max: Self::MAX_LEN,
            });
        }
        if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValueError::Invalid {
                field,
                reason: "must not contain spaces",
            });
        }
        let Some((local, domain)) = address.split_once('@') else {
            return Err(ValueError::Invalid {
                field,
                reason: "must contain exactly one '@'",
            });
        };
        if domain.contains('@') {
            return Err(ValueError::Invalid {
                field,
                reason: "must contain exactly one '@'",
            });
        }
        if local.is_empty() {
            return Err(ValueError::Invalid {
                field,
                reason: "must have a name before the '@'",
            });
        }
        // `a@localhost` and `a@.com` are typos, not addresses a shop can mail.
        if !domain.contains('.') || domain.split('.').any(str::is_empty) {
            return Err(ValueError::Invalid {
                field,
                reason: "must have a domain like example.com after the '@'",
            });
        }
        Ok(Self(address))
    }
}

string_value!(Email, {
    "type": "string",
    "format": "email",
    "description": "Email address, lowercased.",
    "minLength": 5,
    "maxLength": 254,
    "pattern": "^[^@\\sA-Z]+@[^@\\sA-Z.]+(\\.[^@\\sA-Z.]+)+$"
});

/// The name a user shows to others: trimmed, 1-100 chars, one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        bounded_text("display_name", input, 1, Self::MAX_LEN, Lines::Single).map(Self)
    }
}

string_value!(DisplayName, {
    "type": "string",
    "description": "Name shown to others; trimmed, no control characters.",
    "minLength": 1,
    "maxLength": 100
});

/// A plaintext password on its way to the hasher.
///
/// It has no `Serialize`, no `Display` and no schema, and its `Debug` is redacted, so it cannot
/// end up in an event, a response or a log line by accident. It is neither trimmed nor folded:
/// every character the user typed counts.
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = 128;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        Self::check(input)?;
        Ok(Self(input.to_owned()))
    }

    /// The plaintext, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn check(input: &str) -> Result<(), ValueError> {
        let field = "password";
        // Counted in chars, not bytes, so a passphrase in any script gets the same rule.
        let len = input.chars().count();
        if len == 0 {
            Err(ValueError::Empty { field })
        } else if len < Self::MIN_LEN {
            Err(ValueError::TooShort {
                field,
                min: Self::MIN_LEN,
            })
        } else if len > Self::MAX_LEN {
            // The upper bound keeps a hostile request from making the hasher chew megabytes.
            Err(ValueError::TooLong {
                field,
                max: Self::MAX_LEN,
            })
        } else {
            Ok(())
        }
    }
}

impl TryFrom<String> for Password {
    type Error = ValueError;

    /// Takes ownership without copying the secret.
    fn try_from(input: String) -> Result<Self, ValueError> {
        Self::check(&input)?;
        Ok(Self(input))
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// What a user may do. Every account starts as a customer.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Customer,
    Seller,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Customer, Role::Seller, Role::Admin];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Seller => "seller",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = ValueError;

    fn from_str(input: &str) -> Result<Self, ValueError> {
        let wanted = input.trim();
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(wanted))
            .ok_or(ValueError::Invalid {
                field: "role",
                reason: "must be one of customer, seller or admin",
            })
    }
}
