//! The checked gateway policy, loaded from `infra/gateway.toml`.
//!
//! A [`GatewayConfig`] can only be made by parsing (or [`Default`], which is
//! the committed file), so every value in it has been validated: the limiter,
//! the helpers and the nginx renderer never see a dangling zone or a header
//! value nginx would misread.

use std::path::Path;

use ipnet::IpNet;

use crate::compression::Encoding;
use crate::error::{ConfigError, Source};
use crate::proxy::{ProxyConfig, UpstreamUrl};
use crate::raw::RawConfig;
use crate::tls::TlsConfig;
use crate::units::{Rate, Size};

/// The committed policy; `Default` is this file, so the two cannot drift.
const COMMITTED: &str = include_str!("../../../gateway.toml");

/// The whole gateway policy. See `infra/gateway.toml` for the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    pub(crate) client_ip: ClientIpConfig,
    pub(crate) max_body_size: Size,
    pub(crate) zones: Vec<ZoneConfig>,
    pub(crate) routes: Vec<RouteConfig>,
    pub(crate) proxies: Vec<ProxyConfig>,
    pub(crate) headers: Vec<HeaderConfig>,
    pub(crate) compression: CompressionConfig,
    pub(crate) nginx: NginxConfig,
    pub(crate) tls: Option<TlsConfig>,
}

/// The request header a trusted proxy puts the client address in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientIpHeader {
    XForwardedFor,
    XRealIp,
}

impl ClientIpHeader {
    /// The canonical header name.
    pub fn name(self) -> &'static str {
        match self {
            ClientIpHeader::XForwardedFor => "X-Forwarded-For",
            ClientIpHeader::XRealIp => "X-Real-IP",
        }
    }
}

/// How the client address (the rate-limit key) is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIpConfig {
    pub header: ClientIpHeader,
    pub recursive: bool,
    /// Peers whose `header` is believed. Empty: the peer address is always the key.
    pub trusted_proxies: Vec<IpNet>,
}

/// A rate-limit zone (nginx `limit_req_zone` + the `limit_req` burst). Always `nodelay`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneConfig {
    pub name: String,
    pub rate: Rate,
    pub burst: u32,
    /// Memory for client states, as nginx's zone size.
    pub size: Size,
}

/// Bytes of zone memory per client state, as nginx documents it (one megabyte
/// holds about 16 thousand states).
pub const BYTES_PER_STATE: u64 = 64;

impl ZoneConfig {
    /// How many clients the zone remembers at most.
    pub fn capacity(&self) -> usize {
        usize::try_from(self.size.bytes() / BYTES_PER_STATE).unwrap_or(usize::MAX)
    }

    /// The longest `Retry-After` the zone ever answers: the wait, right after a
    /// refusal, for the bucket to admit one more request (13 s for 5r/m, 1 s for
    /// 30r/s). nginx cannot compute it per request, so the rendered config sends this.
    pub fn max_retry_after_secs(&self) -> u64 {
        let millis = 1_000_000u64.div_ceil(self.rate.millis_per_second());
        millis.div_ceil(1000).max(1)
    }
}

/// A path-prefix rule (an nginx prefix location).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteConfig {
    /// Starts with "/"; when it ends with "/", it also matches the path without it.
    pub prefix: String,
    /// The zone limiting this route, `None` for `zone = "none"`.
    pub zone: Option<String>,
    /// Overrides `[body] max_size` for this route.
    pub max_body_size: Option<Size>,
    /// Proxied as a WebSocket upgrade by nginx.
    pub websocket: bool,
    /// Serves server-sent events: nginx passes each write on at once
    /// (no buffering, no gzip) and waits long between them.
    pub event_stream: bool,
}

/// A response header the gateway adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderConfig {
    pub name: String,
    pub value: String,
    /// Only on connections served over TLS (e.g. Strict-Transport-Security).
    pub tls_only: bool,
}

/// Response compression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressionConfig {
    pub enabled: bool,
    /// In order of preference.
    pub encodings: Vec<Encoding>,
    /// Responses with a smaller Content-Length are sent as they are.
    pub min_size: Size,
    /// Lower-case `type/subtype`, without parameters; text/html is implied.
    pub types: Vec<String>,
}

/// What only the rendered nginx.conf needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NginxConfig {
    pub listen: u16,
    pub server_name: String,
    /// `host:port` or `unix:/path` of the Spin application.
    pub upstream: String,
    pub mime_types: String,
    /// Directory of the pid file and nginx's temporary files.
    pub runtime_dir: String,
}

