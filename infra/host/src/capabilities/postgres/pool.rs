//! Connections: one bounded pool per connection string, shared by every
//! component and request of the application, or, in naive mode (the
//! benchmark's baseline), a fresh connection for every `open`.
//!
//! Checkout costs no round trip: a connection comes back to the pool clean
//! (see `session`), and one whose socket has closed (e.g. the server
//! restarted) is noticed by its connection task and thrown away instead of
//! being handed out. Only a connection idle for a while is checked with a
//! Sync message first, which catches peers that vanished silently.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::Config;
use tokio_postgres::config::Host;

use super::connection::PgConn;
use super::errors;
use super::generated::spin::postgres4_0_0::postgres::Error;
use crate::postgres_tls::{MakeRustlsConnect, TlsSettings};

/// How the host connects to Postgres; from the command line.
#[derive(Debug, Clone)]
pub struct PostgresSettings {
    /// No pooling and no statement cache: a new connection per `open`, every
    /// statement prepared on every call.
    pub naive: bool,
    /// Connections per connection string.
    pub max_connections: usize,
    /// Connection strings with a pool at once; the least recently used pool
    /// is closed beyond this.
    pub max_pools: usize,
    /// Prepared statements kept per connection.
    pub statement_cache: usize,
    /// How long `open` waits for a free connection (bounded by the request
    /// deadline too).
    pub checkout_timeout: Duration,
    /// Idle longer than this, a connection is checked before reuse.
    pub idle_check_after: Duration,
    /// Used when the connection string sets no `connect_timeout`.
    pub connect_timeout: Duration,
    /// Largest result a query may return (the guest must hold it in its
    /// linear memory anyway).
    pub max_result_bytes: usize,
    /// Connections one request may hold open at once.
    pub max_open_per_request: usize,
    /// Test-only: behave as another host's Postgres client does (`compat`).
    pub compat: super::compat::PostgresCompat,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        Self {
            naive: false,
            max_connections: 32,
            max_pools: 32,
            statement_cache: 256,
            checkout_timeout: Duration::from_secs(10),
            idle_check_after: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_result_bytes: 128 << 20,
            max_open_per_request: 8,
            compat: Default::default(),
        }
    }
}

/// Every pool of the application, by connection string.
pub struct PostgresPools {
    settings: PostgresSettings,
    pools: Mutex<HashMap<String, (Arc<Pool>, u64)>>,
    tick: AtomicU64,
}

impl PostgresPools {
    pub fn new(settings: PostgresSettings) -> Self {
        Self {
            settings,
            pools: Mutex::new(HashMap::new()),
            tick: AtomicU64::new(0),
        }
    }

    pub fn settings(&self) -> &PostgresSettings {
        &self.settings
    }

    /// A connection for `address` (already parsed and allowed as `config`
    /// and `tls`).
    pub async fn open(
        &self,
        address: &str,
        config: Config,
        tls: TlsSettings,
        deadline: Instant,
    ) -> Result<Checkout, Error> {
        let config = self.tune(config);
        if self.settings.naive {
            let label = label(&config);
            let connector = connector(&tls, &label)?;
            let conn = connect(&config, &connector, &label, 0, deadline).await?;
            return Ok(Checkout {
                conn: Some(conn),
                origin: None,
            });
        }
        self.pool(address, config, &tls)?.checkout(deadline).await
    }

    fn tune(&self, mut config: Config) -> Config {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(self.settings.connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("spinstack");
        }
        config
    }

    fn pool(&self, address: &str, config: Config, tls: &TlsSettings) -> Result<Arc<Pool>, Error> {
        let tick = self.tick.fetch_add(1, Ordering::Relaxed);
        let mut pools = self.pools.lock();
        if let Some((pool, used)) = pools.get_mut(address) {
            *used = tick;
            return Ok(pool.clone());
        }
        let label = label(&config);
        // Reads the root certificates: once per pool, not per connection.
        let tls = connector(tls, &label)?;
        if pools.len() >= self.settings.max_pools {
            let oldest = pools
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(key, _)| key.clone());
            if let Some((pool, _)) = oldest.and_then(|key| pools.remove(&key)) {
                tracing::info!(pool = %pool.label, "closing the least recently used Postgres pool");
                pool.retire();
            }
        }
        let pool = Arc::new(Pool {
            label,
            config,
            tls,
            max_connections: self.settings.max_connections,
            statement_cache: self.settings.statement_cache,
            checkout_timeout: self.settings.checkout_timeout,
            idle_check_after: self.settings.idle_check_after,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(self.settings.max_connections)),
            retired: AtomicBool::new(false),
        });
        pools.insert(address.to_owned(), (pool.clone(), tick));
        Ok(pool)
    }
}

/// `host:port/dbname` for logs: never the user, password or options.
fn label(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        #[cfg(unix)]
        Some(Host::Unix(path)) => path.display().to_string(),
        None => config
            .get_hostaddrs()
            .first()
            .map(ToString::to_string)
            .unwrap_or_default(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", config.get_dbname().unwrap_or(""))
}

/// The TLS connector for a connection string's settings.
fn connector(tls: &TlsSettings, label: &str) -> Result<MakeRustlsConnect, Error> {
    tls.connector().map_err(|why| {
        tracing::warn!(pool = %label, "cannot connect to Postgres: {why}");
        Error::ConnectionFailed(why)
    })
}

async fn connect(
    config: &Config,
    tls: &MakeRustlsConnect,
    label: &str,
    statement_cache: usize,
    deadline: Instant,
) -> Result<PgConn, Error> {
    let connecting = config.connect(tls.clone());
    let (client, connection) = match tokio::time::timeout_at(deadline.into(), connecting).await {
        Ok(result) => result.map_err(|e| {
            let error = errors::from_connect(e);
            if let Error::ConnectionFailed(why) = &error {
                tracing::warn!(pool = %label, "cannot connect to Postgres: {why}");
            }
            error
        })?,
        Err(_) => {
            return Err(Error::ConnectionFailed(
                "timed out connecting to the database".into(),
            ));
        }
    };
    let label = label.to_owned();
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            let code = e.code().map(|c| c.code().to_owned()).unwrap_or_default();
            tracing::debug!(pool = %label, %code, "Postgres connection ended: {e}");
        }
    });
    Ok(PgConn::new(client, statement_cache, tls.clone()))
}

