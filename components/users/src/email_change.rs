//! The first half of an address change (`PATCH /api/users/me` with
//! `email`): a link to the new address, whose use (`POST
//! /api/auth/email-change/confirm`, components/auth) makes the change. The
//! account keeps its address until then, so a typo or a stolen session
//! cannot move it somewhere its owner does not read. The token, its mail
//! and the check that no account has the address are one statement.

use spinstack_shared::account_tokens::{self, Purpose};
use spinstack_shared::db::{Db, str_param, uuid_param};
use spinstack_shared::domain::Email;
use spinstack_shared::mail::{account, outbox};
use spinstack_shared::opaque_token::OpaqueToken;
use spinstack_shared::{Problem, config};

/// The link's lifetime: as a verification link's (a day).
fn ttl_seconds() -> Result<u64, Problem> {
    config::parsed("email_verification_ttl_seconds", 86400)
}

/// Mails the link to `new_address`; 409 if an account has it.
pub fn request(db: &Db, user_id: uuid::Uuid, new_address: &Email) -> Result<(), Problem> {
    let token = OpaqueToken::generate()?;
    let message = account::confirm_email_change(&account::public_url(), &token);
    let mut params = vec![uuid_param(user_id), str_param(new_address.as_str())];
    params.extend(account_tokens::insert_params(&token, ttl_seconds()?));
    params.extend(outbox::params(&message));
    let rows = db.rows_with(
        &format!(
            "target AS (SELECT id, $2::text AS email FROM users WHERE id = $1 AND active \
                          AND NOT EXISTS (SELECT 1 FROM users taken WHERE taken.email = $2)), \
             {}, {}",
            account_tokens::insert_cte("target", Purpose::EmailChange, 3),
            outbox::insert_cte("target", 5)
        ),
        "SELECT id::text AS id FROM target",
        &params,
    )?;
    if rows.rows().next().is_none() {
        // Registration tells the same (409), so this tells nothing new.
        let mut problem = Problem::conflict("An account with this email already exists.");
        problem
            .errors
            .insert("email".into(), vec!["is already registered".into()]);
        return Err(problem);
    }
    eprintln!("users: a link to confirm a new address was mailed");
    Ok(())
}
