//! The DDL of the read side and the names of its tables. Both statements are idempotent: the
//! projector runs them at every start-up under an advisory lock, and a rebuild runs the second
//! for a new schema beside the live one.

/// Schema holding the active pointer and the list of read schemas.
pub const META_SCHEMA: &str = "read_meta";

/// `read_meta`: the active pointer and the catalog of read schemas.
pub const READ_META_SQL: &str = include_str!("sql/read_meta.sql");

/// The DDL of one read schema, `{schema}` as placeholder (see `ReadSchema::sql`).
pub const READ_MODEL_SQL: &str = include_str!("sql/read_model.sql");

/// The tables of one read schema, in the order a comparison or a dump lists them.
pub mod table {
    pub const PRODUCTS: &str = "products";
    pub const SEARCH_POSTINGS: &str = "search_postings";
    pub const CATEGORIES: &str = "categories";
    pub const USERS: &str = "users";
    pub const AUDIT_EVENTS: &str = "audit_events";
    pub const STREAM_VERSIONS: &str = "stream_versions";
    pub const CHECKPOINTS: &str = "checkpoints";
    pub const PROJECTION_STATUS: &str = "projection_status";

    /// Every table [`super::READ_MODEL_SQL`] creates.
    pub const ALL: [&str; 8] = [
        PRODUCTS,
        SEARCH_POSTINGS,
        CATEGORIES,
        USERS,
        AUDIT_EVENTS,
        STREAM_VERSIONS,
        CHECKPOINTS,
        PROJECTION_STATUS,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ddl_creates_every_named_table_and_no_other() {
        let created: Vec<&str> = READ_MODEL_SQL
            .lines()
            .filter_map(|line| line.strip_prefix("CREATE TABLE IF NOT EXISTS {schema}."))
            .map(|rest| rest.split_whitespace().next().unwrap_or_default())
            .collect();
        assert_eq!(created, table::ALL);
    }
}
