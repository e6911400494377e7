//! `spinstack mail serve`, the catcher on its own (the compose stack's
//! `mail` service): Postmark's `POST /email` kept once per message, `GET
//! /messages` answering them oldest first, and a prompt exit on SIGTERM
//! (it is PID 1 in its container).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn the_standalone_catcher_keeps_lists_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_spinstack"))
        .args([
            "mail",
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--dir",
        ])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{base}/messages")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the catcher did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    for n in 1..=2 {
        let sent = client
            .post(format!("{base}/email"))
            .json(&json!({"To": "ada@example.com", "Subject": format!("Hello {n}"), "TextBody": "hi"}))
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 200);
    }
    let refused = client
        .post(format!("{base}/email"))
        .json(&json!({"Subject": "no recipient"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);

    let listed: Vec<Value> = client
        .get(format!("{base}/messages"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let subjects: Vec<&str> = listed
        .iter()
        .map(|m| m["Subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["Hello 1", "Hello 2"]);
    assert_eq!(
        std::fs::read_dir(dir.path().join("messages"))
            .unwrap()
            .count(),
        2
    );

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    // Not a timing check: one that ignored SIGTERM would never end.
    let give_up = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > give_up {
            child.kill().unwrap();
            panic!("the catcher ignores SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
}
