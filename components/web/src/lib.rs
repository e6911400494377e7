//! The web front: serves the React app built by Vite (`frontend/dist`), which
//! spin.toml mounts at this component's `/` through `files`.
//!
//! - `GET`/`HEAD` only (405 with `Allow` otherwise).
//! - Paths are checked before any file is touched ([`path`]): `..` and `.`
//!   segments, encoded slashes or dots, backslashes, NUL and control
//!   characters are refused (400); hidden files are not served (404).
//! - `/api` and `/api/...` are never the app: 404 problem+json (the API's
//!   own routes are more specific in spin.toml, so only unknown API paths
//!   get here).
//! - A path whose last segment has an extension is an asset: served if it
//!   exists, else 404 problem+json. Any other path is a client-side route:
//!   `index.html`.
//! - `.br` / `.gz` siblings written at build time are sent when the client's
//!   `Accept-Encoding` allows, with `Content-Encoding` and
//!   `Vary: Accept-Encoding` (the gateway leaves encoded responses alone).
//! - Caching: hashed files under `/assets/` are immutable for a year;
//!   everything else (`index.html` first) is `no-cache`, revalidated with a
//!   strong `ETag` (SHA-256 of the bytes sent, so each encoding has its own)
//!   and `If-None-Match` → 304.

pub mod mime;
pub mod negotiate;
pub mod path;
pub mod serve;

use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;

/// Where `files` puts the app in the guest.
const ROOT: &str = "/";

#[http_component]
fn handle(request: Request) -> Response {
    let method = match request.method() {
        Method::Get => serve::Method::Get,
        Method::Head => serve::Method::Head,
        _ => serve::Method::Other,
    };
    let header = |name: &str| request.header(name).and_then(|v| v.as_str());
    let reply = serve::serve(
        std::path::Path::new(ROOT),
        &serve::Incoming {
            method,
            path: request.path(),
            accept_encoding: header("accept-encoding"),
            if_none_match: header("if-none-match"),
        },
    );
    let mut builder = Response::builder();
    builder.status(reply.status);
    for (name, value) in &reply.headers {
        builder.header(*name, value.as_str());
    }
    builder.body(reply.body).build().into_response()
}
