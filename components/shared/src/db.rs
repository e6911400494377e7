//! The app's Postgres (`database_url`) through `spin:postgres@4.0.0`.
//!
//! Unreachable database: 503 (the client may retry). A failing statement is
//! the server's bug: 500. Either way the reason goes to the log only, since
//! a server's message can quote SQL or data.
//!
//! Every statement that returns rows goes through [`Db::rows`], which
//! makes Postgres always answer with at least one row; see there why. No
//! decision depends on an error's SQLSTATE: Spin 4.0.x delivers database
//! errors as text without one, so a statement says what happened itself
//! (`ON CONFLICT DO NOTHING RETURNING`: no row means taken).

use std::cell::OnceCell;

use spin_sdk::pg4::{Connection, DbValue, ParameterValue, RowSet};

use crate::{Problem, config};

/// The columns [`Db::rows`] puts in front of the statement's own: `true` on
/// each of its rows (`NULL` on the filler row when it has none), and each
/// row's place in its order.
const FOUND_COLUMN: &str = "row_found";
const POSITION_COLUMN: &str = "row_position";

/// The request's connection, opened on first use: a request answered from
/// the cache never connects.
#[derive(Default)]
pub struct Db {
    connection: OnceCell<Connection>,
}

impl Db {
    pub fn new() -> Self {
        Self::default()
    }

    fn connection(&self) -> Result<&Connection, Problem> {
        if let Some(connection) = self.connection.get() {
            return Ok(connection);
        }
        let url = config::required("database_url")?;
        let connection = Connection::open(&url).map_err(|e| unavailable(&e.to_string()))?;
        Ok(self.connection.get_or_init(|| connection))
    }

    /// The rows of `sql` (none, one or many), in its order.
    ///
    /// Spin 4.0.0–4.0.2's Postgres client never returns from a query whose
    /// result has no rows (spinframework/spin#3671): the request hangs
    /// until its deadline. So `sql` runs as a CTE, left-joined onto one
    /// constant row: Postgres always returns at least one row, all `NULL`
    /// when `sql` had none, and the columns keep their types. The filler
    /// row and the two marker columns are removed here, so callers see
    /// exactly what `sql` returned, on any host.
    pub fn rows(&self, sql: &str, params: &[ParameterValue]) -> Result<RowSet, Problem> {
        self.rows_with("", sql, params)
    }

    /// [`Db::rows`] for a statement that reads data-modifying CTEs:
    /// Postgres allows those only in the top-level `WITH`, so they come
    /// separately (`with`: `name AS (...), ...`, without `WITH`) and `sql`
    /// is the `SELECT` over them.
    pub fn rows_with(
        &self,
        with: &str,
        sql: &str,
        params: &[ParameterValue],
    ) -> Result<RowSet, Problem> {
        let wrapped = wrap(with, sql);
        let rows = self
            .connection()?
            .query(&wrapped, params)
            .map_err(|e| failed(&e))?;
        unwrap(rows)
    }

    /// Rows affected. (Spin's `execute` returns a count, so it is not
    /// affected by the empty-result hang.)
    pub fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64, Problem> {
        self.connection()?
            .execute(sql, params)
            .map_err(|e| failed(&e))
    }
}

/// `sql` as a statement that returns at least one row (see [`Db::rows`]).
pub(crate) fn wrap(with: &str, sql: &str) -> String {
    let with = if with.is_empty() {
        String::new()
    } else {
        format!("{with}, ")
    };
    format!(
        "WITH {with}found_rows AS ({sql}) \
         SELECT numbered.* FROM (SELECT) AS exactly_one \
         LEFT JOIN (SELECT true AS {FOUND_COLUMN}, row_number() OVER () AS {POSITION_COLUMN}, \
                    found_rows.* FROM found_rows) AS numbered ON true \
         ORDER BY numbered.{POSITION_COLUMN}"
    )
}

