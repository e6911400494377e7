//! The gateway in front of every route (API.md, Gateway section): rate
//! limits, security headers, request ids, body limits, compression, and
//! the JSON access log.

mod common;

use std::io::Read;

use common::{AppOptions, TestApp, client};

use common::API_AND_HELLO_MANIFEST as MANIFEST;

/// Starts the host with the project's own policy file, or `--gateway FLAG`.
fn spawn(gateway: Option<&str>) -> TestApp {
    let policy = common::workspace_root().join("infra/gateway.toml");
    let flag = gateway.map_or_else(|| policy.to_str().unwrap().to_owned(), str::to_owned);
    TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args: vec!["--gateway".into(), flag],
            ..AppOptions::default()
        },
    )
}

fn assert_security_headers(response: &reqwest::Response) {
    let h = response.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(h.contains_key("x-request-id"));
    // Plain HTTP: no HSTS.
    assert!(!h.contains_key("strict-transport-security"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn(None);
    let http = client();
    // From a component, from the host's own 404, and from a 429.
    let ok = http.get(app.url("/hello")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_security_headers(&ok);
    let missing = http.get(app.url("/nowhere")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_security_headers(&missing);
    // A component cannot weaken them.
    let weakened = http
        .get(app.url("/api/header/x-frame-options/ALLOWALL"))
        .send()
        .await
        .unwrap();
    assert_eq!(weakened.headers()["x-frame-options"], "DENY");
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated_and_reach_the_component() {
    let app = spawn(None);
    let http = client();
    let echoed = http
        .get(app.url("/api/headers"))
        .header("x-request-id", "trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-42");
    let body: serde_json::Value = echoed.json().await.unwrap();
    assert_eq!(body["headers"]["x-request-id"], "trace-42");

    for bad in ["has space", &"x".repeat(300)] {
        let replaced = http
            .get(app.url("/hello"))
            .header("x-request-id", bad)
            .send()
            .await
            .unwrap();
        let id = replaced.headers()["x-request-id"].to_str().unwrap();
        assert_ne!(id, bad);
        assert_eq!(id.len(), 36, "a UUID: {id}");
    }
}

#[tokio::test]
async fn auth_routes_allow_five_per_minute_with_burst_then_429() {
    let app = spawn(None);
    let http = client();
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..8 {
        let response = http.post(app.url("/api/auth/login")).send().await.unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json"
            );
            assert_security_headers(&response);
            retry_after = Some(
                response.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap(),
            );
        }
    }
    // 1 + burst 5 admitted at once (nodelay), then refused.
    assert!(statuses[..6].iter().all(|s| *s != 429), "{statuses:?}");
    assert_eq!(&statuses[6..], &[429, 429]);
    let retry_after = retry_after.unwrap();
    assert!((1..=13).contains(&retry_after), "Retry-After {retry_after}");
    // Other API routes have their own, larger zone.
    let api = http.get(app.url("/api/headers")).send().await.unwrap();
    assert_eq!(api.status(), 200);
    // A different client address has its own budget.
    let other = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let url = app.url("/api/auth/login").to_owned();
    let response = other.post(url).send().await.unwrap();
    assert_ne!(response.status(), 429);
}

#[tokio::test]
async fn the_api_zone_admits_its_burst_and_refuses_beyond() {
    let app = spawn(None);
    let http = client();
    let mut refused = 0;
    let mut admitted = 0;
    for _ in 0..120 {
        match http
            .get(app.url("/api/headers"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
        {
            429 => refused += 1,
            _ => admitted += 1,
        }
    }
    // 30 r/s with burst 50: at least 51 admitted; 120 requests in well
    // under 2 s cannot all be.
    assert!(admitted >= 51, "admitted {admitted}");
    assert!(refused > 0, "refused {refused}");
}

#[tokio::test]
async fn gateway_none_keeps_the_policy_but_drops_rate_limits() {
    let app = spawn(Some("none"));
    let http = client();
    for _ in 0..20 {
        let response = http.post(app.url("/api/auth/login")).send().await.unwrap();
        assert_ne!(response.status(), 429);
        assert_security_headers(&response);
    }
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_before_the_component() {
    let app = spawn(Some("none"));
    let http = client();
    let limit = 1024 * 1024;
    // Declared too large: refused without reading it.
    let declared = http
        .post(app.url("/api/echo-body"))
        .body(vec![b'a'; limit + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), 413);
    assert_eq!(
        declared.headers()["content-type"],
        "application/problem+json"
    );
    // Exactly the limit passes, byte for byte.
    let exact = http
        .post(app.url("/api/echo-body"))
        .body(vec![b'b'; limit])
        .send()
        .await
        .unwrap();
    assert_eq!(exact.status(), 200);
    assert_eq!(exact.bytes().await.unwrap().len(), limit);
    // Chunked (no length) and growing past the limit mid-stream: 413 too.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(vec![b'c'; 64 * 1024])).collect();
    let chunked = http
        .post(app.url("/api/echo-body"))
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(chunked.status(), 413);
    // The declared-too-large request never reached a component.
    let log = app.access_log();
    let refused = log
        .iter()
        .find(|line| line["status"] == 413 && line["component"] == "-")
        .expect("an access-log line for the refused body");
    assert_eq!(refused["path"], "/api/echo-body");
}

fn gunzip(bytes: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .unwrap();
    out
}

fn unbrotli(bytes: &[u8]) -> String {
    let mut out = String::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_string(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn text_is_compressed_when_accepted_and_worth_it() {
    let app = spawn(Some("none"));
    let http = client();
    let expected: String = "spinstack ".chars().cycle().take(20_000).collect();

    let gzip = http
        .get(app.url("/api/text/20000"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    assert_eq!(gzip.headers()["vary"], "accept-encoding");
    let bytes = gzip.bytes().await.unwrap();
    assert!(bytes.len() < 2_000, "compressed to {}", bytes.len());
    assert_eq!(gunzip(&bytes), expected);

    let br = http
        .get(app.url("/api/text/20000"))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(unbrotli(&br.bytes().await.unwrap()), expected);

    // Not accepted, too small, or HEAD: sent as is (Vary still says why).
    let identity = http.get(app.url("/api/text/20000")).send().await.unwrap();
    assert!(!identity.headers().contains_key("content-encoding"));
    assert_eq!(identity.headers()["vary"], "accept-encoding");
    assert_eq!(identity.text().await.unwrap(), expected);
    let small = http
        .get(app.url("/api/text/100"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(!small.headers().contains_key("content-encoding"));
    // A small body of undeclared length (the usual component response) is
    // measured first and sent uncompressed with its exact length.
    let undeclared = http
        .get(app.url("/api/headers"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(!undeclared.headers().contains_key("content-encoding"));
    let length: usize = undeclared.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(undeclared.bytes().await.unwrap().len(), length);
    let head = http
        .head(app.url("/api/text/20000"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(!head.headers().contains_key("content-encoding"));
    // Binary bodies are never compressed.
    let binary = http
        .post(app.url("/api/echo-body"))
        .header("accept-encoding", "gzip")
        .body(vec![0u8; 10_000])
        .send()
        .await
        .unwrap();
    assert!(!binary.headers().contains_key("content-encoding"));
}

#[tokio::test]
async fn one_json_access_log_line_per_request() {
    let app = spawn(None);
    let http = client();
    http.get(app.url("/hello"))
        .header("x-request-id", "log-me")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The access log is written in the background: give it a moment.
    let mut line = None;
    for _ in 0..50 {
        line = app
            .access_log()
            .into_iter()
            .find(|l| l["request_id"] == "log-me");
        if line.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let line = line.expect("an access log line for the request");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["path"], "/hello");
    assert_eq!(line["status"], 200);
    assert_eq!(line["component"], "hello");
    assert_eq!(line["client"], "127.0.0.1");
    assert_eq!(line["bytes"], 13);
    assert_eq!(line["rate_limit"], "none");
    assert!(line["duration_ms"].as_f64().unwrap() > 0.0);
}

/// The access-log line of the request sent with `x-request-id: id`.
async fn access_line(app: &TestApp, id: &str) -> serde_json::Value {
    for _ in 0..100 {
        if let Some(line) = app.access_log().into_iter().find(|l| l["request_id"] == id) {
            return line;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no access log line for {id}");
}

#[tokio::test]
async fn bodies_sent_whole_are_logged_complete() {
    let app = spawn(Some("none"));
    let http = client();
    // A component's Content-Length body (hyper stops polling at the length),
    // a HEAD (no body sent at all), a streamed body, and a gateway-sized one.
    let cases = [
        ("GET", "/api/text/20000", "with-length", 20_000),
        ("HEAD", "/api/text/20000", "head", 0),
        ("GET", "/hello", "streamed", 13),
        ("GET", "/nowhere", "host-404", -1),
    ];
    for (method, path, id, _) in cases {
        let response = http
            .request(method.parse().unwrap(), app.url(path))
            .header("x-request-id", id)
            .send()
            .await
            .unwrap();
        response.bytes().await.unwrap();
    }
    for (_, _, id, bytes) in cases {
        let line = access_line(&app, id).await;
        assert_eq!(line["complete"], true, "{id}: {line}");
        if bytes >= 0 {
            assert_eq!(line["bytes"], bytes, "{id}: {line}");
        }
    }
}

#[tokio::test]
async fn an_invalid_policy_refuses_start_up_and_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let policy = std::fs::read_to_string(common::workspace_root().join("infra/gateway.toml"))
        .unwrap()
        .replace("rate = \"5r/m\"", "rate = \"5 per minute\"");
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, policy).unwrap();
    let stderr = TestApp::start_failure(
        MANIFEST,
        AppOptions {
            args: vec!["--gateway".into(), path.to_str().unwrap().into()],
            ..AppOptions::default()
        },
    );
    assert!(stderr.contains("line "), "stderr: {stderr}");
    assert!(
        stderr.contains("5 per minute") || stderr.contains("rate"),
        "stderr: {stderr}"
    );
}

/// Reads one HTTP/1.1 response (sized or chunked) from `stream`.
async fn read_response(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("a response within 10 s")
            .unwrap();
        assert!(
            n > 0,
            "connection closed after {:?}",
            String::from_utf8_lossy(&bytes)
        );
        bytes.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let Some(end) = text.find("\r\n\r\n") else {
            continue;
        };
        let head = text[..end].to_ascii_lowercase();
        if head.contains("transfer-encoding: chunked") {
            if text.ends_with("0\r\n\r\n") {
                return text;
            }
            continue;
        }
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length: "))
            .map_or(0, |v| v.trim().parse().unwrap());
        if bytes.len() >= end + 4 + length {
            return text;
        }
    }
}

#[tokio::test]
async fn a_refusal_answered_before_the_body_arrives_keeps_the_connection() {
    use tokio::io::AsyncWriteExt;
    let app = spawn(Some("none"));
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    // The host's own 404 comes back before a byte of the body is sent...
    stream
        .write_all(b"POST /no-such-route HTTP/1.1\r\nHost: t\r\nContent-Length: 50000\r\n\r\n")
        .await
        .unwrap();
    let refused = read_response(&mut stream).await;
    assert!(refused.starts_with("HTTP/1.1 404"), "{refused}");
    assert!(
        !refused.to_ascii_lowercase().contains("connection: close"),
        "{refused}"
    );
    // ...then the body follows, and the same connection serves the next request.
    stream.write_all(&vec![b'z'; 50_000]).await.unwrap();
    stream
        .write_all(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let next = read_response(&mut stream).await;
    assert!(next.starts_with("HTTP/1.1 200"), "{next}");
}
