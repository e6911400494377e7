//! Mail in tests: what the embedded catcher kept in a state directory, and
//! a Postmark-compatible provider in the test process that can be switched
//! down (503) and up, counting every attempt, for the outbox's retries.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::Value;

/// The messages the embedded catcher kept under `state_dir`, oldest first.
pub fn caught(state_dir: &Path) -> Vec<Value> {
    let dir = state_dir.join("mail/messages");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|path| path.extension().is_some_and(|ext| ext == "json"));
    files.sort();
    files
        .iter()
        .map(|path| serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap())
        .collect()
}

/// Waits up to 20 s until `read` returns at least `count` messages.
pub async fn wait_for(count: usize, read: impl Fn() -> Vec<Value>) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let messages = read();
        if messages.len() >= count || Instant::now() > deadline {
            assert!(
                messages.len() >= count,
                "expected {count} messages, got {}: {messages:?}",
                messages.len()
            );
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The token in a message's link (`...?token=<43 characters>`), checked to
/// be in the HTML part too.
pub fn token_in(message: &Value) -> String {
    let text = message["TextBody"].as_str().expect("a text body");
    let start = text.find("token=").expect("a link with a token") + "token=".len();
    let token = text[start..start + 43].to_owned();
    assert!(message["HtmlBody"].as_str().unwrap().contains(&token));
    token
}

#[derive(Default)]
struct State {
    down: AtomicBool,
    attempts: AtomicUsize,
    messages: parking_lot::Mutex<Vec<Value>>,
}

/// A provider on loopback, up until `set_down(true)`.
pub struct TestMailApi {
    pub url: String,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestMailApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestMailApi {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State::default());
        let shared = state.clone();
        let server = spinstack::embedded::mail::serve(listener, move |request| {
            let state = shared.clone();
            async move { answer(&state, request).await }
        });
        TestMailApi { url, state, server }
    }

    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// Requests received, accepted or not.
    pub fn attempts(&self) -> usize {
        self.state.attempts.load(Ordering::SeqCst)
    }

    pub fn messages(&self) -> Vec<Value> {
        self.state.messages.lock().clone()
    }
}

async fn answer(
    state: &State,
    request: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Full<Bytes>> {
    state.attempts.fetch_add(1, Ordering::SeqCst);
    let path_ok = request.uri().path() == "/email" && request.method() == hyper::Method::POST;
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let status = if state.down.load(Ordering::SeqCst) {
        503
    } else if !path_ok {
        404
    } else {
        state
            .messages
            .lock()
            .push(serde_json::from_slice(&body).unwrap());
        200
    };
    let mut response = hyper::Response::new(Full::new(Bytes::from_static(b"{\"ErrorCode\":0}")));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    response
}
