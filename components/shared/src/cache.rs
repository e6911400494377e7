//! A read-through cache over Spin's key-value store, as the classic stack's
//! `@cached(prefix, ttl)` decorator: [`Cache::get_or_load`] and
//! [`Cache::invalidate`].
//!
//! Spin's key-value interface has no expiry, so each entry carries its own
//! (`{"expires_at": <unix seconds>, "value": ...}`) and an expired or
//! unreadable entry is a miss that the fresh value replaces. The cache is an
//! optimisation, never a dependency: when the store cannot be opened or
//! fails, reads go to the loader and writes are skipped. The guest does not
//! log those failures (it would do so on every request); the host logs the
//! backend going away once.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use spin_sdk::key_value::Store;

use crate::clock::now_unix;

pub struct Cache {
    store: Option<Store>,
}

#[derive(Serialize, Deserialize)]
struct Entry<T> {
    expires_at: u64,
    value: T,
}

impl Cache {
    /// The app's `default` store, or a cache that always misses if it
    /// cannot be opened.
    pub fn open() -> Self {
        Cache {
            store: Store::open_default().ok(),
        }
    }

    /// A cache that always misses (caching switched off).
    pub fn disabled() -> Self {
        Cache { store: None }
    }

    /// The value under `key` if present and fresh; otherwise `load()`'s, kept
    /// for `ttl_seconds` when it is `Some`. `ttl_seconds == 0` bypasses the
    /// store.
    pub fn get_or_load<T, E>(
        &self,
        key: &str,
        ttl_seconds: u64,
        load: impl FnOnce() -> Result<Option<T>, E>,
    ) -> Result<Option<T>, E>
    where
        T: Serialize + DeserializeOwned,
    {
        let store = match &self.store {
            Some(store) if ttl_seconds > 0 => store,
            _ => return load(),
        };
        let now = now_unix();
        if let Ok(Some(bytes)) = store.get(key)
            && let Some(value) = decode_fresh(&bytes, now)
        {
            return Ok(Some(value));
        }
        let loaded = load()?;
        if let Some(value) = &loaded
            && let Some(bytes) = encode(value, now + ttl_seconds)
        {
            let _ = store.set(key, &bytes);
        }
        Ok(loaded)
    }

    /// Removes `key`; `false` if the store could not be asked (the entry, if
    /// any, then lives until its own expiry).
    pub fn invalidate(&self, key: &str) -> bool {
        match &self.store {
            Some(store) => store.delete(key).is_ok(),
            None => true,
        }
    }
}

fn encode<T: Serialize>(value: &T, expires_at: u64) -> Option<Vec<u8>> {
    serde_json::to_vec(&Entry { expires_at, value }).ok()
}

/// The entry's value if it decodes and has not expired at `now`.
fn decode_fresh<T: DeserializeOwned>(bytes: &[u8], now: u64) -> Option<T> {
    let entry: Entry<T> = serde_json::from_slice(bytes).ok()?;
    (entry.expires_at > now).then_some(entry.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_fresh_until_their_expiry() {
        let bytes = encode(&"ada".to_owned(), 100).unwrap();
        assert_eq!(decode_fresh::<String>(&bytes, 99).as_deref(), Some("ada"));
        assert_eq!(decode_fresh::<String>(&bytes, 100), None);
    }

    #[test]
    fn unreadable_entries_are_misses() {
        assert_eq!(decode_fresh::<String>(b"not json", 0), None);
        let other_shape = encode(&42u32, 100).unwrap();
        assert_eq!(decode_fresh::<String>(&other_shape, 0), None);
    }

    #[test]
    fn a_disabled_cache_always_loads() {
        let cache = Cache::disabled();
        let mut loads = 0;
        for _ in 0..2 {
            let value: Result<Option<u8>, ()> = cache.get_or_load("k", 600, || {
                loads += 1;
                Ok(Some(7))
            });
            assert_eq!(value, Ok(Some(7)));
        }
        assert_eq!(loads, 2);
        assert!(cache.invalidate("k"));
    }
}
