//! `POST /api/auth/refresh` and `POST /api/auth/logout`.

use serde::Deserialize;
use spin_sdk::http::Request;
use spinstack_shared::cache::Cache;
use spinstack_shared::db::Db;
use spinstack_shared::request::optional_json_body;
use spinstack_shared::respond::Reply;
use spinstack_shared::token::TokenSettings;
use spinstack_shared::{Problem, authenticate, denylist, users};

use crate::cookie_mode::{self, CSRF_HEADER, REFRESH_COOKIE};
use crate::refresh_tokens::{self, RefreshToken};
use crate::tokens::{self, Transport};
use crate::{housekeeping, settings};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Body {
    refresh_token: Option<String>,
}

/// `{refresh_token}` (or, in cookie mode, the cookie and `X-CSRF-Token`) →
/// 200 tokens; the presented token is spent.
pub fn refresh(request: &Request) -> Result<Reply, Problem> {
    let body: Body = optional_json_body(request)?;
    let settings = TokenSettings::from_variables()?;
    let (raw, transport) = match body.refresh_token {
        Some(raw) => (raw, Transport::Body),
        None => match cookie_mode::cookie(request, REFRESH_COOKIE) {
            Some(raw) => (raw, Transport::Cookie),
            None => {
                return Err(Problem::unauthorized(
                    "Send a refresh token: {\"refresh_token\": ...} or the session cookie.",
                ));
            }
        },
    };
    let presented = RefreshToken::parse(&raw).ok_or_else(refused)?;
    if transport == Transport::Cookie {
        cookie_mode::refuse_cross_site(request)?;
        let csrf = request
            .header(CSRF_HEADER)
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        if !cookie_mode::csrf_matches(settings.secret(), &presented, csrf) {
            return Err(Problem::forbidden(
                "The session cookie needs its X-CSRF-Token header.",
            ));
        }
    }
    let db = Db::new();
    let refresh_ttl = settings::refresh_ttl_seconds()?;
    let next = RefreshToken::generate()?;
    let rotation =
        refresh_tokens::rotate(&db, &presented, &next, refresh_ttl)?.ok_or_else(refused)?;
    tokens::issue(
        &settings,
        rotation.user_id,
        rotation.family_id,
        &next,
        refresh_ttl,
        transport,
    )
}

fn refused() -> Problem {
    Problem::unauthorized("The refresh token is invalid, expired, or already used.")
}

/// Bearer + `{refresh_token}` (or, in cookie mode, the cookie) → 204. Ends
/// the refresh token's session (which must be the caller's: otherwise 401
/// and nothing is revoked) and the access token's own, denylists the access
/// token until it expires, and clears the cookies.
pub fn logout(request: &Request) -> Result<Reply, Problem> {
    let db = Db::new();
    let cache = Cache::open();
    let principal = authenticate(request, &db, &cache)?;
    let no_body = request.body().iter().all(u8::is_ascii_whitespace);
    let body: Body = optional_json_body(request)?;
    let Some(raw) = body
        .refresh_token
        .or_else(|| cookie_mode::cookie(request, REFRESH_COOKIE))
    else {
        // A body without the field breaks its schema (422); no body and no
        // cookie is a missing credential, as for `refresh` (401).
        return Err(if no_body {
            Problem::unauthorized(
                "Send the refresh token of the session to end: {\"refresh_token\": ...} or the session cookie.",
            )
        } else {
            Problem::invalid_field("refresh_token", "is required")
        });
    };
    let family = RefreshToken::parse(&raw)
        .map(|token| refresh_tokens::family_of(&db, &token))
        .transpose()?
        .flatten();
    let Some((family, _)) = family.filter(|(_, owner)| *owner == principal.id()) else {
        return Err(Problem::unauthorized(
            "The refresh token was not issued to you; nothing was revoked.",
        ));
    };
    refresh_tokens::revoke_family(&db, family, principal.id())?;
    refresh_tokens::revoke_family(&db, principal.session_id, principal.id())?;
    denylist::revoke(
        &db,
        principal.token_id,
        principal.id(),
        principal.token_expires_at,
    )?;
    // The cached user lists revoked sessions: refresh it.
    users::invalidate(&cache, principal.id());
    housekeeping::maybe_sweep(&db);
    let mut reply = Reply::from(
        spin_sdk::http::Response::builder()
            .status(204)
            .header("cache-control", "no-store")
            .build(),
    );
    for cookie in cookie_mode::clear_session() {
        reply = reply.with_header("set-cookie", cookie);
    }
    Ok(reply)
}
