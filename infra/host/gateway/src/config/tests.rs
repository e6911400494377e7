//! Loading the policy: the committed file, and errors that point at the line.

use std::path::Path;

use super::*;
use crate::Position;
use crate::units::RateUnit;

fn committed_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../gateway.toml")
}

/// Replaces `from` (which must occur once) in the committed file and returns
/// the error, checking that it points at the line where `to` now is.
fn error_after(from: &str, to: &str) -> String {
    let base = GatewayConfig::default_toml();
    assert_eq!(base.matches(from).count(), 1, "{from:?} must occur once");
    let text = base.replacen(from, to, 1);
    let error = GatewayConfig::from_str(&text).expect_err("config should be refused");
    let at = base.find(from).unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let position = error.position().expect("a position");
    let target_lines = line..=line + to.matches('\n').count();
    assert!(
        target_lines.contains(&position.line),
        "error {error} should be on line(s) {target_lines:?}"
    );
    error.to_string()
}

/// The error for the committed file with `from` replaced by `to`.
fn refused(from: &str, to: &str) -> String {
    let text = GatewayConfig::default_toml().replacen(from, to, 1);
    GatewayConfig::from_str(&text)
        .expect_err("config should be refused")
        .to_string()
}

#[test]
fn the_committed_file_is_the_default_policy() {
    let config = GatewayConfig::from_file(committed_path()).unwrap();
    assert_eq!(config, GatewayConfig::default());
    let auth = config.zone("auth").unwrap();
    assert_eq!(
        (auth.rate.requests, auth.rate.unit, auth.burst),
        (5, RateUnit::PerMinute, 5)
    );
    let api = config.zone("api").unwrap();
    assert_eq!(
        (api.rate.requests, api.rate.unit, api.burst),
        (30, RateUnit::PerSecond, 50)
    );
    assert_eq!(api.capacity(), 163_840);
    assert_eq!(
        (auth.max_retry_after_secs(), api.max_retry_after_secs()),
        (13, 1)
    );
    assert_eq!(config.max_body_size(), Size(1 << 20));
    assert!(config.client_ip().trusted_proxies.is_empty());
    assert_eq!(config.client_ip().header, ClientIpHeader::XForwardedFor);
    let names: Vec<_> = config
        .headers()
        .iter()
        .map(|h| (h.name.as_str(), h.tls_only))
        .collect();
    assert_eq!(
        names,
        [
            ("X-Content-Type-Options", false),
            ("X-Frame-Options", false),
            ("Content-Security-Policy", false),
            ("Referrer-Policy", false),
            ("Strict-Transport-Security", true),
        ]
    );
    assert_eq!(config.nginx().upstream, "127.0.0.1:3000");
    assert!(config.tls().is_none());
}

#[test]
fn from_str_and_parse_agree() {
    let text = GatewayConfig::default_toml();
    let parsed: GatewayConfig = text.parse().unwrap();
    assert_eq!(parsed, GatewayConfig::from_str(text).unwrap());
}

#[test]
fn disabling_rate_limits_removes_zones_only() {
    let config = GatewayConfig::default();
    let disabled = config.clone().disabled_rate_limits();
    assert!(disabled.zones().is_empty());
    assert!(disabled.routes().iter().all(|route| route.zone.is_none()));
    assert_eq!(disabled.routes().len(), config.routes().len());
    assert_eq!(disabled.headers(), config.headers());
    assert_eq!(disabled.compression(), config.compression());
    assert_eq!(disabled.max_body_size(), config.max_body_size());
}

#[test]
fn a_missing_file_names_the_file() {
    let error = GatewayConfig::from_file("/nonexistent/gateway.toml").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot read gateway config /nonexistent/gateway.toml")
    );
}

#[test]
fn file_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("spinstack-gateway-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("gateway.toml");
    std::fs::write(
        &path,
        GatewayConfig::default_toml().replace("rate = \"5r/m\"", "rate = \"5r/h\""),
    )
    .unwrap();
    let error = GatewayConfig::from_file(&path).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        error.starts_with(&format!("{}, line ", path.display())),
        "{error}"
    );
    assert!(error.contains("invalid rate \"5r/h\""), "{error}");
}

#[test]
fn toml_syntax_errors_point_at_the_line() {
    let message = error_after("burst = 5\n", "burst = = 5\n");
    assert!(message.starts_with("gateway.toml, line "), "{message}");
}

