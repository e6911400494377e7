//! `wasi:keyvalue@0.2.0-draft2` (store, atomics, batch) through a component
//! that imports it directly (`tests/fixtures/wasi`), over the real backends:
//! the default file store and a private Redis. What it writes is what
//! `fermyon:spin/key-value` reads on the same store, and back.

mod common;

use common::redis::Redis;
use common::{AppOptions, TestApp, client};
use serde_json::{Value, json};

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "wasi-keyvalue-test"

[[trigger.http]]
route = "/wasi/..."
component = "wasi"

[[trigger.http]]
route = "/probe/..."
component = "probe"

[[trigger.http]]
route = "/third/..."
component = "third"

[component.wasi]
source = "{wasi}"
key_value_stores = ["default", "second"]

[component.probe]
source = "{probe}"
key_value_stores = ["default", "second"]

[component.third]
source = "{probe}"
key_value_stores = ["third"]
"#;

/// Starts the host with `second` as `second` says and `third` in memory.
fn spawn(second: &str) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runtime-config.toml");
    std::fs::write(
        &path,
        format!("{second}\n[key_value_store.third]\ntype = \"spin\"\n"),
    )
    .unwrap();
    TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args: vec![
                "--runtime-config-file".into(),
                path.to_str().unwrap().into(),
            ],
            dir: Some(dir),
            ..AppOptions::default()
        },
    )
}

/// `default` is the file store in the state directory (`second`, unused
/// here, in memory).
fn file_backed() -> TestApp {
    spawn("[key_value_store.second]\ntype = \"spin\"\n")
}

