//! Where the suite finds the application under test.
//!
//! `SPINSTACK_BASE_URL` points the suite at any running deployment (real
//! `spin up`, the compose stack, a remote host). Without it, the suite starts
//! the project's own `spinstack` on the project's `spin.toml` (components
//! already built; the README's test command builds them first) and stops it
//! at the end of the test binary.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

struct Spawned {
    url: String,
    _child: ChildGuard,
}

struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The base URL of the application under test (no trailing slash).
pub fn base_url() -> String {
    if let Ok(url) = std::env::var("SPINSTACK_BASE_URL") {
        return url.trim_end_matches('/').to_owned();
    }
    static SPAWNED: OnceLock<Spawned> = OnceLock::new();
    SPAWNED.get_or_init(spawn_local_host).url.clone()
}

fn spawn_local_host() -> Spawned {
    let root = workspace_root();
    let binary = std::env::var("SPINSTACK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/debug/spinstack"));
    assert!(
        binary.exists(),
        "no spinstack binary at {} (build it, or set SPINSTACK_BIN or SPINSTACK_BASE_URL)",
        binary.display()
    );
    let state = std::env::temp_dir().join(format!("http-suite-{}", std::process::id()));
    let mut child = Command::new(binary)
        .current_dir(&root)
        .args([
            "up",
            "-f",
            "spin.toml",
            "--listen",
            "127.0.0.1:0",
            "--state-dir",
        ])
        .arg(&state)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn spinstack");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("Serving ") {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    stop_at_exit(child.id());
    let url = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("spinstack did not print its address");
    Spawned {
        url,
        _child: ChildGuard(child),
    }
}

/// Statics are never dropped, so `ChildGuard` alone would leave the host
/// (and its embedded Postgres) running after the test binary exits, holding
/// the inherited stderr open. Ask it to stop (SIGTERM: it stops its services)
/// when the process exits.
fn stop_at_exit(pid: u32) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static HOST: AtomicU32 = AtomicU32::new(0);
    unsafe extern "C" {
        fn atexit(callback: extern "C" fn()) -> i32;
        fn kill(pid: i32, signal: i32) -> i32;
    }
    extern "C" fn stop_host() {
        let pid = HOST.load(Ordering::SeqCst);
        if pid != 0 {
            // SAFETY: signals our own child; 15 is SIGTERM.
            unsafe { kill(pid as i32, 15) };
        }
    }
    HOST.store(pid, Ordering::SeqCst);
    // SAFETY: registers a function that only reads an atomic and sends a signal.
    unsafe { atexit(stop_host) };
}

pub fn url(path: &str) -> String {
    format!("{}{path}", base_url())
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}
