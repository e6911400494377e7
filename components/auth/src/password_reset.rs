//! `POST /api/auth/password-reset` `{email}` → 202, and
//! `POST /api/auth/password-reset/confirm` `{token, password}` → 204.
//!
//! The request answers the same 202 whether or not the address has an
//! account, and does the same work either way: a token is made and hashed,
//! the mail composed, and one row written to `password_reset_requests`
//! (migration 0008), the same row for any address. Only after the response
//! ([`match_pending`], also in every later sweep) are the rows matched to
//! active accounts and turned into a token and a mail. Matching in the
//! request itself wrote rows for a registered address only, whose commit
//! waited for a WAL flush: the 202 came twice as slowly for one
//! (benches/accounts.sh), which told who is registered. Confirming
//! spends the token, sets the password, marks the address verified (the
//! link proved it), spends the user's other reset tokens and revokes every
//! session, all in one statement.

use serde::Deserialize;
use spin_sdk::http::Request;
use spinstack_shared::db::{Db, str_param};
use spinstack_shared::domain::{Email, FieldErrors, Password};
use spinstack_shared::mail::outbox;
use spinstack_shared::request::json_body;
use spinstack_shared::respond::{Reply, json};
use spinstack_shared::{Problem, events, passwords};

use crate::register::required;
use crate::settings;
use spinstack_shared::account_tokens::{self, Purpose};
use spinstack_shared::mail::account as account_mail;
use spinstack_shared::opaque_token::OpaqueToken;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestBody {
    email: Option<String>,
}

pub fn request(request: &Request) -> Result<Reply, Problem> {
    let body: RequestBody = json_body(request)?;
    let email = required(body.email)
        .and_then(|e| Email::parse(&e))
        .map_err(|reason| Problem::invalid_field("email", reason))?;
    let ttl = settings::password_reset_ttl_seconds()?;
    let token = OpaqueToken::generate()?;
    let message = account_mail::password_reset(&account_mail::public_url(), &token, ttl);
    let mut params = vec![str_param(email.as_str())];
    params.extend(account_tokens::insert_params(&token, ttl));
    params.extend(outbox::params(&message));
    Db::new().execute(
        "INSERT INTO password_reset_requests \
           (email, token_hash, ttl_seconds, id, subject, text_body, html_body) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &params,
    )?;
    Ok(Reply::from(accepted()).delivering_mail())
}

/// Turns the waiting reset requests into tokens and mail for the active
/// accounts they name, and deletes them all (the unmatched ones were for no
/// account). Claimed with `SKIP LOCKED`, so replicas split the work. Runs
/// after a response that asks for mail delivery, before the delivery.
pub fn match_pending(db: &Db) {
    let matched = db.rows_with(
        "claimed AS (DELETE FROM password_reset_requests WHERE id IN ( \
                       SELECT id FROM password_reset_requests ORDER BY created_at \
                       LIMIT 100 FOR UPDATE SKIP LOCKED) \
                     RETURNING *), \
         target AS (SELECT u.id AS user_id, u.email, c.id, c.token_hash, c.ttl_seconds, \
                           c.subject, c.text_body, c.html_body, c.created_at \
                    FROM claimed c JOIN users u ON u.email = c.email AND u.active), \
         token AS (INSERT INTO account_tokens (token_hash, user_id, purpose, email, expires_at) \
                   SELECT token_hash, user_id, 'password_reset', email, \
                          created_at + make_interval(secs => ttl_seconds) FROM target), \
         mail AS (INSERT INTO mail_outbox (id, recipient, subject, text_body, html_body) \
                  SELECT id, email, subject, text_body, html_body FROM target RETURNING id)",
        "SELECT (SELECT count(*) FROM claimed) AS claimed, (SELECT count(*) FROM mail) AS mailed",
        &[],
    );
    match matched {
        Ok(rows) => {
            let row = rows.rows().next();
            let count = |name: &str| row.as_ref().and_then(|r| r.get::<i64>(name)).unwrap_or(0);
            if count("claimed") > 0 {
                eprintln!(
                    "auth: {} password reset requests, {} for an account",
                    count("claimed"),
                    count("mailed")
                );
            }
        }
        Err(problem) => eprintln!(
            "auth: cannot match password reset requests: {}",
            problem.detail
        ),
    }
}

/// The one answer to a reset request.
fn accepted() -> spin_sdk::http::Response {
    json(
        202,
        &serde_json::json!({
            "message": "If an account has this address, a link to reset its password is on its way."
        }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    token: Option<String>,
    password: Option<String>,
}

pub fn confirm(request: &Request) -> Result<Reply, Problem> {
    let body: ConfirmBody = json_body(request)?;
    let mut errors = FieldErrors::default();
    let token = errors.check("token", required(body.token));
    let password = errors.check(
        "password",
        required(body.password).and_then(|p| Password::parse(&p)),
    );
    errors.into_result()?;
    let (Some(token), Some(password)) = (token, password) else {
        return Err(Problem::internal());
    };
    let token = account_tokens::presented(&token)?;
    let hash = passwords::hash(password.expose()).map_err(|e| {
        eprintln!("auth: cannot hash a password: {e}");
        Problem::internal()
    })?;
    let rows = Db::new().rows_with(
        &format!(
            "{}, \
             changed AS (UPDATE users SET password_hash = $2, updated_at = now(), \
                           email_verified_at = coalesce(email_verified_at, now()) \
                         FROM spent WHERE users.id = spent.user_id AND users.active \
                         RETURNING users.id), \
             other_links AS (UPDATE account_tokens SET used_at = now() \
                             WHERE user_id IN (SELECT id FROM changed) AND token_hash <> $1 \
                               AND purpose = 'password_reset' AND used_at IS NULL), \
             sessions AS (UPDATE refresh_families SET revoked_at = now() \
                          WHERE user_id IN (SELECT id FROM changed) AND revoked_at IS NULL \
                          RETURNING id, user_id), \
             announced AS ({})",
            account_tokens::spend_cte(Purpose::PasswordReset, 1),
            // The user's open pages hear that their sessions ended.
            events::sessions_revoked_from("sessions")
        ),
        "SELECT id::text AS id FROM changed",
        &[
            spinstack_shared::db::bytes_param(token.hash()),
            str_param(hash),
        ],
    )?;
    // The cached user (it lists revoked sessions) is dropped: the access
    // tokens end now.
    account_tokens::changed_user(&rows)?;
    eprintln!("auth: a password was reset with a mailed link; every session was revoked");
    Ok(no_content())
}

/// 204, not stored.
pub fn no_content() -> Reply {
    Reply::from(
        spin_sdk::http::Response::builder()
            .status(204)
            .header("cache-control", "no-store")
            .build(),
    )
}
