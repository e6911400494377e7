//! `--redirect-http ADDR`: a cleartext listener that answers every request
//! with `301` to the same path and query on `https://` (nginx's
//! `return 301 https://$host$request_uri`). No component runs. The Host
//! header must be a valid authority, else 400: a redirect must never point
//! at whatever a client wrote.

use std::convert::Infallible;

use http::{HeaderValue, Request, Response, StatusCode, header};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

use crate::host_responses;
use crate::step::HostResponse;

pub async fn serve(listener: TcpListener, https_port: u16) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
            std::future::ready(Ok::<_, Infallible>(redirect(&request, https_port)))
        });
        tokio::spawn(async move {
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The answer to `request` on the redirect listener.
pub fn redirect<B>(request: &Request<B>, https_port: u16) -> HostResponse {
    let authority = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .and_then(|host| host.parse::<http::uri::Authority>().ok())
        .filter(|authority| !authority.host().is_empty() && !authority.as_str().contains('@'));
    let Some(authority) = authority else {
        return host_responses::problem(
            StatusCode::BAD_REQUEST,
            "The request has no valid Host header to redirect to.",
        );
    };
    let host = authority.host();
    let port = match https_port {
        443 => String::new(),
        port => format!(":{port}"),
    };
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let location = format!("https://{host}{port}{path_and_query}");
    let Ok(location) = HeaderValue::try_from(location) else {
        return host_responses::problem(
            StatusCode::BAD_REQUEST,
            "The request target cannot be redirected.",
        );
    };
    let mut response = Response::new(host_responses::full_body(""));
    *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
    response.headers_mut().insert(header::LOCATION, location);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(host: Option<&str>, target: &str, port: u16) -> (StatusCode, Option<String>) {
        let mut request = Request::builder().uri(target);
        if let Some(host) = host {
            request = request.header("host", host);
        }
        let response = redirect(&request.body(()).unwrap(), port);
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        (response.status(), location)
    }

    #[test]
    fn path_and_query_are_kept_and_the_port_is_the_tls_listeners() {
        assert_eq!(
            location(Some("app.example:80"), "/a/b?c=d", 443),
            (
                StatusCode::MOVED_PERMANENTLY,
                Some("https://app.example/a/b?c=d".into())
            )
        );
        assert_eq!(
            location(Some("localhost:3080"), "/", 3443),
            (
                StatusCode::MOVED_PERMANENTLY,
                Some("https://localhost:3443/".into())
            )
        );
    }

    #[test]
    fn an_invalid_or_missing_host_is_refused() {
        assert_eq!(location(None, "/x", 443).0, StatusCode::BAD_REQUEST);
        assert_eq!(
            location(Some("evil.example/x"), "/x", 443).0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            location(Some("user@evil.example"), "/x", 443).0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(location(Some(""), "/x", 443).0, StatusCode::BAD_REQUEST);
    }
}
