//! The gateway policy as ingress-nginx objects, for Kubernetes: an `Ingress`
//! (networking.k8s.io/v1) per route and per proxy, an ExternalName `Service`
//! per proxy, and a ConfigMap of the security headers for the controller's
//! `add-headers`. Annotations only: configuration snippets are refused by
//! ingress-nginx's default settings, and they would make the file
//! controller-version specific.
//!
//! Annotations cannot say all that gateway.toml says. Every difference is
//! written into the rendered file ([`ingress_differences`]), so that nothing is
//! implied that ingress-nginx does not do.
//!
//! As with nginx.conf, the output depends only on its inputs, so the
//! committed `infra/kubernetes/base/ingress.yaml` can be compared byte for byte.

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::config::{GatewayConfig, RouteConfig, ZoneConfig};
use crate::nginx::quote;
use crate::proxy::{ProxyConfig, Scheme};
use crate::units::{RateUnit, Size};

/// The first line of the rendered file.
pub const INGRESS_GENERATED_NOTICE: &str =
    "# Generated from infra/gateway.toml by `spinstack gateway render-ingress`: do not edit.";

/// What the policy does not say: where the Ingress points and for which host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressOptions {
    /// The host of every rule (a placeholder; the overlays put theirs).
    pub host: String,
    /// The application's Service: SpinKube's operator names it as the SpinApp.
    pub service: String,
    pub service_port: u16,
    pub ingress_class: String,
}

impl Default for IngressOptions {
    /// What the committed base is rendered with.
    fn default() -> Self {
        IngressOptions {
            host: "spinstack.example.com".to_owned(),
            service: "spinstack".to_owned(),
            service_port: 80,
            ingress_class: "nginx".to_owned(),
        }
    }
}

const ANNOTATION: &str = "nginx.ingress.kubernetes.io";

/// The ConfigMap of the security headers (the controller's `add-headers`).
const HEADERS_CONFIG_MAP: &str = "response-headers";

/// ingress-nginx's size for every rate-limit zone (it takes none from annotations).
const INGRESS_ZONE_SIZE: Size = Size(5 * 1024 * 1024);

/// Renders the whole file: objects separated by `---`, comments first.
pub fn render_ingress(config: &GatewayConfig, options: &IngressOptions) -> Result<String, String> {
    let mut out = String::new();
    out.push_str(INGRESS_GENERATED_NOTICE);
    out.push('\n');
    out.push_str(
        "# Change gateway.toml and render again; a test fails while this file is stale.\n",
    );
    out.push_str("#\n# What these annotations do not do as gateway.toml says (README, \"Kubernetes (SpinKube)\"):\n");
    for difference in ingress_differences(config) {
        let mut first = true;
        for line in wrap(&difference, 74) {
            out.push_str(if first { "# - " } else { "#   " });
            out.push_str(&line);
            out.push('\n');
            first = false;
        }
    }
    out.push_str("#\n# The controller's own ConfigMap (controller-wide) completes it with:\n");
    for (key, value) in controller_settings(config, options) {
        out.push_str(&format!("#   {key}: {}\n", quote(&value)));
    }

    let mut names = BTreeSet::new();
    headers_config_map(&mut out, config, options);
    let root = RouteConfig {
        prefix: "/".to_owned(),
        zone: None,
        max_body_size: None,
        websocket: false,
        event_stream: false,
    };
    let implicit_root = (!config.routes().iter().any(|route| route.prefix == "/")).then_some(&root);
    for route in implicit_root.into_iter().chain(config.routes()) {
        let name = unique_name(&mut names, options, &route.prefix)?;
        route_ingress(&mut out, config, options, route, &name);
    }
    for proxy in config.proxies() {
        let name = unique_name(&mut names, options, &proxy.prefix)?;
        proxy_objects(&mut out, config, options, proxy, &name)?;
    }
    Ok(out)
}

