//! Turning TOTP two-factor sign-in on and off, for the signed-in user:
//!
//! - `POST /api/auth/totp/enrol` `{password}` → 201 `{secret, otpauth_uri}`:
//!   a new secret, shown this once (the web app draws the URI as a QR code).
//!   It replaces an unconfirmed one; 409 while two-factor sign-in is on.
//! - `POST /api/auth/totp/confirm` `{code}` → 200 `{recovery_codes}`: the
//!   first code from the app turns it on, and the ten recovery codes are
//!   shown this once.
//! - `POST /api/auth/totp/disable` `{password, code}` (a code or a recovery
//!   code) → 204.
//!
//! Turning it on or off mails the account's address, so a stolen session
//! cannot change it unnoticed.

use serde::{Deserialize, Serialize};
use spin_sdk::http::Request;
use spinstack_shared::cache::Cache;
use spinstack_shared::db::{Db, bytes_param, uuid_param};
use spinstack_shared::domain::FieldErrors;
use spinstack_shared::mail::outbox;
use spinstack_shared::request::json_body;
use spinstack_shared::respond::{Reply, json};
use spinstack_shared::token::TokenSettings;
use spinstack_shared::{Problem, authenticate, config, passwords, users};

use crate::password_reset::no_content;
use crate::recovery_codes::{self, RecoveryCode};
use crate::register::required;
use crate::sealed_secret::SealingKey;
use crate::totp;
use crate::totp_factor::{self, Checked};
use spinstack_shared::mail::account as account_mail;

/// The issuer authenticator apps show beside the account (`totp_issuer`).
fn issuer() -> String {
    config::or_default("totp_issuer", "Spinstack")
}

fn sealing_key() -> Result<SealingKey, Problem> {
    SealingKey::from_variables(TokenSettings::from_variables()?.secret())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrolBody {
    password: Option<String>,
}

#[derive(Serialize)]
struct Enrolment {
    secret: String,
    otpauth_uri: String,
}

pub fn enrol(request: &Request) -> Result<Reply, Problem> {
    let db = Db::new();
    let caller = authenticate(request, &db, &Cache::open())?;
    let body: EnrolBody = json_body(request)?;
    let password =
        required(body.password).map_err(|reason| Problem::invalid_field("password", reason))?;
    passwords::check_current(&db, caller.id(), &password, "password")?;
    let key = sealing_key()?;
    let secret = totp::generate_secret()?;
    // A confirmed factor is left alone (no row comes back): 409.
    let rows = db.rows(
        "INSERT INTO totp_factors (user_id, secret_sealed) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, \
           created_at = now(), last_used_step = 0 \
         WHERE totp_factors.confirmed_at IS NULL \
         RETURNING user_id::text AS id",
        &[uuid_param(caller.id()), bytes_param(key.seal(&secret)?)],
    )?;
    if rows.rows().next().is_none() {
        return Err(already_on());
    }
    let enrolment = Enrolment {
        secret: totp::secret_base32(&secret),
        otpauth_uri: totp::otpauth_uri(&secret, &issuer(), &caller.user.email)?,
    };
    Ok(not_stored(json(201, &enrolment)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    code: Option<String>,
}

pub fn confirm(request: &Request) -> Result<Reply, Problem> {
    let db = Db::new();
    let cache = Cache::open();
    let caller = authenticate(request, &db, &cache)?;
    let body: ConfirmBody = json_body(request)?;
    let code = required(body.code).map_err(|reason| Problem::invalid_field("code", reason))?;
    let factor = totp_factor::load(&db, &sealing_key()?, caller.id())?.ok_or_else(|| {
        Problem::conflict("Start an enrolment first (POST /api/auth/totp/enrol).")
    })?;
    if factor.confirmed {
        return Err(already_on());
    }
    if let Checked::Refused = factor.check(&db, &code, false)? {
        return Err(wrong_code());
    }
    let codes = (0..recovery_codes::COUNT)
        .map(|_| RecoveryCode::generate())
        .collect::<Result<Vec<_>, _>>()?;
    let message = account_mail::two_factor_changed(&account_mail::public_url(), true);
    let mut params = totp_factor::recovery_code_params(caller.id(), &codes).to_vec();
    params.extend(outbox::params(&message));
    let rows = db.rows_with(
        &format!(
            "confirmed AS (UPDATE totp_factors SET confirmed_at = now() \
                           WHERE user_id = $1 AND confirmed_at IS NULL RETURNING user_id), \
             target AS (SELECT id, email FROM users WHERE id IN (SELECT user_id FROM confirmed)), \
             {}, {}",
            totp_factor::store_recovery_codes_cte(1, "confirmed"),
            outbox::insert_cte("target", 3)
        ),
        "SELECT user_id::text AS id FROM confirmed",
        &params,
    )?;
    if rows.rows().next().is_none() {
        return Err(already_on());
    }
    users::invalidate(&cache, caller.id());
    eprintln!("auth: two-factor sign-in was turned on for a user");
    let shown: Vec<String> = codes.iter().map(RecoveryCode::display).collect();
    let body = serde_json::json!({ "recovery_codes": shown });
    Ok(not_stored(json(200, &body)).delivering_mail())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DisableBody {
    password: Option<String>,
    code: Option<String>,
}

pub fn disable(request: &Request) -> Result<Reply, Problem> {
    let db = Db::new();
    let cache = Cache::open();
    let caller = authenticate(request, &db, &cache)?;
    let body: DisableBody = json_body(request)?;
    let mut errors = FieldErrors::default();
    let password = errors.check("password", required(body.password));
    let code = errors.check("code", required(body.code));
    errors.into_result()?;
    let (Some(password), Some(code)) = (password, code) else {
        return Err(Problem::internal());
    };
    passwords::check_current(&db, caller.id(), &password, "password")?;
    let factor = totp_factor::load(&db, &sealing_key()?, caller.id())?
        .filter(|factor| factor.confirmed)
        .ok_or_else(|| Problem::conflict("Two-factor sign-in is not on."))?;
    if let Checked::Refused = factor.check(&db, &code, true)? {
        return Err(wrong_code());
    }
    let message = account_mail::two_factor_changed(&account_mail::public_url(), false);
    let mut params = vec![uuid_param(caller.id())];
    params.extend(outbox::params(&message));
    db.rows_with(
        &format!(
            "{}, target AS (SELECT id, email FROM users WHERE id IN (SELECT user_id FROM removed)), \
             {}",
            spinstack_shared::two_factor::REMOVE_CTE,
            outbox::insert_cte("target", 2)
        ),
        "SELECT user_id FROM removed",
        &params,
    )?;
    users::invalidate(&cache, caller.id());
    eprintln!("auth: two-factor sign-in was turned off for a user");
    Ok(no_content().delivering_mail())
}

fn already_on() -> Problem {
    Problem::conflict("Two-factor sign-in is already on: turn it off first to enrol again.")
}

/// 422 on `code`: wrong, reused, or not a code.
fn wrong_code() -> Problem {
    Problem::invalid_field("code", "is wrong or was already used")
}

/// Secrets and recovery codes are never stored by a cache.
fn not_stored(mut response: spin_sdk::http::Response) -> Reply {
    response.set_header("cache-control", "no-store");
    Reply::from(response)
}
