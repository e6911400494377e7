//! Password hashing: argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1),
//! stored as PHC strings, so each hash names the parameters it was made
//! with and a login can tell when to rehash with the current ones.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MEMORY_KIB: u32 = 19 * 1024;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

/// A hash of a password nobody knows, with the current parameters: an
/// unknown email is checked against it, so it costs the same work as a
/// wrong password (a test keeps its parameters equal to the current ones).
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$cGVwcGVyLWZyZWUtZHVtbXk$ooyFFp2fA4pYmlSpCc4O3nf2f0a8ehJGyVZ8ZyBr4B8";

fn current() -> Argon2<'static> {
    // The constants are valid parameters (a unit test builds them).
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .unwrap_or_else(|_| Params::default());
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A new PHC string for `password`, with a fresh 128-bit salt.
pub fn hash(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no randomness: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    current()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Wrong,
    Right,
    /// Right, but the hash uses other parameters: store a new one.
    RightButRehash,
}

/// Checks `password` against `phc` with the parameters `phc` names. An
/// unparsable hash is a wrong password (and logged).
pub fn verify(password: &str, phc: &str) -> Verdict {
    let Ok(parsed) = PasswordHash::new(phc) else {
        eprintln!("auth: a stored password hash does not parse");
        return Verdict::Wrong;
    };
    // `verify_password` reads algorithm and parameters from the hash.
    if Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Verdict::Wrong;
    }
    if is_current(&parsed) {
        Verdict::Right
    } else {
        Verdict::RightButRehash
    }
}

/// Spends the same work as [`verify`] on a real hash, and fails.
pub fn verify_nobody(password: &str) -> Verdict {
    match verify(password, DUMMY_HASH) {
        Verdict::Wrong => Verdict::Wrong,
        // Only if someone guessed the dummy password: still no user.
        _ => Verdict::Wrong,
    }
}

/// 422 on `field` unless `password` is the active user `user_id`'s
/// password: the step-up check before a change to the account (a new
/// password, turning two-factor sign-in on or off).
pub fn check_current(
    db: &crate::db::Db,
    user_id: uuid::Uuid,
    password: &str,
    field: &str,
) -> Result<(), crate::Problem> {
    let rows = db.rows(
        "SELECT password_hash FROM users WHERE id = $1 AND active",
        &[crate::db::uuid_param(user_id)],
    )?;
    let stored: Option<String> = rows.rows().next().and_then(|row| row.get("password_hash"));
    let verdict = match stored {
        Some(hash) => verify(password, &hash),
        None => verify_nobody(password),
    };
    if verdict == Verdict::Wrong {
        return Err(crate::Problem::invalid_field(
            field,
            "is not your current password",
        ));
    }
    Ok(())
}

fn is_current(parsed: &PasswordHash<'_>) -> bool {
    parsed.algorithm.as_str() == "argon2id"
        && parsed.version == Some(Version::V0x13 as u32)
        && Params::try_from(parsed).is_ok_and(|params| {
            params.m_cost() == MEMORY_KIB
                && params.t_cost() == ITERATIONS
                && params.p_cost() == PARALLELISM
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_eq!(verify("correct horse battery", &phc), Verdict::Right);
        assert_eq!(verify("correct horse batterY", &phc), Verdict::Wrong);
        assert_ne!(hash("correct horse battery").unwrap(), phc, "salted");
    }

    #[test]
    fn hashes_with_other_parameters_verify_and_ask_for_a_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let old = weak.hash_password(b"password1", &salt).unwrap().to_string();
        assert_eq!(verify("password1", &old), Verdict::RightButRehash);
        assert_eq!(verify("password2", &old), Verdict::Wrong);

        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap(),
        );
        let old = argon2i
            .hash_password(b"password1", &salt)
            .unwrap()
            .to_string();
        assert_eq!(verify("password1", &old), Verdict::RightButRehash);
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert!(
            is_current(&parsed),
            "DUMMY_HASH must use the current parameters"
        );
        assert_eq!(verify_nobody("anything"), Verdict::Wrong);
    }

    #[test]
    fn garbage_hashes_are_wrong_passwords() {
        assert_eq!(verify("x", "not a phc string"), Verdict::Wrong);
        assert_eq!(verify("x", ""), Verdict::Wrong);
    }
}
