//! The gateway policy as a complete nginx.conf, for the compose stack.
//!
//! The output depends only on the config (file order, no maps or clocks), so
//! the committed `infra/nginx/nginx.conf` can be compared byte for byte.
//!
//! nginx inherits `add_header`, `proxy_set_header` and `error_page` into a
//! location only when the location sets none of its own; so each location
//! here spells out everything it needs rather than relying on inheritance.

use crate::config::{GatewayConfig, RouteConfig, ZoneConfig};
use crate::headers::{MAX_REQUEST_ID_LEN, REQUEST_ID_HEADER};
use crate::proxy::{ProxyConfig, Scheme};
use crate::refusal_details::{PROBLEM_CONTENT_TYPE, problem_body};

/// The first line of the rendered file.
pub const GENERATED_NOTICE: &str =
    "# Generated from infra/gateway.toml by `spinstack gateway render-nginx`: do not edit.";

/// nginx's name for the Spin application upstream.
const UPSTREAM: &str = "spin";

/// Renders the whole nginx.conf.
pub fn render_nginx(config: &GatewayConfig) -> String {
    let mut out = Conf::default();
    let nginx = config.nginx();
    let runtime = &nginx.runtime_dir;

    out.line(GENERATED_NOTICE);
    out.line("# Change gateway.toml and render again; a test fails while this file is stale.");
    out.blank();
    out.line("worker_processes auto;");
    out.line(&format!("pid {runtime}/nginx.pid;"));
    out.line("error_log stderr warn;");
    out.blank();
    out.open("events");
    out.line("worker_connections 1024;");
    out.close();
    out.blank();
    out.open("http");
    out.line(&format!("include {};", nginx.mime_types));
    out.line("default_type application/octet-stream;");
    out.line("server_tokens off;");
    out.line("access_log /dev/stdout;");
    out.line("sendfile on;");
    out.line("keepalive_timeout 65s;");
    for (directive, dir) in [
        ("client_body_temp_path", "client-body"),
        ("proxy_temp_path", "proxy"),
        ("fastcgi_temp_path", "fastcgi"),
        ("uwsgi_temp_path", "uwsgi"),
        ("scgi_temp_path", "scgi"),
    ] {
        out.line(&format!("{directive} {runtime}/nginx-{dir};"));
    }

    client_address(&mut out, config);
    rate_limit_zones(&mut out, config);

    out.blank();
    out.line("# Request bodies over the limit: 413 before the application sees them.");
    out.line(&format!("client_max_body_size {};", config.max_body_size()));

    compression(&mut out, config);
    maps(&mut out, config);

    out.blank();
    out.open(&format!("upstream {UPSTREAM}"));
    out.line(&format!("server {};", nginx.upstream));
    out.line("keepalive 32;");
    out.close();
    for (index, proxy) in config.proxies().iter().enumerate() {
        out.blank();
        out.open(&format!("upstream {}", proxy_upstream_name(index)));
        out.line(&format!("server {};", proxy.nginx_upstream().host_port()));
        out.line("keepalive 8;");
        out.close();
    }

    match config.tls() {
        None => {
            out.blank();
            out.open("server");
            out.line(&format!("listen {};", nginx.listen));
            out.line(&format!("server_name {};", nginx.server_name));
            server_body(&mut out, config, false);
            out.close();
        }
        Some(tls) => tls::servers(&mut out, config, tls),
    }
    out.close();
    out.text
}

fn client_address(out: &mut Conf, config: &GatewayConfig) {
    let client_ip = config.client_ip();
    out.blank();
    if client_ip.trusted_proxies.is_empty() {
        out.line("# Client address: the TCP peer (no proxy is trusted to name another).");
        return;
    }
    out.line("# Client address: from the header, only when the peer is a trusted proxy.");
    for block in &client_ip.trusted_proxies {
        out.line(&format!("set_real_ip_from {block};"));
    }
    out.line(&format!("real_ip_header {};", client_ip.header.name()));
    out.line(&format!(
        "real_ip_recursive {};",
        if client_ip.recursive { "on" } else { "off" }
    ));
}

