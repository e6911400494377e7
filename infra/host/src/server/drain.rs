//! Graceful shutdown (issue 19). On the first SIGTERM or SIGINT `serve`
//! stops accepting (the listener closes, so new connections are refused),
//! then [`finish`] drains: hyper-util's `GracefulShutdown` tells every
//! connection to finish what it has (HTTP/1.1 closes idle keep-alive
//! connections at once and the others after their response; HTTP/2 sends
//! GOAWAY and finishes the open streams), responses sent meanwhile carry
//! `Connection: close` on HTTP/1.1, and `/health` answers 503 so a balancer
//! that still reaches us stops sending. Event streams end (cleanly) as the
//! drain begins, so their clients reconnect elsewhere at once (`in_flight`).
//! What is still running when the
//! timeout passes, or at a second signal, is cut, and each cut request is
//! logged.

mod health;
mod in_flight;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use hyper_util::server::graceful::GracefulShutdown;
use tokio_util::sync::CancellationToken;

pub use health::HealthWhileDraining;
pub use in_flight::{InFlight, track_response};

/// `spinstack up --shutdown-timeout`'s default: Kubernetes' default grace
/// period, after which it sends SIGKILL anyway.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// After a cut, how long the cut requests get to be dropped (and logged):
/// HTTP/2 streams run in tasks of their own, which end a moment after
/// their connection.
const CUT_GRACE: Duration = Duration::from_secs(2);

/// What ends `serve`.
pub struct Shutdown {
    /// Resolves at the first signal: stop accepting, drain.
    pub begin: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// Resolves at the second: cut whatever is still running.
    pub now: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// How long the drain may take before what is left is cut.
    pub timeout: Duration,
}

/// How `serve` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Every request in flight finished.
    Drained,
    /// The timeout or a second signal cut this many requests.
    Cut { requests: usize },
}

/// In a request's extensions when it arrived during the drain.
#[derive(Clone, Copy, Debug)]
pub struct Draining;

/// The drain's state, shared by the accept loop, every connection and
/// every request.
#[derive(Default)]
pub struct DrainState {
    /// Read on every request, so an atomic rather than the token's mutex.
    draining: AtomicBool,
    cut: AtomicBool,
    in_flight: AtomicUsize,
    cut_requests: AtomicUsize,
    /// Cancelled when the drain begins: TLS handshakes still under way
    /// are dropped (they carry no request yet).
    begun: CancellationToken,
    /// Cancelled at the cut: every connection still open is dropped.
    ended: CancellationToken,
}

impl DrainState {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    fn is_cut(&self) -> bool {
        self.cut.load(Ordering::Relaxed)
    }

    /// Resolves when the drain begins.
    pub async fn begun(&self) {
        self.begun.cancelled().await
    }

    /// Resolves at the cut.
    pub async fn ended(&self) {
        self.ended.cancelled().await
    }

    fn begin(&self) {
        self.draining.store(true, Ordering::Relaxed);
        self.begun.cancel();
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::Relaxed);
        self.ended.cancel();
    }
}

/// Drains the connections `graceful` watches, once the listener is closed.
pub async fn finish(
    state: &DrainState,
    graceful: GracefulShutdown,
    shutdown_now: impl Future<Output = ()>,
    timeout: Duration,
) -> Stopped {
    state.begin();
    tracing::info!(
        connections = graceful.count(),
        requests = state.in_flight.load(Ordering::Relaxed),
        "shutting down: no new connections; waiting up to {} s for the requests in flight \
         (a second signal ends at once)",
        timeout.as_secs_f64()
    );
    let drained = graceful.shutdown();
    tokio::pin!(drained);
    let why = tokio::select! {
        () = &mut drained => {
            tracing::info!("drained: every request in flight finished");
            return Stopped::Drained;
        }
        () = tokio::time::sleep(timeout) => "the shutdown timeout passed",
        () = shutdown_now => "a second signal came",
    };
    state.cut();
    // The connections end at once; their requests' guards log as they go.
    let _ = tokio::time::timeout(CUT_GRACE, async {
        drained.await;
        while state.in_flight.load(Ordering::Relaxed) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let requests = state.cut_requests.load(Ordering::Relaxed);
    tracing::warn!("shutting down: {why}; {requests} request(s) still running were cut");
    Stopped::Cut { requests }
}