/// The statement's own rows and columns out of a [`wrap`]ped result.
fn unwrap(mut rows: RowSet) -> Result<RowSet, Problem> {
    let marked = rows.columns.len() >= 2
        && rows.columns[0].name == FOUND_COLUMN
        && rows.columns[1].name == POSITION_COLUMN;
    if !marked {
        eprintln!("database: a wrapped statement lost its marker columns");
        return Err(Problem::internal());
    }
    rows.columns.drain(..2);
    rows.rows
        .retain(|row| matches!(row.first(), Some(DbValue::Boolean(true))));
    for row in &mut rows.rows {
        row.drain(..2);
    }
    Ok(rows)
}

fn unavailable(reason: &str) -> Problem {
    eprintln!("database: cannot connect: {reason}");
    Problem::service_unavailable("The database is unavailable; try again shortly.")
}

/// Logs what failed without the statement or the server's message (either
/// can carry data): the SQLSTATE when the host gives one (Spin 4.0.x does
/// not: "no SQLSTATE"), or the host's description of a parameter or
/// connection problem.
fn failed(error: &spin_sdk::pg4::PgError) -> Problem {
    use spin_sdk::pg4::{PgError, QueryError};
    match error {
        // Lost connections are the service's fault; the rest is ours.
        PgError::ConnectionFailed(reason) => unavailable(reason),
        PgError::QueryFailed(QueryError::DbError(db)) => {
            eprintln!("database: statement failed: SQLSTATE {}", db.code);
            Problem::internal()
        }
        PgError::QueryFailed(QueryError::Text(_)) => {
            eprintln!("database: statement failed (no SQLSTATE)");
            Problem::internal()
        }
        other => {
            eprintln!("database: statement refused: {other}");
            Problem::internal()
        }
    }
}

/// A text column (`NULL` and non-text become `None`).
pub fn text(value: &DbValue) -> Option<String> {
    match value {
        DbValue::Str(s) => Some(s.clone()),
        _ => None,
    }
}

pub fn str_param(value: impl Into<String>) -> ParameterValue {
    ParameterValue::Str(value.into())
}

pub fn uuid_param(value: uuid::Uuid) -> ParameterValue {
    ParameterValue::Uuid(value.to_string())
}

pub fn int_param(value: i64) -> ParameterValue {
    ParameterValue::Int64(value)
}

pub fn bytes_param(value: impl Into<Vec<u8>>) -> ParameterValue {
    ParameterValue::Binary(value.into())
}

/// SQL for an RFC 3339 UTC timestamp string of column `column`.
#[macro_export]
macro_rules! rfc3339 {
    ($column:literal) => {
        concat!(
            "to_char(",
            $column,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        )
    };
}

#[cfg(test)]
mod tests {
    //! The wrapper's SQL against the machine's Postgres (as the host's
    //! tests use it; `SPINSTACK_TEST_POSTGRES_URL` overrides), its result
    //! decoded into Spin's row set as a host would.

    use spin_sdk::pg4::{Column, DbDataType};

    use super::*;

