//! `POST /api/auth/login` `{email, password, use_cookie?}` → 200 tokens, or
//! 202 with a challenge when the account has two-factor sign-in on.
//!
//! Wrong email and wrong password are one 401, and cost the same argon2
//! work (an unknown email is checked against a dummy hash).

use serde::Deserialize;
use spinstack_shared::Problem;
use spinstack_shared::db::{Db, str_param, uuid_param};
use spinstack_shared::domain::{Email, FieldErrors};
use spinstack_shared::request::json_body;
use spinstack_shared::respond::Reply;
use spinstack_shared::token::TokenSettings;
use uuid::Uuid;

use crate::refresh_tokens::{self, RefreshToken};
use crate::register::required;
use crate::tokens::{self, Transport};
use crate::{first_admin, housekeeping, login_challenge, settings, verify_email};
use spinstack_shared::passwords::{self, Verdict};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    email: Option<String>,
    password: Option<String>,
    /// Cookie mode: the refresh token goes to an HttpOnly cookie.
    #[serde(default)]
    use_cookie: bool,
}

pub fn handle(request: &spin_sdk::http::Request) -> Result<Reply, Problem> {
    let body: Body = json_body(request)?;
    let mut errors = FieldErrors::default();
    let email = errors.check("email", required(body.email).and_then(|e| Email::parse(&e)));
    let password = errors.check(
        "password",
        required(body.password).and_then(|p| match p.chars().count() {
            0 => Err("must not be empty".to_owned()),
            1..=128 => Ok(p),
            _ => Err("must be at most 128 characters".to_owned()),
        }),
    );
    errors.into_result()?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(Problem::internal());
    };
    let settings = TokenSettings::from_variables()?;
    let db = Db::new();
    let Account {
        id: user_id,
        verified,
        totp_enabled,
    } = check_credentials(&db, &email, &password)?.ok_or_else(wrong_credentials)?;
    if !verified && settings::require_verified_email()? {
        return unverified(&db, user_id);
    }

    if totp_enabled {
        return login_challenge::start(&db, user_id, body.use_cookie);
    }
    start_session(&db, &settings, user_id, body.use_cookie)
}

/// 200 with the tokens of a new session for `user_id`: the end of a login
/// (here, or after its second factor in login_challenge.rs).
pub fn start_session(
    db: &Db,
    settings: &TokenSettings,
    user_id: Uuid,
    use_cookie: bool,
) -> Result<Reply, Problem> {
    housekeeping::maybe_sweep(db);
    let refresh_ttl = settings::refresh_ttl_seconds()?;
    let refresh = RefreshToken::generate()?;
    let family = refresh_tokens::start_family(db, user_id, &refresh, refresh_ttl)?;
    let transport = if use_cookie {
        Transport::Cookie
    } else {
        Transport::Body
    };
    // Logins also sweep the outbox: retries ride on the app's own traffic.
    tokens::issue(settings, user_id, family, &refresh, refresh_ttl, transport)
        .map(Reply::delivering_mail)
}

/// 403 for right credentials of an unverified account (when verification
/// is required), with a new link mailed: the account cannot sign in to ask
/// for one.
fn unverified(db: &Db, user_id: Uuid) -> Result<Reply, Problem> {
    let (ctes, extra) = verify_email::mail_ctes("target", 2)?;
    let mut params = vec![uuid_param(user_id)];
    params.extend(extra);
    db.rows_with(
        &format!("target AS (SELECT id, email FROM users WHERE id = $1), {ctes}"),
        "SELECT id FROM mail",
        &params,
    )?;
    let problem =
        Problem::forbidden("Confirm your email address first: a new link is on its way to it.");
    Ok(Reply::from(problem).delivering_mail())
}

pub fn wrong_credentials() -> Problem {
    Problem::unauthorized("Wrong email or password.")
}

/// What a login needs to know of the account its credentials name.
struct Account {
    id: Uuid,
    verified: bool,
    /// Whether the login must take a second step (the same read as the
    /// hash: no second round trip on every login).
    totp_enabled: bool,
}

/// The account these credentials belong to, if they are right.
fn check_credentials(db: &Db, email: &Email, password: &str) -> Result<Option<Account>, Problem> {
    let Some((account, hash)) = stored_hash(db, email)? else {
        if let Some(admin) = first_admin::try_create(db, email, password)? {
            return Ok(Some(Account {
                id: admin,
                verified: true,
                totp_enabled: false,
            }));
        }
        passwords::verify_nobody(password);
        return Ok(None);
    };
    match passwords::verify(password, &hash) {
        Verdict::Wrong => Ok(None),
        Verdict::Right => Ok(Some(account)),
        Verdict::RightButRehash => {
            rehash(db, account.id, password);
            Ok(Some(account))
        }
    }
}

fn stored_hash(db: &Db, email: &Email) -> Result<Option<(Account, String)>, Problem> {
    let rows = db.rows(
        "SELECT id::text AS id, password_hash, email_verified_at IS NOT NULL AS verified, \
           EXISTS (SELECT 1 FROM totp_factors tf \
                   WHERE tf.user_id = users.id AND tf.confirmed_at IS NOT NULL) AS totp_enabled \
         FROM users WHERE email = $1 AND active",
        &[str_param(email.as_str())],
    )?;
    Ok(rows.rows().next().and_then(|row| {
        let account = Account {
            id: Uuid::parse_str(&row.get::<String>("id")?).ok()?,
            verified: row.get::<bool>("verified")?,
            totp_enabled: row.get::<bool>("totp_enabled")?,
        };
        Some((account, row.get::<String>("password_hash")?))
    }))
}

/// Stores a hash with the current parameters. A failure costs nothing but
/// a retry at the next login, so it does not fail this one.
fn rehash(db: &Db, id: Uuid, password: &str) {
    let result = passwords::hash(password)
        .map_err(|e| e.to_string())
        .and_then(|hash| {
            db.execute(
                "UPDATE users SET password_hash = $2 WHERE id = $1",
                &[uuid_param(id), str_param(hash)],
            )
            .map_err(|p| p.detail)
        });
    match result {
        Ok(_) => eprintln!("auth: a password hash was upgraded to the current parameters"),
        Err(e) => eprintln!("auth: cannot upgrade a password hash: {e}"),
    }
}
