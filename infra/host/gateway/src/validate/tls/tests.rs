//! The `[tls]` section: defaults, paths, protocols, and errors that point at
//! the line and column.

use std::path::{Path, PathBuf};

use crate::{GatewayConfig, Position, TlsProtocol};

const TLS: &str = "[tls]\ncert = \"/etc/ssl/app.pem\"\nkey = \"/etc/ssl/app.key\"\n";

/// The committed policy with `tls` appended.
fn with_tls(tls: &str) -> String {
    format!("{}\n{tls}", GatewayConfig::default_toml())
}

fn refused(tls: &str) -> (String, Position) {
    let error = GatewayConfig::from_str(&with_tls(tls)).expect_err("should be refused");
    (error.to_string(), error.position().expect("a position"))
}

/// The 1-based line of `text`'s first line equal to `line`.
fn line_of(text: &str, line: &str) -> usize {
    text.lines().position(|l| l == line).expect(line) + 1
}

#[test]
fn defaults_are_both_modern_protocols_no_redirect_and_port_443() {
    let config = GatewayConfig::from_str(&with_tls(TLS)).unwrap();
    let tls = config.tls().unwrap();
    assert_eq!(tls.protocols, [TlsProtocol::Tls12, TlsProtocol::Tls13]);
    assert!(!tls.redirect_http);
    assert_eq!(tls.nginx_listen, 443);
    assert_eq!(tls.cert, Path::new("/etc/ssl/app.pem"));
    assert_eq!(
        (tls.nginx_cert.as_str(), tls.nginx_key.as_str()),
        ("/etc/ssl/app.pem", "/etc/ssl/app.key"),
        "without nginx_cert / nginx_key nginx reads spinstack's files"
    );
}

#[test]
fn every_key_is_read() {
    let text = format!(
        "{TLS}protocols = [\"TLSv1.3\"]\nredirect_http = true\nnginx_cert = \"/n/c.pem\"\nnginx_key = \"/n/k.pem\"\nnginx_listen = 8443\n"
    );
    let config = GatewayConfig::from_str(&with_tls(&text)).unwrap();
    let tls = config.tls().unwrap();
    assert_eq!(tls.protocols, [TlsProtocol::Tls13]);
    assert!(tls.redirect_http);
    assert_eq!(
        (
            tls.nginx_cert.as_str(),
            tls.nginx_key.as_str(),
            tls.nginx_listen
        ),
        ("/n/c.pem", "/n/k.pem", 8443)
    );
    assert_eq!(tls.key, Path::new("/etc/ssl/app.key"), "not the nginx one");
}

#[test]
fn relative_paths_are_relative_to_the_policy_file() {
    let dir = std::env::temp_dir().join(format!("gateway-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("gateway.toml");
    let tls = "[tls]\ncert = \"certs/app.pem\"\nkey = \"../app.key\"\n";
    std::fs::write(&policy, with_tls(tls)).unwrap();
    let loaded = GatewayConfig::from_file(&policy);
    std::fs::remove_dir_all(&dir).unwrap();
    let config = loaded.unwrap();
    let tls = config.tls().unwrap();
    assert_eq!(tls.cert, dir.join("certs/app.pem"));
    assert_eq!(tls.key, dir.join("../app.key"));
    assert_eq!(PathBuf::from(&tls.nginx_cert), tls.cert);
    // spinstack's errors about the files name the policy they came from.
    assert_eq!(tls.origin, policy.display().to_string());
}

#[test]
fn a_relative_path_without_a_file_needs_the_nginx_path() {
    let tls = "[tls]\ncert = \"app.pem\"\nkey = \"/etc/ssl/app.key\"\n";
    let (message, position) = refused(tls);
    assert!(message.contains("set nginx_cert"), "{message}");
    assert_eq!(position.line, line_of(&with_tls(tls), "cert = \"app.pem\""));
    // With it, spinstack's path stays as written.
    let config =
        GatewayConfig::from_str(&with_tls(&format!("{tls}nginx_cert = \"/n/app.pem\"\n"))).unwrap();
    assert_eq!(config.tls().unwrap().cert, Path::new("app.pem"));
}

#[test]
fn only_tls_1_2_and_1_3_are_allowed_once_each() {
    for (protocols, expected) in [
        ("[\"TLSv1.1\"]", "unsupported TLS protocol \"TLSv1.1\""),
        ("[\"tlsv1.3\"]", "unsupported TLS protocol \"tlsv1.3\""),
        ("[\"TLSv1.3\", \"TLSv1.3\"]", "\"TLSv1.3\" is listed twice"),
        ("[]", "protocols lists no TLS protocol"),
    ] {
        let line = format!("protocols = {protocols}");
        let tls = format!("{TLS}{line}\n");
        let (message, position) = refused(&tls);
        assert!(message.contains(expected), "{protocols}: {message}");
        assert_eq!(position.line, line_of(&with_tls(&tls), &line), "{message}");
    }
}

#[test]
fn an_unknown_key_is_named_with_its_line_and_column() {
    let tls = format!("{TLS}certificate = \"/etc/ssl/app.pem\"\n");
    let (message, position) = refused(&tls);
    assert!(message.contains("certificate"), "{message}");
    let line = line_of(&with_tls(&tls), "certificate = \"/etc/ssl/app.pem\"");
    assert_eq!(position, Position { line, column: 1 }, "{message}");
}

#[test]
fn cert_and_key_are_required() {
    let (message, _) = refused("[tls]\ncert = \"/etc/ssl/app.pem\"\n");
    assert!(message.contains("key"), "{message}");
}

#[test]
fn nginx_paths_must_be_safe_in_nginx_conf() {
    let line = "nginx_cert = \"/etc/ssl/a b.pem\"";
    let tls = format!("{TLS}{line}\n");
    let (message, position) = refused(&tls);
    assert!(message.contains("invalid path"), "{message}");
    assert_eq!(position.line, line_of(&with_tls(&tls), line));
}

#[test]
fn the_old_nginx_tls_section_says_where_it_went() {
    let text = format!(
        "{}\n[nginx.tls]\nlisten = 443\ncertificate = \"/c.pem\"\ncertificate_key = \"/k.pem\"\n",
        GatewayConfig::default_toml()
    );
    let message = GatewayConfig::from_str(&text).unwrap_err().to_string();
    assert!(
        message.contains("now the top-level [tls] section"),
        "{message}"
    );
}
