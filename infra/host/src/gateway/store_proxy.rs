//! The gateway's reverse proxy: `[[proxies]]` prefixes of `infra/gateway.toml`
//! (the object store under `/_storage/`) forwarded to their upstream, so the
//! browser reaches the store on the app's own origin.
//!
//! `METHOD <prefix><rest>?<query>` goes to `<upstream>/<rest>?<query>`, the
//! raw path and query unchanged, with `Host` set to the upstream's authority:
//! exactly what a SigV4-presigned URL for the upstream signs. Bodies stream
//! both ways (never buffered whole); the request body is counted against the
//! prefix's limit. Only the request headers a presigned S3 request may need
//! are forwarded: never Cookie, Authorization or the client's Host. Response
//! status and headers come back as they are, without hop-by-hop headers.
//!
//! Nothing waits forever: connecting is bounded by [`CONNECT_TIMEOUT`], the
//! response head by [`RESPONSE_TIMEOUT`] and each body, either way, by
//! [`IDLE_TIMEOUT`] between frames. An unreachable upstream is a 502, one
//! that does not answer in time a 504 (problem+json).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode, Uri, header};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use spinstack_gateway::{
    ProxyConfig, ProxyUpstream, UPSTREAM_TIMEOUT_DETAIL, UPSTREAM_UNREACHABLE_DETAIL, UpstreamUrl,
};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{Error as BodyError, RequestOptions};

use super::body_limit::{BodyLimit, LimitedBody};
use crate::host_responses as problem;

/// Time to open the TCP (and TLS) connection to the upstream.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time from sending the request to the response head, the upload included
/// (a 26 MiB body at 100 KiB/s takes about 4.5 minutes).
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest pause between two frames of either body.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Request headers forwarded to the upstream (besides `x-amz-*`): what an S3
/// request, presigned or not, may carry. Everything else stays here.
const FORWARDED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "content-language",
    "content-disposition",
    "content-md5",
    "cache-control",
    "expires",
    "range",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "if-range",
];

/// Connection-level headers (RFC 9110 7.6.1), never passed on.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn forwarded(name: &HeaderName) -> bool {
    let name = name.as_str();
    name.starts_with("x-amz-") || FORWARDED_HEADERS.contains(&name)
}

/// One configured prefix, with its upstream resolved at start-up.
pub struct Proxy {
    config: ProxyConfig,
    body_limit: u64,
    upstream: Result<Upstream, String>,
}

struct Upstream {
    url: UpstreamUrl,
    host: HeaderValue,
}

/// What the proxy answered, for the server.
pub struct Forwarded {
    pub response: Response<HyperOutgoingBody>,
    /// Answered without reading the request body: close the connection.
    pub refused: bool,
}

impl Proxy {
    /// `variable` gives the value of an application variable (None when the
    /// app does not declare it). An upstream that cannot be resolved is
    /// logged and leaves the prefix answering 404.
    pub fn new(
        config: &ProxyConfig,
        body_limit: u64,
        variable: &dyn Fn(&str) -> Option<String>,
    ) -> Self {
        let upstream = resolve(&config.upstream, variable).and_then(|url| {
            let host = HeaderValue::try_from(url.authority()).map_err(|e| e.to_string())?;
            Ok(Upstream { url, host })
        });
        match &upstream {
            Ok(upstream) => {
                tracing::info!("gateway: {} is proxied to {}", config.prefix, upstream.url)
            }
            Err(why) => tracing::warn!(
                "gateway: {} is not proxied ({why}); requests under it get 404",
                config.prefix
            ),
        }
        Self {
            config: config.clone(),
            body_limit,
            upstream,
        }
    }

    pub fn prefix(&self) -> &str {
        &self.config.prefix
    }

