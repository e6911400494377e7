//! Response compression, as nginx's gzip module would do it: for the
//! configured content types, when the client accepts it, never for bodies
//! already encoded or too small to gain, with `Vary: Accept-Encoding` on
//! every response that could have been compressed. Streams: the body is
//! compressed as the component writes it, never buffered whole.
//!
//! Components rarely declare a Content-Length, so "too small to gain" is
//! decided by reading up to `min_size` bytes first: a body that ends before
//! that goes out uncompressed with its exact length.

use async_compression::Level;
use async_compression::tokio::bufread::{BrotliEncoder, GzipEncoder};
use bytes::{Bytes, BytesMut};
use futures::{StreamExt, TryStreamExt};
use std::sync::Arc;

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, BodyStream, StreamBody};
use hyper::body::Frame;
use spinstack_gateway::{Encoding, Gateway};
use tokio_util::io::{ReaderStream, StreamReader};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::GatewayPolicy;
use crate::step::{HostResponse, Next, Step};

/// Fast settings: at these levels compression costs less CPU than the bytes
/// it saves cost to send, and it keeps the gateway's overhead small.
const GZIP_LEVEL: i32 = 4;
const BROTLI_LEVEL: i32 = 4;

/// Marks a response (in its extensions) that goes out as it came: a
/// proxied body is opaque.
#[derive(Clone, Copy, Debug)]
pub struct Uncompressed;

/// The step that compresses responses as the policy says.
pub struct ResponseCompression(pub Arc<GatewayPolicy>);

impl<B: Send + 'static> Step<B> for ResponseCompression {
    type NextBody = B;

    async fn run<N: Next<B>>(self: Arc<Self>, request: Request<B>, next: N) -> HostResponse {
        let method = request.method().clone();
        let accept_encoding = request
            .headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let response = next.run(request).await;
        if response.extensions().get::<Uncompressed>().is_some() {
            return response;
        }
        apply(
            self.0.policy(),
            response,
            &method,
            accept_encoding.as_deref(),
        )
        .await
    }
}

pub async fn apply(
    policy: &Gateway,
    mut response: Response<HyperOutgoingBody>,
    method: &Method,
    accept_encoding: Option<&str>,
) -> Response<HyperOutgoingBody> {
    let status = response.status();
    if *method == Method::HEAD
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || status.is_informational()
    {
        return response;
    }
    let headers = response.headers();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content_type = content_type.as_deref();
    let content_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let encoded = headers.contains_key(header::CONTENT_ENCODING);
    // Whether the type could be compressed at all decides Vary; the size
    // and the client's wishes decide this response.
    if encoded || !policy.should_compress(content_type, None, false) {
        return response;
    }
    if !varies_on_accept_encoding(response.headers()) {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if !policy.should_compress(content_type, content_length, false) {
        return response;
    }
    let Some(encoding) = policy.negotiate_encoding(accept_encoding) else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    let body = if content_length.is_none() {
        match read_prefix(body, policy.config().compression().min_size.bytes()).await {
            Prefix::Whole(bytes) => {
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
                return Response::from_parts(parts, crate::host_responses::full_body(bytes));
            }
            Prefix::Partial(body) => body,
        }
    } else {
        body
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    weaken_etag(&mut parts.headers);
    parts.headers.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(encoding.token()),
    );
    Response::from_parts(parts, compress(body, encoding))
}

/// Whether a `Vary` already covers Accept-Encoding (named in any of its
/// values, any case, or `*`), so that none is added twice.
fn varies_on_accept_encoding(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|name| name == "*" || name.eq_ignore_ascii_case("accept-encoding"))
}

/// The compressed representation is not byte-identical to the one a strong
/// validator names: make it weak (`W/"..."`), as nginx's gzip module does.
fn weaken_etag(headers: &mut http::HeaderMap) {
    let Some(etag) = headers.get(header::ETAG) else {
        return;
    };
    let bytes = etag.as_bytes();
    if bytes.starts_with(b"\"") {
        let mut weak = Vec::with_capacity(bytes.len() + 2);
        weak.extend_from_slice(b"W/");
        weak.extend_from_slice(bytes);
        if let Ok(weak) = HeaderValue::from_bytes(&weak) {
            headers.insert(header::ETAG, weak);
        }
    }
}