impl Default for GatewayConfig {
    /// The committed `infra/gateway.toml`.
    fn default() -> Self {
        GatewayConfig::parse(COMMITTED, "infra/gateway.toml")
            .unwrap_or_else(|error| panic!("the committed gateway.toml is invalid: {error}"))
    }
}

impl std::str::FromStr for GatewayConfig {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        GatewayConfig::parse(text, "gateway.toml")
    }
}

impl GatewayConfig {
    /// Reads and checks a gateway config file; errors name the file, line and column.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        // `[tls]` paths are relative to the file, like `include` in nginx.conf
        // is to its prefix: the policy then works from any current directory.
        let base_dir = path.parent().unwrap_or(Path::new(""));
        GatewayConfig::parse_in(&text, &path.display().to_string(), Some(base_dir))
    }

    /// Checks gateway config text; errors say "gateway.toml, line L, column C: ...".
    #[allow(clippy::should_implement_trait)] // FromStr is implemented too; this needs no import.
    pub fn from_str(text: &str) -> Result<Self, ConfigError> {
        GatewayConfig::parse(text, "gateway.toml")
    }

    /// Checks gateway config text, naming it `origin` in errors.
    /// Relative `[tls]` paths stay as written (relative to the current directory).
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        GatewayConfig::parse_in(text, origin, None)
    }

    fn parse_in(text: &str, origin: &str, base_dir: Option<&Path>) -> Result<Self, ConfigError> {
        let source = Source { origin, text };
        let raw: RawConfig = toml::from_str(text)
            .map_err(|error| ConfigError::at(&source, error.span(), error.message().to_owned()))?;
        crate::validate::check(&source, base_dir, raw)
    }

    /// The text of the committed `infra/gateway.toml`, which [`Default`] parses.
    pub fn default_toml() -> &'static str {
        COMMITTED
    }

    /// The same policy without any rate limit (`--gateway none`): security
    /// headers, body limits and compression stay as they are.
    pub fn disabled_rate_limits(mut self) -> Self {
        self.zones.clear();
        for route in &mut self.routes {
            route.zone = None;
        }
        self
    }

    pub fn client_ip(&self) -> &ClientIpConfig {
        &self.client_ip
    }

    /// The body limit of paths whose route sets none.
    pub fn max_body_size(&self) -> Size {
        self.max_body_size
    }

    /// In file order.
    pub fn zones(&self) -> &[ZoneConfig] {
        &self.zones
    }

    /// In file order (matching picks the longest prefix, whatever the order).
    pub fn routes(&self) -> &[RouteConfig] {
        &self.routes
    }

    /// In file order: the prefixes proxied to another service.
    pub fn proxies(&self) -> &[ProxyConfig] {
        &self.proxies
    }

    /// Replaces the nginx upstream of the proxy at `prefix` (`spinstack gateway
    /// render-nginx --proxy-upstream PREFIX=URL`): the value nginx cannot get
    /// from a Spin variable.
    pub fn with_nginx_proxy_upstream(mut self, prefix: &str, url: &str) -> Result<Self, String> {
        let url = UpstreamUrl::parse(url)?;
        self.proxy_mut(prefix)?.nginx_upstream = Some(url);
        Ok(self)
    }

    /// Replaces the Ingress upstream of the proxy at `prefix` (`spinstack
    /// gateway render-ingress --proxy-upstream PREFIX=URL`).
    pub fn with_ingress_proxy_upstream(mut self, prefix: &str, url: &str) -> Result<Self, String> {
        let url = UpstreamUrl::parse(url)?;
        self.proxy_mut(prefix)?.ingress_upstream = Some(url);
        Ok(self)
    }

    fn proxy_mut(&mut self, prefix: &str) -> Result<&mut ProxyConfig, String> {
        let known: Vec<String> = self.proxies.iter().map(|p| p.prefix.clone()).collect();
        self.proxies
            .iter_mut()
            .find(|proxy| proxy.prefix == prefix)
            .ok_or_else(|| {
                format!(
                    "no proxy has prefix {prefix:?}; configured: [{}]",
                    known.join(", ")
                )
            })
    }

    /// In file order, which is the order they are sent in.
    pub fn headers(&self) -> &[HeaderConfig] {
        &self.headers
    }

    pub fn compression(&self) -> &CompressionConfig {
        &self.compression
    }

    pub fn nginx(&self) -> &NginxConfig {
        &self.nginx
    }

    /// The `[tls]` section, when the policy has one (spinstack and nginx serve HTTPS).
    pub fn tls(&self) -> Option<&TlsConfig> {
        self.tls.as_ref()
    }

    pub fn zone(&self, name: &str) -> Option<&ZoneConfig> {
        self.zones.iter().find(|zone| zone.name == name)
    }
}

#[cfg(test)]
mod tests;