struct Idle {
    conn: PgConn,
    since: Instant,
}

/// The connections to one connection string.
pub struct Pool {
    config: Config,
    /// Also used to cancel a statement, as libpq does.
    tls: MakeRustlsConnect,
    label: String,
    max_connections: usize,
    statement_cache: usize,
    checkout_timeout: Duration,
    idle_check_after: Duration,
    /// Most recently returned last, so a warm connection is reused first.
    idle: Mutex<Vec<Idle>>,
    /// One per checked-out connection.
    permits: Arc<Semaphore>,
    /// Evicted from the registry: connections close as they come back.
    retired: AtomicBool,
}

impl Pool {
    async fn checkout(self: Arc<Self>, deadline: Instant) -> Result<Checkout, Error> {
        let wait_until = deadline.min(Instant::now() + self.checkout_timeout);
        let permit =
            match tokio::time::timeout_at(wait_until.into(), self.permits.clone().acquire_owned())
                .await
            {
                Ok(Ok(permit)) => permit,
                _ => {
                    return Err(Error::ConnectionFailed(format!(
                        "too many connections: all {} connections of the pool are in use",
                        self.max_connections
                    )));
                }
            };
        let conn = match self.take_idle().await {
            Some(conn) => conn,
            None => self.fresh_connection(deadline).await?,
        };
        Ok(Checkout {
            conn: Some(conn),
            origin: Some((self, permit)),
        })
    }

    /// The most recently used live idle connection, if any.
    async fn take_idle(&self) -> Option<PgConn> {
        loop {
            let Idle { conn, since } = self.idle.lock().pop()?;
            if conn.is_closed() {
                continue;
            }
            if since.elapsed() >= self.idle_check_after {
                let check = conn.client().check_connection();
                match tokio::time::timeout(Duration::from_secs(2), check).await {
                    Ok(Ok(())) => {}
                    _ => continue,
                }
            }
            return Some(conn);
        }
    }

    /// A new connection: for a checkout with none idle, or replacing one
    /// that was lost.
    pub(super) async fn fresh_connection(&self, deadline: Instant) -> Result<PgConn, Error> {
        connect(
            &self.config,
            &self.tls,
            &self.label,
            self.statement_cache,
            deadline,
        )
        .await
    }

    fn retire(&self) {
        self.retired.store(true, Ordering::Relaxed);
        self.idle.lock().clear();
    }

    fn put_idle(&self, conn: PgConn) {
        if self.retired.load(Ordering::Relaxed) {
            return;
        }
        let mut idle = self.idle.lock();
        if idle.len() < self.max_connections {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }

    /// Takes a connection back: clean ones straight to the idle list; ones
    /// left in a transaction or with session state are reset first (holding
    /// their slot); lost ones, or ones abandoned mid-statement, are closed.
    fn give_back(self: Arc<Self>, mut conn: PgConn, permit: OwnedSemaphorePermit) {
        if conn.abandoned() {
            conn.cancel_running_statement();
            return;
        }
        if conn.is_lost() || conn.is_closed() {
            return;
        }
        if !conn.needs_reset() {
            self.put_idle(conn);
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(Duration::from_secs(5), conn.reset()).await {
                Ok(Ok(())) => self.put_idle(conn),
                _ => tracing::debug!(pool = %self.label, "could not reset a Postgres connection; closed it"),
            }
        });
    }
}

/// A connection held by a guest's `connection` resource; back to its pool
/// (or closed, in naive mode) when the guest drops it or the instance ends.
pub struct Checkout {
    conn: Option<PgConn>,
    origin: Option<(Arc<Pool>, OwnedSemaphorePermit)>,
}

impl Checkout {
    pub fn conn(&mut self) -> &mut PgConn {
        self.conn
            .as_mut()
            .expect("a checkout holds its connection until dropped")
    }

    /// Replaces a connection that was lost while the guest held it, when
    /// nothing goes with it (no transaction or session state); pooled
    /// connections only. Otherwise the next statement reports the loss.
    pub async fn replace_if_lost(&mut self, deadline: Instant) -> Result<(), Error> {
        let conn = self.conn();
        let dead = conn.is_closed() || conn.is_lost() || conn.abandoned();
        if !dead || conn.has_session_state() {
            return Ok(());
        }
        let Some((pool, _)) = &self.origin else {
            return Ok(());
        };
        let fresh = pool.fresh_connection(deadline).await?;
        if let Some(old) = self.conn.replace(fresh)
            && old.abandoned()
        {
            old.cancel_running_statement();
        }
        Ok(())
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        match self.origin.take() {
            Some((pool, permit)) => pool.give_back(conn, permit),
            None => {
                if conn.abandoned() {
                    conn.cancel_running_statement();
                }
            }
        }
    }
}