/// The ways the rendered objects differ from the policy, as sentences.
pub fn ingress_differences(config: &GatewayConfig) -> Vec<String> {
    let mut found = Vec::new();
    if !config.zones().is_empty() {
        found.push(
            "A rate-limited request gets 503 unless the controller sets limit-req-status-code \"429\" \
             (below); ingress-nginx's refusals (429, 413) are its own HTML, not API.md's \
             problem+json, and carry no Retry-After."
                .to_owned(),
        );
    }
    for zone in config.zones() {
        let users: Vec<&str> = config
            .routes()
            .iter()
            .filter(|route| route.zone.as_deref() == Some(zone.name.as_str()))
            .map(|route| route.prefix.as_str())
            .collect();
        if users.len() > 1 {
            found.push(format!(
                "Zone \"{}\" is shared by {} in gateway.toml; ingress-nginx keeps a zone per Ingress, \
                 so each of these prefixes is limited to {} on its own.",
                zone.name,
                users.join(", "),
                zone.rate
            ));
        }
        let (multiplier, burst) = burst_multiplier(zone);
        if burst != zone.burst {
            found.push(format!(
                "Zone \"{}\": burst {} is not a multiple of {} (limit-burst-multiplier is a whole \
                 number), so it is rendered as multiplier {multiplier}, burst {burst}.",
                zone.name, zone.burst, zone.rate.requests
            ));
        }
        if zone.size != INGRESS_ZONE_SIZE {
            found.push(format!(
                "Zone \"{}\" keeps {} of client state in gateway.toml; ingress-nginx's zones are {} each.",
                zone.name, zone.size, INGRESS_ZONE_SIZE
            ));
        }
    }
    if !config.zones().is_empty() && config.client_ip().trusted_proxies.is_empty() {
        found.push(
            "Clients are keyed by the address the controller sees: behind a cloud load balancer \
             that is the balancer's unless the controller gets the client's (PROXY protocol, \
             externalTrafficPolicy: Local)."
                .to_owned(),
        );
    }
    if !config.client_ip().trusted_proxies.is_empty() {
        found.push(
            "trusted_proxies is controller-wide in ingress-nginx (use-forwarded-headers, \
             proxy-real-ip-cidr below), not per application."
                .to_owned(),
        );
    }
    if config.headers().iter().any(|header| header.tls_only) {
        found.push(
            "tls_only headers are not in the headers ConfigMap (add-headers also applies to plain \
             HTTP); the controller's hsts settings send Strict-Transport-Security over TLS: set \
             them to the policy's value."
                .to_owned(),
        );
    }
    if config.compression().enabled {
        found.push(
            "Compression is controller-wide (below), for every Ingress it serves, proxied \
             prefixes included (gateway.toml never compresses those)."
                .to_owned(),
        );
    }
    if !config.proxies().is_empty() {
        found.push(
            "A proxied prefix is stripped by rewrite-target, a regex: ingress-nginx then matches \
             every path of the host as a case-insensitive regex, and forwards the decoded, \
             normalised path, not the raw one (a presigned URL whose key needs percent-encoding \
             may fail to verify). The client's Cookie and Authorization are forwarded (dropping \
             them needs a snippet), and an HTTPS upstream gets no SNI (the proxy-ssl-* \
             annotations are ignored without a proxy-ssl-secret)."
                .to_owned(),
        );
    }
    found
}

/// The controller ConfigMap entries that carry the rest of the policy.
fn controller_settings(config: &GatewayConfig, options: &IngressOptions) -> Vec<(String, String)> {
    let mut settings = Vec::new();
    if !config.zones().is_empty() {
        settings.push(("limit-req-status-code".to_owned(), "429".to_owned()));
    }
    settings.push((
        "add-headers".to_owned(),
        format!("NAMESPACE/{}-{HEADERS_CONFIG_MAP}", options.service),
    ));
    if let Some(hsts) = config
        .headers()
        .iter()
        .find(|h| h.tls_only && h.name.eq_ignore_ascii_case("strict-transport-security"))
    {
        let max_age = hsts
            .value
            .split(';')
            .find_map(|part| part.trim().strip_prefix("max-age="))
            .unwrap_or("0");
        let subdomains = hsts
            .value
            .to_ascii_lowercase()
            .contains("includesubdomains");
        settings.push(("hsts".to_owned(), "true".to_owned()));
        settings.push(("hsts-max-age".to_owned(), max_age.to_owned()));
        settings.push(("hsts-include-subdomains".to_owned(), subdomains.to_string()));
    }
    if !config.client_ip().trusted_proxies.is_empty() {
        let blocks: Vec<String> = config
            .client_ip()
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        settings.push(("use-forwarded-headers".to_owned(), "true".to_owned()));
        settings.push((
            "forwarded-for-header".to_owned(),
            config.client_ip().header.name().to_owned(),
        ));
        settings.push(("proxy-real-ip-cidr".to_owned(), blocks.join(",")));
    }
    let compression = config.compression();
    if compression.enabled {
        let types = compression.types.join(" ");
        for encoding in &compression.encodings {
            let (switch, min_length, list) = match encoding {
                crate::Encoding::Gzip => ("use-gzip", Some("gzip-min-length"), "gzip-types"),
                crate::Encoding::Brotli => ("enable-brotli", None, "brotli-types"),
            };
            settings.push((switch.to_owned(), "true".to_owned()));
            if let Some(key) = min_length {
                settings.push((key.to_owned(), compression.min_size.bytes().to_string()));
            }
            settings.push((list.to_owned(), types.clone()));
        }
    }
    settings
}

