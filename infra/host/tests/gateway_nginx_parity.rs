//! The same timed request sequence (bursts, steady rates, idle gaps, several
//! client addresses) through real nginx running the rendered configuration
//! and through spinstack's own gateway: the accept/reject decisions must be
//! identical. Once in cleartext, once with both terminating TLS (a test CA's
//! certificate): there the HSTS header and the port-80 redirect are compared too.
//!
//! The api zone is slowed to 2 r/s burst 3 (same algorithm, other numbers)
//! so that every decision has a margin of at least 100 ms against
//! scheduling jitter on a busy machine; the auth zone keeps its real 5 r/m.

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::test_ca::{TestCa, test_ca};
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
/// `upstream`, listening on `listen`, keeping its files in `dir`; `tls` (a
/// `[tls]` section, or nothing) is appended.
fn policy(dir: &Path, listen: u16, upstream: &str, tls: &str) -> std::path::PathBuf {
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
    std::fs::write(&path, format!("{text}\n{tls}")).unwrap();
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

/// What one side answered to the sequence.
#[derive(Debug, PartialEq)]
struct Outcome {
    /// Per step, "A"dmitted / "R"efused per request.
    decisions: Vec<String>,
    /// Every Strict-Transport-Security value seen (`None`: a response without it).
    hsts: BTreeSet<Option<String>>,
}

/// A client sending from `address`; over https it trusts only `ca`.
fn client_from(address: &str, ca: Option<&TestCa>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .local_address(address.parse::<IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none());
    if let Some(ca) = ca {
        builder = builder
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

/// Runs the sequence against `base` (https when `ca` is given).
async fn run(base: String, ca: Option<&TestCa>) -> Outcome {
    let mut clients = std::collections::HashMap::new();
    let mut decisions = Vec::new();
    let mut hsts = BTreeSet::new();
    for step in SEQUENCE {
        tokio::time::sleep(Duration::from_millis(step.pause_ms)).await;
        let client = clients
            .entry(step.client)
            .or_insert_with(|| client_from(step.client, ca));
        let mut row = String::new();
        for _ in 0..step.count {
            let response = client
                .post(format!("{base}{}", step.path))
                .send()
                .await
                .unwrap();
            hsts.insert(
                response
                    .headers()
                    .get("strict-transport-security")
                    .map(|value| value.to_str().unwrap().to_owned()),
            );
            row.push(if response.status() == 429 { 'R' } else { 'A' });
        }
        decisions.push(format!("{} {} {row}", step.client, step.path));
    }
    Outcome { decisions, hsts }
}

/// nginx's upstream: spinstack without its own rate limits (in cleartext,
/// nginx terminating TLS in front of it).
fn nginx_upstream() -> TestApp {
    TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args: vec!["--gateway".into(), "none".into()],
            ..AppOptions::default()
        },
    )
}

/// `spinstack gateway render-nginx` of `policy` into `dir`/nginx.conf.
fn render(dir: &Path, policy: &Path) -> std::path::PathBuf {
    let nginx_conf = dir.join("nginx.conf");
    let rendered = Command::new(env!("CARGO_BIN_EXE_spinstack"))
        .args(["gateway", "render-nginx", "--gateway"])
        .arg(policy)
        .arg("--out")
        .arg(&nginx_conf)
        .output()
        .unwrap();
    assert!(rendered.status.success(), "{rendered:?}");
    nginx_conf
}

/// spinstack enforcing `policy` itself, with `extra` arguments.
fn gateway(policy: &Path, extra: Vec<String>) -> TestApp {
    let mut args = vec!["--gateway".into(), policy.to_str().unwrap().into()];
    args.extend(extra);
    TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args,
            ..AppOptions::default()
        },
    )
}

/// Drives nginx (at `nginx_base`) and spinstack (at `spinstack_base`) through
/// the sequence at once; they must agree, and both outcomes must occur.
async fn compare(nginx_base: String, spinstack_base: String, ca: Option<&TestCa>) -> Outcome {
    let (nginx, spinstack) = tokio::join!(run(nginx_base, ca), run(spinstack_base, ca));
    assert_eq!(
        nginx, spinstack,
        "nginx (left) and spinstack (right) disagree"
    );
    let all: String = nginx.decisions.join(" ");
    assert!(all.contains('A') && all.contains('R'), "{all}");
    nginx
}

