//! The rendered HTTPS servers: TLS settings, the same locations as the plain
//! server, HSTS only there, and the optional redirect.

use crate::{GatewayConfig, render_nginx};

const TLS: &str = "[tls]\ncert = \"/etc/ssl/app.pem\"\nkey = \"/etc/ssl/app.key\"\n";

fn render(tls: &str) -> String {
    let text = format!("{}\n{tls}", GatewayConfig::default_toml());
    render_nginx(&GatewayConfig::from_str(&text).unwrap())
}

/// The trimmed lines inside each `server { ... }` block, in order.
fn servers(conf: &str) -> Vec<Vec<&str>> {
    let mut servers = Vec::new();
    let mut lines = conf.lines().map(str::trim);
    while lines.by_ref().any(|line| line == "server {") {
        let mut depth = 1;
        let mut body = Vec::new();
        for line in lines.by_ref() {
            depth += line.matches('{').count();
            depth -= line.matches('}').count();
            if depth == 0 {
                break;
            }
            body.push(line);
        }
        servers.push(body);
    }
    servers
}

fn is_hsts(line: &&str) -> bool {
    line.starts_with("add_header Strict-Transport-Security ")
}

#[test]
fn the_https_server_has_the_tls_settings() {
    let conf = render(TLS);
    let servers = servers(&conf);
    assert_eq!(servers.len(), 1, "no redirect server without redirect_http");
    let server = &servers[0];
    for line in [
        "listen 443 ssl http2;",
        "server_name _;",
        "ssl_certificate /etc/ssl/app.pem;",
        "ssl_certificate_key /etc/ssl/app.key;",
        "ssl_protocols TLSv1.2 TLSv1.3;",
        "ssl_prefer_server_ciphers off;",
        "ssl_session_cache shared:SSL:10m;",
        "ssl_session_timeout 1d;",
        "ssl_session_tickets off;",
    ] {
        assert!(server.contains(&line), "{line} missing from:\n{conf}");
    }
    assert!(!conf.contains("listen 80;"), "nothing listens in cleartext");
}

#[test]
fn tls_1_2_ciphers_are_ecdhe_with_aead_only() {
    let conf = render(TLS);
    let line = conf
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("ssl_ciphers "))
        .expect("ssl_ciphers");
    let suites = line["ssl_ciphers ".len()..line.len() - 1].split(':');
    let mut count = 0;
    for suite in suites {
        count += 1;
        assert!(suite.starts_with("ECDHE-"), "{suite}: no forward secrecy");
        assert!(
            suite.contains("-GCM-") || suite.ends_with("-CHACHA20-POLY1305"),
            "{suite}: not AES-GCM or ChaCha20-Poly1305"
        );
    }
    assert!(count >= 4, "{line}");
    // TLS 1.3 alone: its suites are nginx's defaults, ssl_ciphers would not apply.
    let conf = render(&format!("{TLS}protocols = [\"TLSv1.3\"]\n"));
    assert!(conf.contains("ssl_protocols TLSv1.3;"));
    assert!(!conf.contains("ssl_ciphers"));
}

#[test]
fn nginx_paths_and_port_override_spinstacks() {
    let conf = render(&format!(
        "{TLS}nginx_cert = \"/etc/nginx/ssl/c.pem\"\nnginx_key = \"/etc/nginx/ssl/k.pem\"\nnginx_listen = 8443\n"
    ));
    assert!(conf.contains("    ssl_certificate /etc/nginx/ssl/c.pem;\n"));
    assert!(conf.contains("    ssl_certificate_key /etc/nginx/ssl/k.pem;\n"));
    assert!(conf.contains("    listen 8443 ssl http2;\n"));
    assert!(!conf.contains("/etc/ssl/app"));
}

#[test]
fn the_https_server_keeps_every_location_and_adds_only_hsts() {
    let plain = render_nginx(&GatewayConfig::default());
    let plain = servers(&plain).remove(0);
    let conf = render(TLS);
    let tls = servers(&conf).remove(0);
    assert!(tls.iter().any(is_hsts));
    assert!(
        !plain.iter().any(is_hsts),
        "HSTS is never sent in cleartext"
    );
    let tls_body: Vec<&str> = tls
        .iter()
        .copied()
        .filter(|line| !is_hsts(line) && !line.starts_with("ssl_") && !line.starts_with("listen "))
        .collect();
    let plain_body: Vec<&str> = plain
        .iter()
        .copied()
        .filter(|line| !line.starts_with("listen "))
        .collect();
    assert_eq!(tls_body, plain_body);
    for location in [
        "location /ws/ {",
        "location /_storage/ {",
        "location /api/auth/ {",
    ] {
        assert!(tls.contains(&location), "{location}");
    }
}

#[test]
fn redirect_http_adds_a_plain_server_that_only_redirects() {
    let conf = render(&format!("{TLS}redirect_http = true\n"));
    let servers = servers(&conf);
    assert_eq!(servers.len(), 2);
    assert_eq!(
        servers[0],
        [
            "listen 80;",
            "server_name _;",
            "return 301 https://$host$request_uri;"
        ]
    );
    assert!(servers[1].contains(&"listen 443 ssl http2;"));
    // On another HTTPS port the redirect names it ($host has none).
    let conf = render(&format!("{TLS}redirect_http = true\nnginx_listen = 8443\n"));
    assert!(conf.contains("    return 301 https://$host:8443$request_uri;\n"));
}
