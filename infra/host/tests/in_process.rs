//! The host as a library: an `App` built in-process from a `HostConfig` and
//! driven through its request path without a process, a socket or a
//! database. Key-value is the in-memory backend (`type = "spin"` without a
//! path), the fake where a real store is not the point.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use spinstack::server::{RequestPath, request_path};
use spinstack::{App, GatewaySelection, HostConfig};
use tower::ServiceExt;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "in-process"
version = "1.2.3"

[[trigger.http]]
route = "/probe/..."
component = "probe"

[component.probe]
source = "{probe}"
key_value_stores = ["default"]
"#;

struct InProcess {
    path: RequestPath<HyperOutgoingBody>,
    app: Arc<App>,
    _dir: tempfile::TempDir,
}

fn load(gateway: GatewaySelection) -> InProcess {
    let dir = tempfile::tempdir().unwrap();
    let manifest = MANIFEST.replace(
        "{probe}",
        common::fixture("fixture-probe").to_str().unwrap(),
    );
    std::fs::write(dir.path().join("spin.toml"), manifest).unwrap();
    std::fs::write(
        dir.path().join("runtime-config.toml"),
        "[key_value_store.default]\ntype = \"spin\"\n",
    )
    .unwrap();
    let config = HostConfig {
        runtime_config_file: Some(dir.path().join("runtime-config.toml")),
        cache_dir: Some(common::workspace_root().join("target/spinstack-test-cache")),
        gateway,
        ..HostConfig::new(dir.path().join("spin.toml"))
    };
    let app = App::load(&config).expect("the app loads").app;
    InProcess {
        path: request_path(&app),
        app,
        _dir: dir,
    }
}

fn body(bytes: &'static str) -> HyperOutgoingBody {
    Full::new(Bytes::from_static(bytes.as_bytes()))
        .map_err(|never| match never {})
        .boxed_unsync()
}

async fn send(
    path: &RequestPath<HyperOutgoingBody>,
    method: &str,
    uri: &str,
    content: &'static str,
) -> (StatusCode, http::HeaderMap, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "app.test")
        .header("content-length", content.len())
        .body(body(content))
        .unwrap();
    let response = path.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_component_runs_in_process_with_the_in_memory_store() {
    let host = load(GatewaySelection::WithoutRateLimits);
    let (status, _, _) = send(&host.path, "PUT", "/probe/kv/default/greeting", "hello").await;
    assert!(status.is_success(), "set answered {status}");
    let (status, _, text) = send(&host.path, "GET", "/probe/kv/default/greeting", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, "hello");
    // The store is the app's: a second request path over the same app sees it.
    let second = request_path::<HyperOutgoingBody>(&host.app);
    let (_, _, text) = send(&second, "GET", "/probe/kv/default/greeting", "").await;
    assert_eq!(text, "hello");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_steps_apply_in_process() {
    let host = load(GatewaySelection::WithoutRateLimits);
    let (status, headers, text) = send(&host.path, "GET", "/probe/headers", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.contains_key("x-request-id"), "{headers:?}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let echoed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        echoed["headers"]["spin-full-url"],
        "http://app.test/probe/headers"
    );
    assert_eq!(
        echoed["headers"]["x-request-id"],
        headers["x-request-id"].to_str().unwrap()
    );

    let (status, headers, text) = send(&host.path, "GET", "/nowhere", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert!(text.contains("No route matches"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_gateway_only_routing_admission_and_the_component_run() {
    let host = load(GatewaySelection::Off);
    let (status, headers, text) = send(&host.path, "GET", "/.well-known/spin/info", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!headers.contains_key("x-request-id"));
    let info: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(info["name"], "in-process");
    assert_eq!(info["version"], "1.2.3");
    let (status, headers, _) = send(&host.path, "GET", "/probe/headers", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!headers.contains_key("x-content-type-options"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trap_fails_only_its_request() {
    let host = load(GatewaySelection::WithoutRateLimits);
    let (status, _, text) = send(&host.path, "GET", "/probe/trap", "").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !text.contains("fixture trap"),
        "no guest internals leak: {text}"
    );
    let (status, _, _) = send(&host.path, "GET", "/probe/headers", "").await;
    assert_eq!(status, StatusCode::OK);
}

/// Once the drain began (`serve` marks the requests that arrive then),
/// `/health` is the host's 503, so a balancer stops sending; every other
/// path is still served, with the gateway's headers.
#[tokio::test(flavor = "multi_thread")]
async fn health_is_503_during_the_drain_and_the_rest_is_served() {
    use spinstack::server::drain::Draining;
    let host = load(GatewaySelection::WithoutRateLimits);
    let draining = |uri: &str| {
        Request::get(uri)
            .header("host", "app.test")
            .extension(Draining)
            .body(body(""))
            .unwrap()
    };
    let health = host
        .path
        .clone()
        .oneshot(draining("/health"))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health.headers()["content-type"], "application/problem+json");
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
    let other = host
        .path
        .clone()
        .oneshot(draining("/probe/headers"))
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    // Before the drain the path is the app's (here: no such route).
    let (status, _, _) = send(&host.path, "GET", "/health", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