fn rate_limit_zones(out: &mut Conf, config: &GatewayConfig) {
    if config.zones().is_empty() {
        return;
    }
    out.blank();
    out.line("# Rate limits per client address; refusals are 429 problem+json with Retry-After.");
    for zone in config.zones() {
        out.line(&format!(
            "limit_req_zone $binary_remote_addr zone={}:{} rate={};",
            zone.name, zone.size, zone.rate
        ));
    }
    out.line("limit_req_status 429;");
    out.line("limit_req_log_level warn;");
}

fn compression(out: &mut Conf, config: &GatewayConfig) {
    let compression = config.compression();
    let gzip = compression.enabled && compression.encodings.contains(&crate::Encoding::Gzip);
    out.blank();
    if !gzip {
        out.line("gzip off;");
        return;
    }
    out.line("# Compression (gzip; nginx has no brotli without extra modules).");
    out.line("gzip on;");
    out.line("gzip_vary on;");
    out.line("gzip_proxied any;");
    out.line(&format!("gzip_min_length {};", compression.min_size));
    // text/html is always compressed; naming it again makes nginx warn.
    let types: Vec<&str> = compression
        .types
        .iter()
        .map(String::as_str)
        .filter(|t| *t != "text/html")
        .collect();
    if !types.is_empty() {
        out.line(&format!("gzip_types {};", types.join(" ")));
    }
}

fn maps(out: &mut Conf, config: &GatewayConfig) {
    out.blank();
    out.line(&format!(
        "# {REQUEST_ID_HEADER}: the client's when it is 1 to {MAX_REQUEST_ID_LEN} visible ASCII characters, else a new one."
    ));
    out.open("map $http_x_request_id $spinstack_request_id");
    out.line("default $request_id;");
    out.line(&format!(
        "\"~^[!-~]{{1,{MAX_REQUEST_ID_LEN}}}$\" $http_x_request_id;"
    ));
    out.close();
    for (index, proxy) in config.proxies().iter().enumerate() {
        out.blank();
        out.line(&format!(
            "# The raw request URI after {} (query included), forwarded unchanged.",
            &proxy.prefix[..proxy.prefix.len() - 1]
        ));
        out.open(&format!("map $request_uri {}", proxy_uri_variable(index)));
        out.line("default \"\";");
        let prefix = &proxy.prefix[..proxy.prefix.len() - 1];
        out.line(&format!(
            "\"~^{}(?<{}>/.*)$\" ${};",
            prefix.replace('.', "\\."),
            proxy_capture(index),
            proxy_capture(index)
        ));
        out.close();
    }
    if config.routes().iter().any(|route| route.websocket) {
        out.blank();
        out.open("map $http_upgrade $connection_upgrade");
        out.line("default upgrade;");
        out.line("\"\" close;");
        out.close();
    }
}

fn server_body(out: &mut Conf, config: &GatewayConfig, tls: bool) {
    out.blank();
    out.line("# Security headers on every response, errors included.");
    response_headers(out, config, tls);

    let has_root = config.routes().iter().any(|route| route.prefix == "/");
    if !has_root {
        let root = RouteConfig {
            prefix: "/".to_owned(),
            zone: None,
            max_body_size: None,
            websocket: false,
            event_stream: false,
        };
        location(out, config, &root, "/");
    }
    for route in config.routes() {
        if route.prefix.len() > 1 && route.prefix.ends_with('/') {
            // The path without the slash is under the same route (nginx
            // would otherwise answer it with a redirect, limits unapplied).
            location(
                out,
                config,
                route,
                &format!("= {}", &route.prefix[..route.prefix.len() - 1]),
            );
        }
        location(out, config, route, &route.prefix);
    }

    for (index, proxy) in config.proxies().iter().enumerate() {
        proxy_location(out, config, index, proxy);
    }

    for zone in config.zones() {
        out.blank();
        out.open(&format!("location @{}", rate_limited_location(zone)));
        problem_location(out, config, tls, 429, Some(zone.max_retry_after_secs()));
        out.close();
    }
    out.blank();
    out.open("location @body_too_large");
    problem_location(out, config, tls, 413, None);
    out.close();
    // The app's locations use them too: a replica gone (scaled in, killed)
    // is a 502 problem, not nginx's HTML page.
    for (name, status) in [("upstream_unreachable", 502), ("upstream_timeout", 504)] {
        out.blank();
        out.open(&format!("location @{name}"));
        problem_location(out, config, tls, status, None);
        out.close();
    }
}

