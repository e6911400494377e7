//! `files` are mounted read-only; `environment` becomes the guest's env.

mod common;

use common::{AppOptions, TestApp, client};

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "files-test"

[[trigger.http]]
route = "/probe/..."
component = "probe"

[component.probe]
source = "{probe}"
files = [{ source = "assets", destination = "/static" }, "notes/*.txt"]
environment = { APP_MODE = "test", EMPTY = "" }
"#;

fn spawn() -> TestApp {
    TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            files: vec![
                ("assets/index.html", "<h1>hi</h1>"),
                ("assets/css/site.css", "body{}"),
                ("notes/a.txt", "note a"),
                ("notes/b.md", "not matched"),
                ("secret.env", "KEY=1"),
            ],
            ..AppOptions::default()
        },
    )
}

#[tokio::test]
async fn listed_files_are_readable() {
    let app = spawn();
    let http = client();
    let read = |path: &str| http.get(app.url(&format!("/probe/file{path}"))).send();
    let index = read("/static/index.html").await.unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(index.text().await.unwrap(), "<h1>hi</h1>");
    let css = read("/static/css/site.css").await.unwrap();
    assert_eq!(css.text().await.unwrap(), "body{}");
    let note = read("/notes/a.txt").await.unwrap();
    assert_eq!(note.text().await.unwrap(), "note a");
}

#[tokio::test]
async fn unlisted_files_are_not_visible() {
    let app = spawn();
    let http = client();
    for path in ["/notes/b.md", "/secret.env", "/spin.toml", "/../secret.env"] {
        let response = http
            .get(app.url(&format!("/probe/file{path}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path} should not be readable");
    }
}

#[tokio::test]
async fn files_are_not_writable() {
    let app = spawn();
    let http = client();
    for path in ["/static/index.html", "/static/new.txt", "/new.txt"] {
        let response = http
            .post(app.url(&format!("/probe/file{path}")))
            .body("overwritten")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path} should not be writable");
    }
    let index = http
        .get(app.url("/probe/file/static/index.html"))
        .send()
        .await
        .unwrap();
    assert_eq!(index.text().await.unwrap(), "<h1>hi</h1>");
    // And the project's own copy is untouched.
    let original = std::fs::read_to_string(app.dir.path().join("assets/index.html")).unwrap();
    assert_eq!(original, "<h1>hi</h1>");
}

#[tokio::test]
async fn environment_is_passed_to_the_guest() {
    let app = spawn();
    let http = client();
    let mode = http
        .get(app.url("/probe/env/APP_MODE"))
        .send()
        .await
        .unwrap();
    assert_eq!(mode.text().await.unwrap(), "test");
    // The host's own environment does not leak in.
    let path = http.get(app.url("/probe/env/PATH")).send().await.unwrap();
    assert_eq!(path.status(), 404);
}