    /// Forwards `request` (under this proxy's prefix once normalised).
    pub async fn forward<B>(&self, request: Request<B>, content_length: Option<u64>) -> Forwarded
    where
        B: Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<BodyError>,
    {
        let refuse = |response| Forwarded {
            response,
            refused: true,
        };
        let not_found = || problem::problem(StatusCode::NOT_FOUND, "No route matches this path.");
        let Ok(upstream) = &self.upstream else {
            return refuse(not_found());
        };
        // Only the prefix as written is forwarded: a path that merely
        // normalises into it (`//_storage/x`, `/_st%61rage/x`) is not.
        let Some(rest) = self.config.forwarded_path(request.uri().path()) else {
            return refuse(not_found());
        };
        if content_length.is_some_and(|length| length > self.body_limit) {
            return refuse(super::too_large());
        }
        let target = match request.uri().query() {
            Some(query) => format!("{}{rest}?{query}", upstream.url),
            None => format!("{}{rest}", upstream.url),
        };
        let Ok(target) = target.parse::<Uri>() else {
            return refuse(problem::problem(
                StatusCode::BAD_REQUEST,
                "The request target cannot be forwarded.",
            ));
        };

        let (parts, body) = request.into_parts();
        let mut headers = HeaderMap::with_capacity(parts.headers.len());
        for (name, value) in &parts.headers {
            if forwarded(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        headers.insert(header::HOST, upstream.host.clone());
        let limit = BodyLimit::default();
        let body = IdleTimeout::new(LimitedBody::new(body, self.body_limit, limit.clone()));
        let mut outgoing = Request::new(body);
        *outgoing.method_mut() = parts.method;
        *outgoing.uri_mut() = target;
        *outgoing.headers_mut() = headers;

        let options = RequestOptions {
            connect_timeout: Some(CONNECT_TIMEOUT),
            first_byte_timeout: Some(RESPONSE_TIMEOUT),
            between_bytes_timeout: Some(IDLE_TIMEOUT),
        };
        let sent = wasmtime_wasi_http::default_send_request(outgoing, Some(options)).await;
        let (response, io) = match sent {
            Ok(sent) => sent,
            Err(_) if limit.exceeded() => return refuse(super::too_large()),
            Err(error) => {
                tracing::warn!(
                    prefix = %self.config.prefix,
                    upstream = %upstream.url,
                    "gateway proxy: {error}"
                );
                let response = match error {
                    BodyError::ConnectionReadTimeout | BodyError::HttpResponseTimeout => {
                        problem::problem(StatusCode::GATEWAY_TIMEOUT, UPSTREAM_TIMEOUT_DETAIL)
                    }
                    _ => problem::problem(StatusCode::BAD_GATEWAY, UPSTREAM_UNREACHABLE_DETAIL),
                };
                // The request body may be unread: do not reuse the connection.
                return refuse(response);
            }
        };
        // The connection's I/O, until the response body is consumed or dropped.
        tokio::spawn(async move {
            if let Err(error) = io.await {
                tracing::debug!("gateway proxy connection ended: {error}");
            }
        });
        let (mut parts, body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        Forwarded {
            response: Response::from_parts(parts, body.boxed_unsync()),
            refused: false,
        }
    }
}

fn resolve(
    upstream: &ProxyUpstream,
    variable: &dyn Fn(&str) -> Option<String>,
) -> Result<UpstreamUrl, String> {
    match upstream {
        ProxyUpstream::Url(url) => Ok(url.clone()),
        ProxyUpstream::Variable(name) => match variable(name) {
            None => Err(format!("the application declares no variable {name:?}")),
            Some(value) if value.is_empty() => Err(format!("variable {name:?} is empty")),
            Some(value) => {
                UpstreamUrl::parse(&value).map_err(|why| format!("variable {name:?}: {why}"))
            }
        },
    }
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
}

/// Fails a request body that pauses longer than [`IDLE_TIMEOUT`] (a client
/// that stalls mid-upload must not hold the upstream connection forever).
struct IdleTimeout<B> {
    inner: B,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl<B> IdleTimeout<B> {
    fn new(inner: B) -> Self {
        Self {
            inner,
            sleep: Box::pin(tokio::time::sleep(IDLE_TIMEOUT)),
        }
    }
}

impl<B> Body for IdleTimeout<B>
where
    B: Body<Data = Bytes, Error = BodyError> + Unpin,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(BodyError::ConnectionReadTimeout))),
                Poll::Pending => Poll::Pending,
            },
            ready => {
                this.sleep
                    .as_mut()
                    .reset(tokio::time::Instant::now() + IDLE_TIMEOUT);
                ready
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The step that sends `[[proxies]]` prefixes (the object store) to their
/// upstream: no component, no rate limit, their own body limit, no
/// compression.
pub struct StoreProxy(pub std::sync::Arc<super::GatewayPolicy>);

impl<B> crate::step::Step<B> for StoreProxy
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<BodyError>,
{
    type NextBody = B;

    async fn run<N: crate::step::Next<B>>(
        self: std::sync::Arc<Self>,
        request: Request<B>,
        next: N,
    ) -> crate::step::HostResponse {
        let Some(proxy) = self.0.proxy(request.uri().path()) else {
            return next.run(request).await;
        };
        let has_body = super::has_body(&request);
        let content_length = super::content_length(&request);
        let forwarded = proxy.forward(request, content_length).await;
        let mut response = forwarded.response;
        if forwarded.refused && has_body {
            super::close_connection(&mut response);
        }
        let extensions = response.extensions_mut();
        extensions.insert(super::response_compression::Uncompressed);
        extensions.insert(super::access_log::RateLimitNote("none".into()));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_storage_headers_are_forwarded() {
        for name in [
            "content-type",
            "content-length",
            "content-md5",
            "range",
            "if-none-match",
            "x-amz-content-sha256",
            "x-amz-meta-owner",
        ] {
            assert!(forwarded(&HeaderName::from_static(name)), "{name}");
        }
        for name in [
            "cookie",
            "authorization",
            "host",
            "x-forwarded-for",
            "origin",
            "referer",
            "accept-encoding",
            "connection",
            "expect",
            "x-request-id",
        ] {
            assert!(!forwarded(&HeaderName::from_static(name)), "{name}");
        }
    }

    #[test]
    fn hop_by_hop_headers_are_dropped() {
        let mut headers = HeaderMap::new();
        headers.insert("connection", HeaderValue::from_static("close, x-private"));
        headers.insert("x-private", HeaderValue::from_static("1"));
        headers.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert("etag", HeaderValue::from_static("\"abc\""));
        headers.insert("content-length", HeaderValue::from_static("3"));
        strip_hop_by_hop(&mut headers);
        let mut names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["content-length", "etag"]);
    }

    #[test]
    fn upstreams_resolve_from_variables() {
        let variable = |name: &str| match name {
            "s3_endpoint" => Some("http://127.0.0.1:9000".to_owned()),
            "empty" => Some(String::new()),
            "bad" => Some("127.0.0.1:9000".to_owned()),
            _ => None,
        };
        let resolved = resolve(&ProxyUpstream::Variable("s3_endpoint".into()), &variable);
        assert_eq!(resolved.unwrap().authority(), "127.0.0.1:9000");
        for name in ["empty", "bad", "undeclared"] {
            let error = resolve(&ProxyUpstream::Variable(name.into()), &variable).unwrap_err();
            assert!(error.contains(name), "{error}");
        }
    }
}
