//! `fermyon:spin/key-value@2.0.0` conformance through a real component.

mod common;

use common::{AppOptions, TestApp, client};

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "kv-test"

[[trigger.http]]
route = "/probe/..."
component = "probe"

[[trigger.http]]
route = "/other/..."
component = "other"

[component.probe]
source = "{probe}"
key_value_stores = ["default", "second"]

[component.other]
source = "{probe}"
key_value_stores = ["second"]
"#;

/// The runtime config of most tests: store `second` in a file of its own.
fn file_backed_second(dir: &std::path::Path) -> String {
    format!(
        "[key_value_store.second]\ntype = \"spin\"\npath = \"{}\"\n",
        dir.join("second.kvlog").display()
    )
}

fn with_runtime_config(dir: tempfile::TempDir) -> AppOptions<'static> {
    let config = file_backed_second(dir.path());
    with_config_text(dir, &config)
}

/// Options that start the host in `dir` with `config` as its runtime config.
fn with_config_text(dir: tempfile::TempDir, config: &str) -> AppOptions<'static> {
    let path = dir.path().join("runtime-config.toml");
    std::fs::write(&path, config).unwrap();
    AppOptions {
        args: vec![
            "--runtime-config-file".into(),
            path.to_str().unwrap().into(),
        ],
        dir: Some(dir),
        ..AppOptions::default()
    }
}

#[tokio::test]
async fn get_set_delete_exists_and_keys() {
    let app = TestApp::spawn_with(MANIFEST, with_runtime_config(tempfile::tempdir().unwrap()));
    let http = client();
    let item = |key: &str| app.url(&format!("/probe/kv/default/{key}"));

    let absent = http.get(item("greeting")).send().await.unwrap();
    assert_eq!(absent.status(), 404);
    assert_eq!(
        http.head(item("greeting")).send().await.unwrap().status(),
        404
    );

    let put = http
        .put(item("greeting"))
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    let got = http.get(item("greeting")).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.text().await.unwrap(), "hello");
    assert_eq!(
        http.head(item("greeting")).send().await.unwrap().status(),
        200
    );

    // Binary values round-trip byte for byte.
    let binary: Vec<u8> = (0..=255).collect();
    http.put(item("bytes"))
        .body(binary.clone())
        .send()
        .await
        .unwrap();
    let got = http.get(item("bytes")).send().await.unwrap();
    assert_eq!(got.bytes().await.unwrap().to_vec(), binary);

    let keys = http.get(app.url("/probe/kv/default")).send().await.unwrap();
    assert_eq!(keys.text().await.unwrap(), "bytes\ngreeting");

    assert_eq!(
        http.delete(item("greeting")).send().await.unwrap().status(),
        204
    );
    assert_eq!(
        http.get(item("greeting")).send().await.unwrap().status(),
        404
    );
    // Deleting what is not there is not an error (as Spin).
    assert_eq!(
        http.delete(item("greeting")).send().await.unwrap().status(),
        204
    );
}

#[tokio::test]
async fn labels_are_isolated_and_access_is_by_manifest() {
    let app = TestApp::spawn_with(MANIFEST, with_runtime_config(tempfile::tempdir().unwrap()));
    let http = client();
    http.put(app.url("/probe/kv/default/k"))
        .body("in-default")
        .send()
        .await
        .unwrap();
    http.put(app.url("/probe/kv/second/k"))
        .body("in-second")
        .send()
        .await
        .unwrap();
    let default = http
        .get(app.url("/probe/kv/default/k"))
        .send()
        .await
        .unwrap();
    assert_eq!(default.text().await.unwrap(), "in-default");
    let second = http
        .get(app.url("/probe/kv/second/k"))
        .send()
        .await
        .unwrap();
    assert_eq!(second.text().await.unwrap(), "in-second");

    // `other` lists only "second": it shares that store, and is denied "default".
    let shared = http
        .get(app.url("/other/kv/second/k"))
        .send()
        .await
        .unwrap();
    assert_eq!(shared.text().await.unwrap(), "in-second");
    let denied = http
        .get(app.url("/other/kv/default/k"))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
    assert_eq!(denied.text().await.unwrap(), "access-denied");
    // A label nobody declares is access-denied too, as in Spin.
    let unknown = http
        .get(app.url("/probe/kv/nonexistent/k"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.text().await.unwrap(), "access-denied");
}

#[tokio::test]
async fn data_survives_a_restart() {
    let app = TestApp::spawn_with(MANIFEST, with_runtime_config(tempfile::tempdir().unwrap()));
    let http = client();
    http.put(app.url("/probe/kv/default/durable"))
        .body("still here")
        .send()
        .await
        .unwrap();
    http.put(app.url("/probe/kv/second/durable"))
        .body("also here")
        .send()
        .await
        .unwrap();
    http.put(app.url("/probe/kv/default/gone"))
        .body("x")
        .send()
        .await
        .unwrap();
    http.delete(app.url("/probe/kv/default/gone"))
        .send()
        .await
        .unwrap();
    let dir = app.stop();

    let app = TestApp::spawn_with(MANIFEST, with_runtime_config(dir));
    let durable = http
        .get(app.url("/probe/kv/default/durable"))
        .send()
        .await
        .unwrap();
    assert_eq!(durable.text().await.unwrap(), "still here");
    let second = http
        .get(app.url("/probe/kv/second/durable"))
        .send()
        .await
        .unwrap();
    assert_eq!(second.text().await.unwrap(), "also here");
    let gone = http
        .get(app.url("/probe/kv/default/gone"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn an_undeclared_store_label_refuses_start_up() {
    let manifest = MANIFEST.replace(r#"["second"]"#, r#"["missing-label"]"#);
    let stderr = TestApp::start_failure(&manifest, AppOptions::default());
    assert!(stderr.contains("missing-label"), "stderr: {stderr}");
}

/// The Redis backend against the real server on 127.0.0.1:6379, in a
/// database number of its own so it cannot touch anything else.
#[tokio::test]
async fn redis_backend_round_trip() {
    let db = 9;
    let config = format!(
        "[key_value_store.second]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379/{db}\"\n"
    );
    let prefix = format!("t{}", std::process::id());
    let app = TestApp::spawn_with(
        MANIFEST,
        with_config_text(tempfile::tempdir().unwrap(), &config),
    );
    let http = client();
    let key = |k: &str| app.url(&format!("/probe/kv/second/{prefix}-{k}"));
    assert_eq!(http.get(key("a")).send().await.unwrap().status(), 404);
    assert_eq!(
        http.put(key("a"))
            .body("from redis")
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        http.get(key("a"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "from redis"
    );
    assert_eq!(http.head(key("a")).send().await.unwrap().status(), 200);
    http.put(key("b")).body("2").send().await.unwrap();
    let keys = http
        .get(app.url("/probe/kv/second"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        keys.contains(&format!("{prefix}-a")) && keys.contains(&format!("{prefix}-b")),
        "{keys}"
    );

    // It really is in Redis: read it with a plain client.
    let client = redis::Client::open(format!("redis://127.0.0.1:6379/{db}")).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let stored: Option<String> = redis::cmd("GET")
        .arg(format!("{prefix}-a"))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(stored.as_deref(), Some("from redis"));

    assert_eq!(http.delete(key("a")).send().await.unwrap().status(), 204);
    assert_eq!(http.delete(key("b")).send().await.unwrap().status(), 204);
    assert_eq!(http.get(key("a")).send().await.unwrap().status(), 404);
}
