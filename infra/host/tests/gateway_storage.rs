//! The object store under the app's own origin: the gateway proxies
//! `/_storage/<rest>` to the S3 endpoint (`[[proxies]]` in gateway.toml,
//! upstream `variable:s3_endpoint`), so a URL presigned for the store works
//! once its `http://host:port` is replaced by `<app>/_storage`.

mod common;

use std::time::Duration;

use common::{AppOptions, TestApp, client, free_port};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "storage-test"

[variables]
s3_endpoint = { required = true }
s3_region = { default = "" }
s3_bucket = { default = "" }
s3_access_key_id = { default = "" }
s3_secret_access_key = { default = "", secret = true }

[[trigger.http]]
route = "/api/..."
component = "api"

[component.api]
source = "{probe}"
"#;

const NO_STORAGE_MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "no-storage-test"

[[trigger.http]]
route = "/..."
component = "api"

[component.api]
source = "{probe}"
"#;

const TTL: Duration = Duration::from_secs(300);

fn spawn(manifest: &str, env: Vec<(&'static str, String)>) -> TestApp {
    let policy = common::workspace_root().join("infra/gateway.toml");
    TestApp::spawn_with(
        manifest,
        AppOptions {
            args: vec!["--gateway".into(), policy.to_str().unwrap().into()],
            env,
            ..AppOptions::default()
        },
    )
}

/// The embedded store of `app`: its endpoint, bucket and credentials.
struct Store {
    endpoint: String,
    bucket: Bucket,
    credentials: Credentials,
}

impl Store {
    fn of(app: &TestApp) -> Store {
        let dir = app.dir.path().join(".spinstack/s3");
        let port = std::fs::read_to_string(dir.join("port")).unwrap();
        let endpoint = format!("http://127.0.0.1:{}", port.trim());
        let credentials: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("credentials.json")).unwrap())
                .unwrap();
        Store {
            bucket: Bucket::new(
                endpoint.parse().unwrap(),
                UrlStyle::Path,
                "app".to_owned(),
                "us-east-1".to_owned(),
            )
            .unwrap(),
            credentials: Credentials::new(
                credentials["access_key_id"].as_str().unwrap().to_owned(),
                credentials["secret_access_key"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ),
            endpoint,
        }
    }

    /// A URL presigned for the store, moved under the app's `/_storage`.
    fn public(&self, app: &TestApp, presigned: impl std::fmt::Display) -> String {
        let presigned = presigned.to_string();
        assert!(presigned.starts_with(&self.endpoint), "{presigned}");
        presigned.replacen(&self.endpoint, &app.url("/_storage"), 1)
    }

    fn put(&self, app: &TestApp, key: &str) -> String {
        self.public(
            app,
            self.bucket
                .put_object(Some(&self.credentials), key)
                .sign(TTL),
        )
    }

    fn get(&self, app: &TestApp, key: &str) -> String {
        self.public(
            app,
            self.bucket
                .get_object(Some(&self.credentials), key)
                .sign(TTL),
        )
    }
}

