//! A key-value store kept in Redis (`type = "redis"` in runtime config), as
//! Spin's redis backend: keys are stored as given, one Redis database per URL.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

pub struct RedisStore {
    client: redis::Client,
    /// Connected on first use, so the host starts even while Redis is still
    /// coming up; the manager reconnects by itself after that.
    connection: OnceCell<ConnectionManager>,
}

/// Bounds every Redis call: a stopped server must fail a request, not hang it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

impl RedisStore {
    pub fn new(url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: OnceCell::new(),
        })
    }

    async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        let manager = self
            .connection
            .get_or_try_init(|| {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(CONNECT_TIMEOUT)
                    .set_response_timeout(RESPONSE_TIMEOUT)
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(self.client.clone(), config)
            })
            .await?;
        Ok(manager.clone())
    }

    pub async fn get(&self, key: &str) -> redis::RedisResult<Option<Vec<u8>>> {
        self.connection().await?.get(key).await
    }

    pub async fn set(&self, key: &str, value: &[u8]) -> redis::RedisResult<()> {
        self.connection().await?.set(key, value).await
    }

    pub async fn delete(&self, key: &str) -> redis::RedisResult<()> {
        self.connection().await?.del(key).await
    }

    pub async fn exists(&self, key: &str) -> redis::RedisResult<bool> {
        self.connection().await?.exists(key).await
    }

    /// All keys, by SCAN rather than KEYS so a large database is not blocked.
    pub async fn keys(&self) -> redis::RedisResult<Vec<String>> {
        let mut connection = self.connection().await?;
        let mut keys = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut connection)
                .await?;
            keys.extend(batch);
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    }
}
