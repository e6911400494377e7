//! The request path is a stack of tower layers, each one a [`Step`]: it sees
//! the request, answers it itself or hands it to the rest of the stack, and
//! sees the response on its way out. [`StepLayer`] makes a step a
//! `tower::Layer`, so the stack is built with `tower::ServiceBuilder`.
//!
//! Every service on the path is always ready and infallible (errors are
//! answers: problem details), so a step's only contract is its future.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower::ServiceExt;
use tower_service::Service;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

pub type HostResponse = Response<HyperOutgoingBody>;

/// The TCP peer of the connection, in every request's extensions.
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// Present in a request's extensions when its connection is TLS.
#[derive(Clone, Copy, Debug)]
pub struct OverTls;

/// The rest of the stack below a step.
pub trait Next<B>: Send + 'static {
    fn run(self, request: Request<B>) -> impl Future<Output = HostResponse> + Send;
}

impl<S, B> Next<B> for S
where
    S: Service<Request<B>, Response = HostResponse, Error = Infallible> + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    async fn run(self, request: Request<B>) -> HostResponse {
        match self.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// One step of the request path. `B` is the body it receives, `NextBody`
/// the body it hands on (a step may wrap the body, as the body limit does).
pub trait Step<B>: Send + Sync + 'static {
    type NextBody;

    fn run<N: Next<Self::NextBody>>(
        self: Arc<Self>,
        request: Request<B>,
        next: N,
    ) -> impl Future<Output = HostResponse> + Send;
}

/// A [`Step`] as a `tower::Layer`.
pub struct StepLayer<T>(Arc<T>);

impl<T> StepLayer<T> {
    pub fn new(step: T) -> Self {
        Self(Arc::new(step))
    }
}

impl<T> Clone for StepLayer<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T, S> tower_layer::Layer<S> for StepLayer<T> {
    type Service = StepService<T, S>;

    fn layer(&self, inner: S) -> Self::Service {
        StepService {
            step: self.0.clone(),
            inner,
        }
    }
}

pub struct StepService<T, S> {
    step: Arc<T>,
    inner: S,
}

impl<T, S: Clone> Clone for StepService<T, S> {
    fn clone(&self) -> Self {
        Self {
            step: self.step.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<T, S, B> Service<Request<B>> for StepService<T, S>
where
    T: Step<B>,
    S: Next<T::NextBody> + Clone,
    B: Send + 'static,
{
    type Response = HostResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<HostResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let step = self.step.clone();
        let inner = self.inner.clone();
        Box::pin(async move { Ok(step.run(request, inner).await) })
    }
}
