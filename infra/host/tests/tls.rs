//! TLS, HTTP/2 and the HTTPS redirect, as `spin up --tls-cert/--tls-key`:
//! a test CA made here, ALPN h2 and http/1.1, HSTS only over TLS, h2c with
//! prior knowledge in cleartext, the redirect listener, start-up errors that
//! name the file, the gateway policy's `[tls]` section (and the flags over
//! it), and HTTP/2 stream churn (rapid reset) that leaves the host serving.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::test_ca::{TestCa, test_ca};
use common::{AppOptions, TestApp};

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "tls-test"

[[trigger.http]]
route = "/probe/..."
component = "probe"

[component.probe]
source = "{probe}"
"#;

fn tls_args(ca: &TestCa) -> Vec<String> {
    vec![
        "--tls-cert".into(),
        ca.cert.display().to_string(),
        "--tls-key".into(),
        ca.key.display().to_string(),
    ]
}

fn https_client(ca_pem: &str, http1_only: bool) -> reqwest::Client {
    https_client_builder(ca_pem, http1_only).build().unwrap()
}

fn https_client_builder(ca_pem: &str, http1_only: bool) -> reqwest::ClientBuilder {
    let root = reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap();
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(root)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30));
    if http1_only {
        builder = builder.http1_only();
    }
    builder
}

#[tokio::test]
async fn https_negotiates_h2_and_http1_with_hsts_and_an_https_full_url() {
    let ca = test_ca();
    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args: tls_args(&ca),
            ..Default::default()
        },
    );
    assert!(app.base_url.starts_with("https://"), "{}", app.base_url);
    for (http1_only, version) in [
        (false, reqwest::Version::HTTP_2),
        (true, reqwest::Version::HTTP_11),
    ] {
        let response = https_client(&ca.ca_pem, http1_only)
            .get(app.url("/probe/headers"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.version(), version);
        assert_eq!(response.status(), 200);
        let hsts = response.headers()["strict-transport-security"]
            .to_str()
            .unwrap();
        assert!(hsts.contains("max-age="), "{hsts}");
        assert!(response.headers().contains_key("x-request-id"));
        let echoed: serde_json::Value = response.json().await.unwrap();
        let full_url = echoed["headers"]["spin-full-url"].as_str().unwrap();
        assert!(full_url.starts_with("https://127.0.0.1:"), "{full_url}");
    }
    // The gateway's limits run the same over h2: a declared body over the
    // limit is 413 before the component.
    let response = https_client(&ca.ca_pem, false)
        .post(app.url("/probe/echo-body"))
        .body(vec![b'x'; 2 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 413);
    // Nothing of the key reaches the log.
    let key = std::fs::read_to_string(&ca.key).unwrap();
    let key_body = key.lines().nth(1).unwrap();
    assert!(!app.log().contains(key_body));
}

#[tokio::test]
async fn cleartext_has_no_hsts_and_speaks_h2_with_prior_knowledge() {
    let app = TestApp::spawn(MANIFEST);
    let h1 = common::client()
        .get(app.url("/probe/headers"))
        .send()
        .await
        .unwrap();
    assert_eq!(h1.version(), reqwest::Version::HTTP_11);
    assert!(!h1.headers().contains_key("strict-transport-security"));
    let h2c = common::h2c_client()
        .get(app.url("/probe/headers"))
        .send()
        .await
        .unwrap();
    assert_eq!(h2c.version(), reqwest::Version::HTTP_2);
    assert_eq!(h2c.status(), 200);
    assert!(!h2c.headers().contains_key("strict-transport-security"));
    assert!(h2c.headers().contains_key("x-content-type-options"));
    let echoed: serde_json::Value = h2c.json().await.unwrap();
    let full_url = echoed["headers"]["spin-full-url"].as_str().unwrap();
    assert!(full_url.starts_with("http://"), "{full_url}");
}

#[tokio::test]
async fn the_redirect_listener_answers_301_to_https() {
    let ca = test_ca();
    let port = common::free_port();
    let mut args = tls_args(&ca);
    args.extend(["--redirect-http".into(), format!("127.0.0.1:{port}")]);
    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args,
            ..Default::default()
        },
    );
    let https_port = app.base_url.rsplit(':').next().unwrap().to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(format!("http://127.0.0.1:{port}/probe/headers?a=b"))
        .header("host", "localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 301);
    assert_eq!(
        response.headers()["location"],
        format!("https://localhost:{https_port}/probe/headers?a=b").as_str()
    );
    let refused = client
        .get(format!("http://127.0.0.1:{port}/"))
        .header("host", "a/b")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    // The component never ran for either.
    assert!(app.access_log().iter().all(|line| line["component"] == "-"));
}

