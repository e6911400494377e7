//! The access log: one JSON line per request on stdout (target `access`),
//! written when the response body has been sent, so `bytes` and
//! `duration_ms` are the whole exchange's. The steps below it note what it
//! cannot see itself in the response's extensions: which component answered
//! ([`ServedBy`]) and what the rate limiter decided ([`RateLimitNote`]).

use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::client_address::ClientIp;
use super::request_id::RequestId;
use crate::step::PeerAddr;
use crate::step::{HostResponse, Next, Step};

/// The component that answered, in the response's extensions.
#[derive(Clone, Debug)]
pub struct ServedBy(pub Arc<str>);

/// The rate limiter's decision (`none`, `zone:<name>`, `limited:<name>`), in
/// the response's extensions.
#[derive(Clone, Debug)]
pub struct RateLimitNote(pub String);

/// The step that logs every request once its response has been sent.
pub struct AccessLog;

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
        log_response(response, &method, record)
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
/// `record` is logged once it has been sent; see [`LoggedBody`].
pub fn log_response(
    response: Response<HyperOutgoingBody>,
    method: &Method,
    record: AccessRecord,
) -> Response<HyperOutgoingBody> {
    let status = response.status();
    // Responses that never carry a body: hyper sends the head and drops the body.
    let bodiless = *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let expected = if bodiless {
        Some(0)
    } else {
        response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    };
    response.map(|body| LoggedBody::new(body, record, expected).boxed_unsync())
}

/// Counts the bytes of a response body and logs the record once, when the
/// body ends or is dropped (a client that hangs up is logged as incomplete).
pub struct LoggedBody<B: Body> {
    inner: B,
    bytes: u64,
    /// What the response head promised (its Content-Length, or 0 for a
    /// response without a body): once sent, the exchange is complete even if
    /// hyper drops the body without polling its end.
    expected: Option<u64>,
    record: Option<AccessRecord>,
}

impl<B: Body> LoggedBody<B> {
    pub fn new(inner: B, record: AccessRecord, expected: Option<u64>) -> Self {
        Self {
            inner,
            bytes: 0,
            expected,
            record: Some(record),
        }
    }

    fn finish(&mut self, complete: bool) {
        if let Some(record) = self.record.take() {
            record.emit(self.bytes, complete);
        }
    }
}

impl<B> Body for LoggedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.bytes += data.len() as u64;
                }
            }
            Poll::Ready(None) => this.finish(true),
            Poll::Ready(Some(Err(_))) => this.finish(false),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B: Body> Drop for LoggedBody<B> {
    fn drop(&mut self) {
        // hyper drops a body it knows is finished (empty, complete by its
        // Content-Length, or not sent at all for HEAD, 204 and 304) without
        // polling it to the end.
        let complete = self.sent_whole();
        self.finish(complete);
    }
}

impl<B: Body> LoggedBody<B> {
    /// Whether everything the head promised has gone out.
    fn sent_whole(&self) -> bool {
        self.expected == Some(self.bytes) || self.inner.is_end_stream()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Full, StreamBody};

    fn record() -> AccessRecord {
        AccessRecord {
            request_id: "t".into(),
            client: IpAddr::from([127, 0, 0, 1]),
            method: "GET".into(),
            path: "/".into(),
            status: 200,
            component: None,
            rate_limit: "none".into(),
            started: Instant::now(),
        }
    }

    /// A body that never reports its end until polled past its last frame,
    /// like a component's streamed body.
    fn streamed(
        chunks: &[&'static [u8]],
    ) -> impl Body<Data = Bytes, Error = std::convert::Infallible> + Unpin {
        let frames: Vec<Result<Frame<Bytes>, std::convert::Infallible>> = chunks
            .iter()
            .map(|c| Ok(Frame::data(Bytes::from_static(c))))
            .collect();
        StreamBody::new(futures::stream::iter(frames))
    }

    async fn poll_once<B: Body<Data = Bytes> + Unpin>(body: &mut LoggedBody<B>)
    where
        B::Error: std::fmt::Debug,
    {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await;
        assert!(frame.is_some());
    }

    #[tokio::test]
    async fn a_body_sent_up_to_its_declared_length_is_complete() {
        let mut body = LoggedBody::new(streamed(&[b"hello", b" world"]), record(), Some(11));
        poll_once(&mut body).await;
        assert!(!body.sent_whole(), "5 of 11 bytes");
        poll_once(&mut body).await;
        assert!(body.sent_whole(), "all 11 bytes, end not polled");
    }

    #[tokio::test]
    async fn a_streamed_body_cut_short_is_incomplete() {
        let mut body = LoggedBody::new(streamed(&[b"hello", b" world"]), record(), None);
        poll_once(&mut body).await;
        assert!(!body.sent_whole());
        let mut short = LoggedBody::new(streamed(&[b"hello", b" world"]), record(), Some(20));
        poll_once(&mut short).await;
        poll_once(&mut short).await;
        assert!(!short.sent_whole(), "11 of 20 bytes");
    }

    #[test]
    fn bodiless_and_empty_responses_are_complete_unpolled() {
        // HEAD / 204 / 304: expected 0, nothing polled.
        let head = LoggedBody::new(streamed(&[b"not sent"]), record(), Some(0));
        assert!(head.sent_whole());
        let empty = LoggedBody::new(Full::new(Bytes::new()), record(), None);
        assert!(empty.sent_whole());
    }
}
