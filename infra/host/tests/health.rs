//! `GET /health` of the real application (the project's `spin.toml` and
//! `components/health`) against backing services each test owns and stops
//! for real: a private `redis-server` (cache), the embedded Postgres of a
//! second `spinstack` (database) and the embedded S3 endpoint of a second
//! `spinstack` (storage). All up: 200 with every check `ok`. One stopped: 503,
//! a problem document naming that check, and only that one, as failing
//! (API.md, Gateway; `openapi.yaml`, `HealthProblem`). Started again: 200.
//! The services the test does not stop are the app's own embedded ones.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::redis::{Redis, accepts};
use common::{AppOptions, TestApp, client};
use serde_json::{Value, json};

const CHECKS: [&str; 3] = ["cache", "database", "storage"];

/// The project's `spin.toml`, its components built for the test.
fn app_manifest() -> String {
    let manifest = common::api::project_manifest();
    assert!(
        manifest.contains("source = \"{app:health}\""),
        "spin.toml no longer has the health component"
    );
    manifest
}

/// One answer of `GET /health`.
struct Answer {
    status: u16,
    content_type: String,
    cache_control: String,
    retry_after: Option<String>,
    body: Value,
}

async fn health(app: &TestApp) -> Answer {
    let response = client().get(app.url("/health")).send().await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let content_type = header("content-type").unwrap_or_default();
    let cache_control = header("cache-control").unwrap_or_default();
    let retry_after = header("retry-after");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("/health answered {status} with a non-JSON body ({e}): {text}"));
    Answer {
        status,
        content_type,
        cache_control,
        retry_after,
        body,
    }
}

fn is_healthy(answer: &Answer) -> bool {
    answer.status == 200
        && answer.content_type == "application/json; charset=utf-8"
        && answer.cache_control == "no-store"
        && answer.body
            == json!({
                "status": "ok",
                "checks": {"database": "ok", "cache": "ok", "storage": "ok"},
            })
}

/// 503 with `failing`, and only `failing`, reported as down.
fn fails_only(answer: &Answer, failing: &str) -> bool {
    let checks: serde_json::Map<String, Value> = CHECKS
        .iter()
        .map(|name| {
            let state = if *name == failing { "error" } else { "ok" };
            ((*name).to_owned(), json!(state))
        })
        .collect();
    answer.status == 503
        && answer.content_type == "application/problem+json"
        && answer.cache_control == "no-store"
        && answer
            .retry_after
            .as_deref()
            .and_then(|s| s.parse::<u32>().ok())
            .is_some_and(|seconds| seconds >= 1)
        && answer.body
            == json!({
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": format!("Failing check: {failing}."),
                "checks": checks,
            })
}

fn describe(answer: &Answer) -> String {
    format!(
        "{} content-type={:?} cache-control={:?} retry-after={:?} {}",
        answer.status, answer.content_type, answer.cache_control, answer.retry_after, answer.body
    )
}

async fn assert_healthy(app: &TestApp) {
    let answer = health(app).await;
    assert!(
        is_healthy(&answer),
        "expected 200 with every check ok, got {}\n{}",
        describe(&answer),
        app.log()
    );
}

