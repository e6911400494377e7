//! Routing as Spin does it: `/.well-known/spin/*` answered by the host, the
//! rest matched by `spinstack-router`, client-sent `spin-*` headers replaced
//! by the host's, and a 404 problem when nothing matches.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderName, HeaderValue, Request, Response, StatusCode};

use crate::app::App;
use crate::component::ComponentRuntime;
use crate::gateway::access_log::ServedBy;
use crate::host_responses;
use crate::metrics::notes::MatchedRoute;
use crate::step::{HostResponse, Next, Step};
use crate::step::{OverTls, PeerAddr};

/// The component a request was routed to, in its extensions.
#[derive(Clone)]
pub struct Routed(pub Arc<ComponentRuntime>);

pub struct Routing(pub Arc<App>);

impl<B: Send + 'static> Step<B> for Routing {
    type NextBody = B;

    async fn run<N: Next<B>>(self: Arc<Self>, mut request: Request<B>, next: N) -> HostResponse {
        let app = &self.0;
        if let Some(what) = request
            .uri()
            .path()
            .strip_prefix(spinstack_router::WELL_KNOWN_PREFIX)
        {
            return well_known(app, what);
        }
        let matched = app.router.route(request.uri().path()).and_then(|route| {
            let component = app.components.get(route.component_id())?.clone();
            Some((route, component))
        });
        let Some((route, component)) = matched else {
            return host_responses::problem(StatusCode::NOT_FOUND, "No route matches this path.");
        };
        let client = request
            .extensions()
            .get::<PeerAddr>()
            .map(|PeerAddr(peer)| *peer)
            .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
        let full_url = full_url(&request);
        set_spin_headers(request.headers_mut(), route.spin_headers(&full_url, client));
        join_cookie_headers(request.headers_mut());
        let id = component.id.clone();
        // Only the metrics read it: no allocation without them.
        let matched_route = app
            .runtime
            .metrics
            .is_some()
            .then(|| MatchedRoute(Arc::from(route.raw_route())));
        request.extensions_mut().insert(Routed(component));
        let mut response = next.run(request).await;
        response.extensions_mut().insert(ServedBy(id));
        if let Some(matched_route) = matched_route {
            response.extensions_mut().insert(matched_route);
        }
        response
    }
}

/// Spin answers `/.well-known/spin/{health,info}` itself, before routing.
fn well_known(app: &App, what: &str) -> HostResponse {
    match what {
        "health" => Response::new(host_responses::full_body("OK")),
        "info" => {
            let info = serde_json::json!({
                "name": app.application_name,
                "version": app.application_version,
                "host": concat!("spinstack/", env!("CARGO_PKG_VERSION")),
            });
            let mut response = Response::new(host_responses::full_body(info.to_string()));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        _ => host_responses::problem(StatusCode::NOT_FOUND, "No route matches this path."),
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

/// HTTP/2 clients send each cookie as its own `cookie` field (RFC 9113
/// 8.2.3; Chromium does), which must be joined with "; " before the request
/// goes on as HTTP/1.1 would carry it: components read one Cookie header.
fn join_cookie_headers(headers: &mut http::HeaderMap) {
    if headers
        .get_all(http::header::COOKIE)
        .iter()
        .nth(1)
        .is_none()
    {
        return;
    }
    let joined: Vec<&[u8]> = headers
        .get_all(http::header::COOKIE)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    if let Ok(value) = HeaderValue::from_bytes(&joined.join(&b"; "[..])) {
        headers.insert(http::header::COOKIE, value);
    }
}

/// `spin-full-url` as Spin computes it: from the `Host` header (or HTTP/2's
/// `:authority`), with `https` over TLS.
fn full_url<B>(request: &Request<B>) -> String {
    let scheme = match request.extensions().get::<OverTls>() {
        Some(OverTls) => "https",
        None => "http",
    };
    // HTTP/2 carries the host as `:authority` (in the URI), not as a Host
    // header; RFC 9113 makes the two equivalent.
    let host = request
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    spinstack_router::full_url(scheme, host, path_and_query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_fields_are_joined_as_one_header() {
        let mut headers = http::HeaderMap::new();
        headers.append(http::header::COOKIE, HeaderValue::from_static("a=1"));
        headers.append(http::header::COOKIE, HeaderValue::from_static("b=2"));
        join_cookie_headers(&mut headers);
        let all: Vec<_> = headers.get_all(http::header::COOKIE).iter().collect();
        assert_eq!(all, [HeaderValue::from_static("a=1; b=2")]);

        let mut single = http::HeaderMap::new();
        single.insert(http::header::COOKIE, HeaderValue::from_static("a=1; b=2"));
        join_cookie_headers(&mut single);
        assert_eq!(single[http::header::COOKIE], "a=1; b=2");
    }
}
