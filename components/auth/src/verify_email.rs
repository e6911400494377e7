//! Address verification: registration (and `resend`) mails a link; `POST
//! /api/auth/verify-email` `{token}` → 204 sets the user's
//! `email_verified_at`. `POST /api/auth/verify-email/resend` (signed in) →
//! 202 mails a new link while the address is unverified. Whether an
//! unverified account may log in is `require_verified_email` (login.rs).

use serde::Deserialize;
use spin_sdk::http::Request;
use spin_sdk::pg4::ParameterValue;
use spinstack_shared::cache::Cache;
use spinstack_shared::db::{Db, bytes_param, uuid_param};
use spinstack_shared::mail::outbox;
use spinstack_shared::request::json_body;
use spinstack_shared::respond::{Reply, json};
use spinstack_shared::{Problem, authenticate};

use crate::password_reset::no_content;
use crate::register::required;
use crate::settings;
use spinstack_shared::account_tokens::{self, Purpose};
use spinstack_shared::mail::account as account_mail;
use spinstack_shared::opaque_token::OpaqueToken;

/// The CTEs that give each row (`id`, `email`) of CTE `source` a
/// verification token and its mail, and their parameters (from `$first`).
pub fn mail_ctes(source: &str, first: usize) -> Result<(String, Vec<ParameterValue>), Problem> {
    let ttl = settings::email_verification_ttl_seconds()?;
    let token = OpaqueToken::generate()?;
    let message = account_mail::verify_email(&account_mail::public_url(), &token);
    let sql = format!(
        "{}, {}",
        account_tokens::insert_cte(source, Purpose::VerifyEmail, first),
        outbox::insert_cte(source, first + 2)
    );
    let mut params = account_tokens::insert_params(&token, ttl).to_vec();
    params.extend(outbox::params(&message));
    Ok((sql, params))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    token: Option<String>,
}

pub fn verify(request: &Request) -> Result<Reply, Problem> {
    let body: Body = json_body(request)?;
    let raw = required(body.token).map_err(|reason| Problem::invalid_field("token", reason))?;
    let token = account_tokens::presented(&raw)?;
    // The token is for the address it was sent to: not for one changed since.
    let rows = Db::new().rows_with(
        &format!(
            "{}, \
             verified AS (UPDATE users SET updated_at = now(), \
                            email_verified_at = coalesce(email_verified_at, now()) \
                          FROM spent WHERE users.id = spent.user_id \
                            AND users.email = spent.email AND users.active \
                          RETURNING users.id)",
            account_tokens::spend_cte(Purpose::VerifyEmail, 1)
        ),
        "SELECT id::text AS id FROM verified",
        &[bytes_param(token.hash())],
    )?;
    account_tokens::changed_user(&rows)?;
    Ok(no_content())
}

pub fn resend(request: &Request) -> Result<Reply, Problem> {
    let db = Db::new();
    let principal = authenticate(request, &db, &Cache::open())?;
    let (ctes, extra) = mail_ctes("target", 2)?;
    let mut params = vec![uuid_param(principal.id())];
    params.extend(extra);
    db.rows_with(
        &format!(
            "target AS (SELECT id, email FROM users \
                        WHERE id = $1 AND active AND email_verified_at IS NULL), {ctes}"
        ),
        "SELECT id FROM mail",
        &params,
    )?;
    let body = serde_json::json!({
        "message": "If your address is not verified yet, a new link is on its way."
    });
    Ok(Reply::from(json(202, &body)).delivering_mail())
}