#[test]
fn unknown_keys_are_errors() {
    let message = error_after("burst = 50\n", "burst = 50\nburts = 60\n");
    assert!(message.contains("unknown field `burts`"), "{message}");
    let message = error_after("[body]\n", "[body]\nmax_sise = \"2m\"\n");
    assert!(message.contains("unknown field `max_sise`"), "{message}");
    let message = error_after(
        "[compression]\n",
        "[compresion]\nenabled = true\n\n[compression]\n",
    );
    assert!(message.contains("unknown field `compresion`"), "{message}");
}

#[test]
fn wrong_types_are_errors() {
    let message = error_after("burst = 50", "burst = \"50\"");
    assert!(message.contains("invalid type"), "{message}");
}

#[test]
fn bad_rates_sizes_and_bursts_name_the_value() {
    let message = error_after("rate = \"30r/s\"", "rate = \"30r/h\"");
    assert!(message.contains("invalid rate \"30r/h\""), "{message}");
    let message = error_after("burst = 50", "burst = -1");
    assert!(message.contains("invalid burst -1"), "{message}");
    let message = error_after("max_size = \"1m\"", "max_size = \"1mb\"");
    assert!(message.contains("invalid size \"1mb\""), "{message}");
    let message = error_after("max_size = \"1m\"", "max_size = \"0\"");
    assert!(message.contains("at least 1 byte"), "{message}");
    let message = error_after("max_body_size = \"25m\"", "max_body_size = \"25 m\"");
    assert!(message.contains("invalid size"), "{message}");
    let message = error_after(
        "rate = \"5r/m\"\nburst = 5\nnodelay = true\nsize = \"10m\"",
        "rate = \"5r/m\"\nburst = 5\nnodelay = true\nsize = \"16k\"",
    );
    assert!(message.contains("between 32k and 1g"), "{message}");
}

#[test]
fn nodelay_false_is_refused_on_its_line() {
    let from = "rate = \"5r/m\"\nburst = 5\nnodelay = true";
    let message = error_after(from, "rate = \"5r/m\"\nburst = 5\nnodelay = false");
    assert!(
        message.contains("nodelay = false is not supported"),
        "{message}"
    );
    let text = GatewayConfig::default_toml().replacen(
        from,
        "rate = \"5r/m\"\nburst = 5\nnodelay = false",
        1,
    );
    let line = text.lines().position(|l| l == "nodelay = false").unwrap() + 1;
    let error = GatewayConfig::from_str(&text).unwrap_err();
    assert_eq!(error.position(), Some(Position { line, column: 11 }));
    assert!(
        message.starts_with(&format!("gateway.toml, line {line}, column 11: ")),
        "{message}"
    );
}

#[test]
fn zone_references_are_checked() {
    let message = error_after(
        "prefix = \"/api/auth/\"\nzone = \"auth\"",
        "prefix = \"/api/auth/\"\nzone = \"atuh\"",
    );
    assert!(
        message.contains("unknown zone \"atuh\": defined zones are [auth, api]"),
        "{message}"
    );
    // auth is now unused: the error points at its definition.
    let message = refused(
        "prefix = \"/api/auth/\"\nzone = \"auth\"",
        "prefix = \"/api/auth/\"\nzone = \"api\"",
    );
    assert!(
        message.contains("zone \"auth\" is not used by any route"),
        "{message}"
    );
    let message = error_after("name = \"api\"", "name = \"auth\"");
    assert!(
        message.contains("zone \"auth\" is defined twice"),
        "{message}"
    );
    let message = error_after("name = \"api\"", "name = \"none\"");
    assert!(message.contains("invalid zone name"), "{message}");
}

#[test]
fn a_route_must_name_its_zone() {
    // The error points at the table that lacks it.
    let message = error_after(
        "[[routes]]\nprefix = \"/ws/\"\nzone = \"none\"\n",
        "[[routes]]\nprefix = \"/ws/\"\n",
    );
    assert!(message.contains("missing field `zone`"), "{message}");
}

#[test]
fn route_prefixes_are_checked() {
    for bad in [
        "api/",
        "/api//x/",
        "/api/../x/",
        "/api/./",
        "/a b/",
        "/api/{x}/",
        "/api/%41/",
    ] {
        let message = error_after("prefix = \"/ws/\"", &format!("prefix = \"{bad}\""));
        assert!(message.contains("invalid route prefix"), "{bad}: {message}");
    }
    let message = error_after("prefix = \"/ws/\"", "prefix = \"/api/\"");
    assert!(message.contains("listed twice"), "{message}");
}

