//! Where a guest's Redis commands go. Spin opens a connection per `open`;
//! here every address has one shared, multiplexed connection for the whole
//! application (the `redis` crate's `ConnectionManager`, which reconnects by
//! itself), so a request that opens a connection usually dials nothing.
//!
//! Sharing is only safe for commands that neither wait nor change the
//! connection's state: a guest's `MULTI`, `SELECT` or `BLPOP` on the shared
//! connection would act on, or stall, every other request's commands. Such a
//! command moves that guest connection onto one of its own first (see
//! `commands.rs`), which then lives as long as the guest's handle.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncConnectionConfig, Cmd, FromRedisValue, RedisResult};
use tokio::sync::OnceCell;

/// Addresses with a shared connection at most; past that (only a wildcard
/// in `allowed_outbound_hosts` allows so many) a guest connection gets one
/// of its own, so the table cannot grow without bound.
const MAX_SHARED_ADDRESSES: usize = 64;

/// A dial that takes longer fails the `open` (the request's deadline may
/// cut it sooner).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

type SharedCell = Arc<OnceCell<ConnectionManager>>;

/// The application's shared connections, by address exactly as the guest
/// gave it (user, password and database are part of the connection).
#[derive(Default)]
pub struct RedisConnections {
    shared: Mutex<HashMap<String, SharedCell>>,
}

/// The connection one guest handle sends its commands on. Both kinds are
/// cheap handles onto a connection task, cloned out for each command.
#[derive(Clone)]
pub enum Link {
    Shared(ConnectionManager),
    Own(MultiplexedConnection),
}

impl Link {
    pub async fn query<T: FromRedisValue>(&mut self, command: &Cmd) -> RedisResult<T> {
        match self {
            Link::Shared(connection) => command.query_async(connection).await,
            Link::Own(connection) => command.query_async(connection).await,
        }
    }

    pub fn is_shared(&self) -> bool {
        matches!(self, Link::Shared(_))
    }
}

impl RedisConnections {
    /// The shared connection for `address`, dialled on first use (concurrent
    /// first uses wait for the one dial); `None` when the table is full.
    pub async fn shared(
        &self,
        address: &str,
        client: &redis::Client,
    ) -> Option<RedisResult<ConnectionManager>> {
        let cell = {
            let mut shared = self.shared.lock();
            match shared.get(address) {
                Some(cell) => cell.clone(),
                None if shared.len() >= MAX_SHARED_ADDRESSES => return None,
                None => shared.entry(address.to_owned()).or_default().clone(),
            }
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            // A server that is down fails the open at once rather than
            // after the crate's six backed-off retries.
            .set_number_of_retries(1);
        let result = cell
            .get_or_try_init(|| ConnectionManager::new_with_config(client.clone(), config))
            .await
            .cloned();
        if result.is_err() {
            self.forget_if_unconnected(address, &cell);
        }
        Some(result)
    }

    /// A failed first dial leaves no entry behind (a stream of bad addresses
    /// must not fill the table).
    fn forget_if_unconnected(&self, address: &str, cell: &SharedCell) {
        let mut shared = self.shared.lock();
        if let Some(current) = shared.get(address)
            && Arc::ptr_eq(current, cell)
            && !cell.initialized()
        {
            shared.remove(address);
        }
    }

    /// A connection of the caller's own (no response timeout: a blocking
    /// command may wait as long as the request may).
    pub async fn own(client: &redis::Client) -> RedisResult<MultiplexedConnection> {
        let config = AsyncConnectionConfig::new().set_connection_timeout(CONNECT_TIMEOUT);
        client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    #[cfg(test)]
    pub fn shared_addresses(&self) -> usize {
        self.shared.lock().len()
    }
}
