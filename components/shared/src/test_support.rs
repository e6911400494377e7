//! For the components' own tests (feature `test-support`, which only their
//! `[dev-dependencies]` turn on): the machine's Postgres, and the plan it
//! chooses for a statement sent the way [`crate::db::Db::rows`] sends it.

use tokio_postgres::{Client, NoTls};

/// `SPINSTACK_TEST_POSTGRES_URL`, else the machine's `test` database.
pub async fn postgres() -> Client {
    let url = std::env::var("SPINSTACK_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let (client, connection) = tokio_postgres::connect(&url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    tokio::spawn(connection);
    client
}

/// `EXPLAIN` (text) of `sql` wrapped as [`crate::db::Db::rows`] wraps it,
/// with `$1`, `$2`, ... replaced by `literals` in order.
pub async fn plan(client: &Client, sql: &str, literals: &[&str]) -> String {
    let mut sql = crate::db::wrap("", sql);
    // Highest first, so that `$1` never eats the start of `$10`.
    for (index, literal) in literals.iter().enumerate().rev() {
        sql = sql.replace(&format!("${}", index + 1), literal);
    }
    client
        .query(&format!("EXPLAIN {sql}"), &[])
        .await
        .unwrap_or_else(|e| panic!("EXPLAIN failed: {e}\n{sql}"))
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a plan sorts on `column` itself rather than reading it in order
/// from an index (the outer sort of [`crate::db::Db::rows`]'s wrapper is on
/// its row number, never on a column of the statement).
pub fn sorts_on(plan: &str, column: &str) -> bool {
    plan.lines()
        .any(|line| line.contains("Sort Key") && line.contains(column))
}
