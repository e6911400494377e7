//! Names and formatting of the `spin-*` request headers.
//!
//! Spin's trigger (`crates/trigger-http/src/headers.rs`) builds these as
//! `SPIN_*` names and turns them into header names by replacing `_` with `-`
//! and lower-casing. Its wasi-http executors (the ones `spin_sdk` components
//! use) then append them after the client's own headers, silently skipping any
//! pair that is not a valid HTTP header name or value.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The full URL: `{scheme}://{Host header}{path and query}`.
pub const FULL_URL: &str = "spin-full-url";
/// The part of the path matched by the trailing wildcard (empty otherwise).
pub const PATH_INFO: &str = "spin-path-info";
/// The matched route as Spin normalised it (leading `/`, one trailing `/` removed).
pub const MATCHED_ROUTE: &str = "spin-matched-route";
/// The matched route as written in the manifest, minus a trailing `/...`.
pub const COMPONENT_ROUTE: &str = "spin-component-route";
/// The matched route exactly as written in the manifest.
pub const RAW_COMPONENT_ROUTE: &str = "spin-raw-component-route";
/// The application base path; always `/` with manifest v2.
pub const BASE_PATH: &str = "spin-base-path";
/// The client socket address, `ip:port` (`[ip]:port` for IPv6).
pub const CLIENT_ADDR: &str = "spin-client-addr";
/// Prefix of the one-per-parameter headers for `:name` route segments.
pub const PATH_MATCH_PREFIX: &str = "spin-path-match-";

/// The base path Spin reports. Manifest v2 has no `base`, and Spin's trigger
/// always builds its router with base `/` (`Router::build("/", ..)` in
/// `trigger-http/src/server.rs`).
pub const BASE_PATH_VALUE: &str = "/";

/// The host Spin puts in `spin-full-url` when the request has no `Host`
/// header (`prepare_request_headers` in `trigger-http/src/headers.rs`).
pub const DEFAULT_HOST: &str = "localhost";

/// The client address Spin reports for a service-chained request
/// (`CHAINED_CLIENT_ADDR` in `trigger-http/src/outbound_http.rs`): `0.0.0.0:0`.
pub const SERVICE_CHAINING_CLIENT_ADDR: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

/// The domain of service-chaining URLs: `http://<component>.spin.internal/..`.
pub const SERVICE_CHAINING_DOMAIN: &str = "spin.internal";

/// Builds the `spin-full-url` value the way Spin's `compute_default_headers`
/// does: `format!("{scheme}://{host}{path_and_query}")`.
///
/// * `scheme` is the server's scheme, `http` or `https` (for a service-chained
///   request Spin always uses `http`).
/// * `host_header` is the request's `Host` header, *not* the URI authority: an
///   HTTP/2 request that carries only `:authority`, and every service-chained
///   request (Spin removes `Host` from outbound requests), get `localhost`.
///   Spin also drops an inbound `Host` that names a `*.spin.internal` host
///   before routing (`strip_forbidden_headers`), see
///   [`is_service_chaining_host`].
/// * `path_and_query` is the request target's path and query as received
///   (still percent-encoded, `?` kept).
pub fn full_url(scheme: &str, host_header: Option<&str>, path_and_query: &str) -> String {
    let host = host_header.unwrap_or(DEFAULT_HOST);
    let mut url = String::with_capacity(scheme.len() + 3 + host.len() + path_and_query.len());
    url.push_str(scheme);
    url.push_str("://");
    url.push_str(host);
    url.push_str(path_and_query);
    url
}

/// The component id a service-chaining host names, as Spin's
/// `parse_service_chaining_host`: any `:port` is dropped, then the host must
/// be exactly `<id>.spin.internal` (case-sensitive, one label before it).
pub fn service_chaining_target(host: &str) -> Option<&str> {
    let host = host.trim();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let (first, rest) = host.split_once('.')?;
    (rest == SERVICE_CHAINING_DOMAIN).then_some(first)
}

/// Whether a `Host` value names a service-chaining host (Spin strips such a
/// `Host` header from inbound requests).
pub fn is_service_chaining_host(host: &str) -> bool {
    service_chaining_target(host).is_some()
}

/// The header name for a `:name` parameter: Spin formats
/// `SPIN_PATH_MATCH_{NAME}` (ASCII upper-cased) and then maps `_` to `-` and
/// lower-cases, so `:user_Id` becomes `spin-path-match-user-id`. `None` when
/// that is not a valid header name (non-token characters), because Spin's
/// wasi-http executors drop such headers.
pub(crate) fn path_match_header(param: &str) -> Option<Box<str>> {
    let mut name = String::with_capacity(PATH_MATCH_PREFIX.len() + param.len());
    name.push_str(PATH_MATCH_PREFIX);
    for c in param.chars() {
        name.push(if c == '_' {
            '-'
        } else {
            c.to_ascii_lowercase()
        });
    }
    is_token(&name).then(|| name.into_boxed_str())
}

/// RFC 9110 `token`, which is what `http::HeaderName` accepts (lower case).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `http::HeaderValue::from_bytes` would accept the value: visible
/// bytes, space, tab and obs-text; no other control characters.
pub(crate) fn is_valid_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_url_uses_host_header_or_localhost() {
        assert_eq!(
            full_url("https", Some("example.com:8443"), "/a/b?x=1&y"),
            "https://example.com:8443/a/b?x=1&y"
        );
        assert_eq!(full_url("http", None, "/"), "http://localhost/");
    }

    #[test]
    fn service_chaining_hosts() {
        assert_eq!(
            service_chaining_target("backend.spin.internal"),
            Some("backend")
        );
        assert_eq!(
            service_chaining_target("backend.spin.internal:80"),
            Some("backend")
        );
        assert_eq!(service_chaining_target("a.b.spin.internal"), None);
        assert_eq!(service_chaining_target("backend.SPIN.internal"), None);
        assert_eq!(service_chaining_target("spin.internal"), None);
        assert_eq!(service_chaining_target("example.com"), None);
        assert!(is_service_chaining_host("x.spin.internal:1234"));
        assert!(!is_service_chaining_host("localhost:3000"));
    }

    #[test]
    fn path_match_header_names() {
        assert_eq!(
            path_match_header("userid").as_deref(),
            Some("spin-path-match-userid")
        );
        assert_eq!(
            path_match_header("user_Id").as_deref(),
            Some("spin-path-match-user-id")
        );
        assert_eq!(path_match_header("a:b"), None);
        assert_eq!(path_match_header("caf\u{e9}"), None);
    }

    #[test]
    fn header_values() {
        assert!(is_valid_value(""));
        assert!(is_valid_value("/a b\t\u{e9}"));
        assert!(!is_valid_value("a\nb"));
        assert!(!is_valid_value("a\u{7f}"));
    }

    #[test]
    fn chained_client_addr_format() {
        assert_eq!(SERVICE_CHAINING_CLIENT_ADDR.to_string(), "0.0.0.0:0");
    }
}
