//! The gateway in front of every route, enforcing `infra/gateway.toml` (the
//! same policy nginx gets, rendered by `spinstack gateway render-nginx`):
//! rate limits and body limits before any component runs, then security
//! headers, `X-Request-Id` and compression on every response.
//!
//! The policy itself (limiter, matching, nginx rendering) is the pure
//! `spinstack-gateway` crate; this module applies it to hyper requests.

pub mod access_log;
mod body_limit;
pub mod client_address;
pub mod request_id;
pub mod request_limits;
pub mod response_compression;
pub mod security_headers;
pub mod store_proxy;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Instant;

use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};
use spinstack_gateway::{
    BODY_TOO_LARGE_DETAIL, Gateway, GatewayConfig, RATE_LIMITED_DETAIL, RateDecision,
    normalize_path,
};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

pub use body_limit::{BodyLimit, LimitedBody};

use crate::config::GatewaySelection;
use crate::host_responses as problem;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub struct GatewayPolicy {
    policy: Gateway,
    /// The monotonic origin of the limiter's millisecond clock.
    started: Instant,
    /// The headers of responses sent in cleartext, and over TLS (those add
    /// the `tls_only` ones such as HSTS).
    plain_headers: Vec<(HeaderName, HeaderValue)>,
    tls_headers: Vec<(HeaderName, HeaderValue)>,
    client_ip_header: HeaderName,
    /// The `[[proxies]]`, upstreams resolved.
    proxies: Vec<store_proxy::Proxy>,
}

/// Why a request was turned away before reaching a component.
pub struct Refusal {
    pub response: Box<Response<HyperOutgoingBody>>,
    pub rate_limit: String,
}

/// What the gateway decided for an admitted request.
pub struct Admitted {
    pub body_limit: u64,
    /// For the access log: `none`, or `zone:<name>`.
    pub rate_limit: String,
}

impl GatewayPolicy {
    /// `variable` gives the application's variables (for proxy upstreams
    /// such as `variable:s3_endpoint`); `None` for an undeclared one.
    pub fn new(
        config: GatewayConfig,
        variable: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let policy = Gateway::new(config);
        let proxies = policy
            .config()
            .proxies()
            .iter()
            .map(|config| {
                store_proxy::Proxy::new(config, policy.proxy_body_limit(config), variable)
            })
            .collect();
        let headers = |tls| {
            policy
                .security_headers(tls)
                .iter()
                .map(|(name, value)| {
                    Ok((
                        HeaderName::try_from(name.as_str())?,
                        HeaderValue::try_from(value.as_str())?,
                    ))
                })
                .collect::<anyhow::Result<Vec<_>>>()
        };
        let plain_headers = headers(false)?;
        let tls_headers = headers(true)?;
        let client_ip_header = HeaderName::try_from(policy.client_ip_header())?;
        Ok(Self {
            policy,
            started: Instant::now(),
            plain_headers,
            tls_headers,
            client_ip_header,
            proxies,
        })
    }

    /// The proxy a request path is under (normalised as nginx does), if any.
    /// Such a request never reaches a component and has no rate limit.
    pub fn proxy(&self, path: &str) -> Option<&store_proxy::Proxy> {
        let config = self.policy.proxy(path)?;
        self.proxies
            .iter()
            .find(|proxy| proxy.prefix() == config.prefix)
    }

    /// The rate-limit key: the peer, or a forwarded address when the peer is
    /// a trusted proxy.
    pub fn client_ip(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        let forwarded = headers
            .get_all(&self.client_ip_header)
            .iter()
            .map(|v| v.as_bytes());
        self.policy.client_key(peer.ip(), forwarded)
    }

    /// The client's `X-Request-Id` when acceptable, else a fresh one.
    pub fn request_id(&self, headers: &HeaderMap) -> HeaderValue {
        headers
            .get(&X_REQUEST_ID)
            .filter(|v| spinstack_gateway::accept_request_id(v.as_bytes()))
            .cloned()
            .unwrap_or_else(|| {
                HeaderValue::try_from(uuid::Uuid::new_v4().to_string())
                    .expect("a UUID is a valid header value")
            })
    }

