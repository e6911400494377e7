//! Where the suite finds the application under test.
//!
//! `SPINSTACK_BASE_URL` points the suite at any running deployment (real
//! `spin up`, the compose stack, a remote host). Without it, the suite starts
//! the project's own `spinstack` on the project's `spin.toml` (components
//! already built; the README's test command builds them first) and stops it
//! at the end of the test binary. For an `https://` base URL,
//! `SPINSTACK_CA_CERT` names the PEM roots to trust: the compose stack's
//! development CA, or `/etc/ssl/certs/ca-certificates.crt` for a public
//! certificate. `SPINSTACK_MAIL_URL` names the deployment's mail catcher
//! (its `GET /messages`), for the tests of mailed links.

pub mod accounts;
pub mod mail;
pub mod sse;
pub mod totp;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The base URL of the application under test (no trailing slash).
pub fn base_url() -> String {
    if let Ok(url) = std::env::var("SPINSTACK_BASE_URL") {
        return url.trim_end_matches('/').to_owned();
    }
    static SPAWNED: OnceLock<String> = OnceLock::new();
    SPAWNED.get_or_init(spawn_local_host).clone()
}

/// The mail catcher's base URL, if the deployment has one a test can read:
/// `SPINSTACK_MAIL_URL` (the compose stack's `mail` service), else, for the
/// host this binary starts, its embedded catcher (its port is in the state
/// directory). `None` for a deployment that sends real mail.
pub fn mail_url() -> Option<String> {
    if let Ok(url) = std::env::var("SPINSTACK_MAIL_URL") {
        return Some(url.trim_end_matches('/').to_owned());
    }
    if std::env::var("SPINSTACK_BASE_URL").is_ok() {
        return None;
    }
    base_url();
    let guard = LOCAL_HOST.lock().unwrap_or_else(PoisonError::into_inner);
    let state = guard.as_ref()?.state.clone();
    let port = std::fs::read_to_string(state.join("mail/port")).ok()?;
    Some(format!("http://127.0.0.1:{}", port.trim()))
}

/// The host this test binary started, and its state directory (compiled
/// components, key-value data, the embedded Postgres cluster and S3 data).
struct LocalHost {
    child: Child,
    state: PathBuf,
}

/// Taken (and stopped) by `stop_local_host` when the test binary exits.
static LOCAL_HOST: Mutex<Option<LocalHost>> = Mutex::new(None);

fn spawn_local_host() -> String {
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
        .args(postgres_compat_args())
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
    *LOCAL_HOST.lock().unwrap_or_else(PoisonError::into_inner) = Some(LocalHost { child, state });
    stop_at_exit();
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(url) => url,
        Err(_) => {
            stop_local_host();
            panic!("spinstack did not print its address");
        }
    }
}

/// `SPINSTACK_TEST_POSTGRES_COMPAT=spin-4.0.2` starts the local host in
/// that Postgres compatibility mode (scripts/test.sh), with a short request
/// timeout so what would hang on that host fails in seconds.
fn postgres_compat_args() -> Vec<String> {
    match std::env::var("SPINSTACK_TEST_POSTGRES_COMPAT") {
        Ok(mode) => ["--postgres-compat", &mode, "--request-timeout-ms", "10000"]
            .map(str::to_owned)
            .to_vec(),
        Err(_) => Vec::new(),
    }
}

/// Statics are never dropped, so the host (and its embedded Postgres) would
/// outlive the test binary, holding the inherited stderr open, and its state
/// directory would stay in the temp dir. Stop it when the process exits.
fn stop_at_exit() {
    unsafe extern "C" {
        fn atexit(callback: extern "C" fn()) -> i32;
    }
    extern "C" fn at_exit() {
        stop_local_host();
    }
    static REGISTERED: OnceLock<()> = OnceLock::new();
    REGISTERED.get_or_init(|| {
        // SAFETY: registers a function that neither panics nor unwinds.
        unsafe { atexit(at_exit) };
    });
}

/// Asks the host to stop (SIGTERM: it stops its embedded services first),
/// waits for it (killing it after a while), then deletes its state
/// directory. Runs at exit: must not panic.
fn stop_local_host() {
    let Some(LocalHost { mut child, state }) = LOCAL_HOST
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    else {
        return;
    };
    unsafe extern "C" {
        fn kill(pid: i32, signal: i32) -> i32;
    }
    const SIGTERM: i32 = 15;
    // SAFETY: signals our own child, not yet reaped.
    unsafe { kill(child.id() as i32, SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match child.try_wait() {
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                // Its Postgres gets SIGINT when it dies (PR_SET_PDEATHSIG).
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            Ok(Some(_)) | Err(_) => break,
        }
    }
    remove_state_dir(&state);
}

/// Deletes the state directory, waiting out a Postgres that is still
/// shutting down in it (a host killed without stopping it).
fn remove_state_dir(state: &Path) {
    let postmaster = state.join("postgres/data/postmaster.pid");
    let deadline = Instant::now() + Duration::from_secs(30);
    while postmaster.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for _ in 0..20 {
        match std::fs::remove_dir_all(state) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                std::thread::sleep(Duration::from_millis(100));
            }
            _ => return,
        }
    }
    eprintln!("http-suite: could not delete {}", state.display());
}

pub fn url(path: &str) -> String {
    format!("{}{path}", base_url())
}

pub fn client() -> reqwest::Client {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(30));
    if let Ok(path) = std::env::var("SPINSTACK_CA_CERT") {
        let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("SPINSTACK_CA_CERT {path}: {e}"));
        for cert in reqwest::Certificate::from_pem_bundle(&pem)
            .unwrap_or_else(|e| panic!("SPINSTACK_CA_CERT {path}: not PEM certificates: {e}"))
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().expect("http client")
}
