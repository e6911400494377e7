//! Admission control: at most N requests run guests at once; a few more may
//! wait briefly for a slot, and the rest are turned away with 503 at once.
//! Overload therefore costs clients a retry, never the host its memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct Admission {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    max_wait: Duration,
}

impl Admission {
    pub fn new(max_running: usize, max_waiting: usize, max_wait: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max_running)),
            waiting: AtomicUsize::new(0),
            max_waiting,
            max_wait,
        }
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
