//! Postgres failures as Spin's WIT `error`, so a guest can tell them apart:
//! a server-reported error is `query-failed(db-error)` with its SQLSTATE
//! (e.g. `23505` for a unique violation); a connection that is gone
//! (closed, I/O failure, SQLSTATE class 08, or the server shutting the
//! session down, 57P01–57P03) is `connection-failed`. Messages never carry
//! the SQL text or the connection string.

use tokio_postgres::error::DbError as PgDbError;

use super::generated::spin::postgres4_0_0::postgres::{DbError, Error, QueryError};

/// What went wrong, and whether the connection can still be used.
pub struct Failure {
    pub error: Error,
    /// The connection is gone or in an unknown state: never reuse it.
    pub lost: bool,
}

impl Failure {
    pub fn usable(error: Error) -> Self {
        Self { error, lost: false }
    }

    pub fn lost(error: Error) -> Self {
        Self { error, lost: true }
    }
}

/// True for SQLSTATEs that mean the session is over.
fn ends_session(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
}

/// `ERROR 23505: duplicate key value violates unique constraint "x"`, plus
/// the detail line Postgres sent.
fn as_text(db: &PgDbError) -> String {
    let mut text = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
    if let Some(detail) = db.detail() {
        text.push_str("\nDETAIL: ");
        text.push_str(detail);
    }
    text
}

/// The other fields Postgres sent, under Spin's names.
fn extras(db: &PgDbError) -> Vec<(String, String)> {
    let line = db.line().map(|l| l.to_string());
    let fields = [
        ("column", db.column()),
        ("constraint", db.constraint()),
        ("routine", db.routine()),
        ("hint", db.hint()),
        ("table", db.table()),
        ("datatype", db.datatype()),
        ("schema", db.schema()),
        ("file", db.file()),
        ("line", line.as_deref()),
        ("where_", db.where_()),
    ];
    fields
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v.to_owned())))
        .collect()
}

/// The error chain of a non-server error, e.g. `error connecting to server:
/// Connection refused (os error 111)`.
fn chain(e: &tokio_postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn is_io(e: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// A failure of a statement on an open connection.
pub fn from_query(e: tokio_postgres::Error) -> Failure {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        if ends_session(code) {
            return Failure::lost(Error::ConnectionFailed(format!(
                "the connection to the database was lost ({})",
                as_text(db)
            )));
        }
        return Failure::usable(Error::QueryFailed(QueryError::DbError(DbError {
            as_text: as_text(db),
            severity: db.severity().to_owned(),
            code: code.to_owned(),
            message: db.message().to_owned(),
            detail: db.detail().map(str::to_owned),
            extras: extras(db),
        })));
    }
    if e.is_closed() || is_io(&e) {
        return lost_connection();
    }
    // Protocol-level surprises leave the connection in doubt.
    Failure::lost(Error::QueryFailed(QueryError::Text(chain(&e))))
}

pub fn lost_connection() -> Failure {
    Failure::lost(Error::ConnectionFailed(
        "the connection to the database was lost".into(),
    ))
}

/// A failure to establish a connection; a TLS one with its reason.
pub fn from_connect(e: tokio_postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) => Error::ConnectionFailed(as_text(db)),
        None => Error::ConnectionFailed(
            crate::postgres_tls::describe_connect_error(&e).unwrap_or_else(|| chain(&e)),
        ),
    }
}
