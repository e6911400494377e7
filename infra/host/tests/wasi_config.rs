//! `wasi:config/store@0.2.0-draft-2024-09-27` through a component that
//! imports it directly (`tests/fixtures/wasi`): the component's `[variables]`,
//! resolved as `fermyon:spin/variables` resolves them, with Spin's answers
//! for names that are missing or invalid.

mod common;

use common::{AppOptions, TestApp, client};
use serde_json::{Value, json};

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "wasi-config-test"

[variables]
greeting = { default = "hello" }
api_token = { required = true, secret = true }
region = { default = "eu" }

[[trigger.http]]
route = "/wasi/..."
component = "wasi"

[[trigger.http]]
route = "/probe/..."
component = "probe"

[[trigger.http]]
route = "/bare/..."
component = "bare"

[component.wasi]
source = "{wasi}"
[component.wasi.variables]
greeting = "{{ greeting }}"
token = "{{ api_token }}"
endpoint = "https://{{ region }}.example.com/v1"
literal = "plain"

[component.probe]
source = "{probe}"
[component.probe.variables]
greeting = "{{ greeting }}"

[component.bare]
source = "{wasi}"
"#;

fn spawn() -> TestApp {
    TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            env: vec![
                ("SPIN_VARIABLE_API_TOKEN", "s3cret".into()),
                ("SPIN_VARIABLE_REGION", "us".into()),
            ],
            ..AppOptions::default()
        },
    )
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let response = client().get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn get_answers_the_components_variables() {
    let app = spawn();
    let get = |name: &str| {
        let path = format!("/wasi/config/{name}");
        let app = &app;
        async move { get_json(app, &path).await["value"].clone() }
    };
    assert_eq!(get("greeting").await, json!("hello"));
    assert_eq!(get("token").await, json!("s3cret"));
    assert_eq!(get("endpoint").await, json!("https://us.example.com/v1"));
    assert_eq!(get("literal").await, json!("plain"));
    // Missing is `none`, not an error: an app variable the component does
    // not declare, an unknown name, and (as Spin) an invalid one.
    assert_eq!(get("region").await, Value::Null);
    assert_eq!(get("nothing_here").await, Value::Null);
    assert_eq!(get("GREETING").await, Value::Null);
    assert_eq!(get("not-a-name").await, Value::Null);

    // The same value fermyon:spin/variables gives.
    let spin = client()
        .get(app.url("/probe/var/greeting"))
        .send()
        .await
        .unwrap();
    assert_eq!(spin.text().await.unwrap(), "hello");
}

#[tokio::test]
async fn get_all_answers_exactly_the_declared_variables() {
    let app = spawn();
    assert_eq!(
        get_json(&app, "/wasi/config").await,
        json!({
            "greeting": "hello",
            "token": "s3cret",
            "endpoint": "https://us.example.com/v1",
            "literal": "plain",
        })
    );
    // A component that declares none sees none.
    assert_eq!(get_json(&app, "/bare/config").await, json!({}));
    assert_eq!(
        get_json(&app, "/bare/config/greeting").await,
        json!({ "value": null })
    );
}
