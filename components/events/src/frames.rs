//! The `text/event-stream` wire format (WHATWG HTML, "Server-sent events"):
//! what each frame the stream sends looks like, and nothing else.

use crate::outbox::Event;

/// The first frame: how long to wait before reconnecting, and the cursor
/// the stream starts from. An `id:` without `data:` dispatches no event but
/// sets the client's last event id, so a client that drops before the first
/// event still resumes from here rather than from whenever it reconnects.
pub fn opening(retry_ms: u64, cursor: i64) -> String {
    format!("retry: {retry_ms}\nid: {cursor}\n\n")
}

/// One stored event: `id`, `event` (its type) and `data` (the JSON object).
pub fn event(event: &Event) -> String {
    format!(
        "id: {}\nevent: {}\ndata: {}\n\n",
        event.id, event.kind, event.payload
    )
}

/// The client's cursor was outside the retained window: reload your state;
/// the stream continues from `cursor` (the latest event, not replayed).
pub fn resync(cursor: i64, occurred_at: &str) -> String {
    let data = serde_json::json!({
        "id": cursor,
        "type": "resync",
        "occurred_at": occurred_at,
        "data": {"reason": "cursor_outside_retention"},
    });
    format!("id: {cursor}\nevent: resync\ndata: {data}\n\n")
}

/// A comment line: ignored by clients, keeps proxies from closing an idle
/// connection.
pub const HEARTBEAT: &str = ": keep-alive\n\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_field_lines_ended_by_a_blank_line() {
        assert_eq!(opening(3000, 7), "retry: 3000\nid: 7\n\n");
        let stored = Event {
            id: 8,
            kind: "user.updated".into(),
            payload: r#"{"id":8}"#.into(),
            session_id: None,
        };
        assert_eq!(
            event(&stored),
            "id: 8\nevent: user.updated\ndata: {\"id\":8}\n\n"
        );
        let frame = resync(9, "2026-01-01T00:00:00.000000Z");
        assert!(
            frame.starts_with("id: 9\nevent: resync\ndata: {"),
            "{frame}"
        );
        assert!(frame.ends_with("}\n\n") && frame.matches('\n').count() == 4);
    }
}
