//! `--max-connections`: past the limit a new connection gets a 503
//! problem+json with `Retry-After` and is closed, at once and without
//! touching a guest; when a served connection ends, its place is free.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{API_AND_HELLO_MANIFEST, AppOptions, TestApp};

fn address(app: &TestApp) -> String {
    app.base_url.trim_start_matches("http://").to_owned()
}

/// Sends one `GET /hello` on a new connection and reads until it closes
/// (both the refusal and a `Connection: close` request end so).
fn hello(app: &TestApp) -> String {
    let mut stream = TcpStream::connect(address(app)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .write_all(b"GET /hello HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// A connection that is served: one keep-alive request answered on it.
fn held_connection(app: &TestApp) -> TcpStream {
    let mut stream = TcpStream::connect(address(app)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .write_all(b"GET /hello HTTP/1.1\r\nhost: test\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    stream
}

#[test]
fn past_the_limit_a_connection_is_told_to_retry_and_a_freed_place_is_reused() {
    let app = TestApp::spawn_with(
        API_AND_HELLO_MANIFEST,
        AppOptions {
            args: vec!["--max-connections".into(), "2".into()],
            ..AppOptions::default()
        },
    );
    let first = held_connection(&app);
    let _second = held_connection(&app);
    // The access log is written in the background: both lines first.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.access_log().len() < 2 {
        assert!(std::time::Instant::now() < deadline, "{}", app.output());
        std::thread::sleep(Duration::from_millis(20));
    }

    let refused = hello(&app);
    let head = refused.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 503"), "{refused}");
    assert!(head.contains("retry-after: 1\r\n"), "{refused}");
    assert!(
        head.contains("content-type: application/problem+json"),
        "{refused}"
    );
    assert!(refused.contains(r#""status":503"#), "{refused}");
    // The refusal never entered the request path: still only the two
    // served requests in the access log, however long one waits.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(app.access_log().len(), 2, "{}", app.output());

    // A served connection ends: its place goes to the next one.
    drop(first);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let answer = hello(&app);
        if answer.starts_with("HTTP/1.1 200") {
            assert!(answer.contains("hello, world\n"), "{answer}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the freed place was not reused: {answer}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
