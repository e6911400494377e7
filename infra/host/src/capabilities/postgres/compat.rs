//! A test-only imitation of what Spin 4.0.0–4.0.2's Postgres client gets
//! wrong, so the app's tests can show it does not rely on either (it is a
//! check, not a feature; `--postgres-compat spin-4.0.2`):
//!
//! - a `query` whose result has no rows never returns: Spin's client waits
//!   for a column list that never comes (spinframework/spin#3671), here
//!   until the request's deadline, which the caller enforces;
//! - a database error loses its structure: `query-error::text` with the
//!   server's message and no SQLSTATE.

use super::generated::spin::postgres4_0_0::postgres::{Error, QueryError, RowSet};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PostgresCompat {
    /// Spinstack's own behaviour.
    #[default]
    None,
    /// Spin 4.0.0 to 4.0.2.
    Spin402,
}

impl std::str::FromStr for PostgresCompat {
    type Err = String;

    /// The `--postgres-compat` values: `none`, `spin-4.0.2`.
    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "none" => Ok(Self::None),
            "spin-4.0.2" => Ok(Self::Spin402),
            other => Err(format!("{other:?}: expected none or spin-4.0.2")),
        }
    }
}

impl PostgresCompat {
    /// A query's outcome as the guest would see it on that host; pending
    /// forever for an empty result.
    pub async fn query(self, outcome: Result<RowSet, Error>) -> Result<RowSet, Error> {
        match (self, outcome) {
            (Self::Spin402, Ok(rows)) if rows.rows.is_empty() => std::future::pending().await,
            (_, outcome) => outcome.map_err(|e| self.error(e)),
        }
    }

    /// An error as the guest would see it on that host.
    pub fn error(self, error: Error) -> Error {
        match (self, error) {
            (Self::Spin402, Error::QueryFailed(QueryError::DbError(db))) => {
                Error::QueryFailed(QueryError::Text(format!("{}: {}", db.severity, db.message)))
            }
            (_, error) => error,
        }
    }
}
