//! `fermyon:spin/redis@2.0.0`: outbound Redis with Spin's operations,
//! errors and address check, over shared connections.
//!
//! - `address`: the address against `allowed_outbound_hosts`
//! - `connections`: one shared connection per address, or one of its own
//! - `commands`: which `execute` commands may use the shared connection
//! - `results`: replies as the WIT's `redis-result` list

mod address;
mod commands;
mod connections;
mod results;

use std::sync::Arc;
use std::time::Instant;

use redis::{Cmd, FromRedisValue};
use wasmtime::component::{Linker, Resource};

use super::{AppContext, Capability, ComponentContext, HasView, HostView, InstanceContext, View};
use crate::outbound_policy::OutboundPolicy;
use connections::{Link, RedisConnections};
use generated::fermyon::spin2_0_0::redis::{self as wit, Error, RedisParameter, RedisResult};

/// Bindings for the one interface this capability serves.
mod generated {
    crate::bindings::spin_bindgen!(
        inline: "
            package spinstack:outbound-redis;
            world host { import fermyon:spin/redis@2.0.0; }
        ",
        world: "spinstack:outbound-redis/host",
        with: {
            "fermyon:spin/redis.connection": crate::capabilities::outbound_redis::RedisConnection,
        },
    );
}

/// Connections of their own one request may hold at once (shared ones cost
/// nothing and are not counted).
const MAX_OWN_CONNECTIONS_PER_REQUEST: usize = 16;

pub struct OutboundRedis;

/// What the application shares: the connections, and the result limit.
pub struct RedisApp {
    connections: Arc<RedisConnections>,
    max_result_bytes: usize,
}

impl Capability for OutboundRedis {
    const IMPORTS: &'static [&'static str] = &["fermyon:spin/redis@2.0.0"];
    type App = RedisApp;
    type Component = Arc<OutboundPolicy>;
    type Instance = RedisAccess;

    fn init(ctx: &AppContext<'_>) -> anyhow::Result<RedisApp> {
        Ok(RedisApp {
            connections: Arc::default(),
            // A result larger than an instance's memory could never be
            // handed to it (Spin's own limit is of the same size).
            max_result_bytes: ctx.config.max_instance_memory,
        })
    }

    fn configure_component(
        _app: &RedisApp,
        ctx: &ComponentContext<'_>,
    ) -> anyhow::Result<Arc<OutboundPolicy>> {
        Ok(ctx.outbound.clone())
    }

    fn new_instance(
        app: &Arc<RedisApp>,
        outbound: &Arc<OutboundPolicy>,
        ctx: &InstanceContext<'_>,
    ) -> anyhow::Result<RedisAccess> {
        Ok(RedisAccess {
            connections: app.connections.clone(),
            max_result_bytes: app.max_result_bytes,
            outbound: outbound.clone(),
            deadline: ctx.deadline,
            own_open: 0,
        })
    }

    fn add_to_linker<T: HostView>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> View<'_, RedisAccess>,
    ) -> anyhow::Result<()> {
        wit::add_to_linker::<T, HasView<RedisAccess>>(linker, get)?;
        Ok(())
    }
}

/// What one request's instance may reach: the shared connections, through
/// its component's outbound rules, until the request's deadline.
pub struct RedisAccess {
    connections: Arc<RedisConnections>,
    max_result_bytes: usize,
    outbound: Arc<OutboundPolicy>,
    deadline: Instant,
    own_open: usize,
}

/// The resource behind a guest's `connection` handle.
pub struct RedisConnection {
    /// Dials a connection of its own when a command needs one.
    client: redis::Client,
    link: Link,
}

/// A Redis failure as the guest sees it: Spin's `other` with the client's
/// message (which names the failure, not the address or its password).
fn other(e: redis::RedisError) -> Error {
    tracing::warn!("outbound Redis: {e}");
    Error::Other(e.to_string())
}

fn deadline_passed() -> Error {
    Error::Other("the request's deadline passed before Redis answered".into())
}

fn too_large(limit: usize) -> Error {
    Error::Other(format!("query result exceeds limit of {limit} bytes"))
}

