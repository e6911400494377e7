//! `allowed_outbound_hosts`: which network destinations a component may use.
//!
//! Each entry is `scheme://host[:port]`, with Spin's rules:
//! - scheme: a name of ASCII letters (`http`, `postgres`, ...) or `*` for any;
//! - host: a name or IP address (IPv6 in brackets); `*` for any; `*.example.com`
//!   for any subdomain of `example.com` (not `example.com` itself); a CIDR
//!   block such as `10.0.0.0/8`; or `self` (also `self.alt`), which allows
//!   requests with a relative URL, i.e. to the application itself;
//! - port: a number, `*` for any, or a range `start..end` (end excluded, as
//!   in Spin). When the port is omitted the scheme's well-known port is used
//!   (`http` 80, `https` 443, `postgres` 5432, `mysql` 3306, `redis` 6379,
//!   `mqtt` 1883); a scheme without one (including `*`) needs a port.
//! - a trailing `/` is allowed; any other path is not.
//!
//! Local service chaining uses hosts of the form `<component>.spin.internal`:
//! `http://auth.spin.internal` allows calling the `auth` component,
//! `http://*.spin.internal` allows calling any component.
//!
//! Entries may contain `{{ variable }}` templates; expand them first (see
//! [`AllowedOutboundHosts::resolve`]).

use std::fmt;
use std::net::IpAddr;

use crate::template::Template;
use crate::variables::VariableResolver;

/// The domain suffix of service-chaining hosts.
pub const SERVICE_CHAINING_SUFFIX: &str = ".spin.internal";

/// An entry of `allowed_outbound_hosts` that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid allowed_outbound_hosts entry {entry:?}: {reason}")]
pub struct OutboundHostError {
    /// The entry as written in the manifest (before template expansion, so
    /// secrets never appear here).
    pub entry: String,
    /// What is wrong.
    pub reason: String,
}

/// The well-known port of a scheme, used when an entry or URL has none.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme.to_ascii_lowercase().as_str() {
        "http" => Some(80),
        "https" => Some(443),
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        _ => None,
    }
}

