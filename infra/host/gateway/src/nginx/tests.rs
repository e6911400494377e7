//! The rendered nginx.conf: up to date when committed, and what it says.

use super::*;
use crate::test_support::{repo_file, with};

/// The lines of the block that starts with `head` (e.g. "location /api/ {").
fn block<'a>(conf: &'a str, head: &str) -> Vec<&'a str> {
    let mut lines = conf.lines().skip_while(|line| line.trim() != head);
    let mut depth = 0;
    let mut body = Vec::new();
    for line in lines.by_ref() {
        let line = line.trim();
        depth += line.matches('{').count();
        depth -= line.matches('}').count();
        if depth == 0 {
            break;
        }
        body.push(line);
    }
    assert!(!body.is_empty(), "no block {head:?} in:\n{conf}");
    body[1..].to_vec()
}

#[test]
fn the_committed_nginx_conf_is_up_to_date() {
    let config = GatewayConfig::from_file(repo_file("infra/gateway.toml")).unwrap();
    let rendered = render_nginx(&config);
    let committed =
        std::fs::read_to_string(repo_file("infra/nginx/nginx.conf")).unwrap_or_default();
    assert!(
        committed == rendered,
        "infra/nginx/nginx.conf is out of date with infra/gateway.toml: run `spinstack gateway render-nginx` \
         (or `cargo run -p spinstack-gateway --example render-nginx`) and commit the result"
    );
}

#[test]
fn rendering_is_deterministic() {
    let config = GatewayConfig::default();
    assert_eq!(render_nginx(&config), render_nginx(&config.clone()));
    assert!(render_nginx(&config).starts_with(GENERATED_NOTICE));
}

#[test]
fn braces_balance() {
    for config in [
        GatewayConfig::default(),
        GatewayConfig::default().disabled_rate_limits(),
    ] {
        let conf = render_nginx(&config);
        let mut depth = 0i32;
        for line in conf.lines() {
            depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
            assert!(depth >= 0);
        }
        assert_eq!(depth, 0);
    }
}

#[test]
fn zones_and_limits_are_rendered_per_location() {
    let conf = render_nginx(&GatewayConfig::default());
    assert!(conf.contains("    limit_req_zone $binary_remote_addr zone=auth:10m rate=5r/m;\n"));
    assert!(conf.contains("    limit_req_zone $binary_remote_addr zone=api:10m rate=30r/s;\n"));
    assert!(conf.contains("    limit_req_status 429;\n"));

    let auth = block(&conf, "location /api/auth/ {");
    assert!(
        auth.contains(&"limit_req zone=auth burst=5 nodelay;"),
        "{auth:?}"
    );
    assert!(auth.contains(&"error_page 429 @rate_limited_auth;"));
    let auth_exact = block(&conf, "location = /api/auth {");
    assert!(auth_exact.contains(&"limit_req zone=auth burst=5 nodelay;"));

    let api = block(&conf, "location /api/ {");
    assert!(api.contains(&"limit_req zone=api burst=50 nodelay;"));
    let uploads = block(&conf, "location /api/uploads/ {");
    assert!(uploads.contains(&"limit_req zone=api burst=50 nodelay;"));
    assert!(uploads.contains(&"client_max_body_size 25m;"));

    let root = block(&conf, "location / {");
    assert!(!root.iter().any(|line| line.starts_with("limit_req")));
    assert!(root.contains(&"proxy_pass http://spin;"));
    assert!(root.contains(&"error_page 413 @body_too_large;"));
}

#[test]
fn refusals_are_problem_json_with_retry_after() {
    let conf = render_nginx(&GatewayConfig::default());
    let auth = block(&conf, "location @rate_limited_auth {");
    assert!(
        auth.contains(&"add_header Retry-After 13 always;"),
        "{auth:?}"
    );
    assert!(auth.contains(&"default_type application/problem+json;"));
    assert!(
        auth.contains(&"add_header X-Frame-Options \"DENY\" always;"),
        "security headers repeated"
    );
    let body = format!("return 429 '{}';", problem_body(429));
    assert!(auth.contains(&body.as_str()));
    let api = block(&conf, "location @rate_limited_api {");
    assert!(api.contains(&"add_header Retry-After 1 always;"));
    let too_large = block(&conf, "location @body_too_large {");
    assert!(too_large.contains(&format!("return 413 '{}';", problem_body(413)).as_str()));
}