/// What the host says on stderr when it refuses to start with this pair.
fn refusal(cert: &Path, key: &Path) -> String {
    TestApp::start_failure(
        MANIFEST,
        AppOptions {
            args: vec![
                "--tls-cert".into(),
                cert.display().to_string(),
                "--tls-key".into(),
                key.display().to_string(),
            ],
            ..Default::default()
        },
    )
}

#[test]
fn bad_certificate_files_stop_start_up_naming_the_file() {
    let ca = test_ca();
    let missing = ca.cert.with_file_name("absent.pem");
    let stderr = refusal(&missing, &ca.key);
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");

    // A key that is not the certificate's.
    let other = test_ca();
    let stderr = refusal(&ca.cert, &other.key);
    assert!(stderr.contains("do not form a usable pair"), "{stderr}");

    // A certificate file with no certificate in it.
    let garbage = ca.cert.with_file_name("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let stderr = refusal(&garbage, &ca.key);
    assert!(stderr.contains(&garbage.display().to_string()), "{stderr}");
}

#[tokio::test]
async fn self_signed_makes_a_local_ca_once_and_serves_with_it() {
    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args: vec!["--tls-self-signed".into()],
            ..Default::default()
        },
    );
    let ca = tls_dir(app.dir.path()).join("ca.pem");
    let ca_pem = std::fs::read_to_string(&ca).unwrap();
    let response = https_client(&ca_pem, false)
        .get(app.url("/probe/headers"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let dir = app.stop();
    let again = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args: vec!["--tls-self-signed".into()],
            dir: Some(dir),
            ..Default::default()
        },
    );
    assert_eq!(
        std::fs::read_to_string(tls_dir(again.dir.path()).join("ca.pem")).unwrap(),
        ca_pem
    );
    let response = https_client(&ca_pem, false)
        .get(again.url("/probe/headers"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the same CA still verifies");
}

fn tls_dir(project: &Path) -> PathBuf {
    project.join(".spinstack/tls")
}

/// Streams opened and reset at once, as fast as the client can (the rapid
/// reset attack): the host does not fall over, and serves the next client.
#[tokio::test]
async fn http2_stream_churn_leaves_the_host_serving() {
    let app = TestApp::spawn(MANIFEST);
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let tcp = tokio::net::TcpStream::connect(&address).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    let driver = tokio::spawn(connection);
    let mut opened = 0;
    for _ in 0..20_000 {
        let Ok(mut ready) = client.clone().ready().await else {
            break;
        };
        let request = http::Request::get(format!("http://{address}/probe/headers"))
            .body(())
            .unwrap();
        let Ok((_response, mut stream)) = ready.send_request(request, true) else {
            break;
        };
        stream.send_reset(h2::Reason::CANCEL);
        opened += 1;
    }
    drop(client);
    let _ = tokio::time::timeout(Duration::from_secs(10), driver).await;
    assert!(opened > 0);
    // A fresh client is served normally, over both protocols.
    let response = common::client()
        .get(app.url("/probe/headers"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = common::h2c_client()
        .get(app.url("/probe/headers"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// The project's policy with `tls` appended, at `infra/gateway.toml` beside
/// the manifest (where `spinstack up` finds it), and the test CA's pair in
/// `infra/tls/`, which the section names relatively.
fn policy_files<'a>(ca: &TestCa, tls: &str, files: &'a mut Vec<String>) -> Vec<(&'a str, &'a str)> {
    let committed =
        std::fs::read_to_string(common::workspace_root().join("infra/gateway.toml")).unwrap();
    *files = vec![
        format!("{committed}\n{tls}"),
        std::fs::read_to_string(&ca.cert).unwrap(),
        std::fs::read_to_string(&ca.key).unwrap(),
    ];
    vec![
        ("infra/gateway.toml", files[0].as_str()),
        ("infra/tls/cert.pem", files[1].as_str()),
        ("infra/tls/key.pem", files[2].as_str()),
    ]
}

/// Whether a client that speaks at most TLS 1.2 gets an answer.
async fn tls12_client_is_served(ca: &TestCa, url: &str) -> bool {
    https_client_builder(&ca.ca_pem, false)
        .max_tls_version(reqwest::tls::Version::TLS_1_2)
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .is_ok()
}

#[tokio::test]
async fn the_policys_tls_section_gives_the_certificate_protocols_and_redirect() {
    let ca = test_ca();
    let redirect_port = common::free_port();
    let mut contents = Vec::new();
    let tls = "[tls]\ncert = \"tls/cert.pem\"\nkey = \"tls/key.pem\"\n\
               protocols = [\"TLSv1.3\"]\nredirect_http = true\n";
    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            files: policy_files(&ca, tls, &mut contents),
            // Only the address: port 80 (the default) is not the test's to take.
            args: vec![
                "--redirect-http".into(),
                format!("127.0.0.1:{redirect_port}"),
            ],
            ..Default::default()
        },
    );
    assert!(app.base_url.starts_with("https://"), "{}", app.base_url);
    let response = https_client(&ca.ca_pem, false)
        .get(app.url("/probe/headers"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert!(response.headers().contains_key("strict-transport-security"));
    assert!(
        !tls12_client_is_served(&ca, &app.url("/probe/headers")).await,
        "protocols = [\"TLSv1.3\"] refuses TLS 1.2"
    );
    let redirected = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{redirect_port}/probe/headers"))
        .header("host", "localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(redirected.status(), 301);
}

#[tokio::test]
async fn the_tls_variables_override_the_policys_files_and_keep_its_protocols() {
    let ca = test_ca();
    let mut contents = Vec::new();
    // The policy's files do not exist: only the environment's are read.
    let tls = "[tls]\ncert = \"tls/absent.pem\"\nkey = \"tls/absent.key\"\n";
    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            files: policy_files(&ca, tls, &mut contents),
            env: vec![
                ("SPIN_TLS_CERT", ca.cert.display().to_string()),
                ("SPIN_TLS_KEY", ca.key.display().to_string()),
            ],
            ..Default::default()
        },
    );
    let response = https_client(&ca.ca_pem, true)
        .get(app.url("/probe/headers"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        tls12_client_is_served(&ca, &app.url("/probe/headers")).await,
        "the policy's default protocols include TLS 1.2"
    );
}

#[test]
fn a_missing_policy_certificate_stops_start_up_naming_it_and_the_policy() {
    let ca = test_ca();
    let mut contents = Vec::new();
    let tls = "[tls]\ncert = \"tls/absent.pem\"\nkey = \"tls/key.pem\"\n";
    let stderr = TestApp::start_failure(
        MANIFEST,
        AppOptions {
            files: policy_files(&ca, tls, &mut contents),
            ..Default::default()
        },
    );
    assert!(stderr.contains("infra/tls/absent.pem"), "{stderr}");
    assert!(stderr.contains("[tls] in "), "{stderr}");
    assert!(stderr.contains("infra/gateway.toml"), "{stderr}");
}