/// The component id a service-chaining host names, e.g. `auth` for
/// `auth.spin.internal` (a trailing `:port` is ignored).
pub fn service_chaining_target(host: &str) -> Option<&str> {
    let host = strip_port(host);
    let (first, rest) = host.split_once('.')?;
    (rest.eq_ignore_ascii_case(&SERVICE_CHAINING_SUFFIX[1..]) && !first.is_empty()).then_some(first)
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host;
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SchemeRule {
    Any,
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostRule {
    Any,
    /// `self`: relative URLs only.
    ToSelf,
    /// Suffix including the leading dot, e.g. `.example.com`.
    SubdomainOf(String),
    Domain(String),
    Ip(IpAddr),
    Cidr(IpAddr, u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortRule {
    Any,
    Exact(u16),
    /// `start..end`, end excluded.
    Range(u16, u16),
}

/// One parsed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    original: String,
    scheme: SchemeRule,
    host: HostRule,
    port: PortRule,
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

impl AllowedHost {
    /// Parses one entry (no templates).
    pub fn parse(entry: &str) -> Result<Self, OutboundHostError> {
        let fail = |reason: String| OutboundHostError {
            entry: entry.to_owned(),
            reason,
        };
        let text = entry.trim();
        if text == "insecure:allow-all" {
            return Err(fail(
                "'insecure:allow-all' is not accepted; use '*://*:*' to allow all outbound \
                 traffic"
                    .to_owned(),
            ));
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(fail(if matches!(text, "*" | "" | ":" | "?") {
                "entries have the form <scheme>://<host>[:<port>] with '*' wildcards; to \
                 allow all outbound traffic use '*://*:*'"
                    .to_owned()
            } else {
                "missing scheme (e.g. 'https://' or '*://')".to_owned()
            }));
        };
        let scheme_rule = parse_scheme(scheme).map_err(fail)?;
        let (host, port) = split_host_port(rest).map_err(fail)?;
        let port_rule = parse_port(port, scheme).map_err(fail)?;
        let host_rule = parse_host(host).map_err(fail)?;
        Ok(Self {
            original: entry.to_owned(),
            scheme: scheme_rule,
            host: host_rule,
            port: port_rule,
        })
    }

    /// True when a request to `scheme://host[:port]` is allowed by this entry.
    /// `port: None` means the scheme's default port.
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        self.scheme_allows(scheme) && self.host_allows(host) && self.port_allows(scheme, port)
    }

    fn scheme_allows(&self, scheme: &str) -> bool {
        match &self.scheme {
            SchemeRule::Any => true,
            SchemeRule::Exact(s) => s.eq_ignore_ascii_case(scheme),
        }
    }

    fn host_allows(&self, host: &str) -> bool {
        let host = host.trim().trim_end_matches('.');
        let unbracketed = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let ip: Option<IpAddr> = unbracketed.parse().ok();
        match (&self.host, ip) {
            (HostRule::Any, _) => true,
            (HostRule::ToSelf, _) => false,
            (HostRule::SubdomainOf(suffix), None) => {
                let host = host.to_ascii_lowercase();
                host.len() > suffix.len() && host.ends_with(suffix.as_str())
            }
            (HostRule::Domain(domain), None) => host.eq_ignore_ascii_case(domain),
            (HostRule::Ip(allowed), Some(ip)) => same_ip(*allowed, ip),
            (HostRule::Cidr(net, prefix), Some(ip)) => cidr_contains(*net, *prefix, ip),
            _ => false,
        }
    }

    fn port_allows(&self, scheme: &str, port: Option<u16>) -> bool {
        let Some(port) = port.or_else(|| default_port(scheme)) else {
            return matches!(self.port, PortRule::Any);
        };
        match self.port {
            PortRule::Any => true,
            PortRule::Exact(p) => p == port,
            PortRule::Range(start, end) => (start..end).contains(&port),
        }
    }

    fn is_self(&self) -> bool {
        matches!(self.host, HostRule::Any | HostRule::ToSelf)
    }
}

fn parse_scheme(scheme: &str) -> Result<SchemeRule, String> {
    if scheme == "*" {
        return Ok(SchemeRule::Any);
    }
    if scheme.starts_with('{') {
        return Err("scheme lists are not supported".to_owned());
    }
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(format!(
            "invalid scheme {scheme:?}: use letters only, or '*'"
        ));
    }
    Ok(SchemeRule::Exact(scheme.to_ascii_lowercase()))
}

/// Splits `host[:port][/]` (IPv6 hosts in brackets, or an unbracketed IPv6
/// CIDR whose last `:` starts the port, as Spin reads it).
fn split_host_port(rest: &str) -> Result<(&str, &str), String> {
    let (host, after_host) =
        if let Some(inner_end) = rest.strip_prefix('[').and_then(|r| r.find(']')) {
            let end = inner_end + 2; // '[' + inner + ']'
            let (host, after) = rest.split_at(end);
            let after = match after.strip_prefix(':') {
                Some(port) => port,
                None if after.is_empty() || after == "/" => "",
                None => return Err(format!("unexpected {after:?} after the host")),
            };
            (host, after)
        } else {
            match rest.rsplit_once(':') {
                Some((host, port)) => (host, port),
                None => (rest, ""),
            }
        };
    let port = match after_host.split_once('/') {
        Some((port, "")) => port,
        Some(_) => return Err("a path is not allowed".to_owned()),
        None => after_host,
    };
    Ok((host, port))
}

fn parse_port(port: &str, scheme: &str) -> Result<PortRule, String> {
    if port.is_empty() {
        return default_port(scheme)
            .map(PortRule::Exact)
            .ok_or_else(|| format!("no port given and scheme {scheme:?} has no default port"));
    }
    if port == "*" {
        return Ok(PortRule::Any);
    }
    if port.starts_with('{') {
        return Err("port lists are not supported".to_owned());
    }
    let number = |text: &str| {
        text.parse::<u16>()
            .map_err(|_| format!("port {text:?} is not a number from 0 to 65535"))
    };
    if let Some((start, end)) = port.split_once("..") {
        let (start, end) = (number(start)?, number(end)?);
        if start >= end {
            return Err(format!(
                "port range {port:?} is empty (the end is excluded)"
            ));
        }
        return Ok(PortRule::Range(start, end));
    }
    Ok(PortRule::Exact(number(port)?))
}

fn parse_host(host: &str) -> Result<HostRule, String> {
    let host = host.trim();
    match host {
        "" => return Err("missing host".to_owned()),
        "*" => return Ok(HostRule::Any),
        "self" | "self.alt" => return Ok(HostRule::ToSelf),
        _ => {}
    }
    if host.starts_with('{') {
        return Err("host lists are not supported".to_owned());
    }
    if let Some((addr, prefix)) = host.split_once('/')
        && let Ok(addr) = addr.parse::<IpAddr>()
    {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| format!("invalid CIDR prefix length {prefix:?}"))?;
        return Ok(HostRule::Cidr(addr, prefix));
    }
    let host = host.trim_end_matches('/');
    if host.contains('/') {
        return Err("a path is not allowed".to_owned());
    }
    if let Some(domain) = host.strip_prefix("*.") {
        if domain.contains('*') {
            return Err("'*' is only allowed as the whole host or as a leading '*.'".to_owned());
        }
        check_domain(domain)?;
        return Ok(HostRule::SubdomainOf(format!(
            ".{}",
            domain.to_ascii_lowercase()
        )));
    }
    if host.contains('*') {
        return Err("'*' is only allowed as the whole host or as a leading '*.'".to_owned());
    }
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| "unclosed '[' in host".to_owned())?;
        return match inner.parse::<IpAddr>() {
            Ok(ip @ IpAddr::V6(_)) => Ok(HostRule::Ip(ip)),
            _ => Err(format!("{inner:?} is not an IPv6 address")),
        };
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        if ip.is_ipv6() {
            return Err("IPv6 addresses must be written in brackets, e.g. [::1]".to_owned());
        }
        return Ok(HostRule::Ip(ip));
    }
    check_domain(host)?;
    Ok(HostRule::Domain(host.to_ascii_lowercase()))
}

