//! Password reset as any deployment answers it (openapi.yaml,
//! `requestPasswordReset`, `confirmPasswordReset`): the same 202 for an
//! unknown and a registered address, and a forged token refused as a 400
//! problem. Four requests, within the gateway's auth burst (5); the mailed
//! links themselves are the host's tests' (they read the catcher).

use http_suite::{client, url};
use serde_json::{Value, json};

async fn post(path: &str, body: Value) -> (u16, String, String) {
    let response = client().post(url(path)).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn reset_answers_alike_whether_or_not_the_account_exists() {
    let id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let email = format!("reset-{id}@example.com");
    let body = json!({"email": email, "password": "password123", "name": "Reset"});
    let (status, _, text) = post("/api/auth/register", body).await;
    assert_eq!(status, 201, "{text}");

    let unknown = post(
        "/api/auth/password-reset",
        json!({"email": format!("nobody-{id}@example.com")}),
    )
    .await;
    let known = post("/api/auth/password-reset", json!({"email": email})).await;
    assert_eq!(unknown.0, 202, "{}", unknown.2);
    assert_eq!(unknown, known, "status, type and body are the same");

    let forged = post(
        "/api/auth/password-reset/confirm",
        json!({"token": "A".repeat(43), "password": "a new password"}),
    )
    .await;
    assert_eq!(forged.0, 400, "{}", forged.2);
    assert_eq!(forged.1, "application/problem+json");
    let problem: Value = serde_json::from_str(&forged.2).unwrap();
    assert!(problem["errors"]["token"].is_array(), "{problem}");
}
