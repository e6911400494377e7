//! The app's Postgres (`database_url`) through `spin:postgres@4.0.0`.
//!
//! Unreachable database: 503 (the client may retry). A failing statement is
//! the server's bug: 500. Either way the reason goes to the log only, since
//! a server's message can quote SQL or data.

use std::cell::OnceCell;

use spin_sdk::pg4::{Connection, DbValue, ParameterValue, RowSet};

use crate::{Problem, config};

/// SQLSTATE 23505: a unique constraint refused the row.
pub const UNIQUE_VIOLATION: &str = "23505";

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

    pub fn query(&self, sql: &str, params: &[ParameterValue]) -> Result<RowSet, Problem> {
        self.connection()?
            .query(sql, params)
            .map_err(|e| failed(sql, &e))
    }

    /// Rows affected.
    pub fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64, Problem> {
        self.connection()?
            .execute(sql, params)
            .map_err(|e| failed(sql, &e))
    }

    /// Like [`Db::query`], but a unique-constraint violation comes back as
    /// `Ok(None)` for the caller to turn into its 409.
    pub fn query_unique(
        &self,
        sql: &str,
        params: &[ParameterValue],
    ) -> Result<Option<RowSet>, Problem> {
        match self.connection()?.query(sql, params) {
            Ok(rows) => Ok(Some(rows)),
            Err(e) if sqlstate(&e) == Some(UNIQUE_VIOLATION) => Ok(None),
            Err(e) => Err(failed(sql, &e)),
        }
    }

    /// Like [`Db::execute`], but a unique-constraint violation comes back as
    /// `Ok(None)` for the caller to turn into its 409.
    pub fn execute_unique(
        &self,
        sql: &str,
        params: &[ParameterValue],
    ) -> Result<Option<u64>, Problem> {
        match self.connection()?.execute(sql, params) {
            Ok(rows) => Ok(Some(rows)),
            Err(e) if sqlstate(&e) == Some(UNIQUE_VIOLATION) => Ok(None),
            Err(e) => Err(failed(sql, &e)),
        }
    }
}

fn sqlstate(error: &spin_sdk::pg4::PgError) -> Option<&str> {
    match error {
        spin_sdk::pg4::PgError::QueryFailed(spin_sdk::pg4::QueryError::DbError(db)) => {
            Some(db.code.as_str())
        }
        _ => None,
    }
}

fn unavailable(reason: &str) -> Problem {
    eprintln!("database: cannot connect: {reason}");
    Problem::service_unavailable("The database is unavailable; try again shortly.")
}

/// Logs what failed without the statement or the server's message (either
/// can carry data): the SQLSTATE, or the host's description of a parameter
/// or connection problem.
fn failed(_sql: &str, error: &spin_sdk::pg4::PgError) -> Problem {
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
