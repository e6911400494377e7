//! `fermyon:spin/variables@2.0.0`: defaults, templates, the environment
//! provider, and required variables refusing start-up.

mod common;

use common::{AppOptions, TestApp, client};

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "variables-test"

[variables]
greeting = { default = "hello" }
api_token = { required = true, secret = true }
region = { default = "eu" }

[[trigger.http]]
route = "/probe/..."
component = "probe"

[component.probe]
source = "{probe}"
[component.probe.variables]
greeting = "{{ greeting }}"
token = "{{ api_token }}"
endpoint = "https://{{ region }}.example.com/v1"
literal = "plain"
"#;

#[tokio::test]
async fn defaults_templates_and_environment_override() {
    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            env: vec![
                ("SPIN_VARIABLE_API_TOKEN", "s3cret".into()),
                ("SPIN_VARIABLE_REGION", "us".into()),
            ],
            ..AppOptions::default()
        },
    );
    let http = client();
    let get = |name: &str| {
        let url = app.url(&format!("/probe/var/{name}"));
        let http = http.clone();
        async move {
            let response = http.get(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(get("greeting").await, (200, "hello".into()));
    assert_eq!(get("token").await, (200, "s3cret".into()));
    assert_eq!(
        get("endpoint").await,
        (200, "https://us.example.com/v1".into())
    );
    assert_eq!(get("literal").await, (200, "plain".into()));
    // Only variables the component declares are visible.
    let (status, body) = get("region").await;
    assert_eq!(status, 404);
    assert!(body.contains("Undefined"), "{body}");
    let (_, body) = get("NotValid").await;
    assert!(body.contains("InvalidName"), "{body}");
    // A secret's value never reaches the log.
    assert!(!app.log().contains("s3cret"));
}

#[tokio::test]
async fn a_missing_required_variable_refuses_start_up_and_names_it() {
    let stderr = TestApp::start_failure(MANIFEST, AppOptions::default());
    assert!(stderr.contains("api_token"), "stderr: {stderr}");
}
