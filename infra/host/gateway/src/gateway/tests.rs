//! The committed policy, end to end through [`Gateway`].

use std::net::IpAddr;

use super::*;
use crate::Encoding;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn allowed(zone: &str) -> RateDecision<'_> {
    RateDecision::Allowed { zone }
}

#[test]
fn auth_paths_use_the_auth_zone_and_other_api_paths_the_api_zone() {
    let gateway = Gateway::default();
    let client = ip("203.0.113.5");
    for _ in 0..6 {
        assert_eq!(gateway.check("/api/auth/login", client, 0), allowed("auth"));
    }
    assert_eq!(
        gateway.check("/api/auth/register", client, 0),
        RateDecision::Limited {
            zone: "auth",
            retry_after_secs: 13
        }
    );
    // The path without the slash and disguised paths count against the same zone.
    assert!(matches!(
        gateway.check("/api/auth", client, 0),
        RateDecision::Limited { zone: "auth", .. }
    ));
    assert!(matches!(
        gateway.check("/api//auth/./login", client, 0),
        RateDecision::Limited { zone: "auth", .. }
    ));
    // The api zone is separate, and shared by every other /api/ route.
    for i in 0..51 {
        let path = if i % 2 == 0 {
            "/api/users/me"
        } else {
            "/api/uploads"
        };
        assert_eq!(
            gateway.check(path, client, 0),
            allowed("api"),
            "request {i}"
        );
    }
    assert_eq!(
        gateway.check("/api/users/me", client, 0),
        RateDecision::Limited {
            zone: "api",
            retry_after_secs: 1
        }
    );
    // Outside /api/: never limited.
    for path in ["/", "/health", "/index.html", "/ws/", "/apix"] {
        assert_eq!(
            gateway.check(path, client, 0),
            RateDecision::NotLimited,
            "{path}"
        );
    }
}

#[test]
fn disabled_rate_limits_keep_the_rest_of_the_policy() {
    let gateway = Gateway::new(GatewayConfig::default().disabled_rate_limits());
    for _ in 0..1000 {
        assert_eq!(
            gateway.check("/api/auth/login", ip("203.0.113.5"), 0),
            RateDecision::NotLimited
        );
    }
    assert!(gateway.config().zones().is_empty());
    assert_eq!(gateway.body_limit_for("/api/uploads"), 25 << 20);
    assert_eq!(gateway.security_headers(false).len(), 4);
    assert!(gateway.should_compress(Some("application/json"), Some(5000), false));
    assert!(gateway.limiter("auth").is_none());
}

#[test]
fn body_limits_follow_the_longest_prefix() {
    let gateway = Gateway::default();
    assert_eq!(gateway.body_limit_for("/api/uploads"), 25 << 20);
    assert_eq!(gateway.body_limit_for("/api/uploads/presign"), 25 << 20);
    assert_eq!(
        gateway.body_limit_for("/api/uploads?filename=a.png"),
        25 << 20
    );
    assert_eq!(gateway.body_limit_for("/api/users/me"), 1 << 20);
    assert_eq!(gateway.body_limit_for("/api/auth/login"), 1 << 20);
    assert_eq!(gateway.body_limit_for("/"), 1 << 20);
}

#[test]
fn route_policy_describes_the_match() {
    let gateway = Gateway::default();
    let route = gateway.route("/ws/events");
    assert_eq!(route.prefix, Some("/ws/"));
    assert_eq!(route.zone, None);
    assert!(route.websocket);
    let route = gateway.route("/api/uploads/1");
    assert_eq!(
        (route.prefix, route.zone, route.max_body_size),
        (Some("/api/uploads/"), Some("api"), 25 << 20)
    );
    assert_eq!(
        gateway.check_route(&route, ip("192.0.2.1"), 0),
        allowed("api")
    );
    assert_eq!(gateway.limiter("api").unwrap().len(), 1);
}

#[test]
fn paths_matching_no_route_are_unlimited_with_the_global_body_limit() {
    let text =
        GatewayConfig::default_toml().replace("[[routes]]\nprefix = \"/\"\nzone = \"none\"\n", "");
    let gateway = Gateway::new(GatewayConfig::from_str(&text).unwrap());
    let route = gateway.route("/health");
    assert_eq!(
        (route.prefix, route.zone, route.max_body_size),
        (None, None, 1 << 20)
    );
    assert_eq!(
        gateway.check("/health", ip("192.0.2.1"), 0),
        RateDecision::NotLimited
    );
}

#[test]
fn helpers_answer_from_the_config() {
    let gateway = Gateway::default();
    assert_eq!(gateway.client_ip_header(), "X-Forwarded-For");
    let forged: [&[u8]; 1] = [b"1.2.3.4"];
    assert_eq!(gateway.client_key(ip("192.0.2.1"), forged), ip("192.0.2.1"));
    assert_eq!(
        gateway.negotiate_encoding(Some("gzip, br")),
        Some(Encoding::Brotli)
    );
    assert!(!gateway.should_compress(Some("image/png"), Some(5000), false));
    let tls: Vec<&str> = gateway
        .security_headers(true)
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(tls.contains(&"Strict-Transport-Security"));
    let plain: Vec<&str> = gateway
        .security_headers(false)
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(!plain.contains(&"Strict-Transport-Security"));
}

#[test]
fn the_gateway_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Gateway>();
}
