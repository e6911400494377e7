//! The stream's Spin variables.

use std::time::Duration;

use spinstack_shared::db::Db;
use spinstack_shared::{Problem, chance, config, events};

/// Comment lines this often keep idle proxies and clients from timing the
/// stream out (nginx's and most load balancers' idle timeouts are 60 s).
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// What the client waits before reconnecting (`retry:`), in milliseconds.
pub const RETRY_MS: u64 = 3000;

pub struct Settings {
    /// How long one stream stays open (`events_stream_seconds`, 60). Longer
    /// than the host's 30 s shutdown drain: until the host ends streams
    /// when it drains, a deploy cuts the open ones (the client resumes).
    pub lifetime: Duration,
    /// How often the outbox is read (`events_poll_ms`, 500).
    pub poll: Duration,
    /// One new stream in this many sweeps old events (`housekeeping_every`).
    sweep_every: u32,
}

impl Settings {
    pub fn from_variables() -> Result<Self, Problem> {
        Ok(Settings {
            lifetime: Duration::from_secs(config::parsed("events_stream_seconds", 60)?),
            poll: Duration::from_millis(config::parsed::<u64>("events_poll_ms", 500)?.max(50)),
            sweep_every: config::parsed("housekeeping_every", 100)?,
        })
    }

    /// Deletes events past their retention on about one stream in
    /// `housekeeping_every` (auth's logins and logouts do it too): the
    /// outbox is written by every component, so it is swept where it is read.
    /// A failure is logged and never refuses the stream.
    pub fn maybe_sweep(&self, db: &Db) {
        if !chance::one_in(self.sweep_every) {
            return;
        }
        match events::sweep(db) {
            Ok(deleted) => eprintln!("events: retention sweep removed {deleted} events"),
            Err(problem) => eprintln!("events: retention sweep failed: {}", problem.detail),
        }
    }
}
