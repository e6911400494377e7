//! spinstack's deadline for server-sent events: a `GET` that accepts
//! `text/event-stream` may outlive `--request-timeout-ms` (up to
//! `--stream-timeout-ms`), so `GET /api/events` ends on its own schedule
//! (`events_stream_seconds`) with a clean end of body; the same request
//! without that `Accept` is still cut at the request deadline. The stream's
//! behaviour over HTTP is tests/http-suite/tests/events.rs.

mod common;

use std::time::{Duration, Instant};

use common::api::{Project, ProjectOptions};

/// Reads `response` to its end: the text, and whether it ended cleanly.
async fn read_to_end(mut response: reqwest::Response) -> (String, bool) {
    let mut text = String::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(20), response.chunk()).await {
            Err(_) => panic!("the stream neither ended nor sent within 20 s: {text:?}"),
            Ok(Ok(Some(bytes))) => text.push_str(&String::from_utf8_lossy(&bytes)),
            Ok(Ok(None)) => return (text, true),
            Ok(Err(_)) => return (text, false),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_stream_outlives_the_request_deadline_and_ends_cleanly() {
    let project = Project::spawn_with(ProjectOptions {
        env: vec![("SPIN_VARIABLE_EVENTS_STREAM_SECONDS", "4".to_owned())],
        args: ["--request-timeout-ms", "1500"].map(str::to_owned).to_vec(),
        ..Default::default()
    })
    .await;
    let api = project.api();
    let (_, tokens) = api.user("stream@example.com").await;

    let started = Instant::now();
    let response = api.event_stream(&tokens.access).await;
    let (text, clean) = read_to_end(response).await;
    let lasted = started.elapsed();
    assert!(text.starts_with("retry: 3000\nid: "), "{text:?}");
    assert!(clean, "the stream was cut: {text:?}");
    assert!(
        lasted >= Duration::from_secs(4) && lasted < Duration::from_secs(15),
        "ended after {lasted:?}, not after its 4 s lifetime"
    );

    // Without `Accept: text/event-stream` the request deadline applies.
    let response = api
        .client
        .get(api.url("/api/events"))
        .bearer_auth(&tokens.access)
        .send()
        .await
        .unwrap();
    let started = Instant::now();
    let (text, _) = read_to_end(response).await;
    // Cut at the 1.5 s deadline, well before its 4 s lifetime. (The host
    // ends a cut body as if complete: the client sees no error.)
    assert!(text.starts_with("retry: 3000"), "{text:?}");
    assert!(
        started.elapsed() < Duration::from_millis(3500),
        "ran {:?}",
        started.elapsed()
    );
}
