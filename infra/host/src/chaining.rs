//! Spin's local service chaining: a request from one component to
//! `http://<component>.spin.internal/...` is served in-process by that
//! component (private routes included), with the headers Spin gives it.
//! The outbound HTTP capability reaches it through [`ServiceChaining`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::{Request, Response};
use spinstack_router::{RouteMatch, SERVICE_CHAINING_CLIENT_ADDR};
use wasmtime_wasi_http::{Error, WasiBody};

use crate::app::App;
use crate::capabilities::outbound_http::ServiceChaining;
use crate::server::set_spin_headers;

impl ServiceChaining for App {
    fn handle_chained(
        self: Arc<Self>,
        component_id: String,
        request: Request<WasiBody>,
    ) -> Pin<Box<dyn Future<Output = wasmtime_wasi_http::Result<Response<WasiBody>>> + Send>> {
        Box::pin(async move { self.serve_chained(&component_id, request).await })
    }
}

impl App {
    async fn serve_chained(
        self: &Arc<Self>,
        component_id: &str,
        mut request: Request<WasiBody>,
    ) -> wasmtime_wasi_http::Result<Response<WasiBody>> {
        let Some(component) = self.components.get(component_id).cloned() else {
            return Err(Error::DestinationNotFound);
        };
        let path_and_query = request
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        let route = RouteMatch::for_component(component_id, request.uri().path());
        // As Spin: the Host header is dropped, so the full URL says localhost,
        // and the client address is the unspecified one.
        request.headers_mut().remove(http::header::HOST);
        let full_url = spinstack_router::full_url("http", None, &path_and_query);
        set_spin_headers(
            request.headers_mut(),
            route.spin_headers(&full_url, SERVICE_CHAINING_CLIENT_ADDR),
        );
        // No admission slot: the caller already holds one, and waiting for a
        // second could deadlock a full host.
        let chaining: Arc<dyn ServiceChaining> = self.clone();
        match component
            .handle(&self.runtime, &chaining, request, None)
            .await
        {
            Ok(response) => Ok(response),
            Err(failure) => {
                tracing::error!(
                    component = component_id,
                    "chained request failed: {failure}"
                );
                Ok(failure.into_response())
            }
        }
    }
}
