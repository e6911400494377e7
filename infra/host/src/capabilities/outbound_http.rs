//! Outbound `wasi:http`: only to the hosts the component's
//! `allowed_outbound_hosts` names (Spin's syntax); anything else is denied
//! with `HttpRequestDenied`, as Spin does. Requests to
//! `http://<component>.spin.internal` (Spin's local service chaining) are
//! served in-process through [`ServiceChaining`], private routes included,
//! when the caller is allowed to reach that host.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::Request;
use http_body_util::BodyExt;
use wasmtime::component::Linker;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpHooks};

use super::{AppContext, Capability, ComponentContext, HostView, InstanceContext, View};
use crate::outbound_policy::OutboundPolicy;

/// Serves a chained request in-process; the app implements it. Narrow on
/// purpose: this capability needs nothing else of the app.
pub trait ServiceChaining: Send + Sync {
    fn handle_chained(
        self: Arc<Self>,
        component_id: String,
        request: Request<WasiBody>,
    ) -> Pin<Box<dyn Future<Output = wasmtime_wasi_http::Result<http::Response<WasiBody>>> + Send>>;
}

pub struct OutboundHttp;

/// One instance's wasi:http context and the hooks for its outgoing requests.
pub struct OutboundHttpInstance {
    pub ctx: WasiHttpCtx,
    pub hooks: OutboundHooks,
}

impl Capability for OutboundHttp {
    const IMPORTS: &'static [&'static str] = &["wasi:http/types@", "wasi:http/outgoing-handler@"];
    type App = ();
    type Component = Arc<OutboundPolicy>;
    type Instance = OutboundHttpInstance;

    fn init(_ctx: &AppContext<'_>) -> anyhow::Result<()> {
        Ok(())
    }

    fn configure_component(
        _app: &(),
        ctx: &ComponentContext<'_>,
    ) -> anyhow::Result<Arc<OutboundPolicy>> {
        Ok(ctx.outbound.clone())
    }

    fn new_instance(
        _app: &Arc<()>,
        policy: &Arc<OutboundPolicy>,
        ctx: &InstanceContext<'_>,
    ) -> anyhow::Result<OutboundHttpInstance> {
        Ok(OutboundHttpInstance {
            ctx: WasiHttpCtx::new(),
            hooks: OutboundHooks {
                chaining: ctx.chaining.clone(),
                policy: policy.clone(),
            },
        })
    }

    fn add_to_linker<T: HostView>(
        linker: &mut Linker<T>,
        _get: fn(&mut T) -> View<'_, OutboundHttpInstance>,
    ) -> anyhow::Result<()> {
        // wasmtime-wasi-http reaches the context and the hooks through
        // `WasiHttpView`, which `HostView` requires.
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
        Ok(())
    }
}

/// The per-instance hooks wasmtime-wasi-http calls for outgoing requests.
pub struct OutboundHooks {
    chaining: Arc<dyn ServiceChaining>,
    policy: Arc<OutboundPolicy>,
}

type SendResult = wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
)>;

fn denied() -> Box<dyn Future<Output = SendResult> + Send> {
    Box::new(async { Err(Error::HttpRequestDenied) })
}

impl WasiHttpHooks for OutboundHooks {
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
            let served = self
                .chaining
                .clone()
                .handle_chained(component_id.to_owned(), request);
            return Box::new(async move {
                let response = served.await?;
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