fn check_domain(domain: &str) -> Result<(), String> {
    if domain.is_empty() {
        return Err("missing host".to_owned());
    }
    if let Some(bad) = domain
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Err(format!("invalid character {bad:?} in host {domain:?}"));
    }
    if domain.split('.').any(str::is_empty) {
        return Err(format!("empty label in host {domain:?}"));
    }
    Ok(())
}

fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    canonical(a) == canonical(b)
}

/// IPv4-mapped IPv6 addresses compare as their IPv4 form.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn cidr_contains(net: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    match (net, canonical(ip)) {
        (IpAddr::V4(net), IpAddr::V4(ip)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(net) & mask == u32::from(ip) & mask
        }
        (IpAddr::V6(net), IpAddr::V6(ip)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(net) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

/// Which components a component may call by service chaining.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceChaining {
    /// None.
    None,
    /// Any component (`http://*.spin.internal`, or an all-hosts wildcard).
    Any,
    /// These component ids.
    Components(std::collections::BTreeSet<String>),
}

/// A component's parsed `allowed_outbound_hosts`. Empty allows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOutboundHosts {
    hosts: Vec<AllowedHost>,
}

impl AllowedOutboundHosts {
    /// Parses entries that contain no templates (or were already expanded).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, OutboundHostError> {
        let hosts = entries
            .iter()
            .map(|e| AllowedHost::parse(e.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self { hosts })
    }

    /// Expands `{{ variable }}` templates with `resolver`, then parses.
    /// Errors quote the entry as written, never the expanded value.
    pub fn resolve<S: AsRef<str>>(
        entries: &[S],
        resolver: &VariableResolver,
    ) -> Result<Self, OutboundHostError> {
        let mut hosts = Vec::with_capacity(entries.len());
        for entry in entries {
            let entry = entry.as_ref();
            let fail = |reason: String| OutboundHostError {
                entry: entry.to_owned(),
                reason,
            };
            let template = Template::parse(entry).map_err(|e| fail(e.reason))?;
            if template.is_literal() {
                hosts.push(AllowedHost::parse(entry)?);
                continue;
            }
            let expanded = resolver
                .resolve_template(&template)
                .map_err(|e| fail(e.to_string()))?;
            let mut host = AllowedHost::parse(expanded.expose()).map_err(|e| {
                if expanded.is_secret() {
                    fail("invalid after expanding its (secret) variables".to_owned())
                } else {
                    fail(format!("expands to {:?}: {}", expanded.expose(), e.reason))
                }
            })?;
            host.original = entry.to_owned();
            hosts.push(host);
        }
        Ok(Self { hosts })
    }

