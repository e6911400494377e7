//! A request body that, dropped before its end, is read to the end and
//! discarded in the background (bounded), as nginx's lingering close and
//! `discard_request_body` do.
//!
//! Why our own: when a refusal (404, 405, 413, 415, 429) is answered before
//! the client has sent its body, hyper gives up on the connection at once
//! (`poll_drain_or_close_read` only takes bytes already buffered). The
//! client, still writing, then meets a reset instead of the answer, and its
//! keep-alive connection is lost. Reading the rest lets the answer arrive
//! and the connection serve the next request. Nothing in hyper, hyper-util
//! or tower-http does this.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Buf;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};

/// At most this much of an unread body is read and thrown away...
pub const DISCARD_MAX_BYTES: u64 = 16 * 1024 * 1024;
/// ...for at most this long (nginx's `lingering_timeout`); past either, the
/// connection closes as it would have.
pub const DISCARD_MAX_TIME: Duration = Duration::from_secs(5);

pub struct LingeringBody<B: Body + Send + Unpin + 'static> {
    /// `None` only once dropped.
    inner: Option<B>,
    ended: bool,
}

impl<B: Body + Send + Unpin + 'static> LingeringBody<B> {
    pub fn new(inner: B) -> Self {
        Self {
            inner: Some(inner),
            ended: false,
        }
    }
}

impl<B: Body + Send + Unpin + 'static> Body for LingeringBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        // An error ends the body too: nothing more can be read from it.
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            this.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl<B: Body + Send + Unpin + 'static> Drop for LingeringBody<B> {
    fn drop(&mut self) {
        if self.is_end_stream() {
            return;
        }
        let Some(inner) = self.inner.take() else {
            return;
        };
        // Dropped outside the runtime (never on the request path): let it go.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(discard(inner, DISCARD_MAX_BYTES));
        }
    }
}

async fn discard<B: Body + Unpin>(mut body: B, max_bytes: u64) {
    let mut read: u64 = 0;
    let _ = tokio::time::timeout(DISCARD_MAX_TIME, async {
        while let Some(Ok(frame)) = body.frame().await {
            if let Some(data) = frame.data_ref() {
                read += data.remaining() as u64;
                if read > max_bytes {
                    return;
                }
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::{Full, StreamBody};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts the frames the discarding task takes.
    fn counted(frames: usize, taken: Arc<AtomicUsize>) -> impl Body<Data = Bytes> + Send + Unpin {
        let stream = futures::stream::iter((0..frames).map(move |_| {
            taken.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from_static(b"xxxx")))
        }));
        StreamBody::new(stream)
    }

    #[tokio::test]
    async fn an_unread_body_is_read_to_its_end_after_the_drop() {
        let taken = Arc::new(AtomicUsize::new(0));
        drop(LingeringBody::new(counted(10, taken.clone())));
        for _ in 0..100 {
            if taken.load(Ordering::SeqCst) == 10 {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!(
            "only {} of 10 frames discarded",
            taken.load(Ordering::SeqCst)
        );
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_spawns_nothing() {
        let mut body = LingeringBody::new(Full::new(Bytes::from_static(b"abc")));
        let collected = (&mut body).collect().await.unwrap().to_bytes();
        assert_eq!(collected, "abc");
        assert!(body.is_end_stream());
    }

    #[tokio::test]
    async fn discarding_stops_past_the_byte_bound() {
        let taken = Arc::new(AtomicUsize::new(0));
        // 4 bytes a frame: the 11th passes 40 bytes, and reading stops there.
        discard(counted(100, taken.clone()), 40).await;
        assert_eq!(taken.load(Ordering::SeqCst), 11);
    }
}
