//! Response headers the gateway adds: the configured security headers, and
//! the request id.

use crate::config::HeaderConfig;

/// The configured headers, split once by transport so the hot path only borrows.
#[derive(Debug, Clone)]
pub(crate) struct SecurityHeaders {
    plain: Vec<(String, String)>,
    tls: Vec<(String, String)>,
}

impl SecurityHeaders {
    pub fn new(headers: &[HeaderConfig]) -> Self {
        let pair = |h: &HeaderConfig| (h.name.clone(), h.value.clone());
        SecurityHeaders {
            plain: headers.iter().filter(|h| !h.tls_only).map(pair).collect(),
            tls: headers.iter().map(pair).collect(),
        }
    }

    /// In configuration order; `tls_only` ones only when `tls`.
    pub fn for_transport(&self, tls: bool) -> &[(String, String)] {
        if tls { &self.tls } else { &self.plain }
    }
}

/// The response header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "X-Request-Id";

/// Longest client-sent request id that is echoed.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// Whether a client-sent `X-Request-Id` is echoed (and passed on) as it is:
/// 1 to 128 visible ASCII characters. Otherwise the gateway makes a new id.
/// The rendered nginx.conf applies the same rule.
pub fn accept_request_id(value: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&value.len())
        && value.iter().all(|b| (b'!'..=b'~').contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GatewayConfig;

    #[test]
    fn hsts_only_over_tls() {
        let headers = SecurityHeaders::new(GatewayConfig::default().headers());
        let names = |tls| -> Vec<&str> {
            headers
                .for_transport(tls)
                .iter()
                .map(|(n, _)| n.as_str())
                .collect()
        };
        assert_eq!(
            names(false),
            [
                "X-Content-Type-Options",
                "X-Frame-Options",
                "Content-Security-Policy",
                "Referrer-Policy"
            ]
        );
        assert_eq!(
            names(true),
            [
                "X-Content-Type-Options",
                "X-Frame-Options",
                "Content-Security-Policy",
                "Referrer-Policy",
                "Strict-Transport-Security"
            ]
        );
        let value = |name| {
            headers
                .for_transport(true)
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(value("X-Content-Type-Options"), Some("nosniff"));
        assert_eq!(value("X-Frame-Options"), Some("DENY"));
        assert_eq!(value("Content-Security-Policy"), Some("default-src 'self'"));
    }

    #[test]
    fn request_ids() {
        assert!(accept_request_id(b"3f2a-77"));
        assert!(accept_request_id(&[b'a'; 128]));
        assert!(!accept_request_id(&[b'a'; 129]));
        assert!(!accept_request_id(b""));
        assert!(!accept_request_id(b"has space"));
        assert!(!accept_request_id(b"tab\there"));
        assert!(!accept_request_id("caf\u{e9}".as_bytes()));
    }
}