fn headers_config_map(out: &mut String, config: &GatewayConfig, options: &IngressOptions) {
    out.push_str(
        "---\n# The security headers, added to every response by the controller (add-headers).\n",
    );
    out.push_str("apiVersion: v1\nkind: ConfigMap\nmetadata:\n");
    out.push_str(&format!(
        "  name: {}-{HEADERS_CONFIG_MAP}\ndata:\n",
        options.service
    ));
    for header in config.headers().iter().filter(|h| !h.tls_only) {
        out.push_str(&format!("  {}: {}\n", header.name, quote(&header.value)));
    }
}

/// ingress-nginx's burst is the rate's count times a whole multiplier (at
/// least 1): the smallest one that admits the policy's burst, and the burst
/// it gives.
fn burst_multiplier(zone: &ZoneConfig) -> (u32, u32) {
    let rate = zone.rate.requests;
    let multiplier = zone.burst.div_ceil(rate).max(1);
    (multiplier, multiplier * rate)
}

fn route_ingress(
    out: &mut String,
    config: &GatewayConfig,
    options: &IngressOptions,
    route: &RouteConfig,
    name: &str,
) {
    let zone = route.zone.as_deref().and_then(|zone| config.zone(zone));
    let mut annotations = vec![(
        "proxy-body-size",
        route
            .max_body_size
            .unwrap_or(config.max_body_size())
            .to_string(),
    )];
    let summary = match zone {
        Some(zone) => {
            let (multiplier, _) = burst_multiplier(zone);
            let key = match zone.rate.unit {
                RateUnit::PerSecond => "limit-rps",
                RateUnit::PerMinute => "limit-rpm",
            };
            annotations.push((key, zone.rate.requests.to_string()));
            annotations.push(("limit-burst-multiplier", multiplier.to_string()));
            format!("zone {}: {}, burst {}", zone.name, zone.rate, zone.burst)
        }
        None => "no rate limit".to_owned(),
    };
    if route.websocket || route.event_stream {
        for key in ["proxy-read-timeout", "proxy-send-timeout"] {
            annotations.push((key, "3600".to_owned()));
        }
    }
    if route.event_stream {
        // Server-sent events: each write passes at once (the controller's
        // gzip is off for types it is not given; text/event-stream is not).
        annotations.push(("proxy-buffering", "off".to_owned()));
    }
    // A prefix ending in "/" also matches the path without it, which is
    // Kubernetes' Prefix type on the path without the slash; any other
    // prefix is a plain nginx prefix location.
    let (path, path_type) = match route.prefix.strip_suffix('/') {
        Some("") => ("/".to_owned(), "Prefix"),
        Some(path) => (path.to_owned(), "Prefix"),
        None => (route.prefix.clone(), "ImplementationSpecific"),
    };
    out.push_str(&format!(
        "---\n# {} ({summary}){}\n",
        route.prefix,
        match (route.websocket, route.event_stream) {
            (true, _) => ", WebSocket",
            (_, true) => ", server-sent events",
            _ => "",
        }
    ));
    let rule = Rule {
        name,
        annotations,
        path,
        path_type,
        service: &options.service,
        port: options.service_port,
    };
    ingress(out, options, &rule);
}

