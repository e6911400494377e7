//! `wasi:sockets` through a real component (std::net on wasm32-wasip2):
//! TCP to a TCP echo server this test starts, exactly where
//! `allowed_outbound_hosts` allows it; listening and UDP never.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::{AppOptions, TestApp, client};
use serde_json::{Value, json};

/// An echo server on a free loopback port: each connection gets back what
/// it sent, up to its write shutdown.
fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buffer = Vec::new();
                if stream.read_to_end(&mut buffer).is_ok() {
                    let _ = stream.write_all(&buffer);
                }
            });
        }
    });
    port
}

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "sockets-test"

[variables]
echo_port = { required = true }

[[trigger.http]]
route = "/tcp/..."
component = "tcp"

[[trigger.http]]
route = "/cidr/..."
component = "cidr"

[[trigger.http]]
route = "/http-only/..."
component = "http-only"

[[trigger.http]]
route = "/everything/..."
component = "everything"

[[trigger.http]]
route = "/closed/..."
component = "closed"

[component.tcp]
source = "{tcp}"
allowed_outbound_hosts = ["tcp://127.0.0.1:{{ echo_port }}"]

[component.cidr]
source = "{tcp}"
allowed_outbound_hosts = ["*://127.0.0.0/8:{{ echo_port }}"]

[component.http-only]
source = "{tcp}"
allowed_outbound_hosts = ["http://127.0.0.1:{{ echo_port }}"]

[component.everything]
source = "{tcp}"
allowed_outbound_hosts = ["*://*:*"]

[component.closed]
source = "{tcp}"
"#;

fn spawn(echo_port: u16) -> TestApp {
    TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            env: vec![("SPIN_VARIABLE_ECHO_PORT", echo_port.to_string())],
            ..AppOptions::default()
        },
    )
}

async fn ask(app: &TestApp, path: &str, body: Value) -> Value {
    let response = client()
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

async fn echo(app: &TestApp, route: &str, port: u16) -> Value {
    let body = json!({ "address": format!("127.0.0.1:{port}"), "message": "ping over wasi" });
    ask(app, &format!("/{route}/echo"), body).await
}

#[tokio::test]
async fn tcp_reaches_exactly_the_allowed_addresses() {
    let port = echo_server();
    // A second echo server that really listens, so a refusal there is the
    // host's check and not a closed port.
    let other = echo_server();
    let app = spawn(port);
    let echoed = json!({ "ok": "ping over wasi" });
    assert_eq!(echo(&app, "tcp", port).await, echoed);
    assert_eq!(echo(&app, "cidr", port).await, echoed);
    assert_eq!(echo(&app, "everything", other).await, echoed);

    let denied = json!({ "error": "PermissionDenied" });
    assert_eq!(echo(&app, "tcp", other).await, denied);
    assert_eq!(echo(&app, "cidr", other).await, denied);
    // An HTTP permission is not a TCP one.
    assert_eq!(echo(&app, "http-only", port).await, denied);
    assert_eq!(echo(&app, "closed", port).await, denied);
    // Name lookup is off, as on Spin: a name never gets as far as a connect.
    let by_name = json!({ "address": format!("localhost:{port}"), "message": "x" });
    let body = ask(&app, "/everything/echo", by_name).await;
    assert!(body["error"].is_string(), "{body}");
}

#[tokio::test]
async fn listening_and_udp_are_refused_even_with_everything_allowed() {
    let port = echo_server();
    let app = spawn(port);
    let denied = json!({ "error": "PermissionDenied" });
    for address in ["127.0.0.1:0", "0.0.0.0:0", "0.0.0.0:18080"] {
        let body = ask(&app, "/everything/bind", json!({ "address": address })).await;
        assert_eq!(body, denied, "bind {address}");
    }
    let udp = json!({ "address": format!("127.0.0.1:{port}") });
    assert_eq!(ask(&app, "/everything/udp", udp).await, denied);
    assert!(!app.log().contains("panicked"), "{}", app.log());
}
