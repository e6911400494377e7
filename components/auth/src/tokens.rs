//! The token response of login and refresh (`openapi.yaml`, `Tokens` and
//! `CookieTokens`): a new access token, and the refresh token in the body or,
//! in cookie mode, in cookies.

use serde::Serialize;
use spinstack_shared::Problem;
use spinstack_shared::respond::{Reply, json};
use spinstack_shared::token::TokenSettings;
use uuid::Uuid;

use crate::cookie_mode;
use crate::refresh_tokens::RefreshToken;

#[derive(Serialize)]
struct Tokens<'a> {
    access_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<&'a str>,
}

/// How the client keeps its refresh token.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Body,
    Cookie,
}

/// 200 with a new access token for `user_id` in session `family_id`, and
/// `refresh` delivered by `transport`.
pub fn issue(
    settings: &TokenSettings,
    user_id: Uuid,
    family_id: Uuid,
    refresh: &RefreshToken,
    refresh_ttl: u64,
    transport: Transport,
) -> Result<Reply, Problem> {
    let access = settings.issue(user_id, family_id)?;
    let csrf = cookie_mode::csrf_token(settings.secret(), refresh);
    let body = Tokens {
        access_token: &access.token,
        refresh_token: (transport == Transport::Body).then_some(refresh.expose()),
        token_type: "Bearer",
        expires_in: access.expires_in,
        csrf_token: (transport == Transport::Cookie).then_some(&csrf),
    };
    let mut response = json(200, &body);
    // RFC 6749 §5.1: token responses are never stored.
    response.set_header("cache-control", "no-store");
    response.set_header("pragma", "no-cache");
    let mut reply = Reply::from(response);
    if transport == Transport::Cookie {
        for cookie in cookie_mode::set_session(refresh, &csrf, refresh_ttl) {
            reply = reply.with_header("set-cookie", cookie);
        }
    }
    Ok(reply)
}
