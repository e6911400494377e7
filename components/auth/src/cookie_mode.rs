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
use cookie::time::Duration;
use cookie::{Cookie, SameSite};
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

/// The value of cookie `name` in the request's `Cookie` headers. Pairs that do not parse are
/// skipped, as a browser's own junk cookies must not break the session.
pub fn cookie(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .filter(|(header, _)| header.eq_ignore_ascii_case("cookie"))
        .filter_map(|(_, value)| value.as_str())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
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
    let max_age = Duration::seconds(i64::try_from(max_age).unwrap_or(i64::MAX));
    [
        session_cookie(REFRESH_COOKIE, refresh.expose(), max_age, true),
        session_cookie(CSRF_COOKIE, csrf, max_age, false),
    ]
}

/// The `Set-Cookie` values that end a session.
pub fn clear_session() -> [String; 2] {
    [
        session_cookie(REFRESH_COOKIE, "", Duration::ZERO, true),
        session_cookie(CSRF_COOKIE, "", Duration::ZERO, false),
    ]
}

/// One `__Host-` cookie: Secure, Path=/ and no Domain, as the prefix
/// demands; SameSite=Strict so no other site's request carries it.
/// `http_only` hides it from scripts (the refresh token), or not (the CSRF
/// token the page must read).
fn session_cookie(name: &str, value: &str, max_age: Duration, http_only: bool) -> String {
    Cookie::build((name, value))
        .path("/")
        .max_age(max_age)
        .secure(true)
        .http_only(http_only)
        .same_site(SameSite::Strict)
        .build()
        .to_string()
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
        assert!(csrf.starts_with("__Host-spinstack-csrf=c;"), "{csrf}");
        assert!(csrf.contains("Max-Age=60") && csrf.contains("Secure"));
    }

    #[test]
    fn cleared_cookies_expire_now_with_the_same_attributes() {
        for cleared in clear_session() {
            assert!(cleared.contains("=;"), "{cleared} keeps a value");
            for attribute in ["Path=/", "Secure", "SameSite=Strict", "Max-Age=0"] {
                assert!(cleared.contains(attribute), "{cleared} lacks {attribute}");
            }
        }
        assert!(clear_session()[0].contains("HttpOnly"));
    }

    fn with_cookies(header: Option<&str>) -> Request {
        let mut builder = Request::builder();
        builder.method(spin_sdk::http::Method::Post).uri("/");
        if let Some(value) = header {
            builder.header("cookie", value);
        }
        builder.build()
    }

    #[test]
    fn the_named_cookie_is_found_among_others_and_junk() {
        let request = with_cookies(Some("theme=dark;  __Host-spinstack-refresh=abc ; junk"));
        assert_eq!(cookie(&request, REFRESH_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&request, CSRF_COOKIE), None);
        // Prefixes and case matter: another name is another cookie.
        let request = with_cookies(Some(
            "__host-spinstack-refresh=x; __Host-spinstack-refreshed=y",
        ));
        assert_eq!(cookie(&request, REFRESH_COOKIE), None);
        assert_eq!(cookie(&with_cookies(None), REFRESH_COOKIE), None);
    }
}
