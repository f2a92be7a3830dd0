//! Read schema names and the states a schema goes through.

use std::fmt;

/// The name of one read schema: `read_v<generation>` for live versions, `read_verify_<n>` for a
/// verify shadow. Always a plain lowercase identifier, so it can be spliced into SQL (schema
/// names cannot be bind parameters).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReadSchema(String);

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a valid read schema name (lowercase letters, digits and _, at most 63)")]
pub struct InvalidSchemaName(pub String);

/// What a read schema is for, as recorded in `read_meta.schemas.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaState {
    Building,
    Active,
    Retired,
    Shadow,
}

impl SchemaState {
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaState::Building => "building",
            SchemaState::Active => "active",
            SchemaState::Retired => "retired",
            SchemaState::Shadow => "shadow",
        }
    }
}

impl ReadSchema {
    /// The live schema of one generation: `read_v1`, `read_v2`, ...
    pub fn generation(generation: i32) -> Self {
        Self(format!("read_v{generation}"))
    }

    /// The shadow schema a verify run builds and drops.
    pub fn shadow(generation: i32) -> Self {
        Self(format!("read_verify_{generation}"))
    }

    pub fn parse(name: &str) -> Result<Self, InvalidSchemaName> {
        let valid = !name.is_empty()
            && name.len() <= 63
            && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(InvalidSchemaName(name.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `template` with every `{schema}` replaced by this schema's name.
    pub fn sql(&self, template: &str) -> String {
        template.replace("{schema}", &self.0)
    }
}

impl fmt::Display for ReadSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::ReadSchema;

    #[test]
    fn only_plain_lowercase_identifiers_are_schema_names() {
        for good in ["read_v1", "read_v12", "read_verify_3", "_x"] {
            assert_eq!(ReadSchema::parse(good).unwrap().as_str(), good);
        }
        let too_long = "a".repeat(64);
        for bad in [
            "",
            "Read_v1",
            "read-v1",
            "1read",
            "read_v1; DROP",
            "\"x\"",
            &too_long,
        ] {
            assert!(ReadSchema::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn templates_name_the_schema_everywhere() {
        let sql = ReadSchema::generation(2).sql("SELECT 1 FROM {schema}.a JOIN {schema}.b");
        assert_eq!(sql, "SELECT 1 FROM read_v2.a JOIN read_v2.b");
    }
}
