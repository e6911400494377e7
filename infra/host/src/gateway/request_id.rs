//! `X-Request-Id`: the client's when acceptable, else a fresh one; passed to
//! the component and returned on the response.

use std::sync::Arc;

use http::{HeaderValue, Request};

use super::{GatewayPolicy, X_REQUEST_ID};
use crate::step::{HostResponse, Next, Step};

/// The request's id, in its extensions (for the access log).
#[derive(Clone, Debug)]
pub struct RequestId(pub HeaderValue);

pub struct AssignRequestId(pub Arc<GatewayPolicy>);

impl<B: Send + 'static> Step<B> for AssignRequestId {
    type NextBody = B;

    async fn run<N: Next<B>>(self: Arc<Self>, mut request: Request<B>, next: N) -> HostResponse {
        let id = self.0.request_id(request.headers());
        request.headers_mut().insert(X_REQUEST_ID, id.clone());
        request.extensions_mut().insert(RequestId(id.clone()));
        let mut response = next.run(request).await;
        response.headers_mut().insert(X_REQUEST_ID, id);
        response
    }
}
