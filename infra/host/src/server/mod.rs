//! The HTTP front door: accept connections, route each request to its
//! component the way Spin does, and log it once.

pub mod admission;
pub mod problem;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::gateway::access_log::{AccessRecord, log_response};
use crate::gateway::{BodyLimit, LimitedBody};
use crate::runtime::App;

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
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
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let app = app.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(&app, request, client).await) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%client, "connection ended: {e}");
            }
        });
    }
}

async fn handle(
    app: &Arc<App>,
    mut request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<HyperOutgoingBody> {
    let started = Instant::now();
    // `--gateway off` (benchmark baseline): no policy, no access log.
    let Some(gateway) = &app.gateway else {
        return route_and_run(app, request, peer).await.0;
    };
    let client = gateway.client_ip(peer, request.headers());
    let request_id = gateway.request_id(request.headers());
    request
        .headers_mut()
        .insert(crate::gateway::X_REQUEST_ID, request_id.clone());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let accept_encoding = request
        .headers()
        .get(http::header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content_length = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());

    // A refusal leaves the request body unread: close the connection after
    // the answer (as nginx does) so the client does not reuse a connection
    // with half a body still in flight.
    let has_body = content_length.is_some_and(|length| length > 0)
        || request
            .headers()
            .contains_key(http::header::TRANSFER_ENCODING);
    // `[[proxies]]` prefixes (the object store) go to their upstream: no
    // component, no rate limit, their own body limit, no compression.
    let proxy = gateway.proxy(&path);
    let (response, component, rate_limit) = if let Some(proxy) = proxy {
        let forwarded = proxy.forward(request, content_length).await;
        let mut response = forwarded.response;
        if forwarded.refused && has_body {
            close_connection(&mut response);
        }
        (response, None, String::from("none"))
    } else {
        match gateway.admit(&path, client, content_length) {
            Err(refusal) => {
                let mut response = *refusal.response;
                if has_body {
                    close_connection(&mut response);
                }
                (response, None, refusal.rate_limit)
            }
            Ok(admitted) => {
                let limit = BodyLimit::default();
                let request =
                    request.map(|body| LimitedBody::new(body, admitted.body_limit, limit.clone()));
                let (response, component) = route_and_run(app, request, peer).await;
                // The component read past the limit of a chunked body: whatever
                // it answered, the answer is 413.
                let response = if limit.exceeded() {
                    let mut response = crate::gateway::too_large();
                    close_connection(&mut response);
                    response
                } else {
                    response
                };
                (response, component, admitted.rate_limit)
            }
        }
    };

    let record = AccessRecord {
        request_id: request_id.to_str().unwrap_or_default().to_owned(),
        client,
        method: method.to_string(),
        path,
        status: response.status().as_u16(),
        component,
        rate_limit,
        started,
    };
    let response = gateway
        .finish(
            response,
            request_id,
            &method,
            accept_encoding.as_deref(),
            proxy.is_none(),
        )
        .await;
    log_response(response, &method, record)
}

async fn route_and_run<B>(
    app: &Arc<App>,
    mut request: Request<B>,
    client: SocketAddr,
) -> (Response<HyperOutgoingBody>, Option<Arc<str>>)
where
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    if let Some(what) = request
        .uri()
        .path()
        .strip_prefix(spinstack_router::WELL_KNOWN_PREFIX)
    {
        return (well_known(app, what), None);
    }
    let matched = app.router.route(request.uri().path()).and_then(|route| {
        let component = app.components.get(route.component_id())?.clone();
        Some((route, component))
    });
    let Some((route, component)) = matched else {
        return (
            problem::problem(StatusCode::NOT_FOUND, "No route matches this path."),
            None,
        );
    };
    let full_url = full_url(&request);
    set_spin_headers(request.headers_mut(), route.spin_headers(&full_url, client));

    let Some(permit) = app.admission.admit().await else {
        return (
            problem::unavailable("The server is at capacity; retry shortly.", 1),
            Some(component.id.clone()),
        );
    };
    let response = match component.handle(app, request, Some(permit)).await {
        Ok(response) => response,
        Err(failure) => {
            tracing::error!(component = &*component.id, "request failed: {failure}");
            failure.into_response()
        }
    };
    (response, Some(component.id.clone()))
}

fn close_connection<B>(response: &mut Response<B>) {
    response
        .headers_mut()
        .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
}

/// Spin answers `/.well-known/spin/{health,info}` itself, before routing.
fn well_known(app: &App, what: &str) -> Response<HyperOutgoingBody> {
    match what {
        "health" => Response::new(problem::full_body("OK")),
        "info" => {
            let info = serde_json::json!({
                "name": app.application_name,
                "version": app.application_version,
                "host": concat!("spinstack/", env!("CARGO_PKG_VERSION")),
            });
            let mut response = Response::new(problem::full_body(info.to_string()));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        _ => problem::problem(StatusCode::NOT_FOUND, "No route matches this path."),
    }
}

/// Replaces any client-sent `spin-*` headers (they must not be spoofable)
/// with the ones the host computed.
pub fn set_spin_headers<'a>(
    headers: &mut http::HeaderMap,
    values: impl IntoIterator<Item = (&'a str, String)>,
) {
    let spoofed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("spin-"))
        .cloned()
        .collect();
    for name in spoofed {
        headers.remove(name);
    }
    for (name, value) in values {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.insert(name, value);
        }
    }
}

/// `spin-full-url` as Spin computes it: from the `Host` header only.
fn full_url<B>(request: &Request<B>) -> String {
    let host = request
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    spinstack_router::full_url("http", host, path_and_query)
}
