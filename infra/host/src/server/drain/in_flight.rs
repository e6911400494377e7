//! One guard per request, alive from its arrival until its response body
//! is dropped (hyper drops it once sent, or when the connection goes). A
//! guard still alive at the cut belongs to a request that was still
//! running, so its drop then is logged as a cut; and while the drain runs,
//! a response to an HTTP/1.1 request says `Connection: close`.
//!
//! An event stream (`text/event-stream`) has no end of its own to wait for:
//! its body ends, cleanly and between two frames, when the drain begins. The
//! client reconnects as server-sent events do, with `Last-Event-ID`, and
//! reaches a replica that is not going away; the drain does not wait out
//! the stream's lifetime and then cut it.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, Uri, Version, header};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use spinstack_gateway::media_type;
use tokio_util::sync::WaitForCancellationFutureOwned;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::DrainState;
use crate::step::HostResponse;

pub struct InFlight {
    state: Arc<DrainState>,
    method: Method,
    uri: Uri,
    peer: SocketAddr,
    http1: bool,
    started: Instant,
}

impl InFlight {
    pub fn new<B>(state: &Arc<DrainState>, request: &Request<B>, peer: SocketAddr) -> Self {
        state.in_flight.fetch_add(1, Ordering::Relaxed);
        Self {
            state: state.clone(),
            method: request.method().clone(),
            uri: request.uri().clone(),
            peer,
            http1: request.version() < Version::HTTP_2,
            started: Instant::now(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.state.in_flight.fetch_sub(1, Ordering::Relaxed);
        if self.state.is_cut() {
            self.state.cut_requests.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                method = %self.method,
                path = self.uri.path(),
                client = %self.peer,
                running_ms = self.started.elapsed().as_millis() as u64,
                "request cut by the shutdown: still running when the drain ended"
            );
        }
    }
}

/// `response` to the request `guard` tracks, with the guard in its body;
/// `Connection: close` on HTTP/1.1 during the drain (HTTP/2 has GOAWAY and
/// forbids the header).
pub fn track_response(mut response: HostResponse, guard: InFlight) -> HostResponse {
    if guard.http1 && guard.state.is_draining() {
        crate::gateway::close_connection(&mut response);
    }
    let ends_at_drain =
        is_event_stream(&response).then(|| Box::pin(guard.state.begun.clone().cancelled_owned()));
    response.map(|inner| {
        TrackedBody {
            inner,
            ends_at_drain,
            ended: false,
            guard,
        }
        .boxed_unsync()
    })
}

fn is_event_stream(response: &HostResponse) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| media_type::is(value, media_type::EVENT_STREAM))
}

struct TrackedBody {
    inner: HyperOutgoingBody,
    /// Resolves when the drain begins; only for an event stream.
    ends_at_drain: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    ended: bool,
    guard: InFlight,
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = <HyperOutgoingBody as Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if let Some(drain) = self.ends_at_drain.as_mut()
            && drain.as_mut().poll(cx).is_ready()
        {
            self.ended = true;
            tracing::info!(
                path = self.guard.uri.path(),
                client = %self.guard.peer,
                "event stream ended by the drain: the client reconnects elsewhere"
            );
            return Poll::Ready(None);
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