fn assert_security_headers(response: &reqwest::Response) {
    let headers = response.headers();
    assert_eq!(headers["content-security-policy"], "default-src 'self'");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn presigned_put_and_get_work_through_the_gateway() {
    let app = spawn(MANIFEST, Vec::new());
    let store = Store::of(&app);
    let http = client();
    // A key that needs escaping: the raw path must reach the store unchanged.
    let key = "notes/a b+c.txt";
    let text = "hello through the gateway ".repeat(200);

    let put = store.put(&app, key);
    assert!(put.contains("/_storage/app/notes/a%20b%2Bc.txt?"), "{put}");
    let response = http
        .put(&put)
        .header("content-type", "text/plain")
        // The app's own credentials are not forwarded (s3s ignores them
        // next to a presigned query, so this is checked by the proxy's unit
        // tests); they must at least not get in the way.
        .header("authorization", "Bearer the-apps-own-token")
        .header("cookie", "session=secret")
        .body(text.clone())
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert_security_headers(&response);
    assert_eq!(status, 200, "{}", response.text().await.unwrap());

    let response = http
        .get(store.get(&app, key))
        .header("accept-encoding", "gzip, br")
        .header("authorization", "Bearer the-apps-own-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_security_headers(&response);
    // The store's body is opaque: never compressed again.
    assert!(!response.headers().contains_key("content-encoding"));
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(
        response.headers()["content-length"],
        text.len().to_string().as_str()
    );
    assert!(response.headers().contains_key("etag"));
    assert_eq!(response.text().await.unwrap(), text);

    // Through the store's own address the same URL works too (same signature).
    let direct = store
        .bucket
        .get_object(Some(&store.credentials), key)
        .sign(TTL);
    assert_eq!(http.get(direct).send().await.unwrap().status(), 200);

    // The access log names the proxied request, with no component.
    // (written in the background: give it a moment).
    let mut line = None;
    for _ in 0..100 {
        line = app
            .access_log()
            .into_iter()
            .find(|line| line["method"] == "PUT");
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let line = line.expect("a line for the PUT");
    assert_eq!(line["path"], "/_storage/app/notes/a%20b%2Bc.txt");
    assert_eq!(line["complete"], true);
    assert_eq!(line["status"], 200);
    assert_eq!(line["component"], "-");
    assert_eq!(line["rate_limit"], "none");
}

#[tokio::test]
async fn a_tampered_url_is_refused_by_the_store() {
    let app = spawn(MANIFEST, Vec::new());
    let store = Store::of(&app);
    let http = client();
    let put = store.put(&app, "kept.txt");
    let ok = http.put(&put).body("kept").send().await.unwrap();
    assert_eq!(ok.status(), 200);

    // Another key under the same signature, or an added parameter.
    let other_key = store.get(&app, "kept.txt").replace("kept.txt", "other.txt");
    let extra = format!("{}&x-id=1", store.get(&app, "kept.txt"));
    for url in [other_key, extra] {
        let response = http.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 403, "{url}");
        assert_security_headers(&response);
        let body = response.text().await.unwrap();
        assert!(body.contains("<Error>"), "the store's own answer: {body}");
    }
}

/// Peak resident memory of the host serving `app`, in KiB.
fn peak_rss_kib(app: &TestApp) -> u64 {
    let dir = app.dir.path().to_str().unwrap().to_owned();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline);
        if cmdline.contains("spinstack") && cmdline.contains(&dir) {
            let status = std::fs::read_to_string(entry.path().join("status")).unwrap();
            let line = status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .unwrap()
                .to_owned();
            return line.split_whitespace().nth(1).unwrap().parse().unwrap();
        }
    }
    panic!("no host process for {dir}");
}