impl RedisAccess {
    async fn open(&mut self, address: &str) -> Result<RedisConnection, Error> {
        let client = address::check(address, &self.outbound).inspect_err(|_| {
            tracing::warn!("outbound Redis: an address not allowed or not readable was refused");
        })?;
        let deadline = self.deadline.into();
        let shared = tokio::time::timeout_at(deadline, self.connections.shared(address, &client))
            .await
            .map_err(|_| deadline_passed())?;
        let link = match shared {
            Some(connection) => Link::Shared(connection.map_err(other)?),
            None => Link::Own(self.dial_own(&client).await?),
        };
        Ok(RedisConnection { client, link })
    }

    async fn dial_own(
        &mut self,
        client: &redis::Client,
    ) -> Result<redis::aio::MultiplexedConnection, Error> {
        if self.own_open >= MAX_OWN_CONNECTIONS_PER_REQUEST {
            return Err(Error::TooManyConnections);
        }
        let dial = RedisConnections::own(client);
        let connection = tokio::time::timeout_at(self.deadline.into(), dial)
            .await
            .map_err(|_| deadline_passed())?
            .map_err(other)?;
        self.own_open += 1;
        Ok(connection)
    }
}

impl View<'_, RedisAccess> {
    /// Runs one command on the handle's connection, bounded by the
    /// deadline; a failure becomes `map(error)`.
    async fn run<T: FromRedisValue>(
        &mut self,
        connection: &Resource<RedisConnection>,
        command: &Cmd,
        map: fn(redis::RedisError) -> Error,
    ) -> wasmtime::Result<Result<T, Error>> {
        let mut link = self.table.get(connection)?.link.clone();
        let reply = tokio::time::timeout_at(self.state.deadline.into(), link.query(command)).await;
        Ok(match reply {
            Ok(reply) => reply.map_err(map),
            Err(_) => Err(deadline_passed()),
        })
    }

    /// Moves the handle onto a connection of its own (once).
    async fn pin_own(
        &mut self,
        connection: &Resource<RedisConnection>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let entry = self.table.get(connection)?;
        if !entry.link.is_shared() {
            return Ok(Ok(()));
        }
        let client = entry.client.clone();
        let own = match self.state.dial_own(&client).await {
            Ok(own) => own,
            Err(e) => return Ok(Err(e)),
        };
        self.table.get_mut(connection)?.link = Link::Own(own);
        Ok(Ok(()))
    }

    fn within_limit<T>(&self, value: T, size: usize) -> Result<T, Error> {
        if size > self.state.max_result_bytes {
            Err(too_large(self.state.max_result_bytes))
        } else {
            Ok(value)
        }
    }
}

/// As Spin: only `sadd` reports a reply of the wrong type as `type-error`;
/// everywhere else it is `other` with Redis's message.
fn sadd_error(e: redis::RedisError) -> Error {
    if e.kind() == redis::ErrorKind::TypeError {
        Error::TypeError
    } else {
        other(e)
    }
}

impl wit::Host for View<'_, RedisAccess> {}

