//! One Postgres connection and the statements run on it: prepared once and
//! cached (unless caching is off), parameters encoded against the prepared
//! types, rows decoded and bounded in size, and its session state tracked
//! so the pool knows whether it comes back clean.

use futures::StreamExt;
use tokio_postgres::{Client, Statement};

use super::errors::{self, Failure};
use super::generated::spin::postgres4_0_0::postgres::{
    Column, DbValue, Error, ParameterValue, QueryError, RowSet,
};
use super::params::{self, Encoded};
use super::session::{self, Effect};
use super::statements::StatementCache;
use super::values::{self, Raw};
use crate::postgres_tls::MakeRustlsConnect;

pub struct PgConn {
    client: Client,
    /// The connection's TLS, for the cancel request's own connection (which
    /// goes in cleartext only where the connection itself did).
    tls: MakeRustlsConnect,
    statements: StatementCache,
    in_transaction: bool,
    dirty: bool,
    /// Set while a statement runs; still set if its future was dropped.
    in_flight: bool,
    lost: bool,
}

/// SQLSTATEs after which a cached statement is re-prepared and run once
/// more (the statement did not run): the plan's result type changed, or
/// the statement was deallocated behind our back.
fn is_stale_statement(e: &tokio_postgres::Error) -> bool {
    match e.code().map(|c| c.code()) {
        Some("26000") => true,
        Some("0A000") => e
            .as_db_error()
            .is_some_and(|db| db.message().contains("cached plan")),
        _ => false,
    }
}

enum FetchError {
    Pg(tokio_postgres::Error),
    Failure(Failure),
}

impl PgConn {
    pub fn new(client: Client, statement_cache: usize, tls: MakeRustlsConnect) -> Self {
        Self {
            client,
            tls,
            statements: StatementCache::new(statement_cache),
            in_transaction: false,
            dirty: false,
            in_flight: false,
            lost: false,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Prepared statements kept for reuse on this connection.
    #[cfg(test)]
    pub fn cached_statements(&self) -> usize {
        self.statements.count()
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    pub fn is_lost(&self) -> bool {
        self.lost
    }

    /// A statement was still running when its caller went away.
    pub fn abandoned(&self) -> bool {
        self.in_flight
    }

    pub fn has_session_state(&self) -> bool {
        self.in_transaction || self.dirty
    }

    pub fn needs_reset(&self) -> bool {
        self.has_session_state()
    }

    /// Asks the server to stop whatever this connection is running.
    pub fn cancel_running_statement(&self) {
        let token = self.client.cancel_token();
        let tls = self.tls.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = token.cancel_query(tls).await;
            });
        }
    }

    /// Ends any transaction and clears session state.
    pub async fn reset(&mut self) -> Result<(), tokio_postgres::Error> {
        if self.in_transaction {
            self.client.batch_execute("ROLLBACK").await?;
            self.in_transaction = false;
        }
        if self.dirty {
            self.client.batch_execute("DISCARD ALL").await?;
            self.statements.clear();
            self.dirty = false;
        }
        Ok(())
    }

    /// Refuses work on a connection that cannot be trusted any more.
    fn usable(&mut self) -> Result<(), Error> {
        if self.in_flight {
            // The previous statement was abandoned mid-way.
            self.lost = true;
        }
        if self.lost || self.client.is_closed() {
            self.lost = true;
            return Err(errors::lost_connection().error);
        }
        Ok(())
    }

