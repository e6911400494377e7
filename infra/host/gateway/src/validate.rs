//! Validation of the raw TOML into a [`GatewayConfig`], with every error
//! pointing at the offending value's line and column.

use std::collections::HashSet;
use std::path::Path;

use toml::Spanned;

use crate::compression::Encoding;
use crate::config::{
    ClientIpConfig, ClientIpHeader, CompressionConfig, GatewayConfig, HeaderConfig, NginxConfig,
    RouteConfig, ZoneConfig,
};
use crate::error::{ConfigError, Source};
use crate::proxy::{ProxyConfig, ProxyUpstream, UpstreamUrl};
use crate::raw::{
    RawClientIp, RawCompression, RawConfig, RawHeader, RawNginx, RawProxy, RawRoute, RawZone,
};
use crate::trusted_proxy::parse_block;
use crate::units::{Rate, Size};

mod tls;

/// Checks `raw`, parsed from `source`; relative paths in it are resolved
/// against `base_dir` (the policy file's directory), kept as written without one.
pub(crate) fn check(
    source: &Source<'_>,
    base_dir: Option<&Path>,
    raw: RawConfig,
) -> Result<GatewayConfig, ConfigError> {
    Checker { source, base_dir }.config(raw)
}

/// Validation of the raw TOML, with errors pointing into the source.
struct Checker<'s, 'a> {
    source: &'s Source<'a>,
    base_dir: Option<&'s Path>,
}

type Checked<T> = Result<T, ConfigError>;

/// Headers the gateway or the HTTP framing owns; configuring them would break responses.
const RESERVED_HEADERS: &[&str] = &[
    "connection",
    "content-encoding",
    "content-length",
    "content-type",
    "retry-after",
    "transfer-encoding",
    "vary",
    "x-request-id",
];

const MIN_ZONE_SIZE: u64 = 32 * 1024;
const MAX_ZONE_SIZE: u64 = 1 << 30;
const MAX_BURST: i64 = 1_000_000;

impl Checker<'_, '_> {
    fn error<T>(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> Checked<T> {
        Err(ConfigError::at(self.source, Some(span), message.into()))
    }

    fn config(&self, raw: RawConfig) -> Checked<GatewayConfig> {
        let client_ip = self.client_ip(raw.client_ip)?;
        let max_body_size = self.body_size(&raw.body.max_size)?;
        let zones = self.zones(&raw.zones)?;
        let routes = self.routes(raw.routes, &zones)?;
        for (zone, raw_zone) in zones.iter().zip(&raw.zones) {
            if !routes
                .iter()
                .any(|route| route.zone.as_ref() == Some(&zone.name))
            {
                return self.error(
                    raw_zone.name.span(),
                    format!("zone {:?} is not used by any route", zone.name),
                );
            }
        }
        let proxies = self.proxies(raw.proxies, &routes)?;
        let nginx = self.nginx(raw.nginx)?;
        let tls = raw.tls.map(|tls| self.tls(tls, &nginx)).transpose()?;
        Ok(GatewayConfig {
            client_ip,
            max_body_size,
            zones,
            routes,
            proxies,
            headers: self.headers(raw.headers)?,
            compression: self.compression(raw.compression)?,
            nginx,
            tls,
        })
    }

    fn client_ip(&self, raw: RawClientIp) -> Checked<ClientIpConfig> {
        let header = match raw.header.get_ref().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => ClientIpHeader::XForwardedFor,
            "x-real-ip" => ClientIpHeader::XRealIp,
            _ => {
                return self.error(
                    raw.header.span(),
                    format!(
                        "unsupported client address header {:?}: expected \"X-Forwarded-For\" or \"X-Real-IP\"",
                        raw.header.get_ref()
                    ),
                );
            }
        };
        let trusted_proxies = raw
            .trusted_proxies
            .iter()
            .map(|text| {
                parse_block(text.get_ref()).or_else(|message| self.error(text.span(), message))
            })
            .collect::<Checked<_>>()?;
        Ok(ClientIpConfig {
            header,
            recursive: raw.recursive,
            trusted_proxies,
        })
    }

    fn size(&self, text: &Spanned<String>) -> Checked<Size> {
        Size::parse(text.get_ref()).or_else(|message| self.error(text.span(), message))
    }

    fn body_size(&self, text: &Spanned<String>) -> Checked<Size> {
        let size = self.size(text)?;
        if size.bytes() == 0 {
            return self.error(text.span(), "a body size limit must be at least 1 byte");
        }
        Ok(size)
    }

