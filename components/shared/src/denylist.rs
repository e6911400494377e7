//! Revoked access tokens: `denylist:{jti}` in the key-value store until the
//! token would have expired, mirrored in Postgres (`revoked_access_tokens`)
//! which answers when the store does not.

use uuid::Uuid;

use crate::Problem;
use crate::clock::now_unix;
use crate::db::{Db, int_param, uuid_param};

fn key(jti: Uuid) -> String {
    format!("denylist:{jti}")
}

/// Revokes token `jti` of `user_id` until `expires_at` (unix seconds).
pub fn revoke(db: &Db, jti: Uuid, user_id: Uuid, expires_at: u64) -> Result<(), Problem> {
    db.execute(
        "INSERT INTO revoked_access_tokens (jti, user_id, expires_at) \
         VALUES ($1, $2, to_timestamp($3::bigint)) ON CONFLICT (jti) DO NOTHING",
        &[
            uuid_param(jti),
            uuid_param(user_id),
            int_param(expires_at as i64),
        ],
    )?;
    if let Ok(store) = spin_sdk::key_value::Store::open_default() {
        let _ = store.set(&key(jti), expires_at.to_string().as_bytes());
    }
    Ok(())
}

/// Whether token `jti` was revoked. The store answers; if it cannot, the
/// database does.
pub fn is_revoked(db: &Db, jti: Uuid) -> Result<bool, Problem> {
    if let Ok(store) = spin_sdk::key_value::Store::open_default() {
        match store.get(&key(jti)) {
            Ok(None) => return Ok(false),
            Ok(Some(bytes)) => {
                let until: u64 = std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(u64::MAX);
                if until <= now_unix() {
                    // Past its expiry the token is refused anyway.
                    let _ = store.delete(&key(jti));
                }
                return Ok(true);
            }
            Err(_) => {}
        }
    }
    let rows = db.rows(
        "SELECT 1 FROM revoked_access_tokens WHERE jti = $1",
        &[uuid_param(jti)],
    )?;
    Ok(!rows.rows.is_empty())
}
