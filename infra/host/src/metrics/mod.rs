//! Prometheus metrics: what the request path, the instances and admission
//! report, in one registry that the admin listener serves (`admin.rs`,
//! `GET /metrics`). They are recorded only when an admin listener is
//! configured (`HostConfig::metrics`): nobody could read them otherwise.
//! Requests are observed by the access-log step (`request_observation.rs`),
//! so `--gateway off`, the benchmarks' baseline, has neither.
//!
//! Names follow OpenTelemetry's HTTP semantic conventions where they fit
//! (`http_server_request_duration_seconds` is `http.server.request.duration`);
//! spinstack's own are `spinstack_*`. Every label value is one the host chose
//! from a bounded set (component ids and routes from the manifest, zone names
//! from the gateway policy, methods, status classes, failure kinds), never
//! anything a client sent: no path, header, query or body reaches a label.
//!
//! The crate is the Prometheus project's own Rust client (prometheus-client):
//! families of labelled metrics behind one registry, OpenMetrics text out.

pub mod admin;
pub mod notes;
pub mod request_observation;

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// Seconds. OpenTelemetry's advice for HTTP durations, with finer buckets
/// below 5 ms (most of this host's requests finish there) and 30 s (the
/// default request deadline) at the top.
const DURATION_BUCKETS: [f64; 17] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
    10.0, 30.0,
];

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The component that answered, or `none` (the host answered: 404,
    /// well-known paths, the store proxy, a refusal before routing).
    pub component: String,
    /// The manifest's route that matched, or `none`.
    pub route: String,
    /// Chosen from a fixed set, so no per-request copy.
    pub method: &'static str,
    /// `2xx` … `5xx`.
    pub status_class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ComponentLabels {
    pub component: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ZoneLabels {
    pub zone: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    pub component: String,
    /// `trap` (a guest over its memory cap traps too: its `memory.grow`
    /// fails), `deadline`, `no_instance` (the instance pool was full).
    pub kind: String,
}

/// The kinds of [`FailureLabels::kind`].
pub mod failure_kind {
    pub const TRAP: &str = "trap";
    pub const DEADLINE: &str = "deadline";
    pub const NO_INSTANCE: &str = "no_instance";
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Histogram>,
    component_time: Family<ComponentLabels, Histogram>,
    instantiation: Family<ComponentLabels, Histogram>,
    rate_limited: Family<ZoneLabels, Counter>,
    body_too_large: Counter,
    admission_refused: Counter,
    guest_failures: Family<FailureLabels, Counter>,
    /// Sampled when scraped ([`Sample`]).
    slots_in_use: Gauge,
    slots_capacity: Gauge,
    admission_waiting: Gauge,
}

/// What the admin listener reads from the app just before it encodes.
pub struct Sample {
    pub slots_in_use: usize,
    pub slots_capacity: usize,
    pub admission_waiting: usize,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Histogram>::new_with_constructor(
            duration_histogram as fn() -> Histogram,
        );
        registry.register_with_unit(
            "http_server_request_duration",
            "Requests from their head to the last byte of the response, by component, route, method and status class",
            Unit::Seconds,
            requests.clone(),
        );
        let component_time = Family::<ComponentLabels, Histogram>::new_with_constructor(
            duration_histogram as fn() -> Histogram,
        );
        registry.register_with_unit(
            "spinstack_component_duration",
            "Time in the component: a fresh instance until its response head",
            Unit::Seconds,
            component_time.clone(),
        );
        let instantiation = Family::<ComponentLabels, Histogram>::new_with_constructor(
            duration_histogram as fn() -> Histogram,
        );
        registry.register_with_unit(
            "spinstack_instantiation_duration",
            "Instantiating a component for one request (pooling, copy-on-write)",
            Unit::Seconds,
            instantiation.clone(),
        );
        let rate_limited = Family::<ZoneLabels, Counter>::default();
        registry.register(
            "spinstack_rate_limited_requests",
            "Requests refused with 429 by a gateway rate-limit zone",
            rate_limited.clone(),
        );
        let body_too_large = Counter::default();
        registry.register(
            "spinstack_body_limit_refusals",
            "Requests refused with 413: the body is over the route's limit",
            body_too_large.clone(),
        );
        let admission_refused = Counter::default();
        registry.register(
            "spinstack_admission_refusals",
            "Requests refused with 503: every slot busy and the queue full, or the wait ran out",
            admission_refused.clone(),
        );
        let guest_failures = Family::<FailureLabels, Counter>::default();
        registry.register(
            "spinstack_guest_failures",
            "Requests a component failed: a trap (500), the deadline (504), no free instance (503)",
            guest_failures.clone(),
        );
        let slots_in_use = Gauge::default();
        registry.register(
            "spinstack_instance_slots_in_use",
            "Requests running guests now (each holds an instance until its body is sent)",
            slots_in_use.clone(),
        );
        let slots_capacity = Gauge::default();
        registry.register(
            "spinstack_instance_slots",
            "Requests that may run guests at once (--max-concurrent)",
            slots_capacity.clone(),
        );
        let admission_waiting = Gauge::default();
        registry.register(
            "spinstack_admission_queue_length",
            "Requests waiting for a slot now",
            admission_waiting.clone(),
        );
        Self {
            registry,
            requests,
            component_time,
            instantiation,
            rate_limited,
            body_too_large,
            admission_refused,
            guest_failures,
            slots_in_use,
            slots_capacity,
            admission_waiting,
        }
    }

    pub fn request(&self, labels: &RequestLabels, duration: Duration) {
        self.requests
            .get_or_create(labels)
            .observe(duration.as_secs_f64());
    }

    pub fn component_time(&self, component: &str, duration: Duration) {
        self.component_time
            .get_or_create(&ComponentLabels {
                component: component.to_owned(),
            })
            .observe(duration.as_secs_f64());
    }

    pub fn instantiation(&self, component: &str, duration: Duration) {
        self.instantiation
            .get_or_create(&ComponentLabels {
                component: component.to_owned(),
            })
            .observe(duration.as_secs_f64());
    }

    pub fn rate_limited(&self, zone: &str) {
        self.rate_limited
            .get_or_create(&ZoneLabels {
                zone: zone.to_owned(),
            })
            .inc();
    }

    pub fn body_too_large(&self) {
        self.body_too_large.inc();
    }

    pub fn admission_refused(&self) {
        self.admission_refused.inc();
    }

    pub fn guest_failure(&self, component: &str, kind: &'static str) {
        self.guest_failures
            .get_or_create(&FailureLabels {
                component: component.to_owned(),
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// The OpenMetrics text of every metric, the gauges set from `sample`.
    pub fn encode(&self, sample: &Sample) -> String {
        self.slots_in_use.set(sample.slots_in_use as i64);
        self.slots_capacity.set(sample.slots_capacity as i64);
        self.admission_waiting.set(sample.admission_waiting as i64);
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
