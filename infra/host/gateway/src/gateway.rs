//! [`Gateway`]: a loaded policy with its rate-limit state, the one object the
//! host keeps (behind an `Arc`) and asks about each request.

use std::net::IpAddr;

use crate::compression::Encoding;
use crate::config::GatewayConfig;
use crate::headers::SecurityHeaders;
use crate::limiter::{Verdict, ZoneLimiter};
use crate::proxy::ProxyConfig;
use crate::routes::{RouteTable, normalize_path};

/// The rate-limit decision for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision<'g> {
    /// Admitted and counted against `zone`.
    Allowed { zone: &'g str },
    /// Refused: answer 429 with `Retry-After: retry_after_secs`; the request was not counted.
    Limited {
        zone: &'g str,
        retry_after_secs: u64,
    },
    /// The path's route has no zone (or no route matches, or limits are disabled).
    NotLimited,
}

/// What the policy says about a path, looked up once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutePolicy<'g> {
    /// The matching route's prefix; `None` when no route matches.
    pub prefix: Option<&'g str>,
    /// The rate-limit zone, if any.
    pub zone: Option<&'g str>,
    /// Largest request body accepted, in bytes (413 above).
    pub max_body_size: u64,
    /// The route is a WebSocket endpoint.
    pub websocket: bool,
    limiter: Option<usize>,
}

/// The gateway policy plus the rate-limit state. `Send + Sync`; share it.
pub struct Gateway {
    config: GatewayConfig,
    table: RouteTable,
    /// The limiter of each route, by route index.
    route_limiters: Vec<Option<usize>>,
    /// One per zone, in config order.
    limiters: Vec<ZoneLimiter>,
    headers: SecurityHeaders,
}

impl Gateway {
    pub fn new(config: GatewayConfig) -> Self {
        let limiters = config.zones().iter().map(ZoneLimiter::new).collect();
        let route_limiters = config
            .routes()
            .iter()
            .map(|route| {
                let zone = route.zone.as_deref()?;
                config.zones().iter().position(|z| z.name == zone)
            })
            .collect();
        Gateway {
            table: RouteTable::new(config.routes()),
            headers: SecurityHeaders::new(config.headers()),
            route_limiters,
            limiters,
            config,
        }
    }

    pub fn config(&self) -> &GatewayConfig {
        &self.config
    }

    /// The policy for a request path (the raw request target is fine: the
    /// query is ignored and the path normalised as nginx does).
    pub fn route(&self, path: &str) -> RoutePolicy<'_> {
        let default = self.config.max_body_size().bytes();
        match self.table.find(self.config.routes(), path) {
            None => RoutePolicy {
                prefix: None,
                zone: None,
                max_body_size: default,
                websocket: false,
                limiter: None,
            },
            Some(index) => {
                let route = &self.config.routes()[index];
                RoutePolicy {
                    prefix: Some(&route.prefix),
                    zone: route.zone.as_deref(),
                    max_body_size: route.max_body_size.map_or(default, |size| size.bytes()),
                    websocket: route.websocket,
                    limiter: self.route_limiters[index],
                }
            }
        }
    }

    /// Counts a request of `client_ip` (see [`Gateway::client_key`]) to
    /// `path` at `now_ms` (a monotonic millisecond clock) against its zone.
    pub fn check(&self, path: &str, client_ip: IpAddr, now_ms: u64) -> RateDecision<'_> {
        self.check_route(&self.route(path), client_ip, now_ms)
    }

    /// [`Gateway::check`] for a policy already looked up with [`Gateway::route`].
    pub fn check_route(
        &self,
        route: &RoutePolicy<'_>,
        client_ip: IpAddr,
        now_ms: u64,
    ) -> RateDecision<'_> {
        let Some(index) = route.limiter else {
            return RateDecision::NotLimited;
        };
        let (Some(limiter), Some(zone)) =
            (self.limiters.get(index), self.config.zones().get(index))
        else {
            return RateDecision::NotLimited;
        };
        match limiter.check(client_ip, now_ms) {
            Verdict::Allowed => RateDecision::Allowed { zone: &zone.name },
            Verdict::Limited { retry_after_secs } => RateDecision::Limited {
                zone: &zone.name,
                retry_after_secs,
            },
        }
    }

    /// The proxy whose prefix the path (normalised as nginx does) is under.
    /// Validation keeps routes out of proxy prefixes, so a match here is what
    /// nginx's longest-prefix location picks too. No rate limit applies to it.
    pub fn proxy(&self, path: &str) -> Option<&ProxyConfig> {
        if self.config.proxies().is_empty() {
            return None;
        }
        let path = normalize_path(path);
        self.config
            .proxies()
            .iter()
            .find(|proxy| path.starts_with(proxy.prefix.as_str()))
    }

    /// Largest request body accepted by `proxy`, in bytes.
    pub fn proxy_body_limit(&self, proxy: &ProxyConfig) -> u64 {
        proxy
            .max_body_size
            .unwrap_or(self.config.max_body_size())
            .bytes()
    }

    /// Largest request body accepted for `path`, in bytes.
    pub fn body_limit_for(&self, path: &str) -> u64 {
        self.route(path).max_body_size
    }

    /// Headers to add to every response (errors included), in order.
    pub fn security_headers(&self, tls: bool) -> &[(String, String)] {
        self.headers.for_transport(tls)
    }

    /// See [`crate::CompressionConfig::should_compress`].
    pub fn should_compress(
        &self,
        content_type: Option<&str>,
        content_length: Option<u64>,
        already_encoded: bool,
    ) -> bool {
        self.config
            .compression()
            .should_compress(content_type, content_length, already_encoded)
    }

    /// See [`crate::CompressionConfig::negotiate`].
    pub fn negotiate_encoding(&self, accept_encoding: Option<&str>) -> Option<Encoding> {
        self.config.compression().negotiate(accept_encoding)
    }

    /// The client address of a request from `peer`, given every value of the
    /// [`Gateway::client_ip_header`] request header in order. See
    /// [`crate::ClientIpConfig::client_key`].
    pub fn client_key<'h>(
        &self,
        peer: IpAddr,
        header_values: impl IntoIterator<Item = &'h [u8]>,
    ) -> IpAddr {
        self.config.client_ip().client_key(peer, header_values)
    }

    /// The request header trusted proxies carry the client address in.
    pub fn client_ip_header(&self) -> &'static str {
        self.config.client_ip().header.name()
    }

    /// The limiter of a zone (for metrics: how many clients it tracks).
    pub fn limiter(&self, zone: &str) -> Option<&ZoneLimiter> {
        let index = self.config.zones().iter().position(|z| z.name == zone)?;
        self.limiters.get(index)
    }
}

impl Default for Gateway {
    /// The committed policy.
    fn default() -> Self {
        Gateway::new(GatewayConfig::default())
    }
}

#[cfg(test)]
mod tests;
