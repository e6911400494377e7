//! The innermost service of the request path: the routed component runs the
//! request in a fresh instance; a guest failure becomes that request's 500,
//! 503 or 504 alone.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Request, StatusCode};
use tower_service::Service;

use super::RequestBody;
use super::admission::Slot;
use super::routing::Routed;
use crate::app::App;
use crate::capabilities::outbound_http::ServiceChaining;
use crate::host_responses;
use crate::metrics::notes::GuestFailed;
use crate::step::HostResponse;

#[derive(Clone)]
pub struct RunComponent(pub Arc<App>);

impl<B: RequestBody> Service<Request<B>> for RunComponent {
    type Response = HostResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<HostResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let app = self.0.clone();
        Box::pin(async move {
            let Some(Routed(component)) = request.extensions().get::<Routed>().cloned() else {
                return Ok(host_responses::problem(
                    StatusCode::NOT_FOUND,
                    "No route matches this path.",
                ));
            };
            let permit = request.extensions().get::<Slot>().and_then(Slot::take);
            let chaining: Arc<dyn ServiceChaining> = app.clone();
            let started = Instant::now();
            let response = match component
                .handle(&app.runtime, &chaining, request, permit)
                .await
            {
                Ok(response) => {
                    if let Some(metrics) = &app.runtime.metrics {
                        metrics.component_time(&component.id, started.elapsed());
                    }
                    response
                }
                Err(failure) => {
                    tracing::error!(component = &*component.id, "request failed: {failure}");
                    let kind = failure.kind();
                    let mut response = failure.into_response();
                    response.extensions_mut().insert(GuestFailed(kind));
                    response
                }
            };
            Ok(response)
        })
    }
}
