//! The policy's security headers on every response, overriding whatever the
//! component set (a component cannot weaken them); `Strict-Transport-Security`
//! and the other `tls_only` ones only on connections served over TLS.

use std::sync::Arc;

use http::Request;

use super::GatewayPolicy;
use crate::step::{HostResponse, Next, OverTls, Step};

pub struct SecurityHeaders(pub Arc<GatewayPolicy>);

impl<B: Send + 'static> Step<B> for SecurityHeaders {
    type NextBody = B;

    async fn run<N: Next<B>>(self: Arc<Self>, request: Request<B>, next: N) -> HostResponse {
        let tls = request.extensions().get::<OverTls>().is_some();
        let mut response = next.run(request).await;
        let headers = response.headers_mut();
        for (name, value) in self.0.security_headers(tls) {
            headers.insert(name.clone(), value.clone());
        }
        response
    }
}
