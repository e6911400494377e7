//! What the inner steps note in a response's extensions for the metrics
//! step to count (as `ServedBy` and `RateLimitNote` do for the access log):
//! a host-made 413 or 503 looks like a component's own otherwise.

use std::sync::Arc;

/// The manifest route that matched (routing).
#[derive(Clone, Debug)]
pub struct MatchedRoute(pub Arc<str>);

/// The gateway refused the body as over its route's limit (413).
#[derive(Clone, Copy, Debug)]
pub struct BodyLimitRefused;

/// Admission found no slot (503).
#[derive(Clone, Copy, Debug)]
pub struct AdmissionRefused;

/// The component failed; the kind is one of `failure_kind`'s.
#[derive(Clone, Copy, Debug)]
pub struct GuestFailed(pub &'static str);
