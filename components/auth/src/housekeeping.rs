//! Expired session state does not pile up: every so often (one login or
//! logout in `housekeeping_every`, default 100) the auth component deletes
//! what can no longer matter — refresh tokens a day past their expiry,
//! families left with no tokens that were not revoked in the last day (a
//! recent revocation still refuses that session's access tokens), revoked
//! access tokens past their expiry, and their `denylist:{jti}` entries in
//! the key-value store (which has no expiry of its own), and events past
//! their retention (`events_retention_seconds`), and login challenges a
//! day past their expiry. Failures are logged and never fail the request that happened to run it.

use spinstack_shared::db::Db;
use spinstack_shared::{Problem, chance, clock, config, events};

pub const DEFAULT_EVERY: u32 = 100;

/// Runs the sweep on about one call in `housekeeping_every`.
pub fn maybe_sweep(db: &Db) {
    let every = config::parsed("housekeeping_every", DEFAULT_EVERY).unwrap_or(DEFAULT_EVERY);
    if !chance::one_in(every) {
        return;
    }
    if let Err(problem) = sweep(db) {
        eprintln!("auth: housekeeping failed: {}", problem.detail);
    }
}

fn sweep(db: &Db) -> Result<(), Problem> {
    let tokens = db.execute(
        "DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day'",
        &[],
    )?;
    let families = db.execute(
        "DELETE FROM refresh_families f \
         WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id) \
           AND (f.revoked_at IS NULL OR f.revoked_at < now() - interval '1 day') \
           AND f.created_at < now() - interval '1 day'",
        &[],
    )?;
    let revoked = db.execute(
        "DELETE FROM revoked_access_tokens WHERE expires_at < now()",
        &[],
    )?;
    let challenges = db.execute(
        "DELETE FROM login_challenges WHERE expires_at < now() - interval '1 day'",
        &[],
    )?;
    let denylisted = sweep_denylist();
    let events = events::sweep(db)?;
    eprintln!(
        "auth: housekeeping removed {tokens} refresh tokens, {families} sessions, \
         {revoked} revoked access tokens, {challenges} login challenges, \
         {denylisted} denylist entries, {events} events"
    );
    Ok(())
}

/// Deletes expired `denylist:` entries; how many.
fn sweep_denylist() -> usize {
    let Ok(store) = spin_sdk::key_value::Store::open_default() else {
        return 0;
    };
    let Ok(keys) = store.get_keys() else {
        return 0;
    };
    let now = clock::now_unix();
    keys.iter()
        .filter(|key| key.starts_with("denylist:"))
        .filter(|key| {
            let until = store
                .get(key)
                .ok()
                .flatten()
                .and_then(|v| String::from_utf8(v).ok())
                .and_then(|v| v.parse::<u64>().ok());
            // Unreadable entries are left for an operator to look at.
            until.is_some_and(|until| until <= now) && store.delete(key).is_ok()
        })
        .count()
}