#[test]
fn headers_proxying_and_websockets() {
    let conf = render_nginx(&GatewayConfig::default());
    for line in [
        "add_header X-Content-Type-Options \"nosniff\" always;",
        "add_header X-Frame-Options \"DENY\" always;",
        "add_header Content-Security-Policy \"default-src 'self'\" always;",
        "add_header X-Request-Id $spinstack_request_id always;",
    ] {
        assert!(conf.contains(line), "{line}");
    }
    assert!(
        !conf.contains("Strict-Transport-Security"),
        "no HSTS without TLS"
    );
    let api = block(&conf, "location /api/ {");
    for line in [
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header Connection \"\";",
        // nginx adds the id itself: the application's echo would double it.
        "proxy_hide_header X-Request-Id;",
    ] {
        assert!(api.contains(&line), "{line}");
    }
    let ws = block(&conf, "location /ws/ {");
    assert!(ws.contains(&"proxy_hide_header X-Request-Id;"));
    assert!(ws.contains(&"proxy_set_header Upgrade $http_upgrade;"));
    assert!(ws.contains(&"proxy_set_header Connection $connection_upgrade;"));
    assert!(ws.contains(&"proxy_http_version 1.1;"));
    assert!(conf.contains("map $http_upgrade $connection_upgrade {"));
}

#[test]
fn an_event_stream_route_passes_each_write_on_at_once() {
    let conf = render_nginx(&GatewayConfig::default());
    let events = block(&conf, "location /api/events {");
    for line in [
        "proxy_buffering off;",
        "gzip off;",
        "proxy_read_timeout 1h;",
        "proxy_set_header Connection \"\";",
        "limit_req zone=api burst=50 nodelay;",
    ] {
        assert!(events.contains(&line), "{line} in {events:?}");
    }
    let api = block(&conf, "location /api/ {");
    assert!(
        !api.contains(&"proxy_buffering off;"),
        "only the stream's route"
    );
}

#[test]
fn compression_and_body_limits() {
    let conf = render_nginx(&GatewayConfig::default());
    assert!(conf.contains("    gzip on;\n"));
    assert!(conf.contains("    gzip_min_length 1k;\n"));
    assert!(conf.contains("    client_max_body_size 1m;\n"));
    let types = conf
        .lines()
        .find(|l| l.trim_start().starts_with("gzip_types"))
        .unwrap();
    for media_type in [
        "application/json",
        "application/javascript",
        "text/css",
        "text/plain",
        "image/svg+xml",
    ] {
        assert!(types.contains(media_type), "{media_type}");
    }
    assert!(
        !types.contains("text/html"),
        "implied; naming it makes nginx warn"
    );

    let off = render_nginx(&with(&[("enabled = true", "enabled = false")]));
    assert!(off.contains("    gzip off;\n"));
    let br_only = render_nginx(&with(&[(
        "encodings = [\"br\", \"gzip\"]",
        "encodings = [\"br\"]",
    )]));
    assert!(br_only.contains("    gzip off;\n"));
}

#[test]
fn trusted_proxies_become_real_ip_rules() {
    assert!(!render_nginx(&GatewayConfig::default()).contains("set_real_ip_from"));
    let conf = render_nginx(&with(&[(
        "trusted_proxies = []",
        "trusted_proxies = [\"10.0.0.0/8\", \"fd00::/8\", \"192.0.2.1\"]",
    )]));
    for line in [
        "    set_real_ip_from 10.0.0.0/8;\n",
        "    set_real_ip_from fd00::/8;\n",
        "    set_real_ip_from 192.0.2.1/32;\n",
        "    real_ip_header X-Forwarded-For;\n",
        "    real_ip_recursive on;\n",
    ] {
        assert!(conf.contains(line), "{line}");
    }
}

#[test]
fn tls_adds_a_redirect_and_hsts() {
    let tls = "[tls]\ncert = \"/etc/nginx/ssl/fullchain.pem\"\nkey = \"/etc/nginx/ssl/privkey.pem\"\nredirect_http = true\nnginx_listen = 443\n";
    let text = format!("{}{tls}", GatewayConfig::default_toml());
    let conf = render_nginx(&GatewayConfig::from_str(&text).unwrap());
    assert!(conf.contains("        return 301 https://$host$request_uri;\n"));
    assert!(conf.contains("        listen 443 ssl http2;\n"));
    assert!(conf.contains("        ssl_certificate /etc/nginx/ssl/fullchain.pem;\n"));
    assert_eq!(
        conf.matches(
            "add_header Strict-Transport-Security \"max-age=31536000; includeSubDomains\" always;"
        )
        .count(),
        1 + 2 + 1 + 2,
        "the TLS server, its two 429 locations, its 413 location and its 502 and 504 locations"
    );
    let text = format!(
        "{}{}",
        GatewayConfig::default_toml(),
        tls.replace("443", "8443")
    );
    let conf = render_nginx(&GatewayConfig::from_str(&text).unwrap());
    assert!(conf.contains("return 301 https://$host:8443$request_uri;"));
}

