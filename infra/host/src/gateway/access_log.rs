//! The access log: one JSON line per request on stdout (target `access`),
//! written when the response body has been sent, so `bytes` and
//! `duration_ms` are the whole exchange's. The steps below it note what it
//! cannot see itself in the response's extensions: which component answered
//! ([`ServedBy`]) and what the rate limiter decided ([`RateLimitNote`]).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use http::{Method, Request, Response};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::client_address::ClientIp;
use super::request_id::RequestId;
use crate::metrics::Metrics;
use crate::metrics::request_observation::RequestObservation;
use crate::server::body_end::on_body_end;
use crate::step::PeerAddr;
use crate::step::{HostResponse, Next, Step};

/// The component that answered, in the response's extensions.
#[derive(Clone, Debug)]
pub struct ServedBy(pub Arc<str>);

/// The rate limiter's decision (`none`, `zone:<name>`, `limited:<name>`), in
/// the response's extensions.
#[derive(Clone, Debug)]
pub struct RateLimitNote(pub String);

/// The step that logs every request once its response has been sent, and
/// observes it for the metrics when they are on.
pub struct AccessLog(pub Option<Arc<Metrics>>);

impl<B: Send + 'static> Step<B> for AccessLog {
    type NextBody = B;

    async fn run<N: Next<B>>(self: Arc<Self>, request: Request<B>, next: N) -> HostResponse {
        let started = Instant::now();
        let client = match request.extensions().get::<ClientIp>() {
            Some(ClientIp(ip)) => *ip,
            None => request
                .extensions()
                .get::<PeerAddr>()
                .map(|PeerAddr(peer)| peer.ip())
                .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        };
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .and_then(|RequestId(id)| id.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let response = next.run(request).await;
        let observation = self
            .0
            .as_ref()
            .map(|metrics| RequestObservation::new(metrics, &method, &response));
        let record = AccessRecord {
            request_id,
            client,
            method: method.to_string(),
            path,
            status: response.status().as_u16(),
            component: response
                .extensions()
                .get::<ServedBy>()
                .map(|ServedBy(id)| id.clone()),
            rate_limit: response
                .extensions()
                .get::<RateLimitNote>()
                .map(|RateLimitNote(note)| note.clone())
                .unwrap_or_else(|| "none".into()),
            started,
        };
        log_response(response, &method, record, observation)
    }
}

pub struct AccessRecord {
    pub request_id: String,
    pub client: IpAddr,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub component: Option<Arc<str>>,
    pub rate_limit: String,
    pub started: Instant,
}

impl AccessRecord {
    fn emit(&self, bytes: u64, complete: bool) {
        tracing::info!(
            target: "access",
            request_id = %self.request_id,
            client = %self.client,
            method = %self.method,
            path = %self.path,
            status = self.status,
            bytes,
            complete,
            duration_ms = self.started.elapsed().as_secs_f64() * 1e3,
            component = self.component.as_deref().unwrap_or("-"),
            rate_limit = %self.rate_limit,
        );
    }
}

/// Wraps the body of `response` (answering a `method` request) so that
/// `record` is logged, and `observation` finished, once it has been sent
/// (`server/body_end.rs`).
pub fn log_response(
    response: Response<HyperOutgoingBody>,
    method: &Method,
    record: AccessRecord,
    observation: Option<RequestObservation>,
) -> Response<HyperOutgoingBody> {
    on_body_end(response, method, move |bytes, complete| {
        record.emit(bytes, complete);
        if let Some(observation) = observation {
            observation.finish(record.started.elapsed());
        }
    })
}