    fn zones(&self, raw: &[RawZone]) -> Checked<Vec<ZoneConfig>> {
        let mut names = HashSet::new();
        let mut zones = Vec::with_capacity(raw.len());
        for zone in raw {
            let name = zone.name.get_ref();
            let valid_name = name.len() <= 32
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid_name || name == "none" {
                return self.error(
                    zone.name.span(),
                    format!(
                        "invalid zone name {name:?}: use lower-case letters, digits and _ (at most 32), not \"none\""
                    ),
                );
            }
            if !names.insert(name.clone()) {
                return self.error(zone.name.span(), format!("zone {name:?} is defined twice"));
            }
            let rate = Rate::parse(zone.rate.get_ref())
                .or_else(|message| self.error(zone.rate.span(), message))?;
            let burst = *zone.burst.get_ref();
            if !(0..=MAX_BURST).contains(&burst) {
                return self.error(
                    zone.burst.span(),
                    format!("invalid burst {burst}: expected 0..={MAX_BURST}"),
                );
            }
            if !*zone.nodelay.get_ref() {
                return self.error(
                    zone.nodelay.span(),
                    "nodelay = false is not supported: the gateway refuses excess requests (429) \
                     instead of queueing them; set nodelay = true",
                );
            }
            let size = self.size(&zone.size)?;
            if !(MIN_ZONE_SIZE..=MAX_ZONE_SIZE).contains(&size.bytes()) {
                return self.error(zone.size.span(), "a zone size must be between 32k and 1g");
            }
            zones.push(ZoneConfig {
                name: name.clone(),
                rate,
                burst: u32::try_from(burst).expect("checked range"),
                size,
            });
        }
        Ok(zones)
    }

    fn routes(&self, raw: Vec<RawRoute>, zones: &[ZoneConfig]) -> Checked<Vec<RouteConfig>> {
        let mut prefixes = HashSet::new();
        let mut routes = Vec::with_capacity(raw.len());
        for route in raw {
            let prefix = route.prefix.get_ref();
            if let Err(message) = check_prefix(prefix) {
                return self.error(route.prefix.span(), message);
            }
            if !prefixes.insert(prefix.clone()) {
                return self.error(
                    route.prefix.span(),
                    format!("route prefix {prefix:?} is listed twice"),
                );
            }
            let zone = match route.zone.get_ref().as_str() {
                "none" => None,
                name if zones.iter().any(|zone| zone.name == name) => Some(name.to_owned()),
                name => {
                    let defined: Vec<_> = zones.iter().map(|zone| zone.name.as_str()).collect();
                    return self.error(
                        route.zone.span(),
                        format!(
                            "unknown zone {name:?}: defined zones are [{}], or \"none\" for no rate limit",
                            defined.join(", ")
                        ),
                    );
                }
            };
            let max_body_size = route
                .max_body_size
                .as_ref()
                .map(|size| self.body_size(size))
                .transpose()?;
            routes.push(RouteConfig {
                prefix: prefix.clone(),
                zone,
                max_body_size,
                websocket: route.websocket,
                event_stream: route.event_stream,
            });
        }
        Ok(routes)
    }

    fn proxies(&self, raw: Vec<RawProxy>, routes: &[RouteConfig]) -> Checked<Vec<ProxyConfig>> {
        let mut proxies: Vec<ProxyConfig> = Vec::with_capacity(raw.len());
        for proxy in raw {
            let prefix = proxy.prefix.get_ref();
            if let Err(message) = check_prefix(prefix) {
                return self.error(proxy.prefix.span(), message);
            }
            if prefix.len() < 2 || !prefix.ends_with('/') {
                return self.error(
                    proxy.prefix.span(),
                    format!("invalid proxy prefix {prefix:?}: it must end with / and not be \"/\""),
                );
            }
            if proxies.iter().any(|other| {
                other.prefix.starts_with(prefix.as_str()) || prefix.starts_with(&other.prefix)
            }) {
                return self.error(
                    proxy.prefix.span(),
                    format!("proxy prefix {prefix:?} overlaps another proxy"),
                );
            }
            if let Some(route) = routes
                .iter()
                .find(|route| route.prefix.starts_with(prefix.as_str()))
            {
                return self.error(
                    proxy.prefix.span(),
                    format!(
                        "proxy prefix {prefix:?} would hide route {:?}: a route cannot be under a proxy",
                        route.prefix
                    ),
                );
            }
            let text = proxy.upstream.get_ref();
            let upstream = match text.strip_prefix("variable:") {
                Some(name) => {
                    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                    if !valid {
                        return self.error(
                            proxy.upstream.span(),
                            format!("invalid variable name {name:?}: a Spin variable name (lower-case letters, digits and _)"),
                        );
                    }
                    ProxyUpstream::Variable(name.to_owned())
                }
                None => ProxyUpstream::Url(
                    UpstreamUrl::parse(text)
                        .map_err(|message| format!("{message}, or \"variable:<name>\""))
                        .or_else(|message| self.error(proxy.upstream.span(), message))?,
                ),
            };
            let nginx_upstream = match &proxy.nginx_upstream {
                Some(text) => Some(
                    UpstreamUrl::parse(text.get_ref())
                        .or_else(|message| self.error(text.span(), message))?,
                ),
                None if matches!(upstream, ProxyUpstream::Variable(_)) => {
                    return self.error(
                        proxy.upstream.span(),
                        "nginx has no Spin variables: with a variable upstream, set nginx_upstream = \"http://host:port\" \
                         for the rendered nginx.conf (render-nginx --proxy-upstream PREFIX=URL overrides it)",
                    );
                }
                None => None,
            };
            let ingress_upstream = proxy
                .ingress_upstream
                .as_ref()
                .map(|text| {
                    UpstreamUrl::parse(text.get_ref())
                        .or_else(|message| self.error(text.span(), message))
                })
                .transpose()?;
            let max_body_size = proxy
                .max_body_size
                .as_ref()
                .map(|size| self.body_size(size))
                .transpose()?;
            proxies.push(ProxyConfig {
                prefix: prefix.clone(),
                upstream,
                nginx_upstream,
                ingress_upstream,
                max_body_size,
            });
        }
        Ok(proxies)
    }