#[test]
fn disabled_rate_limits_render_no_limits() {
    let conf = render_nginx(&GatewayConfig::default().disabled_rate_limits());
    assert!(!conf.contains("limit_req"));
    assert!(!conf.contains("@rate_limited"));
    assert!(conf.contains("add_header X-Frame-Options"));
    assert!(conf.contains("client_max_body_size 25m;"));
}

#[test]
fn without_a_root_route_a_plain_root_location_is_added() {
    let conf = render_nginx(&with(&[(
        "[[routes]]\nprefix = \"/\"\nzone = \"none\"\n",
        "",
    )]));
    let root = block(&conf, "location / {");
    assert!(root.contains(&"proxy_pass http://spin;"));
    assert_eq!(conf.matches("location / {").count(), 1);
}

#[test]
fn proxies_forward_the_raw_uri_to_their_upstream() {
    let conf = render_nginx(&GatewayConfig::default());
    assert!(conf.contains("    upstream proxy_1 {\n        server 127.0.0.1:9000;\n"));
    let map = block(&conf, "map $request_uri $spinstack_proxy_1_uri {");
    assert_eq!(
        map,
        [
            "default \"\";",
            "\"~^/_storage(?<spinstack_proxy_1_rest>/.*)$\" $spinstack_proxy_1_rest;"
        ]
    );
    let storage = block(&conf, "location /_storage/ {");
    for line in [
        "client_max_body_size 26m;",
        "error_page 413 @body_too_large;",
        "error_page 502 @upstream_unreachable;",
        "error_page 504 @upstream_timeout;",
        "if ($spinstack_proxy_1_uri = \"\") { return 404; }",
        "gzip off;",
        "proxy_pass http://proxy_1$spinstack_proxy_1_uri;",
        "proxy_set_header Host \"127.0.0.1:9000\";",
        "proxy_set_header Cookie \"\";",
        "proxy_set_header Authorization \"\";",
        "proxy_request_buffering off;",
        "proxy_buffering off;",
    ] {
        assert!(storage.contains(&line), "{line}: {storage:?}");
    }
    assert!(
        !storage.iter().any(|line| line.starts_with("limit_req")),
        "no rate limit"
    );
    let unreachable = block(&conf, "location @upstream_unreachable {");
    assert!(unreachable.contains(&format!("return 502 '{}';", problem_body(502)).as_str()));
    assert!(unreachable.contains(&"default_type application/problem+json;"));

    // --proxy-upstream: another store, over TLS on its default port.
    let aws = GatewayConfig::default()
        .with_nginx_proxy_upstream("/_storage/", "https://s3.eu-west-1.amazonaws.com")
        .unwrap();
    let conf = render_nginx(&aws);
    assert!(conf.contains("server s3.eu-west-1.amazonaws.com:443;"));
    let storage = block(&conf, "location /_storage/ {");
    assert!(storage.contains(&"proxy_pass https://proxy_1$spinstack_proxy_1_uri;"));
    assert!(storage.contains(&"proxy_set_header Host \"s3.eu-west-1.amazonaws.com\";"));
    assert!(storage.contains(&"proxy_ssl_server_name on;"));
    assert!(
        GatewayConfig::default()
            .with_nginx_proxy_upstream("/elsewhere/", "http://x:1")
            .unwrap_err()
            .contains("/_storage/")
    );
    assert!(
        GatewayConfig::default()
            .with_nginx_proxy_upstream("/_storage/", "x:1")
            .is_err()
    );
}

#[test]
fn without_proxies_nothing_of_them_is_rendered() {
    let start = GatewayConfig::default_toml().find("[[proxies]]").unwrap();
    let end = start + GatewayConfig::default_toml()[start..].find("\n\n").unwrap();
    let text = format!(
        "{}{}",
        &GatewayConfig::default_toml()[..start],
        &GatewayConfig::default_toml()[end..]
    );
    let conf = render_nginx(&GatewayConfig::from_str(&text).unwrap());
    assert!(!conf.contains("_storage"));
    assert!(!conf.contains("proxy_1"));
}

#[test]
fn header_values_are_quoted() {
    assert_eq!(quote(r#"a "b" \c"#), r#""a \"b\" \\c""#);
}

#[test]
fn an_unreachable_app_is_a_problem_and_fails_over_quickly() {
    let conf = render_nginx(&GatewayConfig::default());
    for location in ["location / {", "location /api/ {", "location /api/auth/ {"] {
        let app = block(&conf, location);
        for line in [
            "error_page 502 @upstream_unreachable;",
            "error_page 504 @upstream_timeout;",
            "proxy_connect_timeout 2s;",
        ] {
            assert!(app.contains(&line), "{location} {line}: {app:?}");
        }
    }
    let timeout = block(&conf, "location @upstream_timeout {");
    assert!(timeout.contains(&format!("return 504 '{}';", problem_body(504)).as_str()));
}
