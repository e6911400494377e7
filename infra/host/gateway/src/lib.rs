//! The Spinstack gateway policy: what nginx did in front of the application,
//! as one file (`infra/gateway.toml`) and pure functions over it.
//!
//! - [`GatewayConfig`]: the checked policy (`from_file`, `from_str`, [`Default`]
//!   = the committed file, [`GatewayConfig::disabled_rate_limits`]).
//! - [`Gateway`]: the policy with its rate-limit state; per request the host asks
//!   [`Gateway::client_key`], [`Gateway::route`] / [`Gateway::check`],
//!   [`Gateway::security_headers`], [`Gateway::should_compress`] and
//!   [`Gateway::negotiate_encoding`].
//! - [`Gateway::proxy`]: the path prefixes forwarded to another service
//!   ([`ProxyConfig`], e.g. the object store under `/_storage/`).
//! - [`GatewayConfig::tls`]: the optional `[tls]` section ([`TlsConfig`]).
//! - [`render_nginx`]: the same policy as an nginx.conf; [`render_ingress`]: as
//!   ingress-nginx `Ingress` objects for Kubernetes.
//!
//! Nothing here does I/O on the request path or reads a clock: time is a
//! parameter (`now_ms`), so every decision is reproducible in tests.

mod client_ip;
mod compression;
mod config;
mod error;
mod gateway;
mod headers;
mod ingress;
mod limiter;
pub mod media_type;
mod nginx;
mod proxy;
mod raw;
mod refusal_details;
mod routes;
#[cfg(test)]
mod test_support;
mod tls;
mod trusted_proxy;
mod units;
mod validate;

pub use compression::Encoding;
// The type of `ClientIpConfig::trusted_proxies`, so callers need not depend on ipnet.
pub use config::{
    BYTES_PER_STATE, ClientIpConfig, ClientIpHeader, CompressionConfig, GatewayConfig,
    HeaderConfig, NginxConfig, RouteConfig, ZoneConfig,
};
pub use error::{ConfigError, Position};
pub use gateway::{Gateway, RateDecision, RoutePolicy};
pub use headers::{MAX_REQUEST_ID_LEN, REQUEST_ID_HEADER, accept_request_id};
pub use ingress::{INGRESS_GENERATED_NOTICE, IngressOptions, ingress_differences, render_ingress};
pub use ipnet::IpNet;
pub use limiter::{Verdict, ZoneLimiter};
pub use nginx::{GENERATED_NOTICE, render_nginx};
pub use proxy::{ProxyConfig, ProxyUpstream, Scheme, UpstreamUrl};
pub use refusal_details::{
    BODY_TOO_LARGE_DETAIL, PROBLEM_CONTENT_TYPE, RATE_LIMITED_DETAIL, UPSTREAM_TIMEOUT_DETAIL,
    UPSTREAM_UNREACHABLE_DETAIL, problem_body,
};
pub use routes::normalize_path;
pub use tls::{TlsConfig, TlsProtocol};
pub use units::{Rate, RateUnit, Size};