    /// The parsed entries.
    pub fn hosts(&self) -> &[AllowedHost] {
        &self.hosts
    }

    /// True when nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// True when a connection to `scheme://host[:port]` is allowed.
    /// `port: None` means the scheme's default port; `host` may be a name,
    /// an IPv4 address or an IPv6 address (with or without brackets).
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        self.hosts.iter().any(|h| h.allows(scheme, host, port))
    }

    /// True when the absolute URL `url` is allowed (user info, path, query
    /// and fragment are ignored). A URL that cannot be read is refused.
    pub fn allows_url(&self, url: &str) -> bool {
        match split_url(url) {
            Some((scheme, host, port)) => self.allows(scheme, host, port),
            None => false,
        }
    }

    /// True when requests with a relative URL (no authority, i.e. to the
    /// application itself) are allowed for `scheme`: an entry with host
    /// `self` or `*`.
    pub fn allows_self(&self, scheme: &str) -> bool {
        self.hosts
            .iter()
            .any(|h| h.is_self() && h.scheme_allows(scheme))
    }

    /// True when the component may call component `component_id` through
    /// `http://<component_id>.spin.internal` (default port).
    pub fn allows_service_chaining_to(&self, component_id: &str) -> bool {
        self.allows(
            "http",
            &format!("{component_id}{SERVICE_CHAINING_SUFFIX}"),
            None,
        )
    }

    /// Which components the entries allow calling by service chaining,
    /// whatever the scheme and port.
    pub fn service_chaining(&self) -> ServiceChaining {
        let mut ids = std::collections::BTreeSet::new();
        for host in &self.hosts {
            match &host.host {
                HostRule::Any => return ServiceChaining::Any,
                HostRule::SubdomainOf(suffix)
                    if SERVICE_CHAINING_SUFFIX.ends_with(suffix.as_str()) =>
                {
                    return ServiceChaining::Any;
                }
                HostRule::Domain(domain) => {
                    if let Some(id) = service_chaining_target(domain) {
                        ids.insert(id.to_owned());
                    }
                }
                _ => {}
            }
        }
        if ids.is_empty() {
            ServiceChaining::None
        } else {
            ServiceChaining::Components(ids)
        }
    }
}

