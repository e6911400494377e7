//! The second step of a login with two-factor sign-in on: the password
//! step answers 202 `{challenge, second_factor, expires_in}` instead of
//! tokens, and `POST /api/auth/login/totp` `{challenge, code}` (a 6-digit
//! code or a recovery code) answers the tokens. The challenge is an opaque
//! token (stored as its SHA-256) valid for [`TTL_SECONDS`] and spent once;
//! it remembers whether the login asked for cookie mode.

use serde::Deserialize;
use spin_sdk::http::Request;
use spinstack_shared::Problem;
use spinstack_shared::db::{Db, bytes_param, int_param, uuid_param};
use spinstack_shared::domain::FieldErrors;
use spinstack_shared::request::json_body;
use spinstack_shared::respond::{Reply, json};
use spinstack_shared::token::TokenSettings;
use uuid::Uuid;

use crate::login::start_session;
use crate::register::required;
use crate::sealed_secret::SealingKey;
use crate::totp_factor::{self, Checked};
use spinstack_shared::opaque_token::OpaqueToken;

/// Five minutes to open the app and type a code.
pub const TTL_SECONDS: i64 = 300;

/// 202 with a new challenge for `user_id`.
pub fn start(db: &Db, user_id: Uuid, use_cookie: bool) -> Result<Reply, Problem> {
    let challenge = OpaqueToken::generate()?;
    db.execute(
        "INSERT INTO login_challenges (challenge_hash, user_id, use_cookie, expires_at) \
         VALUES ($1, $2, $3, now() + make_interval(secs => $4::bigint))",
        &[
            bytes_param(challenge.hash()),
            uuid_param(user_id),
            spin_sdk::pg4::ParameterValue::Boolean(use_cookie),
            int_param(TTL_SECONDS),
        ],
    )?;
    let mut response = json(
        202,
        &serde_json::json!({
            "challenge": challenge.expose(),
            "second_factor": "totp",
            "expires_in": TTL_SECONDS,
        }),
    );
    response.set_header("cache-control", "no-store");
    Ok(Reply::from(response))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    challenge: Option<String>,
    code: Option<String>,
}

pub fn finish(request: &Request) -> Result<Reply, Problem> {
    let body: Body = json_body(request)?;
    let mut errors = FieldErrors::default();
    let challenge = errors.check("challenge", required(body.challenge));
    let code = errors.check("code", required(body.code));
    errors.into_result()?;
    let (Some(challenge), Some(code)) = (challenge, code) else {
        return Err(Problem::internal());
    };
    let challenge = OpaqueToken::parse(challenge.trim()).ok_or_else(challenge_refused)?;
    let settings = TokenSettings::from_variables()?;
    let db = Db::new();
    let (user_id, use_cookie) = pending(&db, &challenge)?.ok_or_else(challenge_refused)?;
    let key = SealingKey::from_variables(settings.secret())?;
    // Two-factor sign-in turned off since (an admin reset): sign in again.
    let factor = totp_factor::load(&db, &key, user_id)?
        .filter(|factor| factor.confirmed)
        .ok_or_else(challenge_refused)?;
    if let Checked::Refused = factor.check(&db, &code, true)? {
        return Err(wrong_code());
    }
    if !spend(&db, &challenge)? {
        return Err(challenge_refused());
    }
    start_session(&db, &settings, user_id, use_cookie)
}

/// The user and cookie mode of an unspent, unexpired challenge.
fn pending(db: &Db, challenge: &OpaqueToken) -> Result<Option<(Uuid, bool)>, Problem> {
    let rows = db.rows(
        "SELECT c.user_id::text AS user_id, c.use_cookie FROM login_challenges c \
         JOIN users u ON u.id = c.user_id AND u.active \
         WHERE c.challenge_hash = $1 AND c.used_at IS NULL AND c.expires_at > now()",
        &[bytes_param(challenge.hash())],
    )?;
    Ok(rows.rows().next().and_then(|row| {
        let id = Uuid::parse_str(&row.get::<String>("user_id")?).ok()?;
        Some((id, row.get::<bool>("use_cookie")?))
    }))
}

/// Marks the challenge used; `false` if another request did first.
fn spend(db: &Db, challenge: &OpaqueToken) -> Result<bool, Problem> {
    let rows = db.rows(
        "UPDATE login_challenges SET used_at = now() \
         WHERE challenge_hash = $1 AND used_at IS NULL AND expires_at > now() \
         RETURNING user_id::text AS id",
        &[bytes_param(challenge.hash())],
    )?;
    Ok(rows.rows().next().is_some())
}

/// One answer for a challenge that is malformed, unknown, expired or used.
fn challenge_refused() -> Problem {
    let mut problem =
        Problem::unauthorized("This sign-in has expired or was already finished: sign in again.");
    problem.errors.insert(
        "challenge".into(),
        vec!["is invalid, expired, or already used".into()],
    );
    problem
}

/// A wrong, reused or malformed code (which of them would help a guesser).
pub fn wrong_code() -> Problem {
    let mut problem = Problem::unauthorized("The code is wrong or was already used.");
    problem
        .errors
        .insert("code".into(), vec!["is wrong or was already used".into()]);
    problem
}
