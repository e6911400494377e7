//! A bounded load for the fault tests: a few workers send requests at a
//! paced rate while a fault happens, each answer is kept with what the
//! request was, and the load always ends by itself (at its time limit if the
//! test never stops it), so a fault that hangs requests cannot hang the test.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::api::Answer;

/// What one request of the load got.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What the request was (`"upload"`, `"me"`, ...), as the test named it.
    pub label: &'static str,
    /// The status, or `None` if no answer came (connection refused or cut).
    pub status: Option<u16>,
    /// The answer's `Content-Type`, or the transport error.
    pub detail: String,
    pub retry_after: bool,
    /// For a write the server acknowledged: what identifies it (an id, a
    /// name), so the test can look for it afterwards.
    pub acknowledged: Option<String>,
    /// When the answer (or the error) came.
    pub at: Instant,
}

impl Outcome {
    pub fn of(label: &'static str, answer: &Answer) -> Outcome {
        Outcome {
            label,
            status: Some(answer.status.as_u16()),
            detail: answer.header("content-type").unwrap_or_default().to_owned(),
            retry_after: answer.header("retry-after").is_some(),
            acknowledged: None,
            at: Instant::now(),
        }
    }

    /// An answer, or the transport error that came instead.
    pub fn of_result(label: &'static str, result: &Result<Answer, String>) -> Outcome {
        match result {
            Ok(answer) => Outcome::of(label, answer),
            Err(error) => Outcome {
                label,
                status: None,
                detail: error.clone(),
                retry_after: false,
                acknowledged: None,
                at: Instant::now(),
            },
        }
    }

    /// Marks a write the server acknowledged, identified by `id`.
    pub fn acknowledging(mut self, id: impl Into<String>) -> Outcome {
        self.acknowledged = Some(id.into());
        self
    }

    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// A refusal a client can act on: 503 (or 429) as problem+json with
    /// `Retry-After`.
    pub fn is_retryable_problem(&self) -> bool {
        matches!(self.status, Some(503 | 429))
            && self.detail == "application/problem+json"
            && self.retry_after
    }
}

/// A running load; [`Load::finish`] stops it and returns what it got.
pub struct Load {
    stop: Arc<AtomicBool>,
    workers: Vec<tokio::task::JoinHandle<Vec<Outcome>>>,
}

impl Load {
    /// `workers` tasks share `rate` requests a second between them (each
    /// waits for its answer before its next turn, so a slow server lowers
    /// the rate instead of piling up requests); `step(n)` sends the `n`th
    /// request. Ends at `limit` if not finished before.
    pub fn start<F, Fut>(workers: usize, rate: u32, limit: Duration, step: F) -> Load
    where
        F: Fn(u64) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let next = Arc::new(AtomicU64::new(0));
        let step = Arc::new(step);
        let until = Instant::now() + limit;
        let period = Duration::from_secs_f64(workers as f64 / f64::from(rate.max(1)));
        let workers = (0..workers)
            .map(|_| {
                let (stop, next, step) = (stop.clone(), next.clone(), step.clone());
                tokio::spawn(async move {
                    let mut outcomes = Vec::new();
                    let mut ticks = tokio::time::interval(period);
                    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                        ticks.tick().await;
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        outcomes.push(step(n).await);
                    }
                    outcomes
                })
            })
            .collect();
        Load { stop, workers }
    }

    /// Stops the load and waits for the requests in flight.
    pub async fn finish(self) -> Report {
        self.stop.store(true, Ordering::Relaxed);
        let mut outcomes = Vec::new();
        for worker in self.workers {
            outcomes.extend(worker.await.expect("a load worker panicked"));
        }
        Report { outcomes }
    }
}

/// Every outcome of a load.
#[derive(Debug)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
}

impl Report {
    pub fn of<'a>(&'a self, label: &'a str) -> impl Iterator<Item = &'a Outcome> + 'a {
        self.outcomes.iter().filter(move |o| o.label == label)
    }

    pub fn succeeded(&self, label: &str) -> usize {
        self.of(label).filter(|o| o.succeeded()).count()
    }

    pub fn failed<'a>(&'a self, label: &'a str) -> Vec<&'a Outcome> {
        self.of(label).filter(|o| !o.succeeded()).collect()
    }

    /// What the server acknowledged of `label`'s writes.
    pub fn acknowledged(&self, label: &str) -> Vec<String> {
        self.of(label)
            .filter_map(|o| o.acknowledged.clone())
            .collect()
    }

    /// Per label: how many requests, and their statuses with counts.
    pub fn summary(&self) -> String {
        let mut labels: Vec<&str> = self.outcomes.iter().map(|o| o.label).collect();
        labels.sort_unstable();
        labels.dedup();
        let mut out = String::new();
        for label in labels {
            let mut statuses: Vec<String> = self
                .of(label)
                .map(|o| o.status.map_or("no answer".to_owned(), |s| s.to_string()))
                .collect();
            statuses.sort_unstable();
            let mut counts: Vec<(String, usize)> = Vec::new();
            for status in statuses {
                match counts.last_mut() {
                    Some((last, n)) if *last == status => *n += 1,
                    _ => counts.push((status, 1)),
                }
            }
            let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{s}×{n}")).collect();
            out.push_str(&format!("{label}: {}\n", counts.join(", ")));
        }
        out
    }

    /// Panics (with the summary) unless every failure of `label` is what
    /// `allowed` accepts; `what` says what was expected.
    #[track_caller]
    pub fn assert_failures(&self, label: &str, what: &str, allowed: impl Fn(&Outcome) -> bool) {
        let bad: Vec<&Outcome> = self
            .failed(label)
            .into_iter()
            .filter(|o| !allowed(o))
            .collect();
        assert!(
            bad.is_empty(),
            "{label}: {} failure(s) that are not {what}, e.g. {:?}\n{}",
            bad.len(),
            bad.first(),
            self.summary()
        );
    }
}