/// A `[[proxies]]` prefix: an ExternalName Service for the upstream and an
/// Ingress that strips the prefix and sets Host to the upstream's.
fn proxy_objects(
    out: &mut String,
    config: &GatewayConfig,
    options: &IngressOptions,
    proxy: &ProxyConfig,
    name: &str,
) -> Result<(), String> {
    let upstream = proxy.ingress_upstream();
    let host = upstream.connect_host();
    if host.parse::<IpAddr>().is_ok() {
        return Err(format!(
            "proxy {}: the Ingress reaches its upstream through an ExternalName Service, which needs a \
             DNS name, not {host}: set ingress_upstream in gateway.toml or pass --proxy-upstream {}=https://HOST",
            proxy.prefix, proxy.prefix
        ));
    }
    let (protocol, port_name) = match upstream.scheme {
        Scheme::Http => ("HTTP", "http"),
        Scheme::Https => ("HTTPS", "https"),
    };
    out.push_str(&format!(
        "---\n# The upstream of {} (see [[proxies]] in gateway.toml).\n",
        proxy.prefix
    ));
    out.push_str("apiVersion: v1\nkind: Service\nmetadata:\n");
    out.push_str(&format!(
        "  name: {name}\nspec:\n  type: ExternalName\n  externalName: {host}\n"
    ));
    out.push_str(&format!(
        "  ports:\n    - name: {port_name}\n      port: {}\n",
        upstream.port
    ));

    let size = proxy.max_body_size.unwrap_or(config.max_body_size());
    let annotations = vec![
        ("use-regex", "true".to_owned()),
        ("rewrite-target", "/$1".to_owned()),
        ("upstream-vhost", upstream.authority()),
        ("backend-protocol", protocol.to_owned()),
        ("proxy-body-size", size.to_string()),
        ("proxy-request-buffering", "off".to_owned()),
        ("proxy-buffering", "off".to_owned()),
        ("proxy-connect-timeout", "5".to_owned()),
        ("proxy-send-timeout", "60".to_owned()),
        ("proxy-read-timeout", "60".to_owned()),
    ];
    out.push_str(&format!(
        "---\n# {} forwarded to {upstream}: METHOD {}<rest> goes to /<rest>; no rate limit.\n",
        proxy.prefix, proxy.prefix
    ));
    let rule = Rule {
        name,
        annotations,
        path: format!("{}(.*)", regex_escape(&proxy.prefix)),
        path_type: "ImplementationSpecific",
        service: name,
        port: upstream.port,
    };
    ingress(out, options, &rule);
    Ok(())
}

/// One Ingress: a single path of the options' host to one Service port.
struct Rule<'a> {
    name: &'a str,
    annotations: Vec<(&'static str, String)>,
    path: String,
    path_type: &'static str,
    service: &'a str,
    port: u16,
}

fn ingress(out: &mut String, options: &IngressOptions, rule: &Rule<'_>) {
    let Rule {
        name,
        annotations,
        path,
        path_type,
        service,
        port,
    } = rule;
    out.push_str("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n");
    out.push_str(&format!("  name: {name}\n  annotations:\n"));
    for (key, value) in annotations {
        out.push_str(&format!("    {ANNOTATION}/{key}: {}\n", quote(value)));
    }
    out.push_str(&format!(
        "spec:\n  ingressClassName: {}\n",
        options.ingress_class
    ));
    out.push_str(&format!("  rules:\n    - host: {}\n", options.host));
    out.push_str("      http:\n        paths:\n");
    out.push_str(&format!("          - path: {}\n", quote(path)));
    out.push_str(&format!("            pathType: {path_type}\n"));
    out.push_str("            backend:\n              service:\n");
    out.push_str(&format!("                name: {service}\n"));
    out.push_str(&format!(
        "                port:\n                  number: {port}\n"
    ));
}

/// `<service>-<prefix as a DNS label>`, refused when two prefixes give one name.
fn unique_name(
    names: &mut BTreeSet<String>,
    options: &IngressOptions,
    prefix: &str,
) -> Result<String, String> {
    let mut slug = String::new();
    for c in prefix.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let name = format!(
        "{}-{}",
        options.service,
        if slug.is_empty() { "root" } else { slug }
    );
    if name.len() > 63 || !names.insert(name.clone()) {
        return Err(format!(
            "prefix {prefix:?} gives the object name {name:?}, which is too long or taken by another prefix"
        ));
    }
    Ok(name)
}

fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if ".^$*+?()[]{}|\\".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Words of `text` in lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests;
