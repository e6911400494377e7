//! The HTTP front door: accept connections and run each request down the
//! request path, a stack of tower layers ([`request_path`]):
//!
//! | step | module | does |
//! |---|---|---|
//! | HEAD | `server/head_requests.rs` | no body on a HEAD response, on both protocols |
//! | client address | `gateway/client_address.rs` | the peer, or a trusted proxy's forwarded address |
//! | request id | `gateway/request_id.rs` | `X-Request-Id` in and out |
//! | access log | `gateway/access_log.rs` | one JSON line when the response body is sent; the request's metrics (`metrics/request_observation.rs`) |
//! | security headers | `gateway/security_headers.rs` | the policy's headers over the component's |
//! | compression | `gateway/response_compression.rs` | gzip/br as nginx's gzip module would |
//! | proxy | `gateway/store_proxy.rs` | `[[proxies]]` prefixes to their upstream |
//! | rate and body limits | `gateway/request_limits.rs` | 429, 413 before any component runs |
//! | health while draining | `server/drain/health.rs` | `/health` is 503 once shutdown began |
//! | routing | `server/routing.rs` | Spin's routes, well-known paths, `spin-*` headers, 404 |
//! | admission | `server/admission.rs` | a slot, or 503 with Retry-After |
//! | the component | `server/run_component.rs` | a fresh instance runs the request |
//!
//! Under all of them, a body no step reads is still read to its end and
//! discarded (`server/lingering_body.rs`), so an early refusal reaches a
//! client that is still sending, and its connection stays open.
//!
//! Our own steps rather than tower-http's middleware: each carries nginx's
//! or Spin's exact semantics (nginx's `limit_req`, its gzip rules, problem
//! details for every refusal), which the generic middleware does not. Without
//! a gateway (`GatewaySelection::Off`, the benchmarks' baseline) only the
//! last four run (and HEAD).

pub mod admission;
pub mod body_end;
mod connection;
pub mod connection_limit;
pub mod drain;
mod head_requests;
mod lingering_body;
mod redirect;
pub mod routing;
pub mod run_component;
pub mod tls;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
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
use crate::step::{HostResponse, StepLayer};
use drain::DrainState;
pub use drain::{Shutdown, Stopped};
use lingering_body::LingeringBody;
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
                .layer(StepLayer::new(head_requests::HeadRequests))
                .layer(StepLayer::new(drain::HealthWhileDraining))
                .layer(StepLayer::new(routing::Routing(app.clone())))
                .layer(StepLayer::new(admission::AdmissionControl(app.clone())))
                .service(component),
        );
    };
    BoxCloneSyncService::new(
        ServiceBuilder::new()
            .layer(StepLayer::new(head_requests::HeadRequests))
            .layer(StepLayer::new(ClientAddress(gateway.clone())))
            .layer(StepLayer::new(AssignRequestId(gateway.clone())))
            .layer(StepLayer::new(AccessLog(app.runtime.metrics.clone())))
            .layer(StepLayer::new(SecurityHeaders(gateway.clone())))
            .layer(StepLayer::new(ResponseCompression(gateway.clone())))
            .layer(StepLayer::new(StoreProxy(gateway.clone())))
            .layer(StepLayer::new(RequestLimits(gateway)))
            .layer(StepLayer::new(drain::HealthWhileDraining))
            .layer(StepLayer::new(routing::Routing(app.clone())))
            .layer(StepLayer::new(admission::AdmissionControl(app.clone())))
            .service(component),
    )
}

/// What `serve` listens on.
pub struct Listeners {
    pub main: TcpListener,
    /// TLS on the main listener (`--tls-cert`/`--tls-key`, `--tls-self-signed`).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// `--redirect-http`: answers everything with 301 to `https://`.
    pub redirect_http: Option<TcpListener>,
    /// Connections served at once (`connection_limit.rs`).
    pub max_connections: usize,
}

/// A client that has not finished its TLS handshake by then is dropped, so
/// half-open handshakes cannot hold connections (nginx's default
/// `ssl_handshake_timeout` is 60 s; a browser needs well under 1 s).
pub const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// HTTP/1.1 and HTTP/2 on one listener (hyper-util's `auto`, as Spin):
/// ALPN over TLS, the connection preface (prior knowledge) in cleartext.
fn http_builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().keep_alive(true);
    builder
        .http2()
        // nginx's default `http2_max_concurrent_streams`; more streams on
        // one connection would only queue at admission.
        .max_concurrent_streams(128)
        // As nginx's `large_client_header_buffers 4 8k`: 32 KiB of headers.
        .max_header_list_size(32 * 1024)
        // Rapid reset (CVE-2023-44487): streams a client opens and cancels
        // before they are accepted count against this, and a client past it
        // gets GOAWAY, so churn cannot make the host start unbounded work.
        .max_pending_accept_reset_streams(Some(32))
        .max_local_error_reset_streams(Some(256))
        .timer(hyper_util::rt::TokioTimer::new())
        .keep_alive_interval(Some(std::time::Duration::from_secs(30)))
        .keep_alive_timeout(std::time::Duration::from_secs(20));
    builder
}

/// Serves `app` on `listeners` until `shutdown` begins, then drains (see
/// `drain.rs`).
pub async fn serve(
    app: Arc<App>,
    listeners: Listeners,
    shutdown: Shutdown,
) -> anyhow::Result<Stopped> {
    let path = request_path::<LingeringBody<hyper::body::Incoming>>(&app);
    let tls = listeners.tls.map(tokio_rustls::TlsAcceptor::from);
    let https_port = listeners.main.local_addr()?.port();
    let redirect = listeners
        .redirect_http
        .map(|redirect| tokio::spawn(redirect::serve(redirect, https_port)));
    let drain = Arc::new(DrainState::default());
    let graceful = GracefulShutdown::new();
    let Shutdown {
        mut begin,
        now,
        timeout,
    } = shutdown;
    let listener = listeners.main;
    let connections = Arc::new(tokio::sync::Semaphore::new(listeners.max_connections));
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
            () = &mut begin => break,
        };
        let _ = stream.set_nodelay(true);
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::debug!(client = %peer, "connection refused: --max-connections reached");
            tokio::spawn(connection_limit::refuse(stream, tls.is_some()));
            continue;
        };
        let context = connection::ConnectionContext {
            peer,
            tls: tls.clone(),
            path: path.clone(),
            drain: drain.clone(),
        };
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            connection::serve(stream, context, watcher).await;
            drop(permit);
        });
    }
    // Closed at once: from here on a new connection is refused.
    drop(listener);
    if let Some(redirect) = redirect {
        redirect.abort();
    }
    Ok(drain::finish(&drain, graceful, now, timeout).await)
}
