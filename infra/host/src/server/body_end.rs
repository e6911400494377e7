//! Knowing when a response has been sent: [`on_body_end`] wraps a response's
//! body so that a callback runs once, with the bytes sent and whether the
//! exchange completed, when the body ends or is dropped. The access log and
//! the request metrics both measure the whole exchange this way (a client
//! that hangs up mid-body is an incomplete one).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Wraps the body of `response` (answering a `method` request) so that
/// `ended(bytes, complete)` runs once it has been sent or dropped.
pub fn on_body_end<F>(
    response: Response<HyperOutgoingBody>,
    method: &Method,
    ended: F,
) -> Response<HyperOutgoingBody>
where
    F: FnOnce(u64, bool) + Send + 'static,
{
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
    response.map(|body| BodyEnd::new(body, ended, expected).boxed_unsync())
}

/// Counts the bytes of a response body and calls `ended` once, when the body
/// ends or is dropped.
pub struct BodyEnd<B: Body, F: FnOnce(u64, bool)> {
    inner: B,
    bytes: u64,
    /// What the response head promised (its Content-Length, or 0 for a
    /// response without a body): once sent, the exchange is complete even if
    /// hyper drops the body without polling its end.
    expected: Option<u64>,
    ended: Option<F>,
}

impl<B: Body, F: FnOnce(u64, bool)> BodyEnd<B, F> {
    pub fn new(inner: B, ended: F, expected: Option<u64>) -> Self {
        Self {
            inner,
            bytes: 0,
            expected,
            ended: Some(ended),
        }
    }

    fn finish(&mut self, complete: bool) {
        if let Some(ended) = self.ended.take() {
            ended(self.bytes, complete);
        }
    }

    /// Whether everything the head promised has gone out.
    fn sent_whole(&self) -> bool {
        self.expected == Some(self.bytes) || self.inner.is_end_stream()
    }
}

// The callback is only ever moved out, never pinned.
impl<B: Body + Unpin, F: FnOnce(u64, bool)> Unpin for BodyEnd<B, F> {}

impl<B, F> Body for BodyEnd<B, F>
where
    B: Body<Data = Bytes> + Unpin,
    F: FnOnce(u64, bool),
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

impl<B: Body, F: FnOnce(u64, bool)> Drop for BodyEnd<B, F> {
    fn drop(&mut self) {
        // hyper drops a body it knows is finished (empty, complete by its
        // Content-Length, or not sent at all for HEAD, 204 and 304) without
        // polling it to the end.
        let complete = self.sent_whole();
        self.finish(complete);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Full, StreamBody};
    use std::sync::{Arc, Mutex};

    type Seen = Arc<Mutex<Option<(u64, bool)>>>;

    fn recorder() -> (Seen, impl FnOnce(u64, bool) + Send + 'static) {
        let seen: Seen = Arc::default();
        let into = seen.clone();
        (seen, move |bytes, complete| {
            *into.lock().unwrap() = Some((bytes, complete))
        })
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

    async fn poll_once<B, F>(body: &mut BodyEnd<B, F>)
    where
        B: Body<Data = Bytes> + Unpin,
        B::Error: std::fmt::Debug,
        F: FnOnce(u64, bool),
    {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await;
        assert!(frame.is_some());
    }

    #[tokio::test]
    async fn a_body_sent_up_to_its_declared_length_is_complete() {
        let (seen, ended) = recorder();
        let mut body = BodyEnd::new(streamed(&[b"hello", b" world"]), ended, Some(11));
        poll_once(&mut body).await;
        assert!(!body.sent_whole(), "5 of 11 bytes");
        poll_once(&mut body).await;
        assert!(body.sent_whole(), "all 11 bytes, end not polled");
        drop(body);
        assert_eq!(*seen.lock().unwrap(), Some((11, true)));
    }

    #[tokio::test]
    async fn a_streamed_body_cut_short_is_incomplete() {
        let (seen, ended) = recorder();
        let mut body = BodyEnd::new(streamed(&[b"hello", b" world"]), ended, None);
        poll_once(&mut body).await;
        assert!(!body.sent_whole());
        drop(body);
        assert_eq!(
            *seen.lock().unwrap(),
            Some((5, false)),
            "called once, incomplete"
        );
        let (_, ended) = recorder();
        let mut short = BodyEnd::new(streamed(&[b"hello", b" world"]), ended, Some(20));
        poll_once(&mut short).await;
        poll_once(&mut short).await;
        assert!(!short.sent_whole(), "11 of 20 bytes");
    }

    #[test]
    fn bodiless_and_empty_responses_are_complete_unpolled() {
        // HEAD / 204 / 304: expected 0, nothing polled.
        let (seen, ended) = recorder();
        let head = BodyEnd::new(streamed(&[b"not sent"]), ended, Some(0));
        assert!(head.sent_whole());
        drop(head);
        assert_eq!(*seen.lock().unwrap(), Some((0, true)));
        let (_, ended) = recorder();
        let empty = BodyEnd::new(Full::new(Bytes::new()), ended, None);
        assert!(empty.sent_whole());
    }
}