/// The tests must not overlap: a sequence needs its 100 ms margins, and
/// another test's start-up or sequence on a small machine would eat them.
static ONE_TEST_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_and_spinstack_make_the_same_decisions() {
    let _serial = ONE_TEST_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let upstream = nginx_upstream();
    let nginx_port = free_port();
    let upstream_address = upstream.base_url.trim_start_matches("http://").to_owned();
    let policy = policy(dir.path(), nginx_port, &upstream_address, "");
    let nginx_conf = render(dir.path(), &policy);
    let _nginx = start_nginx(&nginx_conf, nginx_port);
    let gateway = gateway(&policy, Vec::new());

    let outcome = compare(
        format!("http://127.0.0.1:{nginx_port}"),
        gateway.base_url.clone(),
        None,
    )
    .await;
    assert_eq!(outcome.hsts, BTreeSet::from([None]), "no HSTS in cleartext");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_nginx_and_spinstack_make_the_same_decisions_and_redirects() {
    let _serial = ONE_TEST_AT_A_TIME.lock().await;
    let ca = test_ca();
    let dir = tempfile::tempdir().unwrap();
    // Beside the policy, named relatively: render-nginx must resolve them
    // against the policy's directory for nginx to find them.
    std::fs::copy(&ca.cert, dir.path().join("cert.pem")).unwrap();
    std::fs::copy(&ca.key, dir.path().join("key.pem")).unwrap();
    let upstream = nginx_upstream();
    let (nginx_http, nginx_https) = (free_port(), free_port());
    let upstream_address = upstream.base_url.trim_start_matches("http://").to_owned();
    let tls = format!(
        "[tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\nredirect_http = true\nnginx_listen = {nginx_https}\n"
    );
    let policy = policy(dir.path(), nginx_http, &upstream_address, &tls);
    let nginx_conf = render(dir.path(), &policy);
    let conf = std::fs::read_to_string(&nginx_conf).unwrap();
    let cert_line = format!("ssl_certificate {};", dir.path().join("cert.pem").display());
    assert!(conf.contains(&cert_line), "{conf}");
    let _nginx = start_nginx(&nginx_conf, nginx_https);

    let spinstack_redirect = free_port();
    let gateway = gateway(
        &policy,
        vec![
            "--tls-cert".into(),
            ca.cert.display().to_string(),
            "--tls-key".into(),
            ca.key.display().to_string(),
            "--redirect-http".into(),
            format!("127.0.0.1:{spinstack_redirect}"),
        ],
    );
    assert!(
        gateway.base_url.starts_with("https://"),
        "{}",
        gateway.base_url
    );
    let spinstack_https: u16 = gateway
        .base_url
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    let outcome = compare(
        format!("https://127.0.0.1:{nginx_https}"),
        gateway.base_url.clone(),
        Some(&ca),
    )
    .await;
    assert_eq!(
        outcome.hsts,
        BTreeSet::from([Some("max-age=31536000; includeSubDomains".to_owned())]),
        "HSTS on every response over TLS, refusals included"
    );

    // The cleartext ports redirect alike. Both take the host from Host, but
    // nginx's $host drops the port and the rendered config names its own
    // HTTPS port, while spinstack names its TLS listener's: so each side's
    // HTTPS port is replaced by a placeholder before comparing.
    let plain = client_from("127.0.0.1", None);
    for host in ["localhost", "localhost:8080", "app.example"] {
        let mut answers = Vec::new();
        for (port, https_port) in [
            (nginx_http, nginx_https),
            (spinstack_redirect, spinstack_https),
        ] {
            let response = plain
                .get(format!(
                    "http://127.0.0.1:{port}/api/auth/login?next=%2Fa&b=1"
                ))
                .header("host", host)
                .send()
                .await
                .unwrap();
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            let location = location.replace(&format!(":{https_port}/"), ":HTTPS_PORT/");
            answers.push((response.status().as_u16(), location));
        }
        let name = host.split(':').next().unwrap();
        let expected = (
            301,
            format!("https://{name}:HTTPS_PORT/api/auth/login?next=%2Fa&b=1"),
        );
        assert_eq!(answers, [expected.clone(), expected], "Host: {host}");
    }
}
