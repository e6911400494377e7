//! `spin:postgres/postgres@4.0.0` (and `@3.0.0`): Spin's Postgres interface
//! over tokio-postgres, with Spin's types, errors and outbound-host check,
//! and what Spin lacks: bounded pools that hand out connections without a
//! round trip, per-connection prepared-statement caches, recovery after a
//! server restart, exact decimals and the full date range.
//!
//! - `address`: parsing the connection string, `allowed_outbound_hosts`
//! - `pool`: pools per connection string (or naive, one connection per open)
//! - `connection`: statements on one connection, its session state
//! - `statements`, `session`: the statement cache; what SQL does to a session
//! - `params`, `values`, `numeric`, `datetime`: WIT ⇄ Postgres binary format
//! - `errors`: Postgres failures as WIT errors
//! - `v3`: the 3.0.0 interface, mapped onto 4.0.0
//! - `compat`: test-only imitation of Spin 4.0.0–4.0.2's client faults

// The WIT error (with its db-error record) is large; it is what every
// function here returns, as the interface defines it.
#![allow(clippy::result_large_err)]

mod address;
mod compat;
mod connection;
mod datetime;
mod errors;
mod numeric;
mod params;
mod pool;
#[cfg(test)]
mod pool_comparison;
mod session;
mod statements;
mod v3;
mod values;

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::{Linker, Resource};

use super::{AppContext, Capability, ComponentContext, HasView, HostView, InstanceContext, View};
use crate::outbound_policy::OutboundPolicy;
pub use compat::PostgresCompat;
use generated::spin::postgres3_0_0::postgres as wit3;
use generated::spin::postgres4_0_0::postgres::{
    self as wit, Error, ParameterValue, QueryError, RowSet,
};
pub use pool::{PostgresPools, PostgresSettings};

/// Bindings for the two interface versions this capability serves.
mod generated {
    crate::bindings::spin_bindgen!(
        inline: "
            package spinstack:postgres;
            world host {
                import spin:postgres/postgres@3.0.0;
                import spin:postgres/postgres@4.0.0;
            }
        ",
        world: "spinstack:postgres/host",
        with: {
            "spin:postgres/postgres@3.0.0.connection": crate::capabilities::postgres::ConnectionV3,
            "spin:postgres/postgres@4.0.0.connection": crate::capabilities::postgres::Connection,
        },
    );
}

pub struct Postgres;

impl Capability for Postgres {
    const IMPORTS: &'static [&'static str] = &[
        "spin:postgres/postgres@3.0.0",
        "spin:postgres/postgres@4.0.0",
    ];
    type App = PostgresPools;
    type Component = Arc<OutboundPolicy>;
    type Instance = PostgresAccess;

    fn init(ctx: &AppContext<'_>) -> anyhow::Result<PostgresPools> {
        Ok(PostgresPools::new(PostgresSettings {
            naive: ctx.config.postgres_naive,
            compat: ctx.config.postgres_compat,
            // A result larger than an instance's memory could never be
            // handed to it.
            max_result_bytes: ctx.config.max_instance_memory,
            ..Default::default()
        }))
    }

    fn configure_component(
        _app: &PostgresPools,
        ctx: &ComponentContext<'_>,
    ) -> anyhow::Result<Arc<OutboundPolicy>> {
        Ok(ctx.outbound.clone())
    }

    fn new_instance(
        app: &Arc<PostgresPools>,
        outbound: &Arc<OutboundPolicy>,
        ctx: &InstanceContext<'_>,
    ) -> anyhow::Result<PostgresAccess> {
        Ok(PostgresAccess {
            pools: app.clone(),
            outbound: outbound.clone(),
            open: 0,
            deadline: ctx.deadline,
        })
    }

    fn add_to_linker<T: HostView>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> View<'_, PostgresAccess>,
    ) -> anyhow::Result<()> {
        wit3::add_to_linker::<T, HasView<PostgresAccess>>(linker, get)?;
        wit::add_to_linker::<T, HasView<PostgresAccess>>(linker, get)?;
        Ok(())
    }
}

/// What one request's instance may reach: the application's pools, through
/// its component's outbound rules, until the request's deadline.
pub struct PostgresAccess {
    pools: Arc<PostgresPools>,
    outbound: Arc<OutboundPolicy>,
    open: usize,
    deadline: Instant,
}

impl PostgresAccess {
    async fn open(&mut self, address: &str) -> Result<Connection, Error> {
        let deadline = self.deadline;
        let (config, tls) = address::check(address, &self.outbound).inspect_err(|e| {
            if let Error::ConnectionFailed(why) = e {
                tracing::warn!("Postgres connection refused: {why}");
            }
        })?;
        let limit = self.pools.settings().max_open_per_request;
        if self.open >= limit {
            return Err(Error::ConnectionFailed(format!(
                "too many connections: a request may hold {limit} open at once"
            )));
        }
        let checkout = self.pools.open(address, config, tls, deadline).await?;
        self.open += 1;
        Ok(Connection {
            checkout,
            max_result_bytes: self.pools.settings().max_result_bytes,
            compat: self.pools.settings().compat,
        })
    }

    fn closed_one(&mut self) {
        self.open = self.open.saturating_sub(1);
    }
}

/// The resource behind a guest's `connection` handle.
pub struct Connection {
    checkout: pool::Checkout,
    max_result_bytes: usize,
    compat: PostgresCompat,
}

/// The same, for guests of `spin:postgres/postgres@3.0.0`.
pub struct ConnectionV3(Connection);

fn deadline_passed() -> Error {
    Error::QueryFailed(QueryError::Text(
        "the request's deadline passed before the statement finished".into(),
    ))
}

impl Connection {
    async fn query(
        &mut self,
        statement: &str,
        params: &[ParameterValue],
        deadline: Instant,
    ) -> Result<RowSet, Error> {
        let max = self.max_result_bytes;
        let compat = self.compat;
        let work = async {
            self.checkout.replace_if_lost(deadline).await?;
            let outcome = self.checkout.conn().query(statement, params, max).await;
            compat.query(outcome).await
        };
        tokio::time::timeout_at(deadline.into(), work)
            .await
            .unwrap_or_else(|_| Err(deadline_passed()))
    }

    async fn execute(
        &mut self,
        statement: &str,
        params: &[ParameterValue],
        deadline: Instant,
    ) -> Result<u64, Error> {
        let compat = self.compat;
        let work = async {
            self.checkout.replace_if_lost(deadline).await?;
            let outcome = self.checkout.conn().execute(statement, params).await;
            outcome.map_err(|e| compat.error(e))
        };
        tokio::time::timeout_at(deadline.into(), work)
            .await
            .unwrap_or_else(|_| Err(deadline_passed()))
    }
}

impl wit::Host for View<'_, PostgresAccess> {}

impl wit::HostConnection for View<'_, PostgresAccess> {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let connection = match self.state.open(&address).await {
            Ok(connection) => connection,
            Err(e) => return Ok(Err(e)),
        };
        match self.table.push(connection) {
            Ok(resource) => Ok(Ok(resource)),
            Err(_) => {
                self.state.closed_one();
                Ok(Err(Error::ConnectionFailed("too many connections".into())))
            }
        }
    }

    async fn query(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        let deadline = self.state.deadline;
        let connection = self.table.get_mut(&connection)?;
        Ok(connection.query(&statement, &params, deadline).await)
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let deadline = self.state.deadline;
        let connection = self.table.get_mut(&connection)?;
        Ok(connection.execute(&statement, &params, deadline).await)
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        self.state.closed_one();
        Ok(())
    }
}
