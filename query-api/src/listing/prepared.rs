//! Statements a connection keeps prepared: the search's resolution, a search page from the
//! postings and listing pages, whose text changes only with their shape, are parsed and planned
//! once per pooled connection. Plain clients (tests, benchmarks) prepare them each time.

use tokio_postgres::{
    Client, Error, Row, Statement,
    types::{ToSql, Type},
};

/// A connection the resolution's statements run on. A pooled one keeps them prepared (their
/// text only changes with the schema), so each is parsed and planned once per connection.
pub trait Preparing {
    fn client(&self) -> &Client;
    fn prepare(&self, sql: &str, types: &[Type]) -> impl Future<Output = Result<Statement, Error>>;
}

impl Preparing for Client {
    fn client(&self) -> &Client {
        self
    }

    fn prepare(&self, sql: &str, types: &[Type]) -> impl Future<Output = Result<Statement, Error>> {
        self.prepare_typed(sql, types)
    }
}

impl Preparing for deadpool_postgres::ClientWrapper {
    fn client(&self) -> &Client {
        self
    }

    fn prepare(&self, sql: &str, types: &[Type]) -> impl Future<Output = Result<Statement, Error>> {
        self.prepare_typed_cached(sql, types)
    }
}

/// Prepares `sql` on `conn` and runs it with `params`.
pub async fn run(
    conn: &impl Preparing,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<Vec<Row>, Error> {
    let types: Vec<Type> = params.iter().map(|(_, t)| t.clone()).collect();
    let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(v, _)| *v).collect();
    let statement = conn.prepare(sql, &types).await?;
    conn.client().query(&statement, &values).await
}
