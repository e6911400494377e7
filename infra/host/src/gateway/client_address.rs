//! First step: the client's address for rate limits and the access log:
//! the peer, or the forwarded address when the peer is a trusted proxy.

use std::net::IpAddr;
use std::sync::Arc;

use http::Request;

use super::GatewayPolicy;
use crate::step::PeerAddr;
use crate::step::{HostResponse, Next, Step};

/// The client's address, in the request's extensions.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

pub struct ClientAddress(pub Arc<GatewayPolicy>);

impl<B: Send + 'static> Step<B> for ClientAddress {
    type NextBody = B;

    async fn run<N: Next<B>>(self: Arc<Self>, mut request: Request<B>, next: N) -> HostResponse {
        if let Some(PeerAddr(peer)) = request.extensions().get::<PeerAddr>().copied() {
            let client = self.0.client_ip(peer, request.headers());
            request.extensions_mut().insert(ClientIp(client));
        }
        next.run(request).await
    }
}
