//! One accepted connection: the TLS handshake if any, then hyper-util's
//! `auto` server (HTTP/1.1 or HTTP/2) under the drain's watch, each request
//! carrying the connection's facts in its extensions.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulConnection, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpStream;
use tower_service::Service;

use super::drain::{DrainState, Draining, InFlight, track_response};
use super::lingering_body::LingeringBody;
use super::{RequestPath, TLS_HANDSHAKE_TIMEOUT};
use crate::step::{HostResponse, OverTls, PeerAddr};

/// What a connection's requests share.
pub struct ConnectionContext {
    pub peer: SocketAddr,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    pub path: RequestPath<LingeringBody<Incoming>>,
    pub drain: Arc<DrainState>,
}

/// Serves one connection until it ends, the drain closes it, or the cut.
pub async fn serve(stream: TcpStream, context: ConnectionContext, watcher: Watcher) {
    let peer = context.peer;
    let builder = super::http_builder();
    let service = TowerToHyperService::new(PerRequest {
        over_tls: context.tls.is_some(),
        path: context.path,
        peer,
        drain: context.drain.clone(),
    });
    let drain = context.drain;
    let served = match context.tls {
        None => {
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            until_cut(connection, watcher, &drain).await
        }
        Some(acceptor) => {
            let handshake = tokio::select! {
                handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => handshake,
                // Not yet a connection with a request: a new one, which the drain refuses.
                () = drain.begun() => return,
            };
            match handshake {
                Ok(Ok(stream)) => {
                    let connection = builder.serve_connection(TokioIo::new(stream), service);
                    until_cut(connection, watcher, &drain).await
                }
                Ok(Err(e)) => {
                    tracing::debug!(client = %peer, "TLS handshake failed: {e}");
                    return;
                }
                Err(_) => {
                    tracing::debug!(client = %peer, "TLS handshake timed out");
                    return;
                }
            }
        }
    };
    if let Some(Err(e)) = served {
        tracing::debug!(client = %peer, "connection ended: {e}");
    }
}

/// Runs `connection` under the drain's `watcher`; `None` if it was cut.
async fn until_cut<C>(connection: C, watcher: Watcher, drain: &DrainState) -> Option<C::Output>
where
    C: GracefulConnection,
{
    tokio::select! {
        served = watcher.watch(connection) => Some(served),
        () = drain.ended() => None,
    }
}

/// Every request of one connection: the peer, TLS and drain in its
/// extensions, an [`InFlight`] guard until its response is sent.
#[derive(Clone)]
struct PerRequest {
    path: RequestPath<LingeringBody<Incoming>>,
    peer: SocketAddr,
    over_tls: bool,
    drain: Arc<DrainState>,
}

impl Service<Request<Incoming>> for PerRequest {
    type Response = HostResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<HostResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The request path is always ready (step.rs).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        // Whatever step answers, an unread body is still read (lingering_body.rs).
        let mut request = request.map(LingeringBody::new);
        let extensions = request.extensions_mut();
        extensions.insert(PeerAddr(self.peer));
        if self.over_tls {
            extensions.insert(OverTls);
        }
        if self.drain.is_draining() {
            extensions.insert(Draining);
        }
        let guard = InFlight::new(&self.drain, &request, self.peer);
        let response = self.path.call(request);
        Box::pin(async move {
            let Ok(response) = response.await;
            Ok(track_response(response, guard))
        })
    }
}
