//! Cookie mode, for browsers: the refresh token lives in a `__Host-` cookie
//! (HttpOnly, Secure, SameSite=Strict, Path=/) that scripts cannot read, and
//! the access token only in the page's memory. Nothing goes to
//! localStorage.
//!
//! CSRF: the cookie alone authenticates `POST /api/auth/refresh`, so that
//! call must also carry `X-CSRF-Token`, a MAC of the refresh token under the
//! signing key (signed double-submit). The page reads it from the readable
//! `__Host-spinstack-csrf` cookie (or the login response); another site can
//! neither read it nor, without CORS, send the header. Requests a browser
//! marks `Sec-Fetch-Site: cross-site` are refused outright.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use spin_sdk::http::Request;
use spinstack_shared::Problem;

use crate::refresh_tokens::RefreshToken;

pub const REFRESH_COOKIE: &str = "__Host-spinstack-refresh";
pub const CSRF_COOKIE: &str = "__Host-spinstack-csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The CSRF token bound to `refresh` under `secret`.
pub fn csrf_token(secret: &[u8], refresh: &RefreshToken) -> String {
    URL_SAFE_NO_PAD.encode(mac(secret, refresh).finalize().into_bytes())
}

fn mac(secret: &[u8], refresh: &RefreshToken) -> Hmac<Sha256> {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(b"spinstack csrf v1|");
    mac.update(refresh.expose().as_bytes());
    mac
}

/// Whether `presented` is the CSRF token of `refresh` (constant time).
pub fn csrf_matches(secret: &[u8], refresh: &RefreshToken, presented: &str) -> bool {
    let Ok(tag) = URL_SAFE_NO_PAD.decode(presented.as_bytes()) else {
        return false;
    };
    mac(secret, refresh).verify_slice(&tag).is_ok()
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers()
        .filter(|(header, _)| header.eq_ignore_ascii_case("cookie"))
        .filter_map(|(_, value)| value.as_str())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// 403 if the browser says the request comes from another site.
pub fn refuse_cross_site(request: &Request) -> Result<(), Problem> {
    let site = request.header("sec-fetch-site").and_then(|v| v.as_str());
    if site.is_some_and(|s| s.eq_ignore_ascii_case("cross-site")) {
        return Err(Problem::forbidden(
            "Cross-site requests cannot use the session cookie.",
        ));
    }
    Ok(())
}

/// The `Set-Cookie` values that store a session for `max_age` seconds.
pub fn set_session(refresh: &RefreshToken, csrf: &str, max_age: u64) -> [String; 2] {
    [
        format!(
            "{REFRESH_COOKIE}={}; Path=/; Max-Age={max_age}; Secure; HttpOnly; SameSite=Strict",
            refresh.expose()
        ),
        format!("{CSRF_COOKIE}={csrf}; Path=/; Max-Age={max_age}; Secure; SameSite=Strict"),
    ]
}

/// The `Set-Cookie` values that end a session.
pub fn clear_session() -> [String; 2] {
    [
        format!("{REFRESH_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict"),
        format!("{CSRF_COOKIE}=; Path=/; Max-Age=0; Secure; SameSite=Strict"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_token_is_bound_to_the_refresh_token_and_key() {
        let a = RefreshToken::generate().unwrap();
        let b = RefreshToken::generate().unwrap();
        let token = csrf_token(b"key-one", &a);
        assert!(csrf_matches(b"key-one", &a, &token));
        assert!(!csrf_matches(b"key-one", &b, &token));
        assert!(!csrf_matches(b"key-two", &a, &token));
        assert!(!csrf_matches(b"key-one", &a, ""));
        assert!(!csrf_matches(b"key-one", &a, "!!"));
    }

    #[test]
    fn session_cookies_have_every_attribute() {
        let token = RefreshToken::generate().unwrap();
        let [refresh, csrf] = set_session(&token, "c", 60);
        assert!(refresh.starts_with("__Host-spinstack-refresh="));
        for attribute in [
            "Path=/",
            "Secure",
            "HttpOnly",
            "SameSite=Strict",
            "Max-Age=60",
        ] {
            assert!(refresh.contains(attribute), "{refresh} lacks {attribute}");
        }
        assert!(
            !refresh.contains("Domain"),
            "__Host- cookies have no Domain"
        );
        assert!(
            !csrf.contains("HttpOnly"),
            "the page must read the CSRF cookie"
        );
    }
}
