//! The gateway in front of every route, enforcing `infra/gateway.toml` (the
//! same policy nginx gets, rendered by `spinstack gateway render-nginx`):
//! rate limits and body limits before any component runs, then security
//! headers, `X-Request-Id` and compression on every response.
//!
//! The policy itself (limiter, matching, nginx rendering) is the pure
//! `spinstack-gateway` crate; this module applies it to hyper requests.

pub mod access_log;
mod body_limit;
mod compression;
pub mod proxy;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Instant;

use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, header};
use spinstack_gateway::{
    BODY_TOO_LARGE_DETAIL, Gateway, GatewayConfig, RATE_LIMITED_DETAIL, RateDecision,
    normalize_path,
};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

pub use body_limit::{BodyLimit, LimitedBody};

use crate::server::problem;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub struct GatewayLayer {
    policy: Gateway,
    /// The monotonic origin of the limiter's millisecond clock.
    started: Instant,
    security_headers: Vec<(HeaderName, HeaderValue)>,
    client_ip_header: HeaderName,
    /// The `[[proxies]]`, upstreams resolved.
    proxies: Vec<proxy::Proxy>,
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

impl GatewayLayer {
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
            .map(|config| proxy::Proxy::new(config, policy.proxy_body_limit(config), variable))
            .collect();
        let security_headers = policy
            .security_headers(false)
            .iter()
            .map(|(name, value)| {
                Ok((
                    HeaderName::try_from(name.as_str())?,
                    HeaderValue::try_from(value.as_str())?,
                ))
            })
            .collect::<anyhow::Result<_>>()?;
        let client_ip_header = HeaderName::try_from(policy.client_ip_header())?;
        Ok(Self {
            policy,
            started: Instant::now(),
            security_headers,
            client_ip_header,
            proxies,
        })
    }

    /// The proxy a request path is under (normalised as nginx does), if any.
    /// Such a request never reaches a component and has no rate limit.
    pub fn proxy(&self, path: &str) -> Option<&proxy::Proxy> {
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

    /// Applies the response policy: security headers (overriding whatever
    /// the component set), the request id, and compression (unless
    /// `compress` is false: proxied bodies are opaque and go out as they came).
    pub async fn finish(
        &self,
        mut response: Response<HyperOutgoingBody>,
        request_id: HeaderValue,
        method: &Method,
        accept_encoding: Option<&str>,
        compress: bool,
    ) -> Response<HyperOutgoingBody> {
        let headers = response.headers_mut();
        for (name, value) in &self.security_headers {
            headers.insert(name.clone(), value.clone());
        }
        headers.insert(X_REQUEST_ID, request_id);
        if !compress {
            return response;
        }
        compression::apply(&self.policy, response, method, accept_encoding).await
    }
}

/// Loads the policy `spinstack up --gateway` names (see the flag's help);
/// `variable` resolves the application's variables (proxy upstreams).
pub fn load(
    flag: Option<&str>,
    manifest_dir: &Path,
    variable: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<GatewayLayer>> {
    let from_project = || -> anyhow::Result<GatewayConfig> {
        let path = manifest_dir.join(DEFAULT_POLICY_PATH);
        Ok(if path.exists() {
            GatewayConfig::from_file(&path)?
        } else {
            GatewayConfig::default()
        })
    };
    let config = match flag {
        Some("off") => return Ok(None),
        Some("none") => from_project()?.disabled_rate_limits(),
        Some(path) => GatewayConfig::from_file(path)?,
        None => from_project()?,
    };
    Ok(Some(GatewayLayer::new(config, variable)?))
}

/// The prefix (without its last "/") under which the gateway `flag` selects
/// proxies the upstream named by application variable `variable`, if any:
/// `/_storage` for `s3_endpoint` with the project's policy.
pub fn proxy_path_for_variable(
    flag: Option<&str>,
    manifest_dir: &Path,
    variable: &str,
) -> anyhow::Result<Option<String>> {
    let config = match flag {
        Some("off") => return Ok(None),
        Some("none") | None => {
            let path = manifest_dir.join(DEFAULT_POLICY_PATH);
            if !path.exists() {
                return Ok(None);
            }
            GatewayConfig::from_file(&path)?
        }
        Some(path) => GatewayConfig::from_file(path)?,
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

/// `spinstack gateway render-nginx`; `proxy_upstreams` are `PREFIX=URL`
/// overrides of the proxies' `nginx_upstream`.
pub fn render_nginx(policy: &Path, out: &Path, proxy_upstreams: &[String]) -> anyhow::Result<()> {
    let mut config = GatewayConfig::from_file(policy)?;
    for option in proxy_upstreams {
        let (prefix, url) = option.split_once('=').ok_or_else(|| {
            anyhow::anyhow!("--proxy-upstream {option:?}: expected PREFIX=URL, e.g. /_storage/=http://minio:9000")
        })?;
        config = config
            .with_nginx_proxy_upstream(prefix, url)
            .map_err(|why| anyhow::anyhow!("--proxy-upstream {option:?}: {why}"))?;
    }
    let rendered = spinstack_gateway::render_nginx(&config);
    if out == Path::new("-") {
        print!("{rendered}");
    } else {
        std::fs::write(out, rendered)?;
        println!("wrote {}", out.display());
    }
    Ok(())
}

pub fn too_large() -> Response<HyperOutgoingBody> {
    problem::problem(StatusCode::PAYLOAD_TOO_LARGE, BODY_TOO_LARGE_DETAIL)
}
