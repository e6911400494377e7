//! The `web` component: the built React app (`frontend/dist`, through a
//! `files` mount) behind the gateway, as spin.toml serves it at `/...`.

mod common;

use std::io::{Read, Write};

use common::{AppOptions, TestApp, client, frontend};
use reqwest::header::{ACCEPT_ENCODING, IF_NONE_MATCH};

/// The web component as in spin.toml, next to an API route, as the app
/// has them: the more specific route must win.
const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "web-test"

[[trigger.http]]
route = "/api/hello/..."
component = "hello"

[[trigger.http]]
route = "/..."
component = "web"

[component.hello]
source = "{hello}"

[component.web]
source = "{app:web}"
files = [{ source = "frontend/dist", destination = "/" }]
"#;

fn spawn() -> TestApp {
    TestApp::spawn(MANIFEST)
}

fn dist_file(path: &str) -> Vec<u8> {
    std::fs::read(frontend::dist().join(path)).unwrap_or_else(|e| panic!("dist/{path}: {e}"))
}

/// The hashed script and stylesheet index.html loads.
fn entry_assets() -> Vec<String> {
    let html = String::from_utf8(dist_file("index.html")).unwrap();
    let assets: Vec<String> = html
        .split('"')
        .filter(|part| part.starts_with("/assets/"))
        .map(str::to_owned)
        .collect();
    assert!(
        assets.iter().any(|a| a.ends_with(".js")) && assets.iter().any(|a| a.ends_with(".css")),
        "index.html should load a script and a stylesheet: {assets:?}"
    );
    assets
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

fn vary_mentions_accept_encoding(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("accept-encoding"))
}

#[tokio::test]
async fn index_html_is_served_precompressed_once_and_never_cached_stale() {
    let app = spawn();
    let http = client();
    let response = http
        .get(app.url("/"))
        .header(ACCEPT_ENCODING, "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(header(&response, "content-encoding"), Some("br"));
    assert_eq!(header(&response, "cache-control"), Some("no-cache"));
    assert!(vary_mentions_accept_encoding(&response));
    // The gateway's headers are there too: CSP for the app.
    assert_eq!(
        header(&response, "content-security-policy"),
        Some("default-src 'self'")
    );
    let etag = header(&response, "etag").unwrap().to_owned();
    assert!(etag.starts_with('"'), "strong ETag: {etag}");
    // Exactly the build's .br file: compressed once, not again by the gateway.
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        dist_file("index.html.br")
    );

    let gzip = http
        .get(app.url("/"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&gzip, "content-encoding"), Some("gzip"));
    assert_ne!(
        header(&gzip, "etag"),
        Some(etag.as_str()),
        "each encoding has its own ETag"
    );
    assert_eq!(
        gzip.bytes().await.unwrap().as_ref(),
        dist_file("index.html.gz")
    );

    let plain = http.get(app.url("/")).send().await.unwrap();
    assert_eq!(header(&plain, "content-encoding"), None);
    assert_eq!(
        plain.bytes().await.unwrap().as_ref(),
        dist_file("index.html")
    );

    let revalidated = http
        .get(app.url("/"))
        .header(ACCEPT_ENCODING, "br")
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    assert_eq!(header(&revalidated, "etag"), Some(etag.as_str()));
    assert!(revalidated.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn client_side_routes_get_index_html() {
    let app = spawn();
    let http = client();
    let index = dist_file("index.html");
    for path in [
        "/login",
        "/uploads",
        "/admin",
        "/profile/",
        "/some/deep/route",
    ] {
        let response = http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(header(&response, "cache-control"), Some("no-cache"));
        assert_eq!(response.bytes().await.unwrap().as_ref(), index, "{path}");
    }
}

#[tokio::test]
async fn hashed_assets_are_immutable_typed_and_precompressed() {
    let app = spawn();
    let http = client();
    for asset in entry_assets() {
        let relative = asset.trim_start_matches('/');
        let expected_type = if asset.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else {
            "text/css; charset=utf-8"
        };
        for (accept, suffix, encoding) in [
            (Some("br"), ".br", Some("br")),
            (Some("gzip"), ".gz", Some("gzip")),
            (None, "", None),
        ] {
            let mut request = http.get(app.url(&asset));
            if let Some(accept) = accept {
                request = request.header(ACCEPT_ENCODING, accept);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{asset} {accept:?}");
            assert_eq!(header(&response, "content-type"), Some(expected_type));
            assert_eq!(
                header(&response, "cache-control"),
                Some("public, max-age=31536000, immutable")
            );
            assert_eq!(header(&response, "content-encoding"), encoding, "{asset}");
            assert_eq!(
                response.bytes().await.unwrap().as_ref(),
                dist_file(&format!("{relative}{suffix}")),
                "{asset} {accept:?}"
            );
        }
    }
    let icon = http.get(app.url("/favicon.svg")).send().await.unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(header(&icon, "content-type"), Some("image/svg+xml"));
    assert_eq!(header(&icon, "cache-control"), Some("no-cache"));
}

#[tokio::test]
async fn missing_assets_and_unknown_api_paths_are_404_problems() {
    let app = spawn();
    let http = client();
    for path in [
        "/assets/index-00000000.js",
        "/missing.png",
        "/api/nope",
        "/api/users/me",
        "/api",
        "/index.html.br",
    ] {
        let response = http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            header(&response, "content-type"),
            Some("application/problem+json"),
            "{path}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], 404);
    }
    // The more specific API route still goes to its own component.
    let hello = http.get(app.url("/api/hello/x")).send().await.unwrap();
    assert_eq!(hello.status(), 200);
    assert_ne!(
        header(&hello, "content-type"),
        Some("text/html; charset=utf-8")
    );
}

#[tokio::test]
async fn only_get_and_head() {
    let app = spawn();
    let http = client();
    let head = http.head(app.url("/")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        header(&head, "content-type"),
        Some("text/html; charset=utf-8")
    );
    let post = http.post(app.url("/")).body("x").send().await.unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(header(&post, "allow"), Some("GET, HEAD"));
}

/// Sends `path` exactly as written (an HTTP client would normalize it).
fn raw_get(base_url: &str, path: &str) -> (u16, String) {
    let address = base_url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[tokio::test]
async fn no_path_escapes_the_mount() {
    const SECRET: &str = "TOP-SECRET-VALUE";
    let manifest = r#"
spin_manifest_version = 2
[application]
name = "web-traversal"

[[trigger.http]]
route = "/..."
component = "web"

[component.web]
source = "{app:web}"
files = [{ source = "site", destination = "/" }]
"#;
    let app = TestApp::spawn_with(
        manifest,
        AppOptions {
            files: vec![
                ("site/index.html", "<!doctype html><title>t</title>"),
                ("site/assets/app.js", "console.log(1)"),
                ("secret.txt", SECRET),
                ("site/.env", SECRET),
            ],
            ..AppOptions::default()
        },
    );
    let (status, text) = raw_get(&app.base_url, "/assets/app.js");
    assert_eq!(status, 200, "{text}");
    for path in [
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2E%2E/secret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "/secret.txt%00.js",
        "/%252e%252e/secret.txt",
        "/.env",
        "/spin.toml",
    ] {
        let (status, text) = raw_get(&app.base_url, path);
        assert!(
            matches!(status, 400 | 404),
            "{path}: expected 400 or 404, got {status}:\n{text}"
        );
        assert!(!text.contains(SECRET), "{path} leaked the secret:\n{text}");
    }
}
