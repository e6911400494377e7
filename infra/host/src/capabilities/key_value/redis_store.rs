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

    /// `wasi:keyvalue/batch`: one MGET, values in the order of `keys`.
    pub async fn get_many(&self, keys: &[String]) -> redis::RedisResult<Vec<Option<Vec<u8>>>> {
        redis::cmd("MGET")
            .arg(keys)
            .query_async(&mut self.connection().await?)
            .await
    }

    pub async fn set_many(&self, pairs: &[(String, Vec<u8>)]) -> redis::RedisResult<()> {
        self.connection().await?.mset(pairs).await
    }

    pub async fn delete_many(&self, keys: &[String]) -> redis::RedisResult<()> {
        self.connection().await?.del(keys).await
    }

    /// `wasi:keyvalue/atomics.increment`: INCRBY, as Spin's Redis backend
    /// (the value is Redis's decimal integer).
    pub async fn increment(&self, key: &str, delta: i64) -> redis::RedisResult<i64> {
        self.connection().await?.incr(key, delta).await
    }

    /// Sets `key` to `value` if it still holds `expected` (`None`: absent),
    /// in one server-side script, so no other write comes in between; true
    /// when it did.
    pub async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> redis::RedisResult<bool> {
        const SCRIPT: &str = r"
            local current = redis.call('GET', KEYS[1])
            if ARGV[1] == '1' then
                if current == false or current ~= ARGV[2] then return 0 end
            elseif current ~= false then
                return 0
            end
            redis.call('SET', KEYS[1], ARGV[3])
            return 1
        ";
        let swapped: i64 = redis::cmd("EVAL")
            .arg(SCRIPT)
            .arg(1)
            .arg(key)
            .arg(if expected.is_some() { "1" } else { "0" })
            .arg(expected.unwrap_or_default())
            .arg(value)
            .query_async(&mut self.connection().await?)
            .await?;
        Ok(swapped == 1)
    }
}