#[tokio::test]
async fn large_bodies_stream_both_ways_within_the_limit() {
    let app = spawn(MANIFEST, Vec::new());
    let store = Store::of(&app);
    let http = client();
    // Warm up (connections, buffers, the first file) before measuring.
    let warm = http
        .put(store.put(&app, "warm"))
        .body(vec![1u8; 1 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 200);
    let before = peak_rss_kib(&app);

    let size = 20 << 20;
    let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let response = http
        .put(store.put(&app, "big.bin"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = http.get(store.get(&app, "big.bin")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let downloaded = response.bytes().await.unwrap();
    assert_eq!(downloaded.len(), size);
    assert!(downloaded == body, "the same bytes back");
    let grown_kib = peak_rss_kib(&app).saturating_sub(before);
    eprintln!("peak RSS grew by {grown_kib} KiB");
    assert!(
        grown_kib < 10 * 1024,
        "the host's peak RSS grew by {grown_kib} KiB for a 20 MiB body: it was buffered"
    );

    // A streamed (chunked) upload passes as well.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..8).map(|_| Ok(vec![7u8; 256 * 1024])).collect();
    let response = http
        .put(store.put(&app, "chunked.bin"))
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert_eq!(status, 200, "{}", response.text().await.unwrap());

    // Over the prefix's own limit (26m): 413 before the store sees it. (The
    // body is only declared: a client writing all of it would see the
    // connection closed under it, as with nginx.)
    let put = store.put(&app, "too-big.bin");
    let target = put.strip_prefix(&app.base_url).unwrap();
    let head = raw_request(
        &app,
        &format!(
            "PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\nabc",
            (26 << 20) + 1
        ),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{head}"
    );
    let missing = http
        .get(store.get(&app, "too-big.bin"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// Sends `request` as it is and returns the response head.
async fn raw_request(app: &TestApp, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.base_url.strip_prefix("http://").unwrap();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut buffer = [0u8; 4096];
    while !response.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("an answer in time")
            .unwrap();
        if read == 0 {
            break;
        }
        response.extend_from_slice(&buffer[..read]);
    }
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn an_unreachable_store_is_a_502_problem_not_a_hang() {
    let dead = format!("http://127.0.0.1:{}", free_port());
    let app = spawn(MANIFEST, vec![("SPIN_VARIABLE_S3_ENDPOINT", dead)]);
    let http = client();
    let started = std::time::Instant::now();
    let response = http
        .put(app.url("/_storage/app/x.txt?X-Amz-Signature=0"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_security_headers(&response);
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 502);
    assert_eq!(problem["title"], "Bad Gateway");
    assert!(problem["detail"].as_str().unwrap().contains("unreachable"));
}

#[tokio::test]
async fn without_a_store_or_with_a_disguised_path_nothing_is_proxied() {
    // The app declares no s3_endpoint: the prefix answers 404, it does not
    // fall through to the app's catch-all route.
    let app = spawn(NO_STORAGE_MANIFEST, Vec::new());
    let http = client();
    let response = http
        .get(app.url("/_storage/app/x.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert!(
        app.log().contains("/_storage/ is not proxied"),
        "{}",
        app.log()
    );

    let app = spawn(MANIFEST, Vec::new());
    let store = Store::of(&app);
    let put = store.put(&app, "k.txt");
    assert_eq!(http.put(&put).body("k").send().await.unwrap().status(), 200);
    // Paths that only normalise into the prefix are not forwarded.
    let get = store.get(&app, "k.txt");
    for disguised in [
        get.replacen("/_storage/", "//_storage/", 1),
        get.replacen("/_storage/", "/_st%6frage/", 1),
    ] {
        let response = http.get(&disguised).send().await.unwrap();
        assert_eq!(response.status(), 404, "{disguised}");
    }
}

struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// nginx running the committed policy rendered with `--proxy-upstream
/// /_storage/=<storage>`, in front of `app`; returns it and its base URL.
fn nginx_in_front(app: &TestApp, storage: &str, dir: &std::path::Path) -> (Nginx, String) {
    let port = free_port();
    let policy = std::fs::read_to_string(common::workspace_root().join("infra/gateway.toml"))
        .unwrap()
        .replace("listen = 80", &format!("listen = {port}"))
        .replace(
            "upstream = \"127.0.0.1:3000\"",
            &format!(
                "upstream = \"{}\"",
                app.base_url.trim_start_matches("http://")
            ),
        )
        .replace(
            "runtime_dir = \"/tmp\"",
            &format!("runtime_dir = \"{}\"", dir.display()),
        );
    std::fs::write(dir.join("gateway.toml"), policy).unwrap();
    let conf = dir.join("nginx.conf");
    let rendered = std::process::Command::new(env!("CARGO_BIN_EXE_spinstack"))
        .args(["gateway", "render-nginx", "--gateway"])
        .arg(dir.join("gateway.toml"))
        .arg("--out")
        .arg(&conf)
        .arg("--proxy-upstream")
        .arg(format!("/_storage/={storage}"))
        .output()
        .unwrap();
    assert!(rendered.status.success(), "{rendered:?}");
    let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("nginx is installed (scripts/nginx-check.sh installs it)");
    let child = std::process::Command::new(binary)
        .arg("-c")
        .arg(&conf)
        .args(["-g", "daemon off;"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let nginx = Nginx(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (nginx, format!("http://127.0.0.1:{port}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nginx did not start");
}

#[tokio::test]
async fn the_rendered_nginx_conf_proxies_the_same_way() {
    let app = spawn(MANIFEST, Vec::new());
    let store = Store::of(&app);
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, base) = nginx_in_front(&app, &store.endpoint, dir.path());
    let through_nginx = |url: String| url.replacen(&app.base_url, &base, 1);
    let http = client();
    let key = "nginx/a b+c.txt";
    let response = http
        .put(through_nginx(store.put(&app, key)))
        .header("authorization", "Bearer the-apps-own-token")
        .header("cookie", "session=secret")
        .body("via nginx")
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert_eq!(status, 200, "{}", response.text().await.unwrap());
    let response = http
        .get(through_nginx(store.get(&app, key)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_security_headers(&response);
    assert_eq!(response.text().await.unwrap(), "via nginx");
    let tampered = format!("{}&x-id=1", through_nginx(store.get(&app, key)));
    assert_eq!(http.get(tampered).send().await.unwrap().status(), 403);
    drop(_nginx);

    // A store that is down: the same 502 problem as spinstack's.
    let dir = tempfile::tempdir().unwrap();
    let dead = format!("http://127.0.0.1:{}", free_port());
    let (_nginx, base) = nginx_in_front(&app, &dead, dir.path());
    let response = http
        .get(format!("{base}/_storage/app/x.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["title"], "Bad Gateway");
}
