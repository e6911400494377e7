//! One component, and running one request in a fresh instance of it: build the store,
//! instantiate from the component's `InstancePre` (pooling + copy-on-write
//! make this cheap), call `wasi:http/incoming-handler`, and turn every way a
//! guest can fail into a response for that request alone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};
use hyper::body::Body;
use spinstack_gateway::media_type;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, PoolConcurrencyLimitError, Store, Trap, UpdateDeadline};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::capabilities::outbound_http::ServiceChaining;
use crate::capabilities::{AppStates, ComponentStates, InstanceContext};
use crate::host_responses as problem;
use crate::instance_state::InstanceState;
use crate::step::OverTls;

/// What running any component needs, shared by all requests.
pub struct Runtime {
    pub engine: Engine,
    /// Every capability's app-wide state.
    pub capabilities: AppStates,
    pub request_timeout: Duration,
    /// The limit instead for a request that asks for an event stream.
    pub stream_timeout: Duration,
    /// Recorded only when something serves them (`HostConfig::metrics`).
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
}

impl Runtime {
    /// How long `request` may run: the request timeout, or the stream
    /// timeout for a `GET` accepting `text/event-stream` (what `EventSource`
    /// sends). The guest still decides what it streams; the deadline only
    /// bounds how long an instance can be held, so a long-lived stream is
    /// not cut at 30 s, and nothing runs unbounded.
    pub fn timeout_for<B>(&self, request: &Request<B>) -> Duration {
        if wants_event_stream(request) {
            self.stream_timeout.max(self.request_timeout)
        } else {
            self.request_timeout
        }
    }
}

fn wants_event_stream<B>(request: &Request<B>) -> bool {
    request.method() == http::Method::GET
        && request
            .headers()
            .get_all(http::header::ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|range| media_type::is(range, media_type::EVENT_STREAM))
}

/// One component, ready to instantiate.
pub struct ComponentRuntime {
    pub id: Arc<str>,
    pub pre: ProxyPre<InstanceState>,
    /// What each capability lets this component use.
    pub capabilities: ComponentStates,
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
    /// For the metrics: one of `metrics::failure_kind`'s.
    pub fn kind(&self) -> &'static str {
        use crate::metrics::failure_kind;
        match self {
            GuestFailure::DeadlineExceeded => failure_kind::DEADLINE,
            GuestFailure::Crashed(_) => failure_kind::TRAP,
            GuestFailure::NoCapacity => failure_kind::NO_INSTANCE,
        }
    }

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
    pub fn new_state(
        &self,
        runtime: &Runtime,
        chaining: &Arc<dyn ServiceChaining>,
        deadline: Instant,
    ) -> anyhow::Result<InstanceState> {
        let context = InstanceContext {
            component_id: &self.id,
            deadline,
            chaining,
        };
        Ok(InstanceState {
            table: ResourceTable::new(),
            capabilities: runtime
                .capabilities
                .new_instance(&self.capabilities, &context)?,
            deadline,
        })
    }

    /// Runs `request` in a fresh instance. `permit` (if any) is held until
    /// the instance is gone, including while it streams its response body.
    pub async fn handle<B>(
        self: &Arc<Self>,
        runtime: &Runtime,
        chaining: &Arc<dyn ServiceChaining>,
        request: Request<B>,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Result<Response<HyperOutgoingBody>, GuestFailure>
    where
        B: Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let deadline = Instant::now() + runtime.timeout_for(&request);
        let state = self
            .new_state(runtime, chaining, deadline)
            .map_err(|e| GuestFailure::Crashed(format!("preparing the instance: {e:#}")))?;
        let mut store = Store::new(&runtime.engine, state);
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

        let scheme = match request.extensions().get::<OverTls>() {
            Some(OverTls) => Scheme::Https,
            None => Scheme::Http,
        };
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let prepared = (|| {
            let request = store
                .data_mut()
                .http()
                .new_incoming_request(scheme, request)?;
            let outparam = store.data_mut().http().new_response_outparam(sender)?;
            anyhow::Ok((request, outparam))
        })();
        let (request, outparam) =
            prepared.map_err(|e| GuestFailure::Crashed(format!("preparing the request: {e:#}")))?;

        let pre = self.pre.clone();
        let timed = runtime.metrics.clone().map(|m| (m, self.id.clone()));
        let task = tokio::spawn(async move {
            let _permit = permit;
            let started = Instant::now();
            let proxy = pre
                .instantiate_async(&mut store)
                .await
                .map_err(Failure::Instantiate)?;
            if let Some((metrics, id)) = timed {
                metrics.instantiation(&id, started.elapsed());
            }
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
                if e.downcast_ref::<PoolConcurrencyLimitError>().is_some() {
                    GuestFailure::NoCapacity
                } else {
                    GuestFailure::Crashed(format!("instantiation failed: {e:#}"))
                }
            }
            Failure::Run(e) => match e.downcast_ref::<Trap>() {
                Some(Trap::Interrupt) => GuestFailure::DeadlineExceeded,
                _ => GuestFailure::Crashed(format!("{e:#}")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wants_event_stream;

    fn request(method: &str, accept: &[&str]) -> http::Request<()> {
        let mut builder = http::Request::builder().method(method).uri("/api/events");
        for value in accept {
            builder = builder.header("accept", *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn only_a_get_accepting_an_event_stream_gets_the_stream_timeout() {
        assert!(wants_event_stream(&request("GET", &["text/event-stream"])));
        assert!(wants_event_stream(&request(
            "GET",
            &["text/html", "Text/Event-Stream;q=0.9"]
        )));
        assert!(!wants_event_stream(&request("GET", &["*/*"])));
        assert!(!wants_event_stream(&request("GET", &[])));
        assert!(!wants_event_stream(&request(
            "POST",
            &["text/event-stream"]
        )));
    }
}