    fn headers(&self, raw: Vec<RawHeader>) -> Checked<Vec<HeaderConfig>> {
        let mut names = HashSet::new();
        let mut headers = Vec::with_capacity(raw.len());
        for header in raw {
            let name = header.name.get_ref();
            if name.is_empty()
                || name.len() > 64
                || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return self.error(
                    header.name.span(),
                    format!("invalid header name {name:?}: use letters, digits and -"),
                );
            }
            let lower = name.to_ascii_lowercase();
            if RESERVED_HEADERS.contains(&lower.as_str()) {
                return self.error(
                    header.name.span(),
                    format!("header {name:?} is set by the gateway or the HTTP framing, not by configuration"),
                );
            }
            if !names.insert(lower) {
                return self.error(
                    header.name.span(),
                    format!("header {name:?} is listed twice"),
                );
            }
            let value = header.value.get_ref();
            if let Err(message) = check_header_value(value) {
                return self.error(header.value.span(), message);
            }
            headers.push(HeaderConfig {
                name: name.clone(),
                value: value.clone(),
                tls_only: header.tls_only,
            });
        }
        Ok(headers)
    }

    fn compression(&self, raw: RawCompression) -> Checked<CompressionConfig> {
        let encodings = self.distinct(
            raw.encodings.get_ref(),
            Encoding::from_token,
            "encoding",
            "\"br\" or \"gzip\"",
        )?;
        if raw.enabled && encodings.is_empty() {
            return self.error(
                raw.encodings.span(),
                "compression is enabled but lists no encoding",
            );
        }
        let mut types = Vec::with_capacity(raw.types.len());
        for text in &raw.types {
            let media_type = text.get_ref();
            if let Err(message) = check_media_type(media_type) {
                return self.error(text.span(), message);
            }
            if types.contains(media_type) {
                return self.error(
                    text.span(),
                    format!("media type {media_type:?} is listed twice"),
                );
            }
            types.push(media_type.clone());
        }
        Ok(CompressionConfig {
            enabled: raw.enabled,
            encodings,
            min_size: self.size(&raw.min_size)?,
            types,
        })
    }

    /// A list of names from a closed set (`parse`), each at most once; errors
    /// say "unsupported {kind} ...: expected {expected}" or "... listed twice".
    fn distinct<T: PartialEq>(
        &self,
        texts: &[Spanned<String>],
        parse: impl Fn(&str) -> Option<T>,
        kind: &str,
        expected: &str,
    ) -> Checked<Vec<T>> {
        let mut values = Vec::with_capacity(texts.len());
        for text in texts {
            let name = text.get_ref();
            let Some(value) = parse(name) else {
                return self.error(
                    text.span(),
                    format!("unsupported {kind} {name:?}: expected {expected}"),
                );
            };
            if values.contains(&value) {
                return self.error(text.span(), format!("{kind} {name:?} is listed twice"));
            }
            values.push(value);
        }
        Ok(values)
    }

    fn port(&self, port: &Spanned<i64>) -> Checked<u16> {
        match u16::try_from(*port.get_ref()) {
            Ok(port) if port != 0 => Ok(port),
            _ => self.error(
                port.span(),
                format!("invalid port {}: expected 1..=65535", port.get_ref()),
            ),
        }
    }

    fn path(&self, path: &Spanned<String>) -> Checked<String> {
        let text = path.get_ref();
        if let Err(message) = check_nginx_path(text) {
            return self.error(path.span(), message);
        }
        Ok(text.clone())
    }

    fn nginx(&self, raw: RawNginx) -> Checked<NginxConfig> {
        let listen = self.port(&raw.listen)?;
        let server_name = raw.server_name.get_ref();
        let valid_names = !server_name.trim().is_empty()
            && server_name.split(' ').all(|name| {
                !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".*_-".contains(&b))
            });
        if !valid_names {
            return self.error(
                raw.server_name.span(),
                format!("invalid server_name {server_name:?}: host names separated by single spaces, or \"_\""),
            );
        }
        let upstream = raw.upstream.get_ref();
        if let Err(message) = check_upstream(upstream) {
            return self.error(raw.upstream.span(), message);
        }
        if let Some(old) = &raw.tls {
            return self.error(
                old.span(),
                "[nginx.tls] is now the top-level [tls] section: cert, key (spinstack's), \
                 nginx_cert, nginx_key, nginx_listen (the rendered nginx.conf's), protocols, redirect_http",
            );
        }
        Ok(NginxConfig {
            listen,
            server_name: server_name.clone(),
            upstream: upstream.clone(),
            mime_types: self.path(&raw.mime_types)?,
            runtime_dir: self.path(&raw.runtime_dir)?,
        })
    }
}

