//! `GET /api/events` (README.md, "Realtime (server-sent events)"): the
//! caller's own events, streamed as they happen, resumable with
//! `Last-Event-ID` without loss or duplicates, and ended by a logout.
//!
//! Every wait is bounded (`WAIT`), so a stream that never delivers fails
//! its test; each stream here is read while the server still holds it open
//! (its lifetime is a minute by default), so an event that arrives at all
//! arrived before the response ended: the host streamed it.

use std::time::Duration;

use http_suite::accounts::Account;
use http_suite::sse::{EventStream, Frame};
use http_suite::{client, url};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

/// Opens the caller's stream (after `last_id`, if given) and reads its
/// opening frame, which names the cursor it starts from.
async fn open(account: &Account, last_id: Option<&str>) -> (EventStream, String) {
    // A stream outlives the client's 30 s request timeout when a step
    // between reads waits out a gateway's Retry-After (the auth zone through
    // nginx); every read is bounded by its own `WAIT` instead.
    let mut request = client()
        .get(url("/api/events"))
        .timeout(Duration::from_secs(120))
        .bearer_auth(&account.access_token)
        .header("accept", "text/event-stream");
    if let Some(id) = last_id {
        request = request.header("last-event-id", id);
    }
    let response = request.send().await.expect("stream opened");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    assert!(response.headers().get("content-encoding").is_none());
    let mut stream = EventStream::new(response);
    let opening = stream.next_frame(WAIT).await.expect("an opening frame");
    assert_eq!(opening.retry, Some(3000), "{opening:?}");
    let cursor = opening.id.expect("the opening frame names the cursor");
    (stream, cursor)
}

async fn rename(account: &Account, name: &str) {
    let response = client()
        .patch(url("/api/users/me"))
        .bearer_auth(&account.access_token)
        .json(&json!({"name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Checks an event frame's fields and returns its JSON.
fn event_of(frame: &Frame, kind: &str) -> serde_json::Value {
    assert_eq!(frame.event.as_deref(), Some(kind), "{frame:?}");
    let body = frame.json();
    assert_eq!(body["type"], kind);
    assert_eq!(body["id"].to_string(), frame.id.clone().unwrap(), "{body}");
    assert!(
        body["occurred_at"].as_str().unwrap().ends_with('Z'),
        "{body}"
    );
    body
}

#[tokio::test]
async fn changes_arrive_live_only_to_their_user_and_resume_without_loss() {
    let alice = Account::new("events-alice").await;
    let bob = Account::new("events-bob").await;
    let (mut alice_stream, _) = open(&alice, None).await;
    let (mut bob_stream, _) = open(&bob, None).await;

    // A profile change and an upload, while the streams are open.
    rename(&alice, "Alice One").await;
    let updated = event_of(
        &alice_stream.next_event(WAIT).await.expect("user.updated"),
        "user.updated",
    );
    assert_eq!(updated["data"]["user"]["name"], "Alice One");
    assert_eq!(updated["data"]["user"]["id"], alice.id.as_str());
    let uploaded = client()
        .post(url("/api/uploads?filename=notes.txt"))
        .bearer_auth(&alice.access_token)
        .header("content-type", "text/plain")
        .body("live events")
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 201);
    let upload: serde_json::Value = uploaded.json().await.unwrap();
    let ready = alice_stream.next_event(WAIT).await.expect("upload.ready");
    let ready = event_of(&ready, "upload.ready");
    assert_eq!(ready["data"]["upload"]["id"], upload["id"]);
    assert_eq!(ready["data"]["upload"]["status"], "ready");
    let last_seen = ready["id"].to_string();

    // Bob's stream carries Bob's events and none of Alice's: the first
    // event it shows is his own rename.
    rename(&bob, "Bob One").await;
    let bobs = event_of(&bob_stream.next_event(WAIT).await.unwrap(), "user.updated");
    assert_eq!(bobs["data"]["user"]["id"], bob.id.as_str());
    drop(bob_stream);

    // Alice disconnects; meanwhile her upload is deleted and she is renamed.
    drop(alice_stream);
    let deleted = client()
        .delete(url(&format!(
            "/api/uploads/{}",
            upload["id"].as_str().unwrap()
        )))
        .bearer_auth(&alice.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    rename(&alice, "Alice Two").await;

    // Resuming from the last event she saw gives exactly what she missed,
    // in order, then nothing more.
    let (mut resumed, cursor) = open(&alice, Some(&last_seen)).await;
    assert_eq!(cursor, last_seen);
    let gone = event_of(&resumed.next_event(WAIT).await.unwrap(), "upload.deleted");
    assert_eq!(gone["data"]["id"], upload["id"]);
    let renamed = event_of(&resumed.next_event(WAIT).await.unwrap(), "user.updated");
    assert_eq!(renamed["data"]["user"]["name"], "Alice Two");
    assert!(renamed["id"].as_i64() > gone["id"].as_i64());
    assert!(gone["id"].as_i64().unwrap() > ready["id"].as_i64().unwrap());
    rename(&alice, "Alice Three").await;
    let next = event_of(&resumed.next_event(WAIT).await.unwrap(), "user.updated");
    assert_eq!(
        next["data"]["user"]["name"], "Alice Three",
        "no repeat, no gap"
    );
}

#[tokio::test]
async fn a_stale_cursor_resyncs_and_a_logout_ends_the_stream() {
    let carol = Account::new("events-carol").await;
    // No server issued this id: resuming from it cannot be trusted, and
    // the stream says so before anything else.
    let (mut stale, _) = open(&carol, Some("999999999999")).await;
    let resync = stale.next_event(WAIT).await.expect("resync");
    assert_eq!(resync.event.as_deref(), Some("resync"));
    assert_eq!(resync.json()["type"], "resync");
    drop(stale);

    let (mut stream, _) = open(&carol, None).await;
    carol.logout().await;
    let revoked = stream.next_event(WAIT).await.expect("session.revoked");
    let revoked = event_of(&revoked, "session.revoked");
    assert!(revoked["data"]["session_id"].is_string(), "{revoked}");
    // Then the server ends the response.
    assert_eq!(stream.next_event(WAIT).await, None);
    // And the same token cannot open another.
    let again = client()
        .get(url("/api/events"))
        .bearer_auth(&carol.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
}

#[tokio::test]
async fn without_a_token_the_stream_is_a_401_problem() {
    let response = client()
        .get(url("/api/events"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
}
