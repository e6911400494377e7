//! The Postgres server restarts while an application is serving: requests
//! during the restart may fail (as `connection-failed`), and the first
//! request after the server is back succeeds, because the pool throws away
//! its dead connections instead of handing them out. Alone in its own test
//! binary, since it restarts the machine's cluster; it leaves it running.

mod common;
mod pg_support;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::TestApp;
use pg_support::{MANIFEST, PG, ok, query, run_as};
use serde_json::{Value, json};

fn cluster_version() -> String {
    std::fs::read_dir("/etc/postgresql")
        .expect("/etc/postgresql: the system's Postgres cluster")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .max()
        .expect("a Postgres version in /etc/postgresql")
}

fn pg_ctlcluster(action: &str) -> bool {
    Command::new("pg_ctlcluster")
        .args([
            "--skip-systemctl-redirect",
            &cluster_version(),
            "main",
            action,
        ])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn server_ready() -> bool {
    Command::new("pg_isready")
        .args(["-q", "-h", "127.0.0.1", "-p", "5432"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Starts the cluster again if the test leaves it down, however it ends.
struct KeepServerRunning;

impl Drop for KeepServerRunning {
    fn drop(&mut self) {
        if !server_ready() {
            pg_ctlcluster("start");
        }
    }
}

/// Answers of one request: `Ok` with its results or `Err` with the error.
async fn one_request(app: &TestApp, sleep: f64) -> Result<Value, Value> {
    let answer = run_as(
        app,
        "/pg",
        4,
        PG,
        vec![query(
            "SELECT pg_sleep($1), 1::int4 AS one",
            json!([{ "type": "floating64", "value": sleep }]),
        )],
    )
    .await;
    if let Some(error) = answer.get("open_error") {
        return Err(error.clone());
    }
    let result = &answer["results"][0];
    match result.get("error") {
        Some(error) => Err(error.clone()),
        None => Ok(ok(result).clone()),
    }
}

#[tokio::test]
async fn requests_succeed_again_as_soon_as_the_server_is_back() {
    let _guard = KeepServerRunning;
    assert!(server_ready(), "the test needs Postgres on 127.0.0.1:5432");
    let app = Arc::new(TestApp::spawn(MANIFEST));

    // Several pooled connections, all of which the restart will kill.
    let warm: Vec<_> = (0..6).map(|_| one_request(&app, 0.2)).collect();
    for outcome in futures::future::join_all(warm).await {
        outcome.expect("warm-up request");
    }

    // Traffic throughout the restart, bounded in time.
    let stop = Arc::new(AtomicBool::new(false));
    let background = {
        let (app, stop) = (app.clone(), stop.clone());
        tokio::spawn(async move {
            let (mut succeeded, mut failed) = (0, 0);
            let until = Instant::now() + Duration::from_secs(90);
            while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                match one_request(&app, 0.0).await {
                    Ok(_) => succeeded += 1,
                    Err(error) => {
                        assert_eq!(error["kind"], "connection-failed", "{error}");
                        failed += 1;
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (succeeded, failed)
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    let restarted = tokio::task::spawn_blocking(|| pg_ctlcluster("restart"))
        .await
        .unwrap();
    assert!(restarted, "pg_ctlcluster restart failed");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !server_ready() {
        assert!(Instant::now() < deadline, "Postgres did not come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The very next requests succeed, sequential and concurrent.
    for attempt in 0..5 {
        if let Err(error) = one_request(&app, 0.0).await {
            panic!(
                "request {attempt} after the restart failed: {error}\n{}",
                app.log()
            );
        }
    }
    let burst: Vec<_> = (0..8).map(|_| one_request(&app, 0.05)).collect();
    for outcome in futures::future::join_all(burst).await {
        if let Err(error) = outcome {
            panic!("a concurrent request after the restart failed: {error}");
        }
    }

    stop.store(true, Ordering::Relaxed);
    let (succeeded, failed) = background.await.unwrap();
    assert!(
        succeeded > 0,
        "no background request succeeded ({failed} failed)"
    );
    assert!(server_ready());
}
