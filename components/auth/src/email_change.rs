//! `POST /api/auth/email-change/confirm` `{token}` → 204: the second half of
//! an address change (the first is `PATCH /api/users/me` with `email`,
//! components/users). Spending the token moves the account to the address
//! the link was mailed to, marks it verified (the link proved it), spends
//! the user's other address links, and mails the old address a notice
//! naming the new one, all in one statement. 409 if another account took
//! the address meanwhile (the link is spent: ask again); a used, expired or
//! forged token is the one 400 of every mailed link.

use serde::Deserialize;
use spin_sdk::http::Request;
use spinstack_shared::account_tokens::{self, Purpose};
use spinstack_shared::db::{Db, bytes_param};
use spinstack_shared::mail::{account as account_mail, outbox};
use spinstack_shared::request::json_body;
use spinstack_shared::respond::Reply;
use spinstack_shared::{Problem, users};

use crate::password_reset::no_content;
use crate::register::required;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    token: Option<String>,
}

pub fn confirm(request: &Request) -> Result<Reply, Problem> {
    let body: Body = json_body(request)?;
    let raw = required(body.token).map_err(|reason| Problem::invalid_field("token", reason))?;
    let token = account_tokens::presented(&raw)?;
    // The notice names the new address, known only once the token is read:
    // it is composed by the statement from a placeholder.
    let notice = account_mail::email_changed(&account_mail::public_url(), NEW_ADDRESS);
    let mut params = vec![bytes_param(token.hash())];
    params.extend(outbox::params(&notice));
    let rows = Db::new().rows_with(
        &format!(
            "{spend}, \
             old AS (SELECT u.id, u.email, spent.email AS new_email FROM users u \
                     JOIN spent ON u.id = spent.user_id WHERE u.active), \
             changed AS (UPDATE users SET email = old.new_email, updated_at = now(), \
                           email_verified_at = now() \
                         FROM old WHERE users.id = old.id \
                           AND NOT EXISTS (SELECT 1 FROM users taken \
                                           WHERE taken.email = old.new_email) \
                         RETURNING users.id), \
             other_links AS (UPDATE account_tokens SET used_at = now() \
                             WHERE user_id IN (SELECT id FROM changed) AND token_hash <> $1 \
                               AND purpose IN ('email_change', 'verify_email') \
                               AND used_at IS NULL), \
             target AS (SELECT old.id, old.email, old.new_email FROM old \
                        WHERE old.id IN (SELECT id FROM changed)), \
             mail AS (INSERT INTO mail_outbox (id, recipient, subject, text_body, html_body) \
                      SELECT $2::uuid, email, $3, replace($4, '{NEW_ADDRESS}', new_email), \
                             replace($5, '{NEW_ADDRESS}', replace(replace(replace(new_email, \
                               '&', '&amp;'), '<', '&lt;'), '>', '&gt;')) \
                      FROM target RETURNING id)",
            spend = account_tokens::spend_cte(Purpose::EmailChange, 1),
        ),
        "SELECT (SELECT count(*) FROM spent) AS spent, \
                (SELECT id::text FROM changed) AS id",
        &params,
    )?;
    let row = rows.rows().next();
    let spent = row
        .as_ref()
        .and_then(|r| r.get::<i64>("spent"))
        .unwrap_or(0);
    let changed = row.and_then(|r| r.get::<Option<String>>("id")).flatten();
    match (spent, changed) {
        (0, _) => Err(account_tokens::refused()),
        (_, None) => Err(taken()),
        (_, Some(id)) => {
            if let Ok(id) = uuid::Uuid::parse_str(&id) {
                users::invalidate(&spinstack_shared::cache::Cache::open(), id);
            }
            eprintln!("auth: an account's address was changed with a mailed link");
            Ok(no_content().delivering_mail())
        }
    }
}

/// Stands for the new address in the notice until the statement fills it
/// in (it cannot occur in a template otherwise: no address has braces).
const NEW_ADDRESS: &str = "{new-address}";

fn taken() -> Problem {
    let mut problem =
        Problem::conflict("Another account has this address now: ask for a link to another one.");
    problem
        .errors
        .insert("token".into(), vec!["is for an address now taken".into()]);
    problem
}