    async fn statement(&mut self, sql: &str) -> Result<(Statement, bool), Failure> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok((statement, true));
        }
        let statement = self.client.prepare(sql).await.map_err(errors::from_query)?;
        self.statements.insert(sql, statement.clone());
        Ok((statement, false))
    }

    /// Runs `sql` returning rows, at most `max_bytes` of them.
    pub async fn query(
        &mut self,
        sql: &str,
        values: &[ParameterValue],
        max_bytes: usize,
    ) -> Result<RowSet, Error> {
        self.usable()?;
        self.in_flight = true;
        let result = self.query_inner(sql, values, max_bytes).await;
        self.in_flight = false;
        self.finish(sql, result)
    }

    /// Runs `sql`, returning the number of rows it affected.
    pub async fn execute(&mut self, sql: &str, values: &[ParameterValue]) -> Result<u64, Error> {
        self.usable()?;
        self.in_flight = true;
        let result = self.execute_inner(sql, values).await;
        self.in_flight = false;
        self.finish(sql, result)
    }

    /// Records what the statement did to the session (whether or not it
    /// succeeded: a failed statement inside a transaction leaves it open).
    fn finish<T>(&mut self, sql: &str, result: Result<T, Failure>) -> Result<T, Error> {
        match session::classify(sql) {
            Effect::Begins if result.is_ok() => self.in_transaction = true,
            Effect::Ends if result.is_ok() => self.in_transaction = false,
            Effect::Dirties => self.dirty = true,
            _ => {}
        }
        if result.is_ok() && session::drops_prepared_statements(sql) {
            self.statements.clear();
        }
        result.map_err(|failure| {
            if failure.lost {
                self.lost = true;
            }
            failure.error
        })
    }

    async fn prepared(
        &mut self,
        sql: &str,
        values: &[ParameterValue],
    ) -> Result<(Statement, Vec<Encoded>, bool), Failure> {
        let (statement, cached) = self.statement(sql).await?;
        let encoded = params::encode_all(values, statement.params())
            .map_err(|e| Failure::usable(Error::BadParameter(e)))?;
        Ok((statement, encoded, cached))
    }

    async fn query_inner(
        &mut self,
        sql: &str,
        values: &[ParameterValue],
        max_bytes: usize,
    ) -> Result<RowSet, Failure> {
        let mut retried = false;
        loop {
            let (statement, encoded, cached) = self.prepared(sql, values).await?;
            match fetch(&self.client, &statement, encoded, max_bytes).await {
                Ok(rows) => return Ok(rows),
                Err(FetchError::Pg(e)) if cached && !retried && is_stale_statement(&e) => {
                    self.statements.remove(sql);
                    retried = true;
                }
                Err(FetchError::Pg(e)) => return Err(errors::from_query(e)),
                Err(FetchError::Failure(failure)) => return Err(failure),
            }
        }
    }

    async fn execute_inner(
        &mut self,
        sql: &str,
        values: &[ParameterValue],
    ) -> Result<u64, Failure> {
        let mut retried = false;
        loop {
            let (statement, encoded, cached) = self.prepared(sql, values).await?;
            match self.client.execute_raw(&statement, encoded).await {
                Ok(count) => return Ok(count),
                Err(e) if cached && !retried && is_stale_statement(&e) => {
                    self.statements.remove(sql);
                    retried = true;
                }
                Err(e) => return Err(errors::from_query(e)),
            }
        }
    }
}

async fn fetch(
    client: &Client,
    statement: &Statement,
    encoded: Vec<Encoded>,
    max_bytes: usize,
) -> Result<RowSet, FetchError> {
    let columns: Vec<Column> = statement
        .columns()
        .iter()
        .map(|c| Column {
            name: c.name().to_owned(),
            data_type: values::data_type(c.type_()),
        })
        .collect();
    let stream = client
        .query_raw(statement, encoded)
        .await
        .map_err(FetchError::Pg)?;
    let mut stream = std::pin::pin!(stream);
    let mut rows = Vec::new();
    let mut size = 0usize;
    while let Some(row) = stream.next().await {
        let row = row.map_err(FetchError::Pg)?;
        size = size.saturating_add(row.raw_size_bytes() + row.len() * 8);
        if size > max_bytes {
            // Stop the server from sending the rest by closing the socket.
            return Err(FetchError::Failure(Failure::lost(Error::QueryFailed(
                QueryError::Text(format!(
                    "the query result is larger than the {max_bytes} bytes a query may return"
                )),
            ))));
        }
        let mut decoded: Vec<DbValue> = Vec::with_capacity(row.len());
        for (index, column) in row.columns().iter().enumerate() {
            let Raw(raw) = row.try_get::<_, Raw>(index).map_err(FetchError::Pg)?;
            let value = values::decode(column.type_(), raw).map_err(|e| {
                FetchError::Failure(Failure::usable(Error::ValueConversionFailed(format!(
                    "column {:?}: {e}",
                    column.name()
                ))))
            })?;
            decoded.push(value);
        }
        rows.push(decoded);
    }
    Ok(RowSet { columns, rows })
}
