//! Outbound wasi:http: allowed only to `allowed_outbound_hosts` (templates
//! included), denied otherwise, and Spin's local service chaining.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::{AppOptions, TestApp, client};

/// A one-route HTTP server on a free loopback port, answering every request
/// with "upstream says hi"; returns its port.
fn upstream() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = "upstream says hi";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

fn manifest() -> String {
    r#"
spin_manifest_version = 2
[application]
name = "outbound-test"

[variables]
upstream_port = { required = true }

[[trigger.http]]
route = "/probe/..."
component = "probe"

[[trigger.http]]
route = "/closed/..."
component = "closed"

[[trigger.http]]
route = { private = true }
component = "backend"

[component.probe]
source = "{probe}"
allowed_outbound_hosts = ["http://127.0.0.1:{{ upstream_port }}", "http://backend.spin.internal"]

[component.closed]
source = "{probe}"

[component.backend]
source = "{probe}"
"#
    .to_owned()
}

fn spawn(port: u16) -> TestApp {
    TestApp::spawn_with(
        &manifest(),
        AppOptions {
            env: vec![("SPIN_VARIABLE_UPSTREAM_PORT", port.to_string())],
            ..AppOptions::default()
        },
    )
}

async fn fetch_via(app: &TestApp, component_route: &str, url: &str) -> (u16, String) {
    let response = client()
        .get(app.url(&format!("{component_route}/outbound")))
        .query(&[("url", url)])
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn an_allowed_host_is_reached() {
    let port = upstream();
    let app = spawn(port);
    let (status, body) = fetch_via(&app, "/probe", &format!("http://127.0.0.1:{port}/x")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, "200\nupstream says hi");
}

#[tokio::test]
async fn other_hosts_and_ports_are_denied() {
    let port = upstream();
    let other = upstream();
    let app = spawn(port);
    for url in [
        format!("http://127.0.0.1:{other}/x"),
        format!("http://localhost:{port}/x"),
        format!("https://127.0.0.1:{port}/x"),
    ] {
        let (status, body) = fetch_via(&app, "/probe", &url).await;
        assert_eq!(status, 502, "{url} should be denied");
        assert!(body.contains("HttpRequestDenied"), "{url}: {body}");
    }
    // A component with no allowed hosts reaches nothing.
    let (status, body) = fetch_via(&app, "/closed", &format!("http://127.0.0.1:{port}/x")).await;
    assert_eq!(status, 502);
    assert!(body.contains("HttpRequestDenied"), "{body}");
}

#[tokio::test]
async fn service_chaining_reaches_a_private_component_in_process() {
    let port = upstream();
    let app = spawn(port);
    let (status, body) = fetch_via(&app, "/probe", "http://backend.spin.internal/echo-body").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("200\n"), "{body}");
    // Not allowed to chain: denied, like any other host.
    let (status, body) = fetch_via(&app, "/closed", "http://backend.spin.internal/echo-body").await;
    assert_eq!(status, 502, "{body}");
    // And the private component has no public route.
    let direct = client().get(app.url("/echo-body")).send().await.unwrap();
    assert_eq!(direct.status(), 404);
}
