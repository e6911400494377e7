//! The prepared statements of one connection, by SQL text, least recently
//! used first out when full, so a repeated statement costs one round trip
//! (Bind/Execute) instead of two (Parse/Describe, then Bind/Execute) and a
//! guest that builds SQL strings cannot grow the cache without bound.
//! Dropping a `Statement` closes it on the server.

use std::num::NonZeroUsize;

use lru::LruCache;
use tokio_postgres::Statement;

/// `None` when the cache is off (capacity 0, the naive baseline).
pub struct StatementCache(Option<LruCache<String, Statement>>);

impl StatementCache {
    pub fn new(capacity: usize) -> Self {
        Self(NonZeroUsize::new(capacity).map(LruCache::new))
    }

    pub fn get(&mut self, sql: &str) -> Option<Statement> {
        self.0.as_mut()?.get(sql).cloned()
    }

    pub fn insert(&mut self, sql: &str, statement: Statement) {
        if let Some(cache) = &mut self.0 {
            cache.put(sql.to_owned(), statement);
        }
    }

    pub fn remove(&mut self, sql: &str) {
        if let Some(cache) = &mut self.0 {
            cache.pop(sql);
        }
    }

    pub fn clear(&mut self) {
        if let Some(cache) = &mut self.0 {
            cache.clear();
        }
    }

    #[cfg(test)]
    pub fn count(&self) -> usize {
        self.0.as_ref().map_or(0, LruCache::len)
    }
}
