//! `--postgres-compat spin-4.0.2`: the test-only mode that makes spinstack's
//! Postgres behave as Spin 4.0.0–4.0.2's client does, so the app's tests
//! can show the app does not depend on what those versions get wrong. Here
//! the mode itself, through `fixture-pg`, on both interfaces, and the
//! normal behaviour beside it.

mod common;
mod pg_support;

use std::time::{Duration, Instant};

use common::{AppOptions, TestApp, client};
use pg_support::{MANIFEST, PG, err, execute, ok, query, run_as, unique};
use serde_json::{Value, json};

/// Short, so the empty result's wait is short too.
const TIMEOUT_MS: u64 = 1500;

fn spawn(compat: bool) -> TestApp {
    let mut args = vec!["--request-timeout-ms".to_owned(), TIMEOUT_MS.to_string()];
    if compat {
        args.extend(["--postgres-compat".to_owned(), "spin-4.0.2".to_owned()]);
    } else {
        args.extend(["--postgres-compat".to_owned(), "none".to_owned()]);
    }
    TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            args,
            ..Default::default()
        },
    )
}

/// A table `spinstack_<label>_<pid>` with one row (1), for the statements
/// below.
async fn table(app: &TestApp, label: &str) -> String {
    let name = unique(label);
    let results = run_as(
        app,
        "/pg",
        4,
        PG,
        vec![
            execute(&format!("DROP TABLE IF EXISTS {name}"), json!([])),
            execute(
                &format!("CREATE TABLE {name} (id int PRIMARY KEY)"),
                json!([]),
            ),
            execute(&format!("INSERT INTO {name} VALUES (1)"), json!([])),
        ],
    )
    .await;
    for result in results["results"].as_array().unwrap() {
        ok(result);
    }
    name
}

/// One statement through interface `version`: the status, the fixture's
/// answer, and how long it took.
async fn one(app: &TestApp, version: u32, statement: Value) -> (u16, Value, Duration) {
    let started = Instant::now();
    let response = client()
        .post(app.url("/pg/run"))
        .json(&json!({ "address": PG, "version": version, "statements": [statement] }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, started.elapsed())
}

#[tokio::test]
async fn under_the_mode_an_empty_result_never_returns_and_errors_have_no_sqlstate() {
    let app = spawn(true);
    let t = table(&app, "compat_on").await;
    for version in [4, 3] {
        let (status, body, elapsed) = one(
            &app,
            version,
            query(&format!("SELECT id FROM {t} WHERE id = 2"), json!([])),
        )
        .await;
        // Held until the deadline: the instance is then interrupted (504),
        // or, if it gets to answer, it saw the deadline error.
        assert!(
            elapsed >= Duration::from_millis(TIMEOUT_MS),
            "v{version}: returned after {elapsed:?}"
        );
        let deadline_error = body["results"][0]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("deadline"));
        assert!(
            status == 504 || deadline_error,
            "v{version}: {status} {body}"
        );

        // A row comes back at once, as always.
        let (status, body, elapsed) = one(
            &app,
            version,
            query(&format!("SELECT id FROM {t}"), json!([])),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            ok(&body["results"][0])["rows"][0][0]["value"],
            1,
            "v{version}: {body}"
        );
        assert!(elapsed < Duration::from_millis(TIMEOUT_MS));

        // A unique violation is text without its code, from both calls.
        for statement in [
            query(
                &format!("INSERT INTO {t} VALUES (1) RETURNING id"),
                json!([]),
            ),
            execute(&format!("INSERT INTO {t} VALUES (1)"), json!([])),
        ] {
            let (status, body, _) = one(&app, version, statement).await;
            assert_eq!(status, 200);
            let error = err(&body["results"][0]);
            assert_eq!(error["kind"], "query-failed", "v{version}: {error}");
            assert!(error.get("code").is_none(), "v{version}: {error}");
            let message = error["message"].as_str().unwrap();
            assert!(message.contains("duplicate key"), "v{version}: {message}");
            assert!(!message.contains("23505"), "v{version}: {message}");
        }
    }
}

#[tokio::test]
async fn without_the_mode_empty_results_return_and_errors_keep_their_sqlstate() {
    let app = spawn(false);
    let t = table(&app, "compat_off").await;
    let (status, body, elapsed) = one(
        &app,
        4,
        query(&format!("SELECT id FROM {t} WHERE id = 2"), json!([])),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ok(&body["results"][0])["rows"], json!([]));
    assert!(elapsed < Duration::from_millis(TIMEOUT_MS));
    let (_, body, _) = one(
        &app,
        4,
        execute(&format!("INSERT INTO {t} VALUES (1)"), json!([])),
    )
    .await;
    assert_eq!(err(&body["results"][0])["code"], "23505");
    let (_, body, _) = one(
        &app,
        3,
        execute(&format!("INSERT INTO {t} VALUES (1)"), json!([])),
    )
    .await;
    let message = err(&body["results"][0])["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("23505"), "{message}");
}