/// Runs `ops` on bucket `store` in one request; the fixture's answer.
async fn run(app: &TestApp, store: &str, ops: Value) -> Value {
    let response = client()
        .post(app.url("/wasi/kv/run"))
        .json(&json!({ "store": store, "ops": ops }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The `ok` values of `ops`, failing on any error.
async fn ok(app: &TestApp, store: &str, ops: Value) -> Vec<Value> {
    let answer = run(app, store, ops).await;
    answer["results"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|result| {
            assert!(result.get("error").is_none(), "{answer}");
            result["ok"].clone()
        })
        .collect()
}

/// Store operations and their errors, the same on every backend.
async fn store_operations(app: &TestApp, store: &str) {
    let results = ok(
        app,
        store,
        json!([
            { "op": "exists", "key": "greeting" },
            { "op": "get", "key": "greeting" },
            { "op": "set", "key": "greeting", "value": "hello" },
            { "op": "set", "key": "other", "value": "x" },
            { "op": "exists", "key": "greeting" },
            { "op": "get", "key": "greeting" },
            { "op": "set", "key": "greeting", "value": "hello again" },
            { "op": "get", "key": "greeting" },
            { "op": "list-keys" },
            { "op": "delete", "key": "greeting" },
            { "op": "delete", "key": "greeting" },
            { "op": "exists", "key": "greeting" },
            { "op": "get", "key": "greeting" },
            { "op": "delete", "key": "other" },
            { "op": "list-keys" },
        ]),
    )
    .await;
    assert_eq!(
        results,
        vec![
            json!(false),
            Value::Null,
            Value::Null,
            Value::Null,
            json!(true),
            json!("hello"),
            Value::Null,
            json!("hello again"),
            json!({ "keys": ["greeting", "other"], "cursor": null }),
            Value::Null,
            // Deleting what is not there is not an error.
            Value::Null,
            json!(false),
            Value::Null,
            Value::Null,
            json!({ "keys": [], "cursor": null }),
        ]
    );
    // As Spin: every key comes in one answer, and a cursor is refused.
    let answer = run(
        app,
        store,
        json!([{ "op": "list-keys", "cursor": "anything" }]),
    )
    .await;
    assert_eq!(
        answer["results"][0]["error"],
        "other: list_keys: cursor not supported"
    );
}

async fn batch_operations(app: &TestApp, store: &str) {
    let results = ok(
        app,
        store,
        json!([
            { "op": "set-many", "pairs": { "a": "1", "b": "2", "c": "3" } },
            { "op": "get-many", "keys": ["a", "missing", "c", "b"] },
            { "op": "delete-many", "keys": ["a", "c", "missing"] },
            { "op": "get-many", "keys": ["a", "b", "c"] },
            { "op": "get-many", "keys": [] },
            { "op": "set-many", "pairs": {} },
            { "op": "delete-many", "keys": [] },
            { "op": "delete-many", "keys": ["b"] },
            { "op": "list-keys" },
        ]),
    )
    .await;
    assert_eq!(
        results,
        vec![
            Value::Null,
            // Every key asked, in order; an absent one as none (the WIT).
            json!([["a", "1"], ["missing", null], ["c", "3"], ["b", "2"]]),
            Value::Null,
            json!([["a", null], ["b", "2"], ["c", null]]),
            json!([]),
            Value::Null,
            Value::Null,
            Value::Null,
            json!({ "keys": [], "cursor": null }),
        ]
    );
}

/// Compare-and-swap: unhindered, interfered with (a fresh handle that then
/// succeeds), on an absent key.
async fn compare_and_swap(app: &TestApp, store: &str) {
    let results = ok(
        app,
        store,
        json!([
            { "op": "set", "key": "cas", "value": "one" },
            { "op": "cas", "key": "cas", "value": "two" },
            { "op": "get", "key": "cas" },
            { "op": "cas", "key": "cas", "value": "four", "interfere": "three" },
            { "op": "get", "key": "cas" },
            { "op": "cas", "key": "fresh", "value": "created" },
            { "op": "get", "key": "fresh" },
            { "op": "cas", "key": "raced", "value": "mine", "interfere": "theirs" },
            { "op": "get", "key": "raced" },
            { "op": "cas", "key": "cas", "value": "five", "skip_current": true },
            { "op": "get", "key": "cas" },
            { "op": "delete-many", "keys": ["cas", "fresh", "raced"] },
        ]),
    )
    .await;
    assert_eq!(results[1], json!({ "swapped": true, "current": "one" }));
    assert_eq!(results[2], json!("two"));
    assert_eq!(
        results[3],
        json!({
            "swapped": false,
            "current": "two",
            "fresh_current": "three",
            "retry": "swapped",
        })
    );
    assert_eq!(results[4], json!("four"));
    assert_eq!(results[5], json!({ "swapped": true, "current": null }));
    assert_eq!(results[6], json!("created"));
    assert_eq!(
        results[7],
        json!({
            "swapped": false,
            "current": null,
            "fresh_current": "theirs",
            "retry": "swapped",
        })
    );
    assert_eq!(results[8], json!("mine"));
    // Without `current` the handle expects what the key held at `new`.
    assert_eq!(results[9], json!({ "swapped": true, "current": null }));
    assert_eq!(results[10], json!("five"));
}

async fn increments(app: &TestApp, store: &str) -> Vec<Value> {
    ok(
        app,
        store,
        json!([
            { "op": "increment", "key": "counter", "delta": 1 },
            { "op": "increment", "key": "counter", "delta": 2 },
            { "op": "increment", "key": "counter", "delta": -10 },
            { "op": "get-bytes", "key": "counter" },
        ]),
    )
    .await
}

/// `key` through `fermyon:spin/key-value` (the probe): its status and body.
async fn spin_get(app: &TestApp, store: &str, key: &str) -> (u16, String) {
    let response = client()
        .get(app.url(&format!("/probe/kv/{store}/{key}")))
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

async fn spin_put(app: &TestApp, store: &str, key: &str, value: &str) {
    let response = client()
        .put(app.url(&format!("/probe/kv/{store}/{key}")))
        .body(value.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

/// Both interfaces see one store.
async fn shared_with_spin_key_value(app: &TestApp, store: &str) {
    ok(
        app,
        store,
        json!([
            { "op": "set", "key": "from-wasi", "value": "written by wasi:keyvalue" },
            { "op": "set-many", "pairs": { "batch-1": "b1", "batch-2": "b2" } },
        ]),
    )
    .await;
    assert_eq!(
        spin_get(app, store, "from-wasi").await,
        (200, "written by wasi:keyvalue".into())
    );
    assert_eq!(spin_get(app, store, "batch-2").await, (200, "b2".into()));

    spin_put(app, store, "from-spin", "written by fermyon:spin").await;
    let results = ok(
        app,
        store,
        json!([
            { "op": "get", "key": "from-spin" },
            { "op": "get-many", "keys": ["from-spin", "batch-1"] },
            { "op": "delete-many", "keys": ["from-spin", "from-wasi", "batch-1", "batch-2"] },
        ]),
    )
    .await;
    assert_eq!(results[0], json!("written by fermyon:spin"));
    assert_eq!(
        results[1],
        json!([["from-spin", "written by fermyon:spin"], ["batch-1", "b1"]])
    );
    assert_eq!(spin_get(app, store, "from-wasi").await.0, 404);
}

#[tokio::test]
async fn store_operations_on_the_default_file_store() {
    let app = file_backed();
    store_operations(&app, "default").await;
}

#[tokio::test]
async fn batch_operations_answer_every_key_in_order() {
    let app = file_backed();
    batch_operations(&app, "default").await;
}

#[tokio::test]
async fn increment_keeps_spins_encoding_in_the_file_store() {
    let app = file_backed();
    let results = increments(&app, "default").await;
    assert_eq!(results[..3], [json!(1), json!(3), json!(-7)]);
    // Eight little-endian bytes, as Spin's default (SQLite) store.
    assert_eq!(results[3], json!((-7i64).to_le_bytes()));
    // What is not such a number is an error, not a trap; the value stays.
    let answer = run(
        &app,
        "default",
        json!([
            { "op": "set", "key": "text", "value": "hello" },
            { "op": "increment", "key": "text", "delta": 1 },
            { "op": "get", "key": "text" },
            { "op": "increment", "key": "counter", "delta": i64::MAX },
            { "op": "increment", "key": "counter", "delta": i64::MAX },
            { "op": "increment", "key": "counter", "delta": 0 },
        ]),
    )
    .await;
    let results = &answer["results"];
    assert_eq!(
        results[1]["error"], "other: the value is not a 64-bit integer",
        "{answer}"
    );
    assert_eq!(results[2]["ok"], "hello");
    assert_eq!(results[3]["ok"], json!(i64::MAX - 7));
    assert_eq!(
        results[4]["error"],
        "other: the increment overflows a 64-bit integer"
    );
    assert_eq!(results[5]["ok"], json!(i64::MAX - 7));
}

#[tokio::test]
async fn compare_and_swap_on_the_file_store() {
    let app = file_backed();
    compare_and_swap(&app, "default").await;
}

#[tokio::test]
async fn a_component_opens_only_the_stores_it_lists() {
    let app = file_backed();
    // `third` exists (another component lists it), `nowhere` does not: both
    // are access-denied to a component that does not list them, as Spin.
    for label in ["third", "nowhere", ""] {
        let answer = run(&app, label, json!([])).await;
        assert_eq!(answer, json!({ "open_error": "access-denied" }), "{label}");
    }
    assert!(
        !ok(&app, "second", json!([{ "op": "exists", "key": "k" }])).await[0]
            .as_bool()
            .unwrap()
    );
}

#[tokio::test]
async fn values_are_shared_with_spin_key_value_on_the_file_store() {
    let app = file_backed();
    shared_with_spin_key_value(&app, "default").await;
    // And they are the file store's: they survive a restart.
    ok(
        &app,
        "default",
        json!([{ "op": "set", "key": "kept", "value": "across restarts" }]),
    )
    .await;
    let dir = app.stop();
    let path = dir.path().join("runtime-config.toml");
    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args: vec![
                "--runtime-config-file".into(),
                path.to_str().unwrap().into(),
            ],
            dir: Some(dir),
            ..AppOptions::default()
        },
    );
    assert_eq!(
        ok(&app, "default", json!([{ "op": "get", "key": "kept" }])).await[0],
        json!("across restarts")
    );
}

/// Everything again with `second` in a private Redis.
#[tokio::test]
async fn every_operation_on_the_redis_backend() {
    let redis = Redis::start();
    let app = spawn(&format!(
        "[key_value_store.second]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:{}/0\"\n",
        redis.port
    ));
    store_operations(&app, "second").await;
    batch_operations(&app, "second").await;
    compare_and_swap(&app, "second").await;
    shared_with_spin_key_value(&app, "second").await;

    let results = increments(&app, "second").await;
    assert_eq!(results[..3], [json!(1), json!(3), json!(-7)]);
    // Redis's own integer (INCRBY), as Spin's Redis backend.
    assert_eq!(results[3], json!(b"-7"));
    let answer = run(
        &app,
        "second",
        json!([
            { "op": "set", "key": "text", "value": "hello" },
            { "op": "increment", "key": "text", "delta": 1 },
            { "op": "get", "key": "text" },
        ]),
    )
    .await;
    let error = answer["results"][1]["error"].as_str().unwrap_or_default();
    // Redis's refusal, not an outage: the next call goes through.
    assert!(
        error.starts_with("other: ") && error.contains("not an integer"),
        "{answer}"
    );
    assert_eq!(answer["results"][2]["ok"], "hello");

    // It really is in Redis: read it with a plain client.
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/0", redis.port)).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let stored: Option<String> = redis::cmd("GET")
        .arg("counter")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(stored.as_deref(), Some("-7"));
}
