//! Test harness: builds the fixture components once, then spawns the real
//! `spinstack` binary on a free port with a manifest written for the test,
//! and stops it when the handle is dropped (zero2prod's spawn-the-app).

#![allow(dead_code)]

pub mod api;
pub mod cut_proxy;
pub mod database;
pub mod frontend;
pub mod load;
pub mod mail;
pub mod moto;
pub mod private_postgres;
pub mod redis;
pub mod test_bytes;
pub mod test_ca;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The built fixture components, by crate name (e.g. `fixture-probe`).
pub fn fixture(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(build_fixtures);
    dir.join(format!("{}.wasm", name.replace('-', "_")))
}

/// A component of the application itself (`spin.toml`), by crate name (e.g.
/// `health`), built as its `spin.toml` build command does.
pub fn app_component(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| build_wasm(APP_COMPONENTS));
    dir.join(format!("{}.wasm", name.replace('-', "_")))
}

/// The probe fixture under `/api/...` (so the project policy's api and auth
/// zones apply to it) and hello world at `/hello`: the gateway's and the
/// metrics' tests.
pub const API_AND_HELLO_MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "api-and-hello"

[[trigger.http]]
route = "/api/..."
component = "api"

[[trigger.http]]
route = "/hello"
component = "hello"

[component.api]
source = "{probe}"

[component.hello]
source = "{hello}"
"#;

const FIXTURES: &[&str] = &[
    "fixture-probe",
    "fixture-hello",
    "fixture-pg",
    "fixture-redis",
    "fixture-mqtt",
    "fixture-tcp",
    "fixture-wasi",
];
const APP_COMPONENTS: &[&str] = &["health", "auth", "users", "uploads", "events", "web"];

/// Builds the fixture crates.
fn build_fixtures() -> PathBuf {
    build_wasm(FIXTURES)
}

/// Builds `packages` for wasm32-wasip2 with the `wasm` profile (cargo
/// releases the target directory's lock before running tests, so this
/// shares the one target dir) and returns where the `.wasm` files are.
fn build_wasm(packages: &[&str]) -> PathBuf {
    let root = workspace_root();
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .current_dir(&root)
        .args(["build", "--target", "wasm32-wasip2", "--profile", "wasm"]);
    for package in packages {
        command.args(["-p", package]);
    }
    let status = command
        .status()
        .expect("run cargo to build the wasm components");
    assert!(status.success(), "building {packages:?} failed");
    target_dir.join("wasm32-wasip2/wasm")
}

pub struct TestApp {
    pub base_url: String,
    pub dir: tempfile::TempDir,
    child: Child,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    stdout: std::sync::Arc<std::sync::Mutex<String>>,
}

#[derive(Default)]
pub struct AppOptions<'a> {
    pub env: Vec<(&'a str, String)>,
    pub args: Vec<String>,
    /// Reuse this directory (state survives restarts); a fresh one otherwise.
    pub dir: Option<tempfile::TempDir>,
    pub files: Vec<(&'a str, &'a str)>,
}

/// The command to run the host on `manifest` with `options`.
fn command(manifest: &Path, options: &AppOptions) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spinstack"));
    command
        .arg("up")
        .arg("-f")
        .arg(manifest)
        .args(["--listen", "127.0.0.1:0"])
        // One compile cache for every test: each fixture is compiled once.
        .arg("--cache-dir")
        .arg(workspace_root().join("target/spinstack-test-cache"))
        .args(&options.args)
        .args(postgres_compat_args(&options.args))
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in &options.env {
        command.env(key, value);
    }
    command
}

/// With `SPINSTACK_TEST_POSTGRES_COMPAT` set (e.g. `spin-4.0.2`), every host
/// here runs in that Postgres compatibility mode (scripts/test.sh runs the
/// app's tests so), with a short request timeout: a statement that would
/// hang on that host fails its test in seconds. A test's own flags win.
fn postgres_compat_args(args: &[String]) -> Vec<String> {
    let Ok(mode) = std::env::var("SPINSTACK_TEST_POSTGRES_COMPAT") else {
        return Vec::new();
    };
    let mut extra = Vec::new();
    if !args.iter().any(|a| a == "--postgres-compat") {
        extra.extend(["--postgres-compat".to_owned(), mode]);
    }
    if !args.iter().any(|a| a == "--request-timeout-ms") {
        extra.extend(["--request-timeout-ms".to_owned(), "10000".to_owned()]);
    }
    extra
}