fn proxy_upstream_name(index: usize) -> String {
    format!("proxy_{}", index + 1)
}

fn proxy_uri_variable(index: usize) -> String {
    format!("$spinstack_proxy_{}_uri", index + 1)
}

fn proxy_capture(index: usize) -> String {
    format!("spinstack_proxy_{}_rest", index + 1)
}

/// A prefix forwarded to another service: the raw rest of the URI (not
/// nginx's decoded one, which would break signed URLs), Host set to the
/// upstream's, bodies streamed both ways, no rate limit and no gzip, and the
/// client's credentials (Cookie, Authorization) dropped.
fn proxy_location(out: &mut Conf, config: &GatewayConfig, index: usize, proxy: &ProxyConfig) {
    let upstream = proxy.nginx_upstream();
    out.blank();
    out.line(&format!(
        "# Proxied to {upstream} (see [[proxies]] in gateway.toml)."
    ));
    out.open(&format!("location {}", proxy.prefix));
    let size = proxy.max_body_size.unwrap_or(config.max_body_size());
    out.line(&format!("client_max_body_size {size};"));
    out.line("error_page 413 @body_too_large;");
    out.line("error_page 502 @upstream_unreachable;");
    out.line("error_page 504 @upstream_timeout;");
    // A path that only normalises into the prefix (`//_storage/x`) has no raw rest.
    out.line(&format!(
        "if ({} = \"\") {{ return 404; }}",
        proxy_uri_variable(index)
    ));
    out.line("gzip off;");
    let scheme = match upstream.scheme {
        Scheme::Http => "http",
        Scheme::Https => "https",
    };
    out.line(&format!(
        "proxy_pass {scheme}://{}{};",
        proxy_upstream_name(index),
        proxy_uri_variable(index)
    ));
    if upstream.scheme == Scheme::Https {
        out.line("proxy_ssl_server_name on;");
        out.line(&format!("proxy_ssl_name {};", upstream.host));
    }
    out.line("proxy_http_version 1.1;");
    out.line(&format!(
        "proxy_set_header Host {};",
        quote(&upstream.authority())
    ));
    out.line("proxy_set_header Connection \"\";");
    out.line("proxy_set_header Cookie \"\";");
    out.line("proxy_set_header Authorization \"\";");
    out.line("proxy_request_buffering off;");
    out.line("proxy_buffering off;");
    out.line("proxy_connect_timeout 5s;");
    out.line("proxy_send_timeout 60s;");
    out.line("proxy_read_timeout 60s;");
    out.close();
}

fn response_headers(out: &mut Conf, config: &GatewayConfig, tls: bool) {
    for header in config.headers().iter().filter(|h| tls || !h.tls_only) {
        out.line(&format!(
            "add_header {} {} always;",
            header.name,
            quote(&header.value)
        ));
    }
    out.line(&format!(
        "add_header {REQUEST_ID_HEADER} $spinstack_request_id always;"
    ));
}

fn rate_limited_location(zone: &ZoneConfig) -> String {
    format!("rate_limited_{}", zone.name)
}

