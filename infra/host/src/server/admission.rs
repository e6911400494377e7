//! Admission control: at most N requests run guests at once; a few more may
//! wait briefly for a slot, and the rest are turned away with 503 at once.
//! Overload therefore costs clients a retry, never the host its memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::Request;
use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::routing::Routed;
use crate::app::App;
use crate::gateway::access_log::ServedBy;
use crate::host_responses;
use crate::metrics::notes::AdmissionRefused;
use crate::step::{HostResponse, Next, Step};

/// The step that admits a routed request, or answers 503 with Retry-After.
/// Unrouted requests (404s) never take a slot.
pub struct AdmissionControl(pub Arc<App>);

/// The request's slot, in its extensions, for the component to hold until
/// its instance is gone (including while it streams its response body).
#[derive(Clone)]
pub struct Slot(Arc<Mutex<Option<OwnedSemaphorePermit>>>);

impl Slot {
    pub fn take(&self) -> Option<OwnedSemaphorePermit> {
        self.0.lock().take()
    }
}

impl<B: Send + 'static> Step<B> for AdmissionControl {
    type NextBody = B;

    async fn run<N: Next<B>>(self: Arc<Self>, mut request: Request<B>, next: N) -> HostResponse {
        let Some(Routed(component)) = request.extensions().get::<Routed>().cloned() else {
            return next.run(request).await;
        };
        let Some(permit) = self.0.admission.admit().await else {
            let mut response =
                host_responses::unavailable("The server is at capacity; retry shortly.", 1);
            response
                .extensions_mut()
                .insert(ServedBy(component.id.clone()));
            response.extensions_mut().insert(AdmissionRefused);
            return response;
        };
        request
            .extensions_mut()
            .insert(Slot(Arc::new(Mutex::new(Some(permit)))));
        next.run(request).await
    }
}

pub struct Admission {
    slots: Arc<Semaphore>,
    capacity: usize,
    waiting: AtomicUsize,
    max_waiting: usize,
    max_wait: Duration,
}

impl Admission {
    pub fn new(max_running: usize, max_waiting: usize, max_wait: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max_running)),
            capacity: max_running,
            waiting: AtomicUsize::new(0),
            max_waiting,
            max_wait,
        }
    }

    /// Requests that may run at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Slots held now.
    pub fn in_use(&self) -> usize {
        self.capacity.saturating_sub(self.slots.available_permits())
    }

    /// Requests waiting for a slot now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// A slot, or None when the queue is full or the wait ran out.
    pub async fn admit(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Some(permit);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let permit = tokio::time::timeout(self.max_wait, self.slots.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        permit.ok().and_then(Result::ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_queue_is_refused_and_slots_come_back() {
        let admission = Arc::new(Admission::new(1, 1, Duration::from_millis(200)));
        let first = admission.admit().await.expect("a free slot");
        let waiter = {
            let admission = admission.clone();
            tokio::spawn(async move { admission.admit().await.is_some() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        // One running, one waiting: a third is refused without waiting.
        assert!(admission.admit().await.is_none());
        assert_eq!((admission.in_use(), admission.waiting()), (1, 1));
        drop(first);
        assert!(waiter.await.unwrap(), "the waiter gets the freed slot");
    }

    #[tokio::test]
    async fn a_wait_times_out() {
        let admission = Admission::new(1, 4, Duration::from_millis(30));
        let _held = admission.admit().await.unwrap();
        assert!(admission.admit().await.is_none());
    }
}
