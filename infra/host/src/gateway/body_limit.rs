//! The request body limit for bodies without a declared length (chunked):
//! the body the component reads fails once it passes the limit, and the
//! host answers 413 in place of whatever the component then says.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// Shared between the wrapped body and the server, which checks it when the
/// component answers.
#[derive(Clone, Default)]
pub struct BodyLimit {
    exceeded: Arc<AtomicBool>,
}

impl BodyLimit {
    pub fn exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Acquire)
    }
}

pub struct LimitedBody<B> {
    inner: B,
    remaining: u64,
    limit: u64,
    flag: BodyLimit,
}

impl<B> LimitedBody<B> {
    pub fn new(inner: B, limit: u64, flag: BodyLimit) -> Self {
        Self {
            inner,
            remaining: limit,
            limit,
            flag,
        }
    }
}

impl<B> Body for LimitedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let len = data.len() as u64;
                    if len > this.remaining {
                        this.flag.exceeded.store(true, Ordering::Release);
                        return Poll::Ready(Some(Err(
                            wasmtime_wasi_http::Error::HttpRequestBodySize(Some(this.limit)),
                        )));
                    }
                    this.remaining -= len;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, StreamBody};

    fn chunks(
        sizes: &[usize],
    ) -> impl Body<Data = Bytes, Error = std::convert::Infallible> + Unpin {
        let frames: Vec<Result<Frame<Bytes>, std::convert::Infallible>> = sizes
            .iter()
            .map(|n| Ok(Frame::data(Bytes::from(vec![b'x'; *n]))))
            .collect();
        StreamBody::new(futures::stream::iter(frames))
    }

    #[tokio::test]
    async fn a_body_within_the_limit_passes_whole() {
        let flag = BodyLimit::default();
        let body = LimitedBody::new(chunks(&[4, 4, 2]), 10, flag.clone());
        let collected = body.collect().await.ok().unwrap().to_bytes();
        assert_eq!(collected.len(), 10);
        assert!(!flag.exceeded());
    }

    #[tokio::test]
    async fn a_body_growing_past_the_limit_fails_and_flags() {
        let flag = BodyLimit::default();
        let body = LimitedBody::new(chunks(&[4, 4, 3]), 10, flag.clone());
        assert!(body.collect().await.is_err());
        assert!(flag.exceeded());
    }
}