fn write_project(manifest: &str, options: &mut AppOptions) -> (tempfile::TempDir, PathBuf) {
    let dir = options
        .dir
        .take()
        .unwrap_or_else(|| tempfile::tempdir().unwrap());
    let manifest_path = dir.path().join("spin.toml");
    let manifest = manifest
        .replace("{probe}", fixture("fixture-probe").to_str().unwrap())
        .replace("{hello}", fixture("fixture-hello").to_str().unwrap())
        .replace("{pg}", fixture("fixture-pg").to_str().unwrap())
        .replace("{redis}", fixture("fixture-redis").to_str().unwrap())
        .replace("{mqtt}", fixture("fixture-mqtt").to_str().unwrap())
        .replace("{tcp}", fixture("fixture-tcp").to_str().unwrap())
        .replace("{wasi}", fixture("fixture-wasi").to_str().unwrap());
    // Only the tests that run the app's own components build them.
    let mut manifest = if manifest.contains("{health}") {
        manifest.replace("{health}", app_component("health").to_str().unwrap())
    } else {
        manifest
    };
    for name in APP_COMPONENTS {
        let placeholder = format!("{{app:{name}}}");
        if manifest.contains(&placeholder) {
            manifest = manifest.replace(&placeholder, app_component(name).to_str().unwrap());
        }
    }
    frontend::link_dist(&manifest, dir.path());
    std::fs::write(&manifest_path, manifest).unwrap();
    for (path, contents) in &options.files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    (dir, manifest_path)
}

impl TestApp {
    pub fn spawn(manifest: &str) -> TestApp {
        Self::spawn_with(manifest, AppOptions::default())
    }

    pub fn spawn_with(manifest: &str, mut options: AppOptions) -> TestApp {
        let (dir, manifest_path) = write_project(manifest, &mut options);
        let mut child = command(&manifest_path, &options)
            .spawn()
            .expect("spawn spinstack");

        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = stderr.clone();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });

        let stdout = child.stdout.take().unwrap();
        let stdout_log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = stdout_log.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(Ok(line)) = lines.next() {
                if let Some(url) = line.strip_prefix("Serving ") {
                    let _ = tx.send(url.trim().to_owned());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let base_url = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "spinstack did not start; its log:\n{}",
                    stderr.lock().unwrap()
                );
            }
        };
        TestApp {
            base_url,
            dir,
            child,
            stderr,
            stdout: stdout_log,
        }
    }

    /// Runs the host on `manifest` expecting it to refuse to start; returns
    /// what it printed on stderr.
    pub fn start_failure(manifest: &str, mut options: AppOptions) -> String {
        let (_dir, manifest_path) = write_project(manifest, &mut options);
        let mut child = command(&manifest_path, &options)
            .spawn()
            .expect("spawn spinstack");
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let output = child.wait_with_output().unwrap();
                assert!(
                    !status.success(),
                    "spinstack started but should have refused"
                );
                return String::from_utf8_lossy(&output.stderr).into_owned();
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("spinstack neither started nor failed");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Everything the host printed so far: the operator log (stderr, where
    /// the components' own output goes too) and the access log (stdout).
    pub fn output(&self) -> String {
        format!("{}{}", self.log(), self.stdout.lock().unwrap())
    }

    /// The state directory (`.spinstack` beside the test's manifest).
    pub fn state_dir(&self) -> std::path::PathBuf {
        self.dir.path().join(".spinstack")
    }

    /// The rest of the first stdout line that starts with `prefix`, waiting
    /// up to 10 s for it (lines the host prints after "Serving").
    pub fn printed(&self, prefix: &str) -> Option<String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let found = self
                .stdout
                .lock()
                .unwrap()
                .lines()
                .find_map(|line| line.strip_prefix(prefix).map(str::to_owned));
            if found.is_some() || std::time::Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The access log so far: one JSON object per request, parsed.
    pub fn access_log(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lock()
            .unwrap()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The host's process id (its memory and descriptors are in /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends the host `signal` (`TERM`, `INT`, ...).
    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{signal}");
    }

    /// The host's exit status once it has exited, waiting up to `limit`;
    /// `None` if it is still running then.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Stops the host gracefully (SIGTERM) and returns its directory, so a
    /// test can start it again on the same state.
    pub fn stop(mut self) -> tempfile::TempDir {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }

    /// Kills the host with SIGKILL (a crash: no drain, nothing of its own
    /// runs) and returns its directory, so a test can start it again on the
    /// state it left.
    pub fn kill(mut self) -> tempfile::TempDir {
        // `Child::kill` is SIGKILL on Unix.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The tests' HTTP client: HTTP/1.1, or HTTP/2 with prior knowledge when
/// `SPINSTACK_TEST_HTTP=2` (scripts/test.sh runs the gateway's tests both
/// ways: every gateway behaviour must be the same on both protocols).
pub fn client() -> reqwest::Client {
    match std::env::var("SPINSTACK_TEST_HTTP").as_deref() {
        Ok("2") => h2c_client(),
        _ => reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap(),
    }
}

/// HTTP/2 in cleartext with prior knowledge (no upgrade, no ALPN).
pub fn h2c_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .http2_prior_knowledge()
        .build()
        .unwrap()
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