/// Reads `scheme`, host and port out of an absolute URL.
fn split_url(url: &str) -> Option<(&str, &str, Option<u16>)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    if scheme.is_empty() {
        return None;
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = if host_port.starts_with('[') {
        let close = host_port.find(']')?;
        let (host, after) = host_port.split_at(close + 1);
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return None,
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(p.parse().ok()?),
    };
    Some((scheme, host, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::variables::{EnvProvider, VariableDecl};
    use std::collections::BTreeMap;

    fn hosts(entries: &[&str]) -> AllowedOutboundHosts {
        AllowedOutboundHosts::parse(entries).unwrap()
    }

    fn err(entry: &str) -> String {
        AllowedHost::parse(entry).unwrap_err().to_string()
    }

    #[test]
    fn default_ports_apply_to_rules_and_requests() {
        let h = hosts(&["https://api.example.com", "postgres://db.internal"]);
        assert!(h.allows("https", "api.example.com", None));
        assert!(h.allows("https", "api.example.com", Some(443)));
        assert!(!h.allows("https", "api.example.com", Some(8443)));
        assert!(!h.allows("http", "api.example.com", None));
        assert!(h.allows("postgres", "db.internal", None));
        assert!(h.allows("postgres", "db.internal", Some(5432)));
        assert!(!h.allows("postgres", "db.internal", Some(5433)));
        assert!(!h.allows("https", "other.example.com", None));
        for (scheme, port) in [
            ("http", 80),
            ("https", 443),
            ("postgres", 5432),
            ("mysql", 3306),
            ("redis", 6379),
            ("mqtt", 1883),
        ] {
            assert_eq!(default_port(scheme), Some(port));
        }
        assert_eq!(default_port("ftp"), None);
    }

    #[test]
    fn explicit_ports_ranges_and_wildcards() {
        let h = hosts(&[
            "http://localhost:3000",
            "redis://cache:7000..7010",
            "*://wild.example.com:*",
            "mysql://db:*",
        ]);
        assert!(h.allows("http", "localhost", Some(3000)));
        assert!(!h.allows("http", "localhost", None));
        assert!(h.allows("redis", "cache", Some(7000)));
        assert!(h.allows("redis", "cache", Some(7009)));
        assert!(
            !h.allows("redis", "cache", Some(7010)),
            "range end is excluded"
        );
        assert!(h.allows("ftp", "wild.example.com", Some(21)));
        assert!(h.allows("https", "wild.example.com", None));
        assert!(h.allows("mysql", "db", Some(1234)));
        assert!(!h.allows("postgres", "db", Some(1234)));
    }

    #[test]
    fn everything_wildcard() {
        let h = hosts(&["*://*:*"]);
        assert!(h.allows("https", "anything.test", None));
        assert!(h.allows("tcp", "10.1.2.3", Some(9)));
        assert!(h.allows_self("http"));
        assert_eq!(h.service_chaining(), ServiceChaining::Any);
    }

    #[test]
    fn subdomain_wildcards() {
        let h = hosts(&["https://*.example.com"]);
        assert!(h.allows("https", "api.example.com", None));
        assert!(h.allows("https", "a.b.example.com", None));
        assert!(h.allows("https", "API.Example.COM", None));
        assert!(!h.allows("https", "example.com", None));
        assert!(!h.allows("https", "badexample.com", None));
        assert!(!h.allows("https", "example.com.evil.test", None));
    }

    #[test]
    fn ip_addresses_and_cidr() {
        let h = hosts(&[
            "http://127.0.0.1:8080",
            "http://[::1]:8001",
            "http://[::2]",
            "*://10.0.0.0/8:5432",
            "*://fd00::/8:80",
        ]);
        assert!(h.allows("http", "127.0.0.1", Some(8080)));
        assert!(h.allows("http", "[::1]", Some(8001)));
        assert!(h.allows("http", "::1", Some(8001)));
        assert!(h.allows("http", "[::2]", None));
        assert!(h.allows("postgres", "10.20.30.40", Some(5432)));
        assert!(!h.allows("postgres", "11.0.0.1", Some(5432)));
        assert!(!h.allows("postgres", "ten.example", Some(5432)));
        assert!(h.allows("http", "fd12::1", Some(80)));
        assert!(!h.allows("http", "fe80::1", Some(80)));
        // A CIDR needs a port with the any-scheme wildcard.
        assert!(AllowedHost::parse("*://10.0.0.0/8").is_err());
        // Known scheme: the default port applies.
        assert!(hosts(&["http://10.0.0.0/8"]).allows("http", "10.9.9.9", None));
    }

    #[test]
    fn trailing_slash_ok_path_rejected() {
        assert!(hosts(&["http://example.com/"]).allows("http", "example.com", None));
        assert!(hosts(&["http://example.com:81/"]).allows("http", "example.com", Some(81)));
        assert!(err("http://example.com/a").contains("path"));
        assert!(err("http://example.com:8080/a/b").contains("path"));
        assert!(err("http://*.example.com/a").contains("path"));
    }

    #[test]
    fn invalid_entries_are_named() {
        let e = err("example.com");
        assert_eq!(
            e,
            "invalid allowed_outbound_hosts entry \"example.com\": missing scheme \
             (e.g. 'https://' or '*://')"
        );
        assert!(err("*").contains("*://*:*"));
        assert!(err("insecure:allow-all").contains("*://*:*"));
        assert!(err("ftp://example.com").contains("no default port"));
        assert!(err("*://example.com").contains("no default port"));
        assert!(err("http://example.com:http").contains("not a number"));
        assert!(err("http://example.com:70000").contains("not a number"));
        assert!(err("http://example.com:90..80").contains("empty"));
        assert!(err("h2c+tls://example.com:1").contains("invalid scheme"));
        assert!(err("http://foo.*.com").contains("'*'"));
        assert!(err("http://*.*.com").contains("'*'"));
        assert!(err("http://exa mple.com").contains("invalid character"));
        assert!(err("http://").contains("missing host"));
        assert!(err("http://a..b").contains("empty label"));
        assert!(err("{http,https}://x").contains("lists"));
        assert!(err("http://{a,b}").contains("lists"));
        assert!(err("http://[::1").contains("unexpected") || err("http://[::1").contains("'['"));
        assert!(err("http://10.0.0.0/33:80").contains("prefix"));
    }

    #[test]
    fn self_allows_relative_requests_only() {
        let h = hosts(&["http://self", "https://self.alt"]);
        assert!(h.allows_self("http"));
        assert!(h.allows_self("https"));
        assert!(!h.allows_self("redis"));
        assert!(!h.allows("http", "self", None));
        assert!(!hosts(&["http://example.com"]).allows_self("http"));
    }

    #[test]
    fn service_chaining() {
        let h = hosts(&["http://auth.spin.internal", "https://api.example.com"]);
        assert!(h.allows_service_chaining_to("auth"));
        assert!(!h.allows_service_chaining_to("billing"));
        assert_eq!(
            h.service_chaining(),
            ServiceChaining::Components(["auth".to_owned()].into())
        );

        let any = hosts(&["http://*.spin.internal"]);
        assert!(any.allows_service_chaining_to("billing"));
        assert!(any.allows("http", "billing.spin.internal", None));
        assert_eq!(any.service_chaining(), ServiceChaining::Any);

        assert_eq!(
            hosts(&["https://api.example.com"]).service_chaining(),
            ServiceChaining::None
        );
        assert_eq!(service_chaining_target("auth.spin.internal"), Some("auth"));
        assert_eq!(
            service_chaining_target("auth.spin.internal:80"),
            Some("auth")
        );
        assert_eq!(service_chaining_target("a.b.spin.internal"), None);
        assert_eq!(service_chaining_target("spin.internal"), None);
        assert_eq!(service_chaining_target("example.com"), None);
    }

    #[test]
    fn urls() {
        let h = hosts(&[
            "https://api.example.com",
            "http://[::1]:8080",
            "redis://cache",
        ]);
        assert!(h.allows_url("https://api.example.com/v1/items?q=1"));
        assert!(h.allows_url("https://user:p@ss@api.example.com"));
        assert!(h.allows_url("https://api.example.com:443#frag"));
        assert!(!h.allows_url("https://api.example.com:444/"));
        assert!(!h.allows_url("http://api.example.com/"));
        assert!(h.allows_url("http://[::1]:8080/x"));
        assert!(h.allows_url("redis://cache"));
        assert!(!h.allows_url("/relative/path"));
        assert!(!h.allows_url("https://"));
        assert!(!h.allows_url("https://api.example.com:notaport/"));
    }

    #[test]
    fn templates_are_expanded_before_parsing() {
        let decls = BTreeMap::from([
            (
                "db_host".to_owned(),
                VariableDecl {
                    description: None,
                    default: Some("db.local".to_owned()),
                    required: false,
                    secret: false,
                },
            ),
            (
                "secret_host".to_owned(),
                VariableDecl {
                    description: None,
                    default: Some("not a host".to_owned()),
                    required: false,
                    secret: true,
                },
            ),
        ]);
        let resolver = VariableResolver::new(decls)
            .with_provider(EnvProvider::with_lookup("SPIN_VARIABLE", |k| {
                (k == "SPIN_VARIABLE_DB_HOST").then(|| "db.prod".to_owned())
            }));
        let h = AllowedOutboundHosts::resolve(
            &["postgres://{{ db_host }}", "https://example.com"],
            &resolver,
        )
        .unwrap();
        assert!(h.allows("postgres", "db.prod", None));
        assert!(!h.allows("postgres", "db.local", None));
        assert_eq!(h.hosts()[0].to_string(), "postgres://{{ db_host }}");

        let e =
            AllowedOutboundHosts::resolve(&["https://{{ secret_host }}"], &resolver).unwrap_err();
        assert_eq!(e.entry, "https://{{ secret_host }}");
        assert!(!e.to_string().contains("not a host"), "{e}");

        let e = AllowedOutboundHosts::resolve(&["https://{{ nope }}"], &resolver).unwrap_err();
        assert!(e.reason.contains("not declared"), "{e}");
    }
}
