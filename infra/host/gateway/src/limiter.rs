//! One rate-limit zone, with the semantics of nginx's `limit_req ... nodelay`.
//!
//! Per client the zone keeps `excess` (in thousandths of a request) and the
//! millisecond `last` admitted. A request at `now` computes
//! `excess' = max(0, excess - rate * (now - last) / 1000 + 1000)`
//! (`rate` in thousandths of a request per second, integer arithmetic as in
//! nginx); it is refused when `excess' > burst * 1000`, and a refused request
//! changes nothing. A client seen for the first time starts at 0. So 1 + burst
//! requests pass at once, then one per 1/rate seconds.
//!
//! State is bounded: `capacity` clients at most, split over shards (each its
//! own lock, chosen by a keyed hash of the address). A new client first frees
//! up to two states that have decayed to nothing (forgetting those changes no
//! decision); when the shard is still full, its least recently seen client is
//! forgotten, as nginx does when its zone is full.

use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

// Built without its `hashbrown` feature, `lru` indexes with std's HashMap and
// its keyed SipHash: client addresses are chosen by whoever sends requests.
use lru::LruCache;

use crate::config::ZoneConfig;
use crate::units::Rate;

/// One client's state. `excess` in thousandths of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ClientState {
    excess: u64,
    last_ms: u64,
}

/// The decision of one zone for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Refused; one request would be admitted after `retry_after_secs`
    /// (rounded up, at least 1) if none other came first.
    Limited {
        retry_after_secs: u64,
    },
}

/// Zones remembering fewer clients than this use a single shard.
const MIN_SHARD_CAPACITY: usize = 1024;
const MAX_SHARDS: usize = 16;

/// The state and arithmetic of one rate-limit zone. Thread-safe.
pub struct ZoneLimiter {
    /// Thousandths of a request per second (nginx's truncation: 5r/m is 83).
    rate: u64,
    /// `burst * 1000`.
    burst: u64,
    hasher: RandomState,
    shards: Box<[Mutex<LruCache<IpAddr, ClientState>>]>,
}

impl ZoneLimiter {
    /// A limiter for `zone`, remembering `zone.capacity()` clients.
    pub fn new(zone: &ZoneConfig) -> Self {
        ZoneLimiter::with_capacity(zone.rate, zone.burst, zone.capacity())
    }

    /// A limiter remembering at most `capacity` clients (at least 1).
    pub fn with_capacity(rate: Rate, burst: u32, capacity: usize) -> Self {
        // The largest power of two that leaves each shard MIN_SHARD_CAPACITY clients.
        let shards = (capacity / MIN_SHARD_CAPACITY).clamp(1, MAX_SHARDS);
        ZoneLimiter::with_shards(rate, burst, capacity, 1 << shards.ilog2())
    }

    /// `shards` must be a power of two; each holds `capacity / shards` clients.
    pub(crate) fn with_shards(rate: Rate, burst: u32, capacity: usize, shards: usize) -> Self {
        assert!(
            shards.is_power_of_two(),
            "shard count must be a power of two"
        );
        let per_shard = NonZeroUsize::new(capacity / shards).unwrap_or(NonZeroUsize::MIN);
        ZoneLimiter {
            rate: rate.millis_per_second(),
            burst: u64::from(burst) * 1000,
            hasher: RandomState::new(),
            shards: (0..shards)
                // `sparse`: memory grows with the clients seen, up to the bound.
                .map(|_| Mutex::new(LruCache::sparse(per_shard)))
                .collect(),
        }
    }

    /// Decides one request of `client` at `now_ms` (any monotonic millisecond
    /// clock; a time before the client's last admitted request counts as no time passing).
    pub fn check(&self, client: IpAddr, now_ms: u64) -> Verdict {
        let client = client.to_canonical();
        let shard = self.hasher.hash_one(client) as usize & (self.shards.len() - 1);
        let mut clients = self.shards[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);

        if let Some(state) = clients.get_mut(&client) {
            let excess = self.excess_at(state, now_ms);
            if excess > self.burst {
                return Verdict::Limited {
                    retry_after_secs: self.retry_after_secs(state, now_ms),
                };
            }
            *state = ClientState {
                excess,
                last_ms: now_ms.max(state.last_ms),
            };
            return Verdict::Allowed;
        }

        // A new client: like nginx, first drop up to two forgotten-worthy
        // states from the old end; then, if the shard is still full, `push`
        // evicts the least recently seen.
        for _ in 0..2 {
            match clients.peek_lru() {
                Some((_, state)) if self.excess_at(state, now_ms) == 0 => {
                    clients.pop_lru();
                }
                _ => break,
            }
        }
        clients.push(
            client,
            ClientState {
                excess: 0,
                last_ms: now_ms,
            },
        );
        Verdict::Allowed
    }

    /// The excess a request at `now_ms` would bring the client to. 0 means
    /// the state is as good as forgotten: a new client starts the same way.
    fn excess_at(&self, state: &ClientState, now_ms: u64) -> u64 {
        let elapsed = now_ms.saturating_sub(state.last_ms);
        // Saturation only happens when the decay dwarfs any excess: exact.
        let decay = self.rate.saturating_mul(elapsed) / 1000;
        (state.excess + 1000).saturating_sub(decay)
    }

    /// Whole seconds (rounded up) until a request of a refused client would pass.
    fn retry_after_secs(&self, state: &ClientState, now_ms: u64) -> u64 {
        // Passing needs rate * t / 1000 (truncated) >= excess + 1000 - burst,
        // with t the time since the last admitted request.
        let needed = state.excess + 1000 - self.burst;
        let after_last = (needed * 1000).div_ceil(self.rate);
        let wait_ms = (state.last_ms + after_last).saturating_sub(now_ms.max(state.last_ms));
        wait_ms.div_ceil(1000).max(1)
    }

    /// Clients remembered now (locks each shard in turn: for tests and metrics).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most clients ever remembered at once.
    pub fn capacity(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                shard
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .cap()
                    .get()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests;