fn compress(body: HyperOutgoingBody, encoding: Encoding) -> HyperOutgoingBody {
    let data = BodyStream::new(body)
        .try_filter_map(|frame| futures::future::ready(Ok(frame.into_data().ok())))
        .map_err(|e| std::io::Error::other(e.to_string()));
    let reader = StreamReader::new(data);
    let to_body_error =
        |e: std::io::Error| wasmtime_wasi_http::Error::InternalError(Some(e.to_string()));
    match encoding {
        Encoding::Gzip => {
            let encoder = GzipEncoder::with_quality(reader, Level::Precise(GZIP_LEVEL));
            StreamBody::new(
                ReaderStream::new(encoder)
                    .map_ok(Frame::data)
                    .map_err(to_body_error),
            )
            .boxed_unsync()
        }
        Encoding::Brotli => {
            let encoder = BrotliEncoder::with_quality(reader, Level::Precise(BROTLI_LEVEL));
            StreamBody::new(
                ReaderStream::new(encoder)
                    .map_ok(Frame::data)
                    .map_err(to_body_error),
            )
            .boxed_unsync()
        }
    }
}

enum Prefix {
    /// The body ended within the prefix: all of it.
    Whole(Bytes),
    /// The body is at least the prefix long: the prefix, then the rest.
    Partial(HyperOutgoingBody),
}

/// Reads frames until `limit` bytes or the body's end.
async fn read_prefix(mut body: HyperOutgoingBody, limit: u64) -> Prefix {
    let mut prefix = BytesMut::new();
    while (prefix.len() as u64) < limit {
        match body.frame().await {
            None => return Prefix::Whole(prefix.freeze()),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    prefix.extend_from_slice(&data);
                }
            }
            Some(Err(e)) => {
                let failed = futures::stream::iter([Err(e)]);
                let head = futures::stream::iter([Ok(Frame::data(prefix.freeze()))]);
                return Prefix::Partial(StreamBody::new(head.chain(failed)).boxed_unsync());
            }
        }
    }
    let head = futures::stream::iter([Ok(Frame::data(prefix.freeze()))]);
    Prefix::Partial(StreamBody::new(head.chain(BodyStream::new(body))).boxed_unsync())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vary(values: &[&str]) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        for value in values {
            headers.append(header::VARY, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn an_existing_vary_on_accept_encoding_is_recognised() {
        assert!(varies_on_accept_encoding(&vary(&["Accept-Encoding"])));
        assert!(varies_on_accept_encoding(&vary(&[
            "origin, ACCEPT-ENCODING"
        ])));
        assert!(varies_on_accept_encoding(&vary(&[
            "cookie",
            "accept-encoding"
        ])));
        assert!(varies_on_accept_encoding(&vary(&["*"])));
        assert!(!varies_on_accept_encoding(&vary(&[])));
        assert!(!varies_on_accept_encoding(&vary(&["origin, accept"])));
    }

    fn text_response(etag: &str, vary: Option<&str>) -> Response<HyperOutgoingBody> {
        let mut response = Response::new(crate::host_responses::full_body(vec![b'a'; 5000]));
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(5000));
        headers.insert(header::ETAG, HeaderValue::from_str(etag).unwrap());
        if let Some(vary) = vary {
            headers.insert(header::VARY, HeaderValue::from_str(vary).unwrap());
        }
        response
    }

    fn vary_values(response: &Response<HyperOutgoingBody>) -> Vec<&str> {
        response
            .headers()
            .get_all(header::VARY)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn compressing_weakens_the_etag_and_keeps_one_vary() {
        let policy = Gateway::default();
        let compressed = apply(
            &policy,
            text_response("\"v1\"", Some("Origin, Accept-Encoding")),
            &Method::GET,
            Some("gzip"),
        )
        .await;
        assert_eq!(compressed.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(compressed.headers()[header::ETAG], "W/\"v1\"");
        assert_eq!(vary_values(&compressed), ["Origin, Accept-Encoding"]);

        // Sent as it is: the strong validator still names these bytes.
        let identity = apply(&policy, text_response("\"v1\"", None), &Method::GET, None).await;
        assert!(!identity.headers().contains_key(header::CONTENT_ENCODING));
        assert_eq!(identity.headers()[header::ETAG], "\"v1\"");
        assert_eq!(vary_values(&identity), ["accept-encoding"]);

        let weak = apply(
            &policy,
            text_response("W/\"v2\"", Some("origin")),
            &Method::GET,
            Some("br"),
        )
        .await;
        assert_eq!(weak.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(weak.headers()[header::ETAG], "W/\"v2\"");
        assert_eq!(vary_values(&weak), ["origin", "accept-encoding"]);
    }

    #[test]
    fn strong_etags_become_weak_and_weak_ones_stay() {
        for (before, after) in [
            ("\"abc\"", "W/\"abc\""),
            ("W/\"abc\"", "W/\"abc\""),
            ("\"\"", "W/\"\""),
        ] {
            let mut headers = http::HeaderMap::new();
            headers.insert(header::ETAG, HeaderValue::from_static(before));
            weaken_etag(&mut headers);
            assert_eq!(headers[header::ETAG], after, "{before}");
        }
        let mut none = http::HeaderMap::new();
        weaken_etag(&mut none);
        assert!(none.is_empty());
    }
}