async fn assert_fails_only(app: &TestApp, failing: &str) {
    let answer = health(app).await;
    assert!(
        fails_only(&answer, failing),
        "expected 503 naming {failing} alone, got {}\n{}",
        describe(&answer),
        app.log()
    );
    // Why it failed is in the log, not in the answer (the log is read from
    // the host's stderr as it comes: give it a moment).
    let line = format!("health: check {failing} failed");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !app.log().contains(&line) {
        assert!(
            Instant::now() < deadline,
            "{line:?} not logged\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The service under test is back: /health turns 200 within a bounded time
/// (a client may reconnect lazily), answering 503 for `failing` alone
/// until then.
async fn assert_recovers(app: &TestApp, failing: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = health(app).await;
        if is_healthy(&answer) {
            return;
        }
        assert!(
            fails_only(&answer, failing),
            "while {failing} comes back: {}",
            describe(&answer)
        );
        assert!(
            Instant::now() < deadline,
            "/health still failing {failing} 30 s after it came back\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------- cache

#[tokio::test]
async fn cache_down_is_a_503_naming_cache() {
    let mut redis = Redis::start();
    let config = tempfile::tempdir().unwrap();
    let config_file = redis.runtime_config(config.path());
    let app = TestApp::spawn_with(
        &app_manifest(),
        AppOptions {
            args: vec![
                "--runtime-config-file".into(),
                config_file.to_str().unwrap().into(),
            ],
            ..AppOptions::default()
        },
    );
    assert_healthy(&app).await;

    redis.kill();
    assert_fails_only(&app, "cache").await;
    // Still down: still a 503, not a hang or a crash.
    assert_fails_only(&app, "cache").await;

    redis.restart();
    assert_recovers(&app, "cache").await;
}

// ------------------------------------------------------------- database

/// A `spinstack` with no component of interest, there for its embedded
/// Postgres (or S3 endpoint), its state in a directory the test keeps so it
/// can be started again with the same port and credentials.
struct ServiceHost {
    manifest: &'static str,
    state: tempfile::TempDir,
    host: Option<TestApp>,
}

impl ServiceHost {
    fn start(manifest: &'static str) -> ServiceHost {
        let state = tempfile::tempdir().unwrap();
        let host = Some(Self::spawn(manifest, state.path()));
        ServiceHost {
            manifest,
            state,
            host,
        }
    }

    fn spawn(manifest: &str, state: &Path) -> TestApp {
        TestApp::spawn_with(
            manifest,
            AppOptions {
                args: vec!["--state-dir".into(), state.to_str().unwrap().into()],
                ..AppOptions::default()
            },
        )
    }

    fn path(&self, file: &str) -> PathBuf {
        self.state.path().join(file)
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path(file))
            .unwrap_or_else(|e| panic!("{}: {e}", self.path(file).display()))
            .trim()
            .to_owned()
    }

    fn port(&self, service: &str) -> u16 {
        self.read(&format!("{service}/port")).parse().unwrap()
    }

    /// Kills the host (SIGKILL).
    fn kill(&mut self) {
        drop(self.host.take());
    }

    /// Starts the host again on the same state.
    fn restart(&mut self) {
        self.kill();
        self.host = Some(Self::spawn(self.manifest, self.state.path()));
    }
}

const POSTGRES_HOST: &str = r#"
spin_manifest_version = 2
[application]
name = "health-test-postgres"
[variables]
database_url = { default = "", secret = true }
database_host = { required = true }
[[trigger.http]]
route = "/..."
component = "hello"
[component.hello]
source = "{hello}"
"#;

/// The pid in the cluster's `postmaster.pid`, while it is there.
fn postmaster_pid(postgres: &ServiceHost) -> Option<i32> {
    let text = std::fs::read_to_string(postgres.path("postgres/data/postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}

#[tokio::test]
async fn database_down_is_a_503_naming_database() {
    let mut postgres = ServiceHost::start(POSTGRES_HOST);
    let port = postgres.port("postgres");
    let url = format!(
        "postgres://spinstack:{}@127.0.0.1:{port}/app",
        postgres.read("postgres/password")
    );
    let app = TestApp::spawn_with(
        &app_manifest(),
        AppOptions {
            env: vec![
                ("SPIN_VARIABLE_DATABASE_URL", url),
                ("SPIN_VARIABLE_DATABASE_HOST", format!("127.0.0.1:{port}")),
            ],
            ..AppOptions::default()
        },
    );
    // The app uses the test's server, not one of its own.
    assert!(!app.dir.path().join(".spinstack/postgres").exists());
    assert_healthy(&app).await;

    // Stop the server itself (a fast shutdown, as `pg_ctl stop -m fast`);
    // its host stays up.
    let pid = postmaster_pid(&postgres).expect("postmaster.pid");
    // SAFETY: signals the Postgres server this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    wait_until("Postgres has stopped", || {
        postmaster_pid(&postgres).is_none() && !accepts(port)
    });
    assert_fails_only(&app, "database").await;

    // Its host starts it again, on the same port.
    postgres.restart();
    assert_eq!(postgres.port("postgres"), port);
    assert_recovers(&app, "database").await;
}

// -------------------------------------------------------------- storage

const S3_HOST: &str = r#"
spin_manifest_version = 2
[application]
name = "health-test-s3"
[variables]
s3_endpoint = { required = true }
s3_region = { default = "" }
s3_bucket = { default = "" }
s3_access_key_id = { default = "" }
s3_secret_access_key = { default = "", secret = true }
[[trigger.http]]
route = "/..."
component = "hello"
[component.hello]
source = "{hello}"
"#;

#[tokio::test]
async fn storage_down_is_a_503_naming_storage() {
    let mut s3 = ServiceHost::start(S3_HOST);
    let port = s3.port("s3");
    let credentials: Value = serde_json::from_str(&s3.read("s3/credentials.json")).unwrap();
    let app = TestApp::spawn_with(
        &app_manifest(),
        AppOptions {
            env: vec![
                (
                    "SPIN_VARIABLE_S3_ENDPOINT",
                    format!("http://127.0.0.1:{port}"),
                ),
                ("SPIN_VARIABLE_S3_REGION", "us-east-1".into()),
                ("SPIN_VARIABLE_S3_BUCKET", "app".into()),
                (
                    "SPIN_VARIABLE_S3_ACCESS_KEY_ID",
                    credentials["access_key_id"].as_str().unwrap().into(),
                ),
                (
                    "SPIN_VARIABLE_S3_SECRET_ACCESS_KEY",
                    credentials["secret_access_key"].as_str().unwrap().into(),
                ),
            ],
            ..AppOptions::default()
        },
    );
    // The app uses the test's endpoint, not one of its own.
    assert!(!app.dir.path().join(".spinstack/s3").exists());
    assert_healthy(&app).await;

    s3.kill();
    assert!(!accepts(port), "the S3 endpoint outlived its host");
    assert_fails_only(&app, "storage").await;

    s3.restart();
    assert_eq!(s3.port("s3"), port);
    assert_recovers(&app, "storage").await;
}
