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
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::{BodyExt, BodyStream, StreamBody};
use hyper::body::Frame;
use spinstack_gateway::{Encoding, Gateway};
use tokio_util::io::{ReaderStream, StreamReader};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Fast settings: at these levels compression costs less CPU than the bytes
/// it saves cost to send, and it keeps the gateway's overhead small.
const GZIP_LEVEL: i32 = 4;
const BROTLI_LEVEL: i32 = 4;

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
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
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
                return Response::from_parts(parts, crate::server::problem::full_body(bytes));
            }
            Prefix::Partial(body) => body,
        }
    } else {
        body
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(encoding.token()),
    );
    Response::from_parts(parts, compress(body, encoding))
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