    /// Runs `wrap(with, sql)` and decodes the columns these tests use.
    async fn run(client: &tokio_postgres::Client, with: &str, sql: &str) -> RowSet {
        let statement = client.prepare(&wrap(with, sql)).await.unwrap();
        let rows = client.query(&statement, &[]).await.unwrap();
        let columns = statement
            .columns()
            .iter()
            .map(|c| Column {
                name: c.name().to_owned(),
                data_type: DbDataType::Other(c.type_().name().to_owned()),
            })
            .collect();
        let rows = rows
            .iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        match row.columns()[i].type_().name() {
                            "bool" => row.get::<_, Option<bool>>(i).map(DbValue::Boolean),
                            "int8" => row.get::<_, Option<i64>>(i).map(DbValue::Int64),
                            "int4" => row.get::<_, Option<i32>>(i).map(DbValue::Int32),
                            "text" => row.get::<_, Option<String>>(i).map(DbValue::Str),
                            other => panic!("no decoding for {other} in this test"),
                        }
                        .unwrap_or(DbValue::DbNull)
                    })
                    .collect()
            })
            .collect();
        unwrap(RowSet { columns, rows }).unwrap()
    }

    fn ids(rows: &RowSet) -> Vec<Option<i32>> {
        rows.rows()
            .map(|row| row.get::<Option<i32>>("id").flatten())
            .collect()
    }

    /// A temporary table (gone with the test's session) of three rows.
    async fn table(client: &tokio_postgres::Client) -> String {
        let name = "db_rows".to_owned();
        client
            .batch_execute(&format!(
                "CREATE TEMP TABLE {name} (id int PRIMARY KEY, label text); \
                 INSERT INTO {name} VALUES (1, 'one'), (2, NULL), (3, 'three')"
            ))
            .await
            .unwrap();
        name
    }

    #[tokio::test]
    async fn an_empty_result_is_one_filler_row_on_the_wire_and_none_here() {
        let client = crate::test_support::postgres().await;
        let t = table(&client).await;
        let sql = format!("SELECT id, label FROM {t} WHERE id > 10");
        // What the host sees: exactly one row, so Spin 4.0.x returns.
        let on_the_wire = client.query(wrap("", &sql).as_str(), &[]).await.unwrap();
        assert_eq!(on_the_wire.len(), 1);
        let rows = run(&client, "", &sql).await;
        assert!(rows.rows.is_empty());
        let names: Vec<&str> = rows.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "label"], "the statement's own columns");
    }

    #[tokio::test]
    async fn rows_keep_their_order_values_and_nulls() {
        let client = crate::test_support::postgres().await;
        let t = table(&client).await;
        let sql = format!("SELECT id, label FROM {t} ORDER BY id DESC");
        let rows = run(&client, "", &sql).await;
        assert_eq!(ids(&rows), [Some(3), Some(2), Some(1)]);
        let labels: Vec<Option<String>> = rows
            .rows()
            .map(|row| row.get::<Option<String>>("label").flatten())
            .collect();
        assert_eq!(labels, [Some("three".into()), None, Some("one".into())]);
        // A real row of NULLs is a row, not "nothing found".
        let rows = run(&client, "", "SELECT NULL::int AS id").await;
        assert_eq!(ids(&rows), [None]);
    }

    #[tokio::test]
    async fn writes_that_touch_nothing_return_no_rows() {
        let client = crate::test_support::postgres().await;
        let t = table(&client).await;
        let taken =
            format!("INSERT INTO {t} VALUES (1, 'again') ON CONFLICT (id) DO NOTHING RETURNING id");
        assert!(run(&client, "", &taken).await.rows.is_empty());
        let added =
            format!("INSERT INTO {t} VALUES (4, 'four') ON CONFLICT (id) DO NOTHING RETURNING id");
        assert_eq!(ids(&run(&client, "", &added).await), [Some(4)]);
        let none = format!("DELETE FROM {t} WHERE id = 99 RETURNING id");
        assert!(run(&client, "", &none).await.rows.is_empty());
        let update = format!("UPDATE {t} SET label = 'x' WHERE id = 99 RETURNING id");
        assert!(run(&client, "", &update).await.rows.is_empty());
    }

    #[tokio::test]
    async fn data_modifying_ctes_go_in_the_top_level_with() {
        let client = crate::test_support::postgres().await;
        let t = table(&client).await;
        let with = format!("gone AS (DELETE FROM {t} WHERE id >= 2 RETURNING id)");
        let rows = run(&client, &with, "SELECT id FROM gone ORDER BY id").await;
        assert_eq!(ids(&rows), [Some(2), Some(3)]);
        let rows = run(&client, &with, "SELECT id FROM gone").await;
        assert!(rows.rows.is_empty(), "deleted already");
        // A statement with its own read-only WITH can be wrapped whole.
        let sql = format!(
            "WITH locked AS (SELECT id FROM {t} FOR UPDATE) \
             UPDATE {t} SET label = 'y' WHERE id IN (SELECT id FROM locked) RETURNING id"
        );
        assert_eq!(ids(&run(&client, "", &sql).await), [Some(1)]);
    }

    #[test]
    fn a_result_without_the_markers_is_refused() {
        let bare = RowSet {
            columns: vec![Column {
                name: "id".into(),
                data_type: DbDataType::Int32,
            }],
            rows: vec![vec![DbValue::Int32(1)]],
        };
        assert_eq!(unwrap(bare).unwrap_err().status, 500);
    }
}
