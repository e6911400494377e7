//! A guest that traps, loops forever or exhausts its memory fails its own
//! request and nothing else.

mod common;

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