    /// Rate limit and declared body size, before any component runs.
    ///
    /// Limits are looked up on the nginx-normalised path; when that differs
    /// from the raw path (which Spin's router uses), both paths' policies
    /// apply, so `/api/auth/../x` or `/api//auth` cannot dodge a zone.
    pub fn admit(
        &self,
        path: &str,
        client: IpAddr,
        content_length: Option<u64>,
    ) -> Result<Admitted, Refusal> {
        let now_ms = self.started.elapsed().as_millis() as u64;
        let normalized = normalize_path(path);
        let also_normalized = (normalized != path).then_some(&*normalized);
        let mut body_limit = u64::MAX;
        let mut rate_limit = String::from("none");
        for path in std::iter::once(path).chain(also_normalized) {
            let route = self.policy.route(path);
            body_limit = body_limit.min(route.max_body_size);
            match self.policy.check_route(&route, client, now_ms) {
                RateDecision::Allowed { zone } => rate_limit = format!("zone:{zone}"),
                RateDecision::NotLimited => {}
                RateDecision::Limited {
                    zone,
                    retry_after_secs,
                } => {
                    let mut response =
                        problem::problem(StatusCode::TOO_MANY_REQUESTS, RATE_LIMITED_DETAIL);
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                    return Err(Refusal {
                        response: Box::new(response),
                        rate_limit: format!("limited:{zone}"),
                    });
                }
            }
        }
        if content_length.is_some_and(|length| length > body_limit) {
            return Err(Refusal {
                response: Box::new(too_large()),
                rate_limit,
            });
        }
        Ok(Admitted {
            body_limit,
            rate_limit,
        })
    }

    /// The headers every response gets, whatever the component set.
    pub fn security_headers(&self, tls: bool) -> &[(HeaderName, HeaderValue)] {
        if tls {
            &self.tls_headers
        } else {
            &self.plain_headers
        }
    }

    pub fn policy(&self) -> &Gateway {
        &self.policy
    }
}

/// Whether the request carries a body. A refusal leaves it unread, so the
/// connection is closed after the answer (as nginx does): the client must not
/// reuse a connection with half a body still in flight.
pub fn has_body<B>(request: &http::Request<B>) -> bool {
    content_length(request).is_some_and(|length| length > 0)
        || request.headers().contains_key(header::TRANSFER_ENCODING)
}

/// The request's declared body length.
pub fn content_length<B>(request: &http::Request<B>) -> Option<u64> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

pub fn close_connection<B>(response: &mut Response<B>) {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
}

/// Loads the policy `selection` names; `variable` resolves the
/// application's variables (proxy upstreams).
pub fn load(
    selection: &GatewaySelection,
    manifest_dir: &Path,
    variable: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<std::sync::Arc<GatewayPolicy>>> {
    let Some(config) = policy(selection, manifest_dir)? else {
        return Ok(None);
    };
    Ok(Some(std::sync::Arc::new(GatewayPolicy::new(
        config, variable,
    )?)))
}

/// The policy `selection` names, `None` for [`GatewaySelection::Off`].
fn policy(
    selection: &GatewaySelection,
    manifest_dir: &Path,
) -> anyhow::Result<Option<GatewayConfig>> {
    let from_project = || -> anyhow::Result<GatewayConfig> {
        let path = manifest_dir.join(DEFAULT_POLICY_PATH);
        Ok(if path.exists() {
            GatewayConfig::from_file(&path)?
        } else {
            GatewayConfig::default()
        })
    };
    Ok(Some(match selection {
        GatewaySelection::Off => return Ok(None),
        GatewaySelection::WithoutRateLimits => from_project()?.disabled_rate_limits(),
        GatewaySelection::File(path) => GatewayConfig::from_file(path)?,
        GatewaySelection::Project => from_project()?,
    }))
}

/// The prefix (without its last "/") under which the selected policy
/// proxies the upstream named by application variable `variable`, if any:
/// `/_storage` for `s3_endpoint` with the project's policy.
pub fn proxy_path_for_variable(
    selection: &GatewaySelection,
    manifest_dir: &Path,
    variable: &str,
) -> anyhow::Result<Option<String>> {
    // Only a policy file proxies for the app: the built-in one is used when
    // the project has none, and then the store is reached directly.
    let project_file = manifest_dir.join(DEFAULT_POLICY_PATH);
    if matches!(
        selection,
        GatewaySelection::Project | GatewaySelection::WithoutRateLimits
    ) && !project_file.exists()
    {
        return Ok(None);
    }
    let Some(config) = policy(selection, manifest_dir)? else {
        return Ok(None);
    };
    Ok(config
        .proxies()
        .iter()
        .find(|proxy| {
            matches!(&proxy.upstream, spinstack_gateway::ProxyUpstream::Variable(name) if name == variable)
        })
        .map(|proxy| proxy.prefix.trim_end_matches('/').to_owned()))
}

/// Where a project keeps its gateway policy, relative to spin.toml.
pub const DEFAULT_POLICY_PATH: &str = "infra/gateway.toml";

pub fn too_large() -> Response<HyperOutgoingBody> {
    problem::problem(StatusCode::PAYLOAD_TOO_LARGE, BODY_TOO_LARGE_DETAIL)
}