/// A path nginx.conf can hold unquoted: absolute, of letters, digits and `/._-`.
fn check_nginx_path(text: &str) -> Result<(), String> {
    let safe = text.len() > 1
        && text.starts_with('/')
        && !text.ends_with('/')
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b));
    if safe {
        Ok(())
    } else {
        Err(format!(
            "invalid path {text:?}: an absolute path of letters, digits and / . _ -, not ending in /"
        ))
    }
}

/// A route prefix: absolute, canonical (what normalisation of a request path
/// can produce), and safe to write into nginx.conf unquoted.
fn check_prefix(prefix: &str) -> Result<(), String> {
    let safe_chars = prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._~-".contains(&b));
    if !prefix.starts_with('/') || !safe_chars {
        return Err(format!(
            "invalid route prefix {prefix:?}: it must start with / and use only letters, digits and / . _ ~ -"
        ));
    }
    let segments: Vec<&str> = prefix[1..].split('/').collect();
    let last = segments.len() - 1;
    let canonical = segments.iter().enumerate().all(|(i, segment)| {
        *segment != "." && *segment != ".." && (i == last || !segment.is_empty())
    });
    if !canonical {
        return Err(format!(
            "invalid route prefix {prefix:?}: no empty, \".\" or \"..\" segments (requests are matched after normalisation)"
        ));
    }
    Ok(())
}

/// Printable ASCII without `$` (an nginx variable), trimmed, at most 4096 bytes.
fn check_header_value(value: &str) -> Result<(), String> {
    if value.is_empty() || value.len() > 4096 || value.trim() != value {
        return Err(format!(
            "invalid header value {value:?}: it must be non-empty, at most 4096 bytes, without surrounding spaces"
        ));
    }
    if let Some(bad) = value
        .chars()
        .find(|&c| !(' '..='~').contains(&c) || c == '$')
    {
        return Err(format!(
            "invalid header value {value:?}: {bad:?} is not allowed (printable ASCII, no $)"
        ));
    }
    Ok(())
}

/// `type/subtype`, lower case, no wildcard or parameters.
fn check_media_type(media_type: &str) -> Result<(), String> {
    let token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#&^_.+-".contains(&b))
    };
    match media_type.split_once('/') {
        Some((kind, subtype)) if token(kind) && token(subtype) => Ok(()),
        _ => Err(format!(
            "invalid media type {media_type:?}: expected lower-case \"type/subtype\" without wildcards or parameters"
        )),
    }
}

/// `host:port`, `[v6]:port` or `unix:/path`.
fn check_upstream(upstream: &str) -> Result<(), String> {
    let invalid = || {
        format!(
            "invalid upstream {upstream:?}: expected \"host:port\", \"[v6]:port\" or \"unix:/path\""
        )
    };
    if let Some(path) = upstream.strip_prefix("unix:") {
        let ok = path.len() > 1
            && path.starts_with('/')
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b));
        return if ok { Ok(()) } else { Err(invalid()) };
    }
    let (host, port) = upstream.rsplit_once(':').ok_or_else(invalid)?;
    let port_ok = !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && matches!(port.parse::<u16>(), Ok(p) if p != 0);
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-_".contains(&b))
        }
    };
    if port_ok && host_ok {
        Ok(())
    } else {
        Err(invalid())
    }
}