#[test]
fn trusted_proxies_are_checked() {
    let message = error_after(
        "trusted_proxies = []",
        "trusted_proxies = [\"10.0.0.0/8\", \"10.0.0.1/8\"]",
    );
    assert!(message.contains("host bits set"), "{message}");
    let message = error_after(
        "trusted_proxies = []",
        "trusted_proxies = [\"proxy.local\"]",
    );
    assert!(message.contains("invalid address"), "{message}");
    let message = error_after("header = \"X-Forwarded-For\"", "header = \"Forwarded\"");
    assert!(
        message.contains("unsupported client address header"),
        "{message}"
    );
    let config = GatewayConfig::from_str(
        &GatewayConfig::default_toml()
            .replace(
                "trusted_proxies = []",
                "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]",
            )
            .replace("header = \"X-Forwarded-For\"", "header = \"x-real-ip\""),
    )
    .unwrap();
    assert_eq!(config.client_ip().trusted_proxies.len(), 2);
    assert_eq!(config.client_ip().header, ClientIpHeader::XRealIp);
}

#[test]
fn headers_are_checked() {
    let message = error_after("value = \"DENY\"", "value = \"DENY$x\"");
    assert!(message.contains("'$' is not allowed"), "{message}");
    let message = error_after("value = \"DENY\"", "value = \"DENY\\nX-Evil: 1\"");
    assert!(message.contains("is not allowed"), "{message}");
    let message = error_after("name = \"X-Frame-Options\"", "name = \"X Frame\"");
    assert!(message.contains("invalid header name"), "{message}");
    let message = error_after(
        "name = \"X-Frame-Options\"",
        "name = \"x-content-type-options\"",
    );
    assert!(message.contains("listed twice"), "{message}");
    let message = error_after("name = \"X-Frame-Options\"", "name = \"Content-Length\"");
    assert!(message.contains("set by the gateway"), "{message}");
}

#[test]
fn compression_settings_are_checked() {
    let message = error_after(
        "encodings = [\"br\", \"gzip\"]",
        "encodings = [\"br\", \"zstd\"]",
    );
    assert!(
        message.contains("unsupported encoding \"zstd\""),
        "{message}"
    );
    let message = error_after("encodings = [\"br\", \"gzip\"]", "encodings = []");
    assert!(message.contains("lists no encoding"), "{message}");
    let message = error_after("    \"text/css\",\n", "    \"text/*\",\n");
    assert!(
        message.contains("invalid media type \"text/*\""),
        "{message}"
    );
    let message = error_after("    \"text/xml\",\n", "    \"text/plain\",\n");
    assert!(message.contains("listed twice"), "{message}");
}

#[test]
fn nginx_settings_are_checked() {
    let message = error_after("listen = 80", "listen = 0");
    assert!(message.contains("invalid port 0"), "{message}");
    let message = error_after(
        "upstream = \"127.0.0.1:3000\"",
        "upstream = \"127.0.0.1:3000; evil\"",
    );
    assert!(message.contains("invalid upstream"), "{message}");
    let message = error_after("server_name = \"_\"", "server_name = \"a;b\"");
    assert!(message.contains("invalid server_name"), "{message}");
    let message = error_after("runtime_dir = \"/tmp\"", "runtime_dir = \"/tmp/\"");
    assert!(message.contains("invalid path"), "{message}");
    for upstream in [
        "spin:3000",
        "[::1]:3000",
        "unix:/run/spin.sock",
        "10.0.0.5:80",
    ] {
        let text = GatewayConfig::default_toml().replace("127.0.0.1:3000", upstream);
        assert!(GatewayConfig::from_str(&text).is_ok(), "{upstream}");
    }
    for upstream in [
        "spin",
        "spin:0",
        "spin:99999",
        "[::1:3000",
        "unix:relative",
        ":3000",
    ] {
        let text = GatewayConfig::default_toml().replace("127.0.0.1:3000", upstream);
        assert!(GatewayConfig::from_str(&text).is_err(), "{upstream}");
    }
}

#[test]
fn tls_settings_are_checked() {
    let tls =
        "[tls]\ncert = \"/etc/nginx/ssl/fullchain.pem\"\nkey = \"/etc/nginx/ssl/privkey.pem\"\n";
    let text = format!("{}{tls}", GatewayConfig::default_toml());
    let config = GatewayConfig::from_str(&text).unwrap();
    assert_eq!(config.tls().unwrap().nginx_listen, 443);
    let text = format!(
        "{}{}nginx_listen = 80\n",
        GatewayConfig::default_toml(),
        tls
    );
    let message = GatewayConfig::from_str(&text).unwrap_err().to_string();
    assert!(message.contains("also [nginx] listen"), "{message}");
}

