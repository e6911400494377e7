//! The access log: one JSON line per request on stdout (target `access`),
//! written when the response body has been sent, so `bytes` and
//! `duration_ms` are the whole exchange's.

use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

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

/// Counts the bytes of a response body and logs the record once, when the
/// body ends or is dropped (a client that hangs up is logged as incomplete).
pub struct LoggedBody<B: Body> {
    inner: B,
    bytes: u64,
    record: Option<AccessRecord>,
}

impl<B: Body> LoggedBody<B> {
    pub fn new(inner: B, record: AccessRecord) -> Self {
        Self {
            inner,
            bytes: 0,
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
        // hyper may drop a body it knows is finished (empty, or complete by
        // its length) without polling it to the end.
        let complete = self.inner.is_end_stream();
        self.finish(complete);
    }
}
