//! A guest that traps, loops forever, exhausts its memory or its stack
//! fails its own request and nothing else, alone or all at once under load,
//! and every instance slot comes back.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::load::{Load, Outcome};
use common::{AppOptions, TestApp, client};

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "isolation-test"

[[trigger.http]]
route = "/probe/..."
component = "probe"

[[trigger.http]]
route = "/hello"
component = "hello"

[component.probe]
source = "{probe}"

[component.hello]
source = "{hello}"
"#;

fn spawn() -> TestApp {
    TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args: vec![
                "--request-timeout-ms".into(),
                "1000".into(),
                "--max-instance-memory-mib".into(),
                "64".into(),
                "--admin-listen".into(),
                "127.0.0.1:0".into(),
            ],
            ..AppOptions::default()
        },
    )
}

async fn assert_still_serving(app: &TestApp) {
    let http = client();
    let hello = http.get(app.url("/hello")).send().await.unwrap();
    assert_eq!(hello.status(), 200);
    assert_eq!(hello.text().await.unwrap(), "hello, world\n");
    let probe = http.get(app.url("/probe/headers")).send().await.unwrap();
    assert_eq!(probe.status(), 200);
}

#[tokio::test]
async fn a_trap_fails_only_its_request() {
    let app = spawn();
    let response = client().get(app.url("/probe/trap")).send().await.unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body = response.text().await.unwrap();
    assert!(
        !body.contains("panicked"),
        "no guest internals leak: {body}"
    );
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn an_infinite_loop_hits_the_deadline() {
    let app = spawn();
    let started = std::time::Instant::now();
    let response = client().get(app.url("/probe/loop")).send().await.unwrap();
    assert_eq!(response.status(), 504);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_memory_bomb_fails_only_its_request() {
    let app = spawn();
    let response = client().get(app.url("/probe/memory")).send().await.unwrap();
    assert_eq!(response.status(), 500);
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn loops_on_every_slot_do_not_stop_other_components() {
    // Fill the host with looping guests; fast requests still get through
    // (the loops yield to the scheduler on each epoch tick).
    let app = spawn();
    let http = client();
    let loops: Vec<_> = (0..4)
        .map(|_| {
            let request = http.get(app.url("/probe/loop")).send();
            tokio::spawn(request)
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_still_serving(&app).await;
    for handle in loops {
        assert_eq!(handle.await.unwrap().unwrap().status(), 504);
    }
}

#[tokio::test]
async fn a_full_host_answers_503_with_retry_after_and_recovers() {
    // One slot, a short queue wait: a looping guest holds the slot until
    // its deadline, and everything else is turned away meanwhile.
    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args: vec![
                "--max-concurrent".into(),
                "1".into(),
                "--request-timeout-ms".into(),
                "2000".into(),
                "--max-queue-wait-ms".into(),
                "100".into(),
            ],
            ..AppOptions::default()
        },
    );
    let http = client();
    let looping = tokio::spawn(http.get(app.url("/probe/loop")).send());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let turned_away = http.get(app.url("/hello")).send().await.unwrap();
    assert_eq!(turned_away.status(), 503);
    assert_eq!(
        turned_away.headers()["content-type"],
        "application/problem+json"
    );
    let retry_after: u64 = turned_away.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_eq!(looping.await.unwrap().unwrap().status(), 504);
    // The slot is free again.
    let hello = http.get(app.url("/hello")).send().await.unwrap();
    assert_eq!(hello.status(), 200);
}

/// The one `spinstack_instance_slots_in_use` sample of a metrics scrape.
async fn slots_in_use(metrics: &str) -> f64 {
    let text = client()
        .get(metrics)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("spinstack_instance_slots_in_use "))
        .expect("the slots gauge")
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_guest_fault_at_once_under_load_fails_only_its_own_requests() {
    let app = Arc::new(spawn());
    let metrics = app.printed("Metrics at ").expect("the admin listener");
    // Each worker cycles through the faults and a healthy request between
    // each, so faults and healthy requests are always running side by side.
    const CYCLE: [(&str, &str, u16); 8] = [
        ("trap", "/probe/trap", 500),
        ("hello", "/hello", 200),
        ("loop", "/probe/loop", 504),
        ("hello", "/hello", 200),
        ("memory", "/probe/memory", 500),
        ("hello", "/hello", 200),
        ("stack", "/probe/stack", 500),
        ("hello", "/hello", 200),
    ];
    let http = client();
    let shared = app.clone();
    let load = Load::start(8, 1_000, Duration::from_secs(60), move |n| {
        let (http, app) = (http.clone(), shared.clone());
        async move {
            let (label, path, _) = CYCLE[n as usize % CYCLE.len()];
            let outcome = match http.get(app.url(path)).send().await {
                Ok(response) => Some(response.status().as_u16()),
                Err(_) => None,
            };
            Outcome {
                label,
                status: outcome,
                detail: String::new(),
                retry_after: false,
                acknowledged: None,
                at: std::time::Instant::now(),
            }
        }
    });
    tokio::time::sleep(Duration::from_secs(5)).await;
    let report = load.finish().await;
    let summary = report.summary();
    eprintln!("guest faults under load:\n{summary}");
    for (label, _, status) in CYCLE {
        assert!(
            report.of(label).count() > 0,
            "no {label} request ran\n{summary}"
        );
        let wrong: Vec<_> = report
            .of(label)
            .filter(|o| o.status != Some(status))
            .collect();
        assert!(
            wrong.is_empty(),
            "{label}: {} answer(s) other than {status}\n{summary}",
            wrong.len()
        );
    }
    assert_still_serving(&app).await;
    // Every slot is back once the last answer is out (the gauge falls as
    // each body finishes, a moment after the client has it).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while slots_in_use(&metrics).await != 0.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "instance slots still in use after the load\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