#[test]
fn the_storage_proxy_is_configured() {
    use crate::{ProxyUpstream, Scheme};
    let config = GatewayConfig::default();
    let [proxy] = config.proxies() else {
        panic!("one proxy: {:?}", config.proxies());
    };
    assert_eq!(proxy.prefix, "/_storage/");
    assert_eq!(
        proxy.upstream,
        ProxyUpstream::Variable("s3_endpoint".into())
    );
    let nginx = proxy.nginx_upstream();
    assert_eq!((nginx.scheme, nginx.port), (Scheme::Http, 9000));
    assert_eq!(proxy.max_body_size, Some(Size(26 << 20)));
    // Rate limits never applied to it; disabling them keeps it.
    assert_eq!(
        config.clone().disabled_rate_limits().proxies(),
        config.proxies()
    );
}

#[test]
fn bad_proxies_are_refused_at_their_line() {
    let from = "prefix = \"/_storage/\"";
    for (to, expected) in [
        ("prefix = \"/_storage\"", "must end with /"),
        ("prefix = \"/\"", "must end with /"),
        ("prefix = \"/_sto rage/\"", "invalid route prefix"),
        ("prefix = \"/api/\"", "would hide route \"/api/\""),
        ("prefix = \"/api/auth/x/\"", ""),
    ] {
        if expected.is_empty() {
            // Under a route is fine: the longer prefix wins, as in nginx.
            let text = GatewayConfig::default_toml().replacen(from, to, 1);
            assert!(GatewayConfig::from_str(&text).is_ok(), "{to}");
            continue;
        }
        let error = error_after(from, to);
        assert!(error.contains(expected), "{to}: {error}");
    }
    let from = "upstream = \"variable:s3_endpoint\"";
    for (to, expected) in [
        ("upstream = \"variable:S3\"", "invalid variable name"),
        ("upstream = \"variable:\"", "invalid variable name"),
        ("upstream = \"127.0.0.1:9000\"", "variable:<name>"),
        ("upstream = \"http://minio:9000/bucket\"", "no path"),
    ] {
        let error = error_after(from, to);
        assert!(error.contains(expected), "{to}: {error}");
    }
    let error = error_after(
        "nginx_upstream = \"http://127.0.0.1:9000\"",
        "nginx_upstream = \"minio:9000\"",
    );
    assert!(error.contains("invalid upstream URL"), "{error}");
    // Without nginx_upstream, the error points at the variable upstream.
    let text = GatewayConfig::default_toml().replacen(
        "nginx_upstream = \"http://127.0.0.1:9000\"\n",
        "",
        1,
    );
    let error = GatewayConfig::from_str(&text).unwrap_err();
    let line = text[..text.find("upstream = \"variable:").unwrap()]
        .matches('\n')
        .count()
        + 1;
    assert_eq!(error.position().unwrap().line, line);
    assert!(
        error.to_string().contains("nginx has no Spin variables"),
        "{error}"
    );
    // A URL upstream serves nginx too.
    let text = GatewayConfig::default_toml()
        .replacen(
            "upstream = \"variable:s3_endpoint\"",
            "upstream = \"http://minio:9000\"",
            1,
        )
        .replacen("nginx_upstream = \"http://127.0.0.1:9000\"\n", "", 1);
    let config = GatewayConfig::from_str(&text).unwrap();
    assert_eq!(
        config.proxies()[0].nginx_upstream().to_string(),
        "http://minio:9000"
    );
    let error = error_after("max_body_size = \"26m\"", "max_body_size = \"0\"");
    assert!(error.contains("at least 1 byte"), "{error}");
    let error = error_after(
        "[[proxies]]\nprefix = \"/_storage/\"",
        "[[proxies]]\nprefix = \"/_storage/\"\nzone = \"api\"",
    );
    assert!(error.contains("unknown field"), "{error}");
}

#[test]
fn overlapping_proxies_are_refused() {
    let block = "[[proxies]]\nprefix = \"/_storage/\"\nupstream = \"http://a:1\"\n";
    let text = format!(
        "{}\n{}",
        GatewayConfig::default_toml(),
        block.replace("/_storage/", "/_storage/inner/")
    );
    let error = GatewayConfig::from_str(&text).unwrap_err().to_string();
    assert!(error.contains("overlaps another proxy"), "{error}");
}
