//! What the Postgres test files share: the manifest around the `fixture-pg`
//! component, the database address, and a client for its `/run` route.

#![allow(dead_code)]

use serde_json::{Value, json};

use crate::common::{TestApp, client};

/// The machine's Postgres (trust auth; see the README).
pub const PG: &str = "postgres://postgres@127.0.0.1:5432/test";

/// `pg` may reach the local server; `denied` only another host.
pub const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "pg-test"

[[trigger.http]]
route = "/pg/..."
component = "pg"

[[trigger.http]]
route = "/denied/..."
component = "denied"

[component.pg]
source = "{pg}"
allowed_outbound_hosts = ["postgres://127.0.0.1:5432"]
environment = { PG_ADDRESS = "postgres://postgres@127.0.0.1:5432/test" }

[component.denied]
source = "{pg}"
allowed_outbound_hosts = ["postgres://db.example.com:5432"]
"#;

/// A table or schema name no other test (or concurrent run) uses.
pub fn unique(name: &str) -> String {
    format!("spinstack_{name}_{}", std::process::id())
}

pub fn query(sql: &str, params: Value) -> Value {
    json!({ "op": "query", "sql": sql, "params": params })
}

pub fn execute(sql: &str, params: Value) -> Value {
    json!({ "op": "execute", "sql": sql, "params": params })
}

/// Runs `statements` on one connection opened by component route `base`
/// (`/pg` or `/denied`) with interface `version`; the fixture's JSON answer.
pub async fn run_as(
    app: &TestApp,
    base: &str,
    version: u32,
    address: &str,
    statements: Vec<Value>,
) -> Value {
    let response = client()
        .post(app.url(&format!("{base}/run")))
        .json(&json!({ "address": address, "version": version, "statements": statements }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(
        status,
        200,
        "fixture answered {status}: {text}\nhost log:\n{}",
        app.log()
    );
    serde_json::from_str(&text).unwrap()
}

/// [`run_as`] through `pg`, 4.0.0, against the local server.
pub async fn run(app: &TestApp, statements: Vec<Value>) -> Vec<Value> {
    let answer = run_as(app, "/pg", 4, PG, statements).await;
    assert!(answer.get("open_error").is_none(), "open failed: {answer}");
    answer["results"].as_array().unwrap().clone()
}

/// The `ok` of a result, failing the test with the error otherwise.
pub fn ok(result: &Value) -> &Value {
    match result.get("ok") {
        Some(value) => value,
        None => panic!("statement failed: {result}"),
    }
}

/// The `error` of a result, failing the test if the statement succeeded.
pub fn err(result: &Value) -> &Value {
    match result.get("error") {
        Some(error) => error,
        None => panic!("statement should have failed: {result}"),
    }
}
