//! Writing to the events outbox (infra/migrations/0005_events.sql), which
//! components/events streams to each user as server-sent events.
//!
//! An event is recorded by the very statement that makes its change (a
//! data-modifying CTE beside it), so the event exists exactly when the
//! change was committed, on every host, without a client-side transaction.
//! Before an id is drawn the statement takes a transaction-scoped advisory
//! lock on the event's user: that user's events then commit in id order,
//! which is what lets a reader treat "the last id I saw" as a cursor that
//! never skips a row committed later.

use crate::db::{Db, int_param};
use crate::{Problem, config};

/// How long events are kept (`events_retention_seconds`): a day covers a
/// laptop closed overnight or a phone offline for a commute many times
/// over, so almost every reconnect resumes without a `resync`, while the
/// table stays a day of changes at most (README.md, "Realtime").
pub const DEFAULT_RETENTION_SECONDS: u64 = 24 * 60 * 60;

/// The event types (the table's CHECK lists the same).
pub const UPLOAD_READY: &str = "upload.ready";
pub const UPLOAD_DELETED: &str = "upload.deleted";
pub const USER_UPDATED: &str = "user.updated";
pub const SESSION_REVOKED: &str = "session.revoked";

/// `INSERT ... SELECT` recording one `kind` event for each row of `source`
/// (a CTE or table name): `user` is the SQL of the row's user id (a uuid)
/// and `data` the SQL of its `jsonb` payload. Use it as the statement
/// itself after a `WITH`, or as a CTE (`name AS (...)`) in
/// `Db::rows_with`. `kind` must be one of the constants above.
pub fn insert_from(kind: &'static str, source: &str, user: &str, data: &str) -> String {
    debug_assert!([UPLOAD_READY, UPLOAD_DELETED, USER_UPDATED, SESSION_REVOKED].contains(&kind));
    format!(
        "INSERT INTO events (user_id, type, data) \
         SELECT {user}, '{kind}', {data} FROM {source} \
         CROSS JOIN LATERAL (SELECT pg_advisory_xact_lock({LOCK_SPACE}, hashtext(({user})::text))) \
             AS ordered_per_user"
    )
}

/// [`insert_from`] for `session.revoked`: `source` yields the revoked
/// `refresh_families` rows (`id`, `user_id`); the payload names the session,
/// so a stream can tell whether it was its own.
pub fn sessions_revoked_from(source: &str) -> String {
    insert_from(
        SESSION_REVOKED,
        source,
        &format!("{source}.user_id"),
        &format!("jsonb_build_object('session_id', {source}.id::text)"),
    )
}

/// Deletes events older than the retention and records the largest id
/// deleted (`events_swept`), so that a cursor from before it gets `resync`.
/// How many were deleted. Run now and then (auth's housekeeping, a new
/// stream), never on every request.
pub fn sweep(db: &Db) -> Result<u64, Problem> {
    let retention = config::parsed("events_retention_seconds", DEFAULT_RETENTION_SECONDS)?;
    let rows = db.rows_with(
        "gone AS (DELETE FROM events \
             WHERE occurred_at < now() - make_interval(secs => $1::bigint) RETURNING id), \
         marked AS (UPDATE events_swept SET up_to = greatest(up_to, (SELECT max(id) FROM gone)) \
             WHERE EXISTS (SELECT 1 FROM gone))",
        "SELECT count(*) AS deleted FROM gone",
        &[int_param(i64::try_from(retention).unwrap_or(i64::MAX))],
    )?;
    let deleted: i64 = rows
        .rows()
        .next()
        .and_then(|row| row.get("deleted"))
        .unwrap_or(0);
    Ok(u64::try_from(deleted).unwrap_or(0))
}

/// The first key of the two-key advisory locks the outbox takes: a space of
/// its own, so no other lock of the app collides with a user's.
const LOCK_SPACE: i32 = 5005;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_insert_locks_the_user_before_drawing_ids() {
        let sql = insert_from(USER_UPDATED, "changed", "changed.id", "'{}'::jsonb");
        assert!(sql.starts_with("INSERT INTO events (user_id, type, data) SELECT changed.id"));
        assert!(sql.contains("'user.updated'"));
        assert!(sql.contains("pg_advisory_xact_lock(5005, hashtext((changed.id)::text))"));
    }
}
