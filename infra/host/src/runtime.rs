//! Running one request in a fresh instance of a component: build the store,
//! instantiate from the component's `InstancePre` (pooling + copy-on-write
//! make this cheap), call `wasi:http/incoming-handler`, and turn every way a
//! guest can fail into a response for that request alone.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};
use hyper::body::Body;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, Trap, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpView};

use crate::capabilities::key_value::{KeyValueAccess, KeyValueStores};
use crate::capabilities::outbound_http::{OutboundHttp, OutboundPolicy};
use crate::capabilities::stdio::{GuestLog, Stream};
use crate::capabilities::variables::ComponentVariables;
use crate::server::admission::Admission;
use crate::server::problem;
use crate::state::RequestState;

/// Everything a running application needs, shared by all requests.
pub struct App {
    pub engine: Engine,
    pub components: std::collections::HashMap<String, Arc<ComponentRuntime>>,
    pub router: spinstack_router::Router,
    pub key_value: Arc<KeyValueStores>,
    /// Postgres pools, by connection string (`capabilities/postgres`).
    pub postgres: Arc<crate::capabilities::postgres::PostgresPools>,
    pub admission: Admission,
    pub request_timeout: Duration,
    /// None only with `--gateway off`.
    pub gateway: Option<crate::gateway::GatewayLayer>,
    pub application_name: String,
    pub application_version: Option<String>,
}

/// One component, ready to instantiate.
pub struct ComponentRuntime {
    pub id: Arc<str>,
    pub pre: ProxyPre<RequestState>,
    pub variables: ComponentVariables,
    pub key_value_stores: Arc<HashSet<String>>,
    pub environment: Vec<(String, String)>,
    /// Host directory mounted read-only at the guest's `/`, when it has files.
    pub files_root: Option<PathBuf>,
    pub outbound: Arc<OutboundPolicy>,
}

/// How a guest failed, for the status code and the log.
#[derive(Debug)]
pub enum GuestFailure {
    /// It ran past the request deadline: 504.
    DeadlineExceeded,
    /// It trapped, or never produced a response: 500.
    Crashed(String),
    /// No instance could be had (pool exhausted): 503.
    NoCapacity,
}

impl std::fmt::Display for GuestFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GuestFailure::DeadlineExceeded => f.write_str("deadline exceeded"),
            GuestFailure::Crashed(why) => write!(f, "guest failed: {why}"),
            GuestFailure::NoCapacity => f.write_str("no instance slot free"),
        }
    }
}

impl GuestFailure {
    pub fn into_response(self) -> Response<HyperOutgoingBody> {
        match self {
            GuestFailure::DeadlineExceeded => problem::problem(
                StatusCode::GATEWAY_TIMEOUT,
                "The request took longer than the deadline allows.",
            ),
            GuestFailure::Crashed(_) => problem::problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The component failed while handling the request.",
            ),
            GuestFailure::NoCapacity => {
                problem::unavailable("The server is at capacity; retry shortly.", 1)
            }
        }
    }
}

impl ComponentRuntime {
    pub(crate) fn new_state(
        &self,
        app: &Arc<App>,
        deadline: Instant,
    ) -> anyhow::Result<RequestState> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(GuestLog::new(self.id.clone(), Stream::Stdout))
            .stderr(GuestLog::new(self.id.clone(), Stream::Stderr))
            .envs(&self.environment)
            // Outbound networking is wasi:http only, checked against the
            // manifest; raw sockets would bypass that.
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        if let Some(root) = &self.files_root {
            wasi.preopened_dir(root, "/", FsPerms::ReadOnly)?;
        }
        Ok(RequestState {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            outbound_http: OutboundHttp::new(app.clone(), self.outbound.clone()),
            key_value: KeyValueAccess {
                stores: app.key_value.clone(),
                allowed: self.key_value_stores.clone(),
            },
            postgres: crate::capabilities::postgres::PostgresAccess::new(
                app.postgres.clone(),
                self.outbound.clone(),
            ),
            variables: self.variables.clone(),
            deadline,
        })
    }

    /// Runs `request` in a fresh instance. `permit` (if any) is held until
    /// the instance is gone, including while it streams its response body.
    pub async fn handle<B>(
        self: &Arc<Self>,
        app: &Arc<App>,
        request: Request<B>,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Result<Response<HyperOutgoingBody>, GuestFailure>
    where
        B: Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let deadline = Instant::now() + app.request_timeout;
        let state = self
            .new_state(app, deadline)
            .map_err(|e| GuestFailure::Crashed(format!("preparing the instance: {e:#}")))?;
        let mut store = Store::new(&app.engine, state);
        // Check the clock on every epoch tick: past the deadline, interrupt;
        // before it, yield so a busy guest cannot starve other requests.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|ctx| {
            if Instant::now() >= ctx.data().deadline {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });

        let (sender, receiver) = tokio::sync::oneshot::channel();
        let prepared = (|| {
            let request = store
                .data_mut()
                .http()
                .new_incoming_request(Scheme::Http, request)?;
            let outparam = store.data_mut().http().new_response_outparam(sender)?;
            anyhow::Ok((request, outparam))
        })();
        let (request, outparam) =
            prepared.map_err(|e| GuestFailure::Crashed(format!("preparing the request: {e:#}")))?;

        let pre = self.pre.clone();
        let task = tokio::spawn(async move {
            let _permit = permit;
            let proxy = pre
                .instantiate_async(&mut store)
                .await
                .map_err(Failure::Instantiate)?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, request, outparam)
                .await
                .map_err(Failure::Run)
        });

        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(code)) => Err(GuestFailure::Crashed(format!(
                "the guest answered with error {code:?}"
            ))),
            // The guest never set a response: the task says why.
            Err(_) => Err(match task.await {
                Ok(Ok(())) => GuestFailure::Crashed("the guest returned no response".into()),
                Ok(Err(failure)) => failure.classify(),
                Err(join) => GuestFailure::Crashed(format!("the instance task failed: {join}")),
            }),
        }
    }
}

enum Failure {
    Instantiate(wasmtime::Error),
    Run(wasmtime::Error),
}

impl Failure {
    fn classify(self) -> GuestFailure {
        match self {
            Failure::Instantiate(e) => {
                let text = format!("{e:#}");
                if text.contains("maximum concurrent") || text.contains("pooling") {
                    GuestFailure::NoCapacity
                } else {
                    GuestFailure::Crashed(format!("instantiation failed: {text}"))
                }
            }
            Failure::Run(e) => match e.downcast_ref::<Trap>() {
                Some(Trap::Interrupt) => GuestFailure::DeadlineExceeded,
                _ => GuestFailure::Crashed(format!("{e:#}")),
            },
        }
    }
}
