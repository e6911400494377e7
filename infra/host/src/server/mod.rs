//! The HTTP front door: accept connections and run each request down the
//! request path, a stack of tower layers ([`request_path`]):
//!
//! | step | module | does |
//! |---|---|---|
//! | client address | `gateway/client_address.rs` | the peer, or a trusted proxy's forwarded address |
//! | request id | `gateway/request_id.rs` | `X-Request-Id` in and out |
//! | access log | `gateway/access_log.rs` | one JSON line when the response body is sent |
//! | security headers | `gateway/security_headers.rs` | the policy's headers over the component's |
//! | compression | `gateway/response_compression.rs` | gzip/br as nginx's gzip module would |
//! | proxy | `gateway/store_proxy.rs` | `[[proxies]]` prefixes to their upstream |
//! | rate and body limits | `gateway/request_limits.rs` | 429, 413 before any component runs |
//! | routing | `server/routing.rs` | Spin's routes, well-known paths, `spin-*` headers, 404 |
//! | admission | `server/admission.rs` | a slot, or 503 with Retry-After |
//! | the component | `server/run_component.rs` | a fresh instance runs the request |
//!
//! Our own steps rather than tower-http's middleware: each carries nginx's
//! or Spin's exact semantics (nginx's `limit_req`, its gzip rules, problem
//! details for every refusal), which the generic middleware does not. Without
//! a gateway (`GatewaySelection::Off`, the benchmarks' baseline) only the
//! last three run.

pub mod admission;
pub mod routing;
pub mod run_component;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower::util::BoxCloneSyncService;

use crate::app::App;
use crate::gateway::access_log::AccessLog;
use crate::gateway::client_address::ClientAddress;
use crate::gateway::request_id::AssignRequestId;
use crate::gateway::request_limits::RequestLimits;
use crate::gateway::response_compression::ResponseCompression;
use crate::gateway::security_headers::SecurityHeaders;
use crate::gateway::store_proxy::StoreProxy;
use crate::step::{HostResponse, PeerAddr, StepLayer};
pub use routing::set_spin_headers;

/// A request body the path accepts: hyper's, or any other that reports
/// wasi:http's errors (tests drive the path in-process with their own).
pub trait RequestBody:
    hyper::body::Body<Data = Bytes, Error: Into<wasmtime_wasi_http::Error>> + Send + Unpin + 'static
{
}

impl<B> RequestBody for B where
    B: hyper::body::Body<Data = Bytes, Error: Into<wasmtime_wasi_http::Error>>
        + Send
        + Unpin
        + 'static
{
}

pub type RequestPath<B> = BoxCloneSyncService<Request<B>, HostResponse, Infallible>;

/// The request path of `app`, outermost step first (see the module docs).
pub fn request_path<B: RequestBody>(app: &Arc<App>) -> RequestPath<B> {
    let component = run_component::RunComponent(app.clone());
    let Some(gateway) = app.gateway.clone() else {
        return BoxCloneSyncService::new(
            ServiceBuilder::new()
                .layer(StepLayer::new(routing::Routing(app.clone())))
                .layer(StepLayer::new(admission::AdmissionControl(app.clone())))
                .service(component),
        );
    };
    BoxCloneSyncService::new(
        ServiceBuilder::new()
            .layer(StepLayer::new(ClientAddress(gateway.clone())))
            .layer(StepLayer::new(AssignRequestId(gateway.clone())))
            .layer(StepLayer::new(AccessLog))
            .layer(StepLayer::new(SecurityHeaders(gateway.clone())))
            .layer(StepLayer::new(ResponseCompression(gateway.clone())))
            .layer(StepLayer::new(StoreProxy(gateway.clone())))
            .layer(StepLayer::new(RequestLimits(gateway)))
            .layer(StepLayer::new(routing::Routing(app.clone())))
            .layer(StepLayer::new(admission::AdmissionControl(app.clone())))
            .service(component),
    )
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let path = request_path::<hyper::body::Incoming>(&app);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let service = ServiceBuilder::new()
            .map_request(move |mut request: Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(PeerAddr(peer));
                request
            })
            .service(path.clone());
        tokio::spawn(async move {
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .await
            {
                tracing::debug!(client = %peer, "connection ended: {e}");
            }
        });
    }
}
