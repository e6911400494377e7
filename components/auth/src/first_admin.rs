//! The first admin, in every run mode, from two Spin variables:
//! `admin_email` and `admin_password` (secret). The first login with exactly
//! those credentials creates the account with the admin role; afterwards it
//! is an ordinary account (changing the variables changes nothing). The
//! address cannot be registered by anyone else meanwhile.

use spinstack_shared::db::{Db, str_param, uuid_param};
use spinstack_shared::domain::{Email, Password};
use spinstack_shared::{Problem, config};
use uuid::Uuid;

use spinstack_shared::passwords;

/// The configured admin address and password, if both are set.
fn configured() -> Option<(Email, String)> {
    let email = Email::parse(&config::or_default("admin_email", "")).ok()?;
    let password = config::or_default("admin_password", "");
    (!password.is_empty()).then_some((email, password))
}

pub fn is_reserved(email: &Email) -> bool {
    configured().is_some_and(|(admin, _)| admin == *email)
}

/// Creates the first admin if `email` and `password` are the configured
/// ones and no account has that address; its id.
pub fn try_create(db: &Db, email: &Email, password: &str) -> Result<Option<Uuid>, Problem> {
    let Some((admin_email, admin_password)) = configured() else {
        return Ok(None);
    };
    if admin_email != *email || !constant_time_eq(password.as_bytes(), admin_password.as_bytes()) {
        return Ok(None);
    }
    if Password::parse(&admin_password).is_err() {
        eprintln!(
            "auth: admin_password is not a valid password (8 to 128 characters); no admin created"
        );
        return Ok(None);
    }
    let hash = passwords::hash(password).map_err(|e| {
        eprintln!("auth: cannot hash a password: {e}");
        Problem::internal()
    })?;
    db.execute(
        // The operator chose the address: it counts as verified.
        "INSERT INTO users (id, email, name, role, password_hash, email_verified_at) \
         VALUES ($1, $2, 'Administrator', 'admin', $3, now()) ON CONFLICT (email) DO NOTHING",
        &[
            uuid_param(Uuid::new_v4()),
            str_param(email.as_str()),
            str_param(hash),
        ],
    )?;
    // Ours, or a concurrent first login's: either way the admin now exists.
    let rows = db.rows(
        "SELECT id::text AS id FROM users WHERE email = $1 AND active AND role = 'admin'",
        &[str_param(email.as_str())],
    )?;
    let id = rows
        .rows()
        .next()
        .and_then(|row| row.get::<String>("id"))
        .and_then(|id| Uuid::parse_str(&id).ok());
    if id.is_some() {
        eprintln!("auth: the first admin account was created from admin_email");
    }
    Ok(id)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn equality_is_exact() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret1"));
    }
}
