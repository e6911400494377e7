//! Mail as the suite reads it: from the deployment's catcher
//! ([`crate::mail_url`]), whose `GET /messages` answers every message it
//! kept, oldest first, as Postmark's JSON (`To`, `Subject`, `TextBody`, ...).

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client;

/// Every message the catcher at `catcher` kept.
pub async fn messages(catcher: &str) -> Vec<Value> {
    let response = client()
        .get(format!("{catcher}/messages"))
        .send()
        .await
        .expect("the mail catcher answers");
    assert!(
        response.status().is_success(),
        "GET /messages: {}",
        response.status()
    );
    response.json().await.expect("a JSON list of messages")
}

/// The messages to `to` with `subject`, once there are `count` of them
/// (delivery follows the response), waiting up to 30 s.
pub async fn wait_for(catcher: &str, to: &str, subject: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found: Vec<Value> = messages(catcher)
            .await
            .into_iter()
            .filter(|m| m["To"] == to && m["Subject"] == subject)
            .collect();
        if found.len() >= count || Instant::now() > deadline {
            assert!(
                found.len() >= count,
                "{} of {count} messages \"{subject}\" to {to}",
                found.len()
            );
            return found;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The token of the message's link (`...#token=<43 characters>`).
pub fn token_in(message: &Value) -> String {
    let text = message["TextBody"].as_str().expect("a text body");
    let start = text.find("#token=").expect("a link with a token") + "#token=".len();
    text[start..start + 43].to_owned()
}
