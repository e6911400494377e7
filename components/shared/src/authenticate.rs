//! The one token check every component calls: `Authorization: Bearer`,
//! then the JWT ([`crate::token`]: signature, the one algorithm, `typ`,
//! `iss`, `aud`, time claims with a small leeway), then the denylist, then
//! that the user still exists and is active and the token's session was not
//! revoked (through the user cache, so the role is the current one, not the
//! one in the token).
//!
//! Every refusal is the same 401 (`WWW-Authenticate: Bearer`, with
//! `error="invalid_token"` when a token was sent); why goes to the log.

use spin_sdk::http::Request;
use uuid::Uuid;

use crate::cache::Cache;
use crate::db::Db;
use crate::domain::Role;
use crate::token::{TokenSettings, VerifiedToken};
use crate::users::{self, User};
use crate::{Problem, denylist};

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user as stored now.
    pub user: User,
    /// The refresh family (session) the access token belongs to.
    pub session_id: Uuid,
    /// The access token's id and expiry, for revoking it.
    pub token_id: Uuid,
    pub token_expires_at: u64,
}

impl Principal {
    pub fn id(&self) -> Uuid {
        self.user.id
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }
}

/// The caller, or the problem to answer with: 401 for anything wrong with
/// the credentials, 503 if the database is down, 500 if misconfigured.
/// `db` is the request's database connection, reused by the caller.
pub fn authenticate(request: &Request, db: &Db, cache: &Cache) -> Result<Principal, Problem> {
    let Some(token) = bearer_token(request) else {
        return Err(Problem::unauthorized(
            "Send an access token: Authorization: Bearer <token>.",
        ));
    };
    let settings = TokenSettings::from_variables()?;
    let verified: VerifiedToken = settings.verify(token).map_err(|reason| {
        eprintln!("auth: access token refused: {reason:?}");
        Problem::invalid_token()
    })?;
    if denylist::is_revoked(db, verified.jti)? {
        eprintln!("auth: access token refused: revoked");
        return Err(Problem::invalid_token());
    }
    let Some(cached) = users::cached(cache, db, verified.user_id)? else {
        eprintln!("auth: access token refused: no such active user");
        return Err(Problem::invalid_token());
    };
    if cached.revoked_sessions.contains(&verified.session_id) {
        eprintln!("auth: access token refused: its session was revoked");
        return Err(Problem::invalid_token());
    }
    let user = cached.user;
    Ok(Principal {
        user,
        session_id: verified.session_id,
        token_id: verified.jti,
        token_expires_at: verified.expires_at,
    })
}

/// The token of an `Authorization: Bearer <token>` header (scheme
/// case-insensitive, RFC 6750 §2.1), if there is exactly one such header.
pub fn bearer_token(request: &Request) -> Option<&str> {
    let mut values = request
        .headers()
        .filter(|(name, _)| name.eq_ignore_ascii_case("authorization"));
    let (_, value) = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let value = value.as_str()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
