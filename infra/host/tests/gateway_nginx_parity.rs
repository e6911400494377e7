//! The same timed request sequence (bursts, steady rates, idle gaps, several
//! client addresses) through real nginx running the rendered configuration
//! and through spinstack's own gateway: the accept/reject decisions must be
//! identical.
//!
//! The api zone is slowed to 2 r/s burst 3 (same algorithm, other numbers)
//! so that every decision has a margin of at least 100 ms against
//! scheduling jitter on a busy machine; the auth zone keeps its real 5 r/m.

mod common;

use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{AppOptions, TestApp, free_port};

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "parity-test"

[[trigger.http]]
route = "/api/..."
component = "api"

[component.api]
source = "{probe}"
"#;

/// The project's policy with the slowed api zone and nginx pointed at
/// `upstream`, listening on `listen`, keeping its files in `dir`.
fn policy(dir: &std::path::Path, listen: u16, upstream: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(common::workspace_root().join("infra/gateway.toml"))
        .unwrap()
        .replace("rate = \"30r/s\"\nburst = 50", "rate = \"2r/s\"\nburst = 3")
        .replace("listen = 80", &format!("listen = {listen}"))
        .replace(
            "upstream = \"127.0.0.1:3000\"",
            &format!("upstream = \"{upstream}\""),
        )
        .replace(
            "runtime_dir = \"/tmp\"",
            &format!("runtime_dir = \"{}\"", dir.display()),
        );
    assert!(
        text.contains("rate = \"2r/s\""),
        "the api zone was rewritten"
    );
    let path = dir.join("gateway.toml");
    std::fs::write(&path, text).unwrap();
    path
}

struct Nginx(Child);

impl Drop for Nginx {
    /// SIGTERM, not SIGKILL: the master then stops its workers, which would
    /// otherwise outlive the test holding its output open.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn nginx_binary() -> String {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("nginx is installed (scripts/nginx-check.sh or .ci/run installs it)")
        .to_owned()
}

fn start_nginx(config: &std::path::Path, port: u16) -> Nginx {
    let child = Command::new(nginx_binary())
        .arg("-c")
        .arg(config)
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let nginx = Nginx(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return nginx;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nginx did not start");
}

/// One step of the sequence: from `client`, send `count` requests to `path`
/// back to back, after sleeping `pause_ms`.
struct Step {
    pause_ms: u64,
    client: &'static str,
    path: &'static str,
    count: usize,
}

const SEQUENCE: &[Step] = &[
    // Auth zone (5 r/m, burst 5): a burst from A, B unaffected.
    Step {
        pause_ms: 0,
        client: "127.0.0.3",
        path: "/api/auth/login",
        count: 8,
    },
    Step {
        pause_ms: 0,
        client: "127.0.0.4",
        path: "/api/auth/login",
        count: 3,
    },
    // Api zone (2 r/s, burst 3): a burst, a partial refill, a burst again.
    Step {
        pause_ms: 0,
        client: "127.0.0.3",
        path: "/api/headers",
        count: 6,
    },
    Step {
        pause_ms: 1_700,
        client: "127.0.0.3",
        path: "/api/headers",
        count: 5,
    },
    // A steady rate under the limit: every request passes.
    Step {
        pause_ms: 2_200,
        client: "127.0.0.3",
        path: "/api/headers",
        count: 1,
    },
    Step {
        pause_ms: 700,
        client: "127.0.0.3",
        path: "/api/headers",
        count: 1,
    },
    Step {
        pause_ms: 700,
        client: "127.0.0.3",
        path: "/api/headers",
        count: 1,
    },
    Step {
        pause_ms: 700,
        client: "127.0.0.3",
        path: "/api/headers",
        count: 1,
    },
    // B's api budget is its own.
    Step {
        pause_ms: 0,
        client: "127.0.0.4",
        path: "/api/headers",
        count: 5,
    },
    // 13 s after A's auth burst one auth request has come back, not two.
    Step {
        pause_ms: 7_500,
        client: "127.0.0.3",
        path: "/api/auth/login",
        count: 3,
    },
];

/// Runs the sequence against `base`; returns "A"dmitted / "R"efused per request.
async fn run(base: String) -> Vec<String> {
    let mut clients = std::collections::HashMap::new();
    let mut decisions = Vec::new();
    for step in SEQUENCE {
        tokio::time::sleep(Duration::from_millis(step.pause_ms)).await;
        let client = clients.entry(step.client).or_insert_with(|| {
            reqwest::Client::builder()
                .local_address(step.client.parse::<IpAddr>().unwrap())
                .build()
                .unwrap()
        });
        let mut row = String::new();
        for _ in 0..step.count {
            let status = client
                .post(format!("{base}{}", step.path))
                .send()
                .await
                .unwrap()
                .status();
            row.push(if status == 429 { 'R' } else { 'A' });
        }
        decisions.push(format!("{} {} {row}", step.client, step.path));
    }
    decisions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_and_spinstack_make_the_same_decisions() {
    let dir = tempfile::tempdir().unwrap();
    // nginx's upstream: spinstack without its own rate limits.
    let upstream = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args: vec!["--gateway".into(), "none".into()],
            ..AppOptions::default()
        },
    );
    let nginx_port = free_port();
    let upstream_address = upstream.base_url.trim_start_matches("http://").to_owned();
    let policy = policy(dir.path(), nginx_port, &upstream_address);
    let nginx_conf = dir.path().join("nginx.conf");
    let rendered = Command::new(env!("CARGO_BIN_EXE_spinstack"))
        .args(["gateway", "render-nginx", "--gateway"])
        .arg(&policy)
        .arg("--out")
        .arg(&nginx_conf)
        .output()
        .unwrap();
    assert!(rendered.status.success(), "{rendered:?}");
    let _nginx = start_nginx(&nginx_conf, nginx_port);

    // spinstack enforcing the same policy itself.
    let gateway = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args: vec!["--gateway".into(), policy.to_str().unwrap().into()],
            ..AppOptions::default()
        },
    );

    let through_nginx = tokio::spawn(run(format!("http://127.0.0.1:{nginx_port}")));
    let through_spinstack = tokio::spawn(run(gateway.base_url.clone()));
    let nginx = through_nginx.await.unwrap();
    let spinstack = through_spinstack.await.unwrap();
    assert_eq!(
        nginx, spinstack,
        "nginx (left) and spinstack (right) disagree"
    );
    // And the sequence did exercise both outcomes.
    let all: String = nginx.join(" ");
    assert!(all.contains('A') && all.contains('R'), "{all}");
}
