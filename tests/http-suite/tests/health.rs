//! API.md, Gateway section: `GET /health`, and unknown routes.

use http_suite::{client, url};

#[tokio::test]
async fn health_reports_ok_with_named_checks() {
    let response = client().get(url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    // openapi.yaml: a stored answer would hide an outage.
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let checks = body["checks"].as_object().expect("checks is an object");
    for name in ["cache", "database", "storage"] {
        assert!(checks.contains_key(name), "check {name} missing: {body}");
    }
    for (name, state) in checks {
        assert_eq!(state, "ok", "check {name}");
    }
}

#[tokio::test]
async fn an_unknown_api_route_is_a_404_problem() {
    // Other unknown paths are the web app's (index.html for client-side
    // routes); under /api/ nothing is.
    let response = client()
        .get(url("/api/no/such/route/anywhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}