impl wit::HostConnection for View<'_, RedisAccess> {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<RedisConnection>, Error>> {
        let connection = match self.state.open(&address).await {
            Ok(connection) => connection,
            Err(e) => return Ok(Err(e)),
        };
        let owns = !connection.link.is_shared();
        match self.table.push(connection) {
            Ok(resource) => Ok(Ok(resource)),
            Err(_) => {
                if owns {
                    self.state.own_open -= 1;
                }
                Ok(Err(Error::TooManyConnections))
            }
        }
    }

    async fn publish(
        &mut self,
        connection: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let mut command = redis::cmd("PUBLISH");
        command.arg(channel).arg(payload);
        let reply = self.run::<i64>(&connection, &command, other).await?;
        Ok(reply.map(|_receivers| ()))
    }

    async fn get(
        &mut self,
        connection: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let mut command = redis::cmd("GET");
        command.arg(key);
        let reply = self
            .run::<Option<Vec<u8>>>(&connection, &command, other)
            .await?;
        Ok(reply.and_then(|value| {
            let size = value.as_ref().map_or(0, Vec::len);
            self.within_limit(value, size)
        }))
    }

    async fn set(
        &mut self,
        connection: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let mut command = redis::cmd("SET");
        command.arg(key).arg(value);
        self.run::<()>(&connection, &command, other).await
    }

    async fn incr(
        &mut self,
        connection: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<i64, Error>> {
        let mut command = redis::cmd("INCRBY");
        command.arg(key).arg(1);
        self.run::<i64>(&connection, &command, other).await
    }

    async fn del(
        &mut self,
        connection: Resource<RedisConnection>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let mut command = redis::cmd("DEL");
        command.arg(keys);
        self.run::<u32>(&connection, &command, other).await
    }

    async fn sadd(
        &mut self,
        connection: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let mut command = redis::cmd("SADD");
        command.arg(key).arg(values);
        self.run::<u32>(&connection, &command, sadd_error).await
    }

    async fn smembers(
        &mut self,
        connection: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        let mut command = redis::cmd("SMEMBERS");
        command.arg(key);
        let reply = self
            .run::<Vec<String>>(&connection, &command, other)
            .await?;
        Ok(reply.and_then(|members| {
            let size = members.iter().map(String::len).sum();
            self.within_limit(members, size)
        }))
    }

    async fn srem(
        &mut self,
        connection: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let mut command = redis::cmd("SREM");
        command.arg(key).arg(values);
        self.run::<u32>(&connection, &command, other).await
    }

    async fn execute(
        &mut self,
        connection: Resource<RedisConnection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<RedisResult>, Error>> {
        if !commands::shares_connection(&command)
            && let Err(e) = self.pin_own(&connection).await?
        {
            return Ok(Err(e));
        }
        let mut full = redis::cmd(&command);
        for argument in arguments {
            match argument {
                RedisParameter::Int64(n) => full.arg(n),
                RedisParameter::Binary(bytes) => full.arg(bytes),
            };
        }
        let reply = self.run::<redis::Value>(&connection, &full, other).await?;
        Ok(reply.and_then(results::flatten).and_then(|results| {
            let size = results::size(&results);
            self.within_limit(results, size)
        }))
    }

    async fn drop(&mut self, connection: Resource<RedisConnection>) -> wasmtime::Result<()> {
        let connection = self.table.delete(connection)?;
        if !connection.link.is_shared() {
            self.state.own_open = self.state.own_open.saturating_sub(1);
        }
        Ok(())
    }
}

/// The capability through its view, without wasm. What needs a live Redis
/// is tests/outbound_redis.rs.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn access(entries: &[&str]) -> RedisAccess {
        let allowed = spinstack_manifest::AllowedOutboundHosts::parse(entries).unwrap();
        RedisAccess {
            connections: Arc::default(),
            max_result_bytes: 1 << 20,
            outbound: Arc::new(OutboundPolicy::new(allowed)),
            deadline: Instant::now() + Duration::from_secs(10),
            own_open: 0,
        }
    }

    fn unused_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[tokio::test]
    async fn a_refused_address_dials_nothing_and_holds_nothing() {
        let mut state = access(&["redis://127.0.0.1:6379"]);
        let mut table = wasmtime::component::ResourceTable::new();
        let mut view = View {
            state: &mut state,
            table: &mut table,
        };
        for address in [
            "redis://127.0.0.1:6380",
            "redis://other.example",
            "nonsense",
        ] {
            let refused = wit::HostConnection::open(&mut view, address.into())
                .await
                .unwrap();
            assert!(matches!(refused, Err(Error::InvalidAddress)), "{address}");
        }
        assert_eq!(view.state.connections.shared_addresses(), 0);
        assert_eq!(view.state.own_open, 0);
    }

    #[tokio::test]
    async fn an_allowed_address_nobody_serves_is_other_and_is_forgotten() {
        let port = unused_port();
        let mut state = access(&[&format!("redis://127.0.0.1:{port}")]);
        let mut table = wasmtime::component::ResourceTable::new();
        let mut view = View {
            state: &mut state,
            table: &mut table,
        };
        let failed = wit::HostConnection::open(&mut view, format!("redis://127.0.0.1:{port}"))
            .await
            .unwrap();
        assert!(matches!(failed, Err(Error::Other(_))), "{failed:?}");
        assert_eq!(view.state.connections.shared_addresses(), 0);
    }
}
