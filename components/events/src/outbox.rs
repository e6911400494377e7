//! Reading a user's events from the outbox (infra/migrations/0005_events.sql).
//!
//! The cursor is the last event id the client saw. Every user's ids commit
//! in order (components/shared/src/events.rs), so "after the cursor, in id
//! order" never skips an event that commits later, and never repeats one.

use spin_sdk::http::Request;
use spinstack_shared::db::{Db, int_param, uuid_param};
use spinstack_shared::request::query_param;
use spinstack_shared::{Problem, rfc3339};
use uuid::Uuid;

/// At most this many events per read: a client far behind catches up over
/// several polls, each a bounded query and a bounded write.
pub const BATCH: usize = 100;

/// Where a stream begins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    /// The last event already seen (or skipped): the stream sends what follows.
    pub cursor: i64,
    /// The requested cursor is outside the retained window: the client must
    /// reload its state, and the stream says so first.
    pub resync: bool,
    /// The database's time of the check (RFC 3339), for the `resync` event.
    pub checked_at: String,
}

/// One stored event, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
    pub kind: String,
    /// `{id, type, occurred_at, data}` as JSON text.
    pub payload: String,
    /// The session a `session.revoked` event ends.
    pub session_id: Option<Uuid>,
}

/// The client's cursor: `Last-Event-ID` (what `EventSource` sends when it
/// reconnects), else `?since=`. A value that is not an event id is a cursor
/// this server never issued: `-1`, which [`start`] answers with `resync`
/// (an error status would stop an `EventSource` for good).
pub fn requested_cursor(head: &Request) -> Option<i64> {
    let header = head
        .header("last-event-id")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let raw = header.or_else(|| query_param(head.query(), "since"))?;
    Some(parse_cursor(&raw))
}

fn parse_cursor(raw: &str) -> i64 {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|cursor| *cursor >= 0)
        .unwrap_or(-1)
}

/// Where to begin for `user`: after the requested cursor when the outbox
/// still holds everything after it; otherwise (or with no cursor) after the
/// user's latest event, with `resync` when a cursor was lost.
pub fn start(db: &Db, user: Uuid, requested: Option<i64>) -> Result<Start, Problem> {
    let sql = concat!(
        "SELECT (SELECT up_to FROM events_swept) AS swept, \
                coalesce((SELECT max(id) FROM events WHERE user_id = $1), 0) AS latest, \
                coalesce((SELECT max(id) FROM events), 0) AS newest, ",
        rfc3339!("now()"),
        " AS checked_at"
    );
    let rows = db.rows(sql, &[uuid_param(user)])?;
    let row = rows.rows().next().ok_or_else(Problem::internal)?;
    let number = |column: &str| row.get::<i64>(column).unwrap_or(0);
    let (cursor, resync) = decide(
        requested,
        number("swept"),
        number("latest"),
        number("newest"),
    );
    Ok(Start {
        cursor,
        resync,
        checked_at: row.get("checked_at").unwrap_or_default(),
    })
}

/// [`start`]'s rule: the cursor, and whether to resync. A cursor below `swept` may have lost events to the
/// retention; one above every id ever retained was not issued by this
/// database (it was restored or reset): both are answered with `resync`.
fn decide(requested: Option<i64>, swept: i64, latest: i64, newest: i64) -> (i64, bool) {
    match requested {
        Some(cursor) if cursor >= swept && cursor <= newest.max(swept) => (cursor, false),
        Some(_) => (latest, true),
        None => (latest, false),
    }
}

/// `user`'s events after `cursor`, oldest first, at most [`BATCH`].
pub fn after(db: &Db, user: Uuid, cursor: i64) -> Result<Vec<Event>, Problem> {
    let sql = concat!(
        "SELECT id, type, data->>'session_id' AS session_id, \
            jsonb_build_object('id', id, 'type', type, 'occurred_at', ",
        rfc3339!("occurred_at"),
        ", 'data', data)::text AS payload \
         FROM events WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    );
    let rows = db.rows(
        sql,
        &[uuid_param(user), int_param(cursor), int_param(BATCH as i64)],
    )?;
    rows.rows()
        .map(|row| {
            let event = (|| {
                Some(Event {
                    id: row.get("id")?,
                    kind: row.get("type")?,
                    payload: row.get("payload")?,
                    session_id: row
                        .get::<String>("session_id")
                        .and_then(|s| Uuid::parse_str(&s).ok()),
                })
            })();
            event.ok_or_else(|| {
                eprintln!("events: a row does not decode as an event");
                Problem::internal()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retained_cursor_resumes_where_it_was() {
        assert_eq!(decide(Some(7), 3, 9, 12), (7, false));
        // Exactly the last swept id: nothing after it was deleted.
        assert_eq!(decide(Some(3), 3, 9, 12), (3, false));
    }

    #[test]
    fn a_swept_or_foreign_cursor_resyncs_from_the_latest() {
        assert_eq!(decide(Some(2), 3, 9, 12), (9, true));
        assert_eq!(decide(Some(13), 3, 9, 12), (9, true));
    }

    #[test]
    fn no_cursor_starts_after_the_latest() {
        assert_eq!(decide(None, 3, 9, 12), (9, false));
        assert_eq!(decide(Some(0), 0, 0, 0), (0, false));
    }

    #[test]
    fn a_cursor_that_is_not_an_id_resyncs() {
        assert_eq!(parse_cursor(" 42 "), 42);
        for bad in ["", "-1", "4.2", "abc"] {
            assert_eq!(parse_cursor(bad), -1, "{bad:?}");
            assert!(decide(Some(parse_cursor(bad)), 0, 5, 5).1);
        }
    }
}
