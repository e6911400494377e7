//! Outbound `wasi:http`: only to the hosts the component's
//! `allowed_outbound_hosts` names (Spin's syntax); anything else is denied
//! with `HttpRequestDenied`, as Spin does. Requests to
//! `http://<component>.spin.internal` (Spin's local service chaining) are
//! served in-process by that component, private routes included, when the
//! caller is allowed to reach that host.

use std::future::Future;
use std::sync::Arc;

use http::Request;
use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::runtime::App;

/// A component's outbound rules, with templates already expanded.
pub struct OutboundPolicy {
    allowed: spinstack_manifest::AllowedOutboundHosts,
}

impl OutboundPolicy {
    pub fn new(allowed: spinstack_manifest::AllowedOutboundHosts) -> Self {
        Self { allowed }
    }

    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        self.allowed.allows(scheme, host, port)
    }
}

/// The per-instance hooks wasmtime-wasi-http calls for outgoing requests.
pub struct OutboundHttp {
    app: Arc<App>,
    policy: Arc<OutboundPolicy>,
}

impl OutboundHttp {
    pub fn new(app: Arc<App>, policy: Arc<OutboundPolicy>) -> Self {
        Self { app, policy }
    }
}

type SendResult = wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
)>;

fn denied() -> Box<dyn Future<Output = SendResult> + Send> {
    Box::new(async { Err(Error::HttpRequestDenied) })
}

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_error: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("http").to_ascii_lowercase();
        let Some(host) = uri.host().map(str::to_ascii_lowercase) else {
            return denied();
        };
        let port = uri.port_u16();
        if !self.policy.allows(&scheme, &host, port) {
            tracing::warn!(%scheme, %host, ?port, "outbound request denied by allowed_outbound_hosts");
            return denied();
        }

        if let Some(component_id) = spinstack_router::service_chaining_target(&host) {
            let app = self.app.clone();
            let component_id = component_id.to_owned();
            return Box::new(async move {
                let response = app.handle_chained(&component_id, request).await?;
                let no_io: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send> =
                    Box::new(async { Ok(()) });
                Ok((response, no_io))
            });
        }

        Box::new(async move {
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            let io: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send> = Box::new(io);
            Ok((response.map(BodyExt::boxed_unsync), io))
        })
    }
}
