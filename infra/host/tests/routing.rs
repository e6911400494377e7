//! Routing and the `spin-*` headers through the host, with the values real
//! Spin gives (the router crate's tests cover the rules exhaustively; these
//! prove the host wires them into requests).

mod common;

use common::{AppOptions, TestApp, client};
use serde_json::Value;

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "routing-test"

[[trigger.http]]
route = "/..."
component = "root"

[[trigger.http]]
route = "/api/..."
component = "api"

[[trigger.http]]
route = "/api/users/:id/..."
component = "user"

[[trigger.http]]
route = "/api/exact"
component = "exact"

[component.root]
source = "{probe}"
[component.api]
source = "{probe}"
[component.user]
source = "{probe}"
[component.exact]
source = "{hello}"
"#;

/// The headers the probe saw for `path` (it echoes at `<...>/headers`).
async fn headers_for(app: &TestApp, path: &str) -> serde_json::Map<String, Value> {
    let response = client()
        .get(app.url(path))
        .header("spin-component-route", "/spoofed")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let body: Value = response.json().await.unwrap();
    body["headers"].as_object().unwrap().clone()
}

#[tokio::test]
async fn the_most_specific_route_wins_and_headers_match_spin() {
    let app = TestApp::spawn(MANIFEST);
    let port = app.base_url.rsplit(':').next().unwrap().to_owned();

    // Wildcard under /api/users/:id wins over /api/... and /...
    let h = headers_for(&app, "/api/users/42/headers?x=1").await;
    assert_eq!(h["spin-raw-component-route"], "/api/users/:id/...");
    assert_eq!(h["spin-component-route"], "/api/users/:id");
    assert_eq!(h["spin-matched-route"], "/api/users/:id/...");
    assert_eq!(h["spin-path-info"], "/headers");
    assert_eq!(h["spin-path-match-id"], "42");
    assert_eq!(h["spin-base-path"], "/");
    assert_eq!(
        h["spin-full-url"],
        format!("http://127.0.0.1:{port}/api/users/42/headers?x=1")
    );
    let client_addr = h["spin-client-addr"].as_str().unwrap();
    assert!(client_addr.starts_with("127.0.0.1:"), "{client_addr}");

    // /api/... for other API paths (path-info is what follows /api).
    let h = headers_for(&app, "/api/headers").await;
    assert_eq!(h["spin-raw-component-route"], "/api/...");
    assert_eq!(h["spin-component-route"], "/api");
    assert_eq!(h["spin-matched-route"], "/api/...");
    assert_eq!(h["spin-path-info"], "/headers");
    assert!(h.get("spin-path-match-id").is_none());

    // The root wildcard takes the rest; the client's spoofed
    // spin-component-route was replaced by the host's value.
    let h = headers_for(&app, "/headers").await;
    assert_eq!(h["spin-raw-component-route"], "/...");
    assert_eq!(h["spin-component-route"], "");
    assert_eq!(h["spin-matched-route"], "/...");
    assert_eq!(h["spin-path-info"], "/headers");
}

#[tokio::test]
async fn an_exact_route_beats_the_wildcard_around_it() {
    let app = TestApp::spawn(MANIFEST);
    // /api/exact is the `hello` component, not the /api/... probe.
    let exact = client().get(app.url("/api/exact")).send().await.unwrap();
    assert_eq!(exact.status(), 200);
    assert_eq!(exact.text().await.unwrap(), "hello, world\n");
    // Below it, the wildcard applies again (the probe answers its own 404
    // for an unknown suffix, in plain text rather than the host's problem).
    let below = client()
        .get(app.url("/api/exact/more"))
        .send()
        .await
        .unwrap();
    assert_eq!(below.status(), 404);
    assert!(
        below
            .headers()
            .get("content-type")
            .is_none_or(|ct| ct != "application/problem+json"),
        "the 404 comes from the probe, not from the host's router"
    );
}

#[tokio::test]
async fn without_a_root_wildcard_unknown_paths_are_404_problems() {
    let manifest = MANIFEST.replace(
        "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"root\"\n",
        "",
    );
    let app = TestApp::spawn(&manifest);
    let response = client().get(app.url("/nowhere")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let well_known = client()
        .get(app.url("/.well-known/spin/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(well_known.status(), 200);
}

#[tokio::test]
async fn an_unsupported_manifest_field_refuses_start_up_and_is_named() {
    let manifest = MANIFEST.replace(
        "[component.exact]\nsource = \"{hello}\"",
        "[component.exact]\nsource = \"{hello}\"\nsqlite_databases = [\"default\"]",
    );
    let stderr = TestApp::start_failure(&manifest, AppOptions::default());
    assert!(
        stderr.contains("component.exact.sqlite_databases"),
        "stderr: {stderr}"
    );
}

#[tokio::test]
async fn a_component_importing_an_unprovided_interface_is_refused_by_name() {
    // A component without an HTTP handler export cannot serve a trigger.
    let dir = tempfile::tempdir().unwrap();
    let wasm = wat_component(&dir);
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"bad\"\n[component.bad]\nsource = \"{}\"\n",
        wasm.display()
    );
    let stderr = TestApp::start_failure(&manifest, AppOptions::default());
    assert!(stderr.contains("\"bad\""), "stderr: {stderr}");
}

/// An empty component (valid wasm, no exports) for the refusal test.
fn wat_component(dir: &tempfile::TempDir) -> std::path::PathBuf {
    // The binary encoding of `(component)`: magic, version 0x0d, layer 1.
    let bytes = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
    let path = dir.path().join("empty.wasm");
    std::fs::write(&path, bytes).unwrap();
    path
}
