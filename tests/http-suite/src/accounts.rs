//! Accounts for the suite's tests: a fresh user, logged in, with the
//! gateway's auth rate limit (5 a minute, API.md) waited out rather than
//! failed on, so the suite also runs against a shared deployment.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{client, url};

/// Every [`Account`]'s password.
pub const PASSWORD: &str = "correct horse battery staple";

/// A logged-in user of its own.
pub struct Account {
    pub id: String,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl Account {
    /// Registers a user with a unique email (`label` in it) and logs in.
    pub async fn new(label: &str) -> Account {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let email = format!("{label}-{}-{nanos}@example.com", std::process::id());
        let password = PASSWORD;
        let user = auth_call(
            "/api/auth/register",
            json!({"email": email, "password": password, "name": label}),
            201,
        )
        .await;
        let tokens = auth_call(
            "/api/auth/login",
            json!({"email": email, "password": password}),
            200,
        )
        .await;
        Account {
            id: user["id"].as_str().expect("user id").to_owned(),
            email,
            access_token: tokens["access_token"]
                .as_str()
                .expect("access token")
                .to_owned(),
            refresh_token: tokens["refresh_token"]
                .as_str()
                .expect("refresh token")
                .to_owned(),
        }
    }

    /// `POST /api/auth/logout` for this session (204).
    pub async fn logout(&self) {
        let response = rate_limited(|| {
            client()
                .post(url("/api/auth/logout"))
                .bearer_auth(&self.access_token)
                .json(&json!({"refresh_token": self.refresh_token}))
        })
        .await;
        assert_eq!(response.status(), 204, "logout");
    }
}

async fn auth_call(path: &str, body: Value, expected: u16) -> Value {
    let response = rate_limited(|| client().post(url(path)).json(&body)).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(status, expected, "{path}: {body}");
    body
}

/// Sends the request, again after `Retry-After` while it is answered 429
/// (for at most two minutes).
pub async fn rate_limited(request: impl Fn() -> reqwest::RequestBuilder) -> reqwest::Response {
    let give_up = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let response = request().send().await.expect("request sent");
        if response.status() != 429 || tokio::time::Instant::now() > give_up {
            return response;
        }
        let wait = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(5);
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
}

/// Sends `body()` as JSON (`body` again on each retry) with `bearer`, past
/// the gateway's 429s ([`rate_limited`]); the status and the JSON answer
/// (`Null` for none).
pub async fn send_json(
    method: reqwest::Method,
    path: &str,
    bearer: Option<&str>,
    body: impl Fn() -> Value,
) -> (u16, Value) {
    let response = rate_limited(|| {
        let request = client().request(method.clone(), url(path)).json(&body());
        match bearer {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    })
    .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
