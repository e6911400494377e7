//! Tokens mailed as links (`account_tokens`, migration 0004): an
//! [`OpaqueToken`] for one purpose, for the address it was sent to, valid
//! until it expires or is used once. Like the outbox, these are CTEs that go
//! into the statement of the action, so a token, its mail and the action
//! commit together, and spending a token is the same statement as what it
//! allows (of two concurrent uses exactly one finds it unused).

use crate::cache::Cache;
use crate::db::{bytes_param, int_param};
use crate::opaque_token::OpaqueToken;
use crate::{Problem, users};
use spin_sdk::pg4::ParameterValue;

#[derive(Clone, Copy)]
pub enum Purpose {
    PasswordReset,
    VerifyEmail,
    /// The row's `email` is the new address (migration 0007).
    EmailChange,
}

impl Purpose {
    /// The value of the `purpose` column (a constant, never user input).
    fn sql(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "'password_reset'",
            Purpose::VerifyEmail => "'verify_email'",
            Purpose::EmailChange => "'email_change'",
        }
    }
}

/// `token AS (INSERT ...)`: a token for each row (`id`, `email`) of CTE
/// `source`. Parameters `$first` and `$first + 1`: see [`insert_params`].
pub fn insert_cte(source: &str, purpose: Purpose, first: usize) -> String {
    let (hash, ttl) = (first, first + 1);
    format!(
        "token AS (INSERT INTO account_tokens (token_hash, user_id, purpose, email, expires_at) \
         SELECT ${hash}::bytea, id, {purpose}, email, now() + make_interval(secs => ${ttl}::bigint) \
         FROM {source})",
        purpose = purpose.sql()
    )
}

pub fn insert_params(token: &OpaqueToken, ttl_seconds: u64) -> [ParameterValue; 2] {
    [bytes_param(token.hash()), int_param(ttl_seconds as i64)]
}

/// `spent AS (UPDATE ... RETURNING user_id, email)`: marks the token whose
/// hash is `$first` used, if it is for `purpose`, unused and unexpired.
pub fn spend_cte(purpose: Purpose, first: usize) -> String {
    format!(
        "spent AS (UPDATE account_tokens SET used_at = now() \
         WHERE token_hash = ${first}::bytea AND purpose = {purpose} \
           AND used_at IS NULL AND expires_at > now() \
         RETURNING user_id, email)",
        purpose = purpose.sql()
    )
}

/// The one answer to a token that is malformed, unknown, expired or used:
/// which of them it was would tell a guesser too much.
pub fn refused() -> Problem {
    let mut problem = Problem::bad_request("The link is invalid, expired, or already used.");
    problem.errors.insert(
        "token".into(),
        vec!["is invalid, expired, or already used".into()],
    );
    problem
}

/// The user a token-spending statement (`SELECT id::text AS id ...`)
/// changed, its cached copy dropped; [`refused`] if it changed none.
pub fn changed_user(rows: &spin_sdk::pg4::RowSet) -> Result<uuid::Uuid, Problem> {
    let user_id = rows
        .rows()
        .next()
        .and_then(|row| uuid::Uuid::parse_str(&row.get::<String>("id")?).ok())
        .ok_or_else(refused)?;
    users::invalidate(&Cache::open(), user_id);
    Ok(user_id)
}

/// The token a client sent, or [`refused`].
pub fn presented(raw: &str) -> Result<OpaqueToken, Problem> {
    OpaqueToken::parse(raw.trim()).ok_or_else(refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctes_number_their_parameters_from_first() {
        let sql = insert_cte("target", Purpose::PasswordReset, 3);
        assert!(
            sql.contains("$3::bytea, id, 'password_reset', email"),
            "{sql}"
        );
        assert!(sql.contains("secs => $4::bigint"), "{sql}");
        let sql = spend_cte(Purpose::VerifyEmail, 1);
        assert!(
            sql.contains("token_hash = $1::bytea AND purpose = 'verify_email'"),
            "{sql}"
        );
    }

    #[test]
    fn a_malformed_token_is_the_same_refusal() {
        assert_eq!(presented("nope").err().unwrap().status, 400);
        assert!(presented(OpaqueToken::generate().unwrap().expose()).is_ok());
    }
}
