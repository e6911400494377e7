//! What the metrics take from one request: the access-log step (which
//! already waits for each response body to be sent) makes a
//! [`RequestObservation`] from the response and its notes (`notes.rs`) and
//! finishes it with the exchange's duration. Not a step of its own: one
//! more layer on the request path made rustc's code generation for the
//! stack run out of 24 GiB.

use std::sync::Arc;
use std::time::Duration;

use http::Method;

use super::notes::{AdmissionRefused, BodyLimitRefused, GuestFailed, MatchedRoute};
use super::{Metrics, RequestLabels};
use crate::gateway::access_log::{RateLimitNote, ServedBy};
use crate::step::HostResponse;

pub struct RequestObservation {
    metrics: Arc<Metrics>,
    labels: RequestLabels,
}

impl RequestObservation {
    /// Counts what the response's notes say (refusals, failures) and keeps
    /// its labels for [`Self::finish`].
    pub fn new(metrics: &Arc<Metrics>, method: &Method, response: &HostResponse) -> Self {
        let notes = response.extensions();
        let component = notes
            .get::<ServedBy>()
            .map_or("none", |ServedBy(id)| &**id)
            .to_owned();
        if let Some(RateLimitNote(note)) = notes.get::<RateLimitNote>()
            && let Some(zone) = note.strip_prefix("limited:")
        {
            metrics.rate_limited(zone);
        }
        if notes.get::<BodyLimitRefused>().is_some() {
            metrics.body_too_large();
        }
        if notes.get::<AdmissionRefused>().is_some() {
            metrics.admission_refused();
        }
        if let Some(GuestFailed(kind)) = notes.get::<GuestFailed>() {
            metrics.guest_failure(&component, kind);
        }
        let labels = RequestLabels {
            route: notes
                .get::<MatchedRoute>()
                .map_or("none", |MatchedRoute(route)| &**route)
                .to_owned(),
            component,
            method: method_label(method),
            status_class: status_class(response.status().as_u16()),
        };
        Self {
            metrics: metrics.clone(),
            labels,
        }
    }

    /// The exchange is over (its body sent, or the client gone).
    pub fn finish(self, duration: Duration) {
        self.metrics.request(&self.labels, duration);
    }
}

/// A client may send any method token: only the standard ones are labels
/// (OpenTelemetry's `_OTHER` for the rest), so a client cannot grow the
/// number of series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "_OTHER",
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_method_is_one_label() {
        let odd = Method::from_bytes(b"PROPFIND").unwrap();
        let odder = Method::from_bytes(b"X-SECRET-TOKEN-abc123").unwrap();
        assert_eq!(method_label(&odd), "_OTHER");
        assert_eq!(method_label(&odder), "_OTHER");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(101), "1xx");
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(304), "3xx");
        assert_eq!(status_class(429), "4xx");
        assert_eq!(status_class(504), "5xx");
    }
}
