//! A remote backend's outage, handled once: the first failure after a
//! success is logged as a warning and opens the circuit, so for the next
//! second calls fail at once instead of each waiting for the server's
//! timeouts; then one call is let through to probe it. The first success
//! closes the circuit and is logged as the recovery. Components treat the
//! cache as optional and keep answering while it is down: requests must stay
//! fast and the log must not get a line per request.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a failure keeps the circuit open before the next probe.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct Outage {
    /// When the last failure (or probe) happened, while the backend is down.
    down_since_probe: Mutex<Option<Instant>>,
}

impl Outage {
    /// Whether to send a call to the backend now: it is up, or it is time
    /// to probe it (the caller that gets `true` is the probe).
    pub fn allows_call(&self) -> bool {
        let mut state = self
            .down_since_probe
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match *state {
            None => true,
            Some(last) if last.elapsed() >= PROBE_INTERVAL => {
                *state = Some(Instant::now());
                true
            }
            Some(_) => false,
        }
    }

    /// Records a call's `result` for store `label`, logging state changes
    /// only.
    pub fn record<T, E: std::fmt::Display>(&self, label: &str, result: &Result<T, E>) {
        let mut state = self
            .down_since_probe
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match (result, state.is_some()) {
            (Ok(_), true) => {
                *state = None;
                tracing::info!(label, "key-value store reachable again");
            }
            (Err(e), false) => {
                *state = Some(Instant::now());
                tracing::warn!(
                    label,
                    "key-value store unavailable: {e} (not logged again until it recovers)"
                );
            }
            (Err(_), true) => *state = Some(Instant::now()),
            (Ok(_), false) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_opens_the_circuit_until_the_next_probe() {
        let outage = Outage::default();
        assert!(outage.allows_call());
        outage.record::<(), &str>("default", &Err("refused"));
        assert!(!outage.allows_call(), "calls fail fast while down");
        *outage.down_since_probe.lock().unwrap() = Some(Instant::now() - PROBE_INTERVAL);
        assert!(outage.allows_call(), "one probe after the interval");
        assert!(!outage.allows_call(), "only one");
        outage.record::<(), &str>("default", &Ok(()));
        assert!(outage.allows_call());
        assert!(outage.allows_call());
    }
}
