//! The open stream: the response head at once, then the outbox polled and
//! each new event written as it appears, heartbeats in between, until the
//! stream's lifetime ends, the access token expires, the session is
//! revoked or the client goes away.
//!
//! Each poll borrows a database connection and gives it back, so open
//! streams cost instances, not connections.
//!
//! Polling (`events_poll_ms`) is what works on every host, real Spin
//! included: a component cannot wait on Postgres notifications. Waking the
//! stream from the host when an event commits (LISTEN/NOTIFY on spinstack)
//! is the next step (issue 15) and changes nothing on the wire.

use std::time::{Duration, Instant};

use futures::SinkExt;
use spin_sdk::http::{Fields, OutgoingResponse, ResponseOutparam};
use spinstack_shared::db::Db;
use spinstack_shared::events::SESSION_REVOKED;
use spinstack_shared::{Principal, clock};

use crate::frames;
use crate::outbox::{self, Start};
use crate::settings::{self, Settings};

pub async fn run(out: ResponseOutparam, principal: &Principal, settings: &Settings, start: Start) {
    let headers = [
        ("content-type", "text/event-stream; charset=utf-8"),
        ("cache-control", "no-store"),
        // nginx: pass each write on at once, whatever the location says.
        ("x-accel-buffering", "no"),
    ]
    .map(|(name, value)| (name.to_owned(), value.as_bytes().to_vec()));
    let Ok(fields) = Fields::from_list(&headers) else {
        return;
    };
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(200);
    let mut body = response.take_body();
    out.set(response);

    let ends = ends_at(settings.lifetime, principal.token_expires_at);
    let mut cursor = start.cursor;
    let mut first = frames::opening(settings::RETRY_MS, cursor);
    if start.resync {
        first.push_str(&frames::resync(cursor, &start.checked_at));
    }
    if body.send(first.into_bytes()).await.is_err() {
        return;
    }
    let mut quiet_since = Instant::now();
    while Instant::now() < ends {
        // A connection only for the poll: an open stream mostly waits, and
        // holding one for its whole life would cap the streams at the
        // host's Postgres pool (32 on spinstack: the 33rd waited 10 s and
        // got 503) or at the server's max_connections.
        let events = match outbox::after(&Db::new(), principal.id(), cursor) {
            Ok(events) => events,
            // Logged already; the client resumes from its cursor.
            Err(_) => return,
        };
        let mut frame = String::new();
        let mut revoked = false;
        for event in &events {
            frame.push_str(&frames::event(event));
            cursor = event.id;
            if event.kind == SESSION_REVOKED && event.session_id == Some(principal.session_id) {
                revoked = true;
                break;
            }
        }
        if frame.is_empty() && quiet_since.elapsed() >= settings::HEARTBEAT {
            frame.push_str(frames::HEARTBEAT);
        }
        if !frame.is_empty() {
            if body.send(frame.into_bytes()).await.is_err() {
                return; // the client went away
            }
            quiet_since = Instant::now();
        }
        if revoked {
            return; // this stream's session ended: so does the stream
        }
        if events.len() < outbox::BATCH {
            // Caught up: wait for the next poll (a blocking sleep is fine,
            // this instance serves this stream alone).
            std::thread::sleep(
                settings
                    .poll
                    .min(ends.saturating_duration_since(Instant::now())),
            );
        }
    }
}

/// When the stream closes: after its lifetime, or when the access token
/// expires if that is sooner (a reconnect then needs a fresh token).
fn ends_at(lifetime: Duration, token_expires_at: u64) -> Instant {
    let token_left = Duration::from_secs(token_expires_at.saturating_sub(clock::now_unix()));
    Instant::now() + lifetime.min(token_left)
}