fn location(out: &mut Conf, config: &GatewayConfig, route: &RouteConfig, matcher: &str) {
    out.blank();
    out.open(&format!("location {matcher}"));
    if let Some(zone) = route.zone.as_deref().and_then(|name| config.zone(name)) {
        let burst = if zone.burst > 0 {
            format!(" burst={}", zone.burst)
        } else {
            String::new()
        };
        out.line(&format!("limit_req zone={}{burst} nodelay;", zone.name));
        out.line(&format!("error_page 429 @{};", rate_limited_location(zone)));
    }
    if let Some(size) = route.max_body_size {
        out.line(&format!("client_max_body_size {size};"));
    }
    out.line("error_page 413 @body_too_large;");
    // Only nginx's own failures: the app's 502s and 504s pass as they are.
    out.line("error_page 502 @upstream_unreachable;");
    out.line("error_page 504 @upstream_timeout;");
    out.line(&format!("proxy_pass http://{UPSTREAM};"));
    // nginx keeps a scaled-in or killed replica's address until it reloads,
    // and a connect to a vanished container hangs rather than fails: move
    // on to the next replica after 2 s, not nginx's default 60 s (the app
    // is on the same network and accepts in well under that).
    out.line("proxy_connect_timeout 2s;");
    out.line("proxy_http_version 1.1;");
    out.line("proxy_set_header Host $host;");
    out.line("proxy_set_header X-Real-IP $remote_addr;");
    out.line("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;");
    out.line("proxy_set_header X-Forwarded-Proto $scheme;");
    out.line(&format!(
        "proxy_set_header {REQUEST_ID_HEADER} $spinstack_request_id;"
    ));
    // The application echoes the id nginx gave it, and nginx adds its own
    // (response_headers): without this the client would get it twice.
    out.line(&format!("proxy_hide_header {REQUEST_ID_HEADER};"));
    if route.websocket {
        out.line("proxy_set_header Upgrade $http_upgrade;");
        out.line("proxy_set_header Connection $connection_upgrade;");
        out.line("proxy_read_timeout 1h;");
    } else {
        out.line("proxy_set_header Connection \"\";");
    }
    if route.event_stream {
        // Each event reaches the client when the app writes it: no response
        // buffering or caching, no gzip (it holds bytes back), and a read
        // timeout far above the app's heartbeat and stream lifetime.
        out.line("proxy_buffering off;");
        out.line("proxy_cache off;");
        out.line("gzip off;");
        out.line("proxy_read_timeout 1h;");
    }
    out.close();
}

/// The body of a named location answering the gateway's own refusal.
fn problem_location(
    out: &mut Conf,
    config: &GatewayConfig,
    tls: bool,
    status: u16,
    retry_after: Option<u64>,
) {
    response_headers(out, config, tls);
    if let Some(seconds) = retry_after {
        out.line(&format!("add_header Retry-After {seconds} always;"));
    }
    // An empty types map: the body is problem+json whatever the URI's extension.
    out.line("types { }");
    out.line(&format!("default_type {PROBLEM_CONTENT_TYPE};"));
    // problem_body has no single quote or backslash (tested).
    out.line(&format!("return {status} '{}';", problem_body(status)));
}

/// A double-quoted nginx string (values are validated: printable ASCII, no `$`);
/// also a valid double-quoted YAML scalar (the Ingress rendering).
pub(crate) fn quote(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// An indenting writer of nginx blocks.
#[derive(Default)]
struct Conf {
    text: String,
    depth: usize,
}

impl Conf {
    fn line(&mut self, line: &str) {
        for _ in 0..self.depth {
            self.text.push_str("    ");
        }
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn blank(&mut self) {
        if !self.text.ends_with("{\n") && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    fn open(&mut self, head: &str) {
        self.line(&format!("{head} {{"));
        self.depth += 1;
    }

    fn close(&mut self) {
        self.depth -= 1;
        self.line("}");
    }
}

mod tls;

#[cfg(test)]
mod tests;
