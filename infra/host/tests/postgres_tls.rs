//! Postgres over TLS through a real component (`fixture-pg`) against the
//! machine's server, which must have `ssl = on` (Debian's packages turn it
//! on with the self-signed "snakeoil" certificate, CN and SAN `localhost`):
//! every `sslmode`, `sslrootcert`, the system's roots, and the reasons a
//! guest gets when the server's certificate is refused.

mod common;
mod pg_support;

use std::path::PathBuf;

use common::{AppOptions, TestApp};
use pg_support::{err, ok, query, run_as};
use serde_json::{Value, json};

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "pg-tls-test"

[[trigger.http]]
route = "/pg/..."
component = "pg"

[component.pg]
source = "{pg}"
allowed_outbound_hosts = ["postgres://127.0.0.1:5432", "postgres://localhost:5432"]
"#;

const SSL_OF_THIS_SESSION: &str = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

/// The server's certificate file (`ssl_cert_file`), checking that the
/// server has TLS on at all.
async fn server_certificate() -> PathBuf {
    let admin = common::database::connect(&common::database::admin_url()).await;
    let ssl: String = admin.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    assert_eq!(
        ssl, "on",
        "these tests need the local Postgres to have ssl = on"
    );
    let file: String = admin
        .query_one("SHOW ssl_cert_file", &[])
        .await
        .unwrap()
        .get(0);
    let path = PathBuf::from(file);
    // A relative path is relative to the data directory.
    let path = if path.is_absolute() {
        path
    } else {
        let data: String = admin
            .query_one("SHOW data_directory", &[])
            .await
            .unwrap()
            .get(0);
        PathBuf::from(data).join(path)
    };
    assert!(
        path.is_file(),
        "cannot read the server's certificate {path:?}"
    );
    path
}

/// A certificate that has nothing to do with the server's.
fn unrelated_root(dir: &std::path::Path) -> PathBuf {
    let cert = rcgen::generate_simple_self_signed(vec!["unrelated.test".to_owned()]).unwrap();
    let path = dir.join("unrelated.pem");
    std::fs::write(&path, cert.cert.pem()).unwrap();
    path
}

/// The environment that makes `file` the whole system store (`dir` is
/// searched too, so it must hold nothing else: the environment may name
/// /etc/ssl/certs already).
fn system_store(file: &std::path::Path, dir: &std::path::Path) -> Vec<(&'static str, String)> {
    vec![
        ("SSL_CERT_FILE", file.display().to_string()),
        ("SSL_CERT_DIR", dir.display().to_string()),
    ]
}

/// Whether the session `address` opens is encrypted, or its open error.
async fn ssl_of(app: &TestApp, address: &str) -> Result<bool, Value> {
    let answer = run_as(
        app,
        "/pg",
        4,
        address,
        vec![query(SSL_OF_THIS_SESSION, json!([]))],
    )
    .await;
    if let Some(error) = answer.get("open_error") {
        return Err(error.clone());
    }
    let results = answer["results"].as_array().unwrap();
    let value = &ok(&results[0])["rows"][0][0];
    assert_eq!(value["type"], "boolean", "{answer}");
    Ok(value["value"].as_bool().unwrap())
}

/// The message of a `connection-failed` open error.
fn connection_failed(error: &Value) -> &str {
    assert_eq!(error["kind"], "connection-failed", "{error}");
    error["message"].as_str().unwrap()
}

fn url(host: &str, options: &str) -> String {
    format!("postgres://postgres@{host}:5432/test?{options}")
}

#[tokio::test]
async fn disable_prefer_and_require_choose_whether_to_encrypt() {
    server_certificate().await;
    let app = TestApp::spawn(MANIFEST);
    assert_eq!(
        ssl_of(&app, &url("127.0.0.1", "sslmode=disable")).await,
        Ok(false)
    );
    // prefer (the default) takes TLS when offered, without verifying, so the
    // self-signed certificate is no obstacle.
    assert_eq!(
        ssl_of(&app, &url("127.0.0.1", "sslmode=prefer")).await,
        Ok(true)
    );
    assert_eq!(
        ssl_of(&app, "host=127.0.0.1 user=postgres dbname=test").await,
        Ok(true)
    );
    assert_eq!(
        ssl_of(&app, &url("127.0.0.1", "sslmode=require")).await,
        Ok(true)
    );
}

#[tokio::test]
async fn verify_ca_trusts_the_root_given_and_nothing_else() {
    let certificate = server_certificate().await;
    let dir = tempfile::tempdir().unwrap();
    let unrelated = unrelated_root(dir.path());
    let app = TestApp::spawn(MANIFEST);

    let root = format!("sslrootcert={}", certificate.display());
    assert_eq!(
        ssl_of(
            &app,
            &url("127.0.0.1", &format!("sslmode=verify-ca&{root}"))
        )
        .await,
        Ok(true)
    );
    // Key/value form, and require with a root verifies it as libpq does.
    let key_values = format!(
        "host=127.0.0.1 user=postgres dbname=test sslmode=require sslrootcert='{}'",
        certificate.display()
    );
    assert_eq!(ssl_of(&app, &key_values).await, Ok(true));

    let other = format!("sslrootcert={}", unrelated.display());
    for mode in ["verify-ca", "require"] {
        let address = url("127.0.0.1", &format!("sslmode={mode}&{other}"));
        let error = ssl_of(&app, &address).await.unwrap_err();
        let message = connection_failed(&error);
        assert!(
            message.starts_with("the server's certificate is not trusted: "),
            "{mode}: {message}"
        );
    }

    let missing = url(
        "127.0.0.1",
        "sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem",
    );
    let error = ssl_of(&app, &missing).await.unwrap_err();
    assert!(
        connection_failed(&error).starts_with("cannot read sslrootcert /nonexistent/ca.pem"),
        "{error}"
    );
}

#[tokio::test]
async fn verify_full_checks_the_name_the_host_was_reached_by() {
    let certificate = server_certificate().await;
    let app = TestApp::spawn(MANIFEST);
    let options = format!("sslmode=verify-full&sslrootcert={}", certificate.display());

    // The snakeoil certificate names `localhost` only (DNS SAN), not the
    // IP address: reached as 127.0.0.1 it is refused, as localhost taken.
    let error = ssl_of(&app, &url("127.0.0.1", &options)).await.unwrap_err();
    let message = connection_failed(&error);
    assert!(
        message.starts_with("the server's certificate is not valid for the host connected to"),
        "{message}"
    );
    assert_eq!(ssl_of(&app, &url("localhost", &options)).await, Ok(true));
}

#[tokio::test]
async fn without_a_root_verifying_modes_use_the_system_store() {
    server_certificate().await;
    let dir = tempfile::tempdir().unwrap();
    // A system store that does not hold the server's certificate (Debian
    // links the snakeoil certificate into /etc/ssl/certs, so the real store
    // would trust it).
    let store = unrelated_root(dir.path());
    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            env: system_store(&store, dir.path()),
            ..Default::default()
        },
    );
    for mode in ["verify-ca", "verify-full"] {
        let address = format!("postgres://postgres:supersecret@localhost:5432/test?sslmode={mode}");
        let error = ssl_of(&app, &address).await.unwrap_err();
        let message = connection_failed(&error);
        assert!(
            message.starts_with("the server's certificate is not trusted: "),
            "{mode}: {message}"
        );
        assert!(!message.contains("supersecret"), "{message}");
    }
    let log = app.log();
    assert!(
        log.contains("the server's certificate is not trusted"),
        "{log}"
    );
    assert!(!log.contains("supersecret"), "password in the log:\n{log}");
}

#[tokio::test]
async fn the_system_store_can_hold_the_servers_certificate() {
    let certificate = server_certificate().await;
    let empty = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            env: system_store(&certificate, empty.path()),
            ..Default::default()
        },
    );
    assert_eq!(
        ssl_of(&app, &url("localhost", "sslmode=verify-full")).await,
        Ok(true)
    );
    assert_eq!(
        ssl_of(&app, &url("127.0.0.1", "sslmode=verify-ca")).await,
        Ok(true)
    );
    // A statement error on a TLS connection is an ordinary query error.
    let answer = run_as(
        &app,
        "/pg",
        4,
        &url("localhost", "sslmode=verify-ca"),
        vec![query("SELECT nosuchcolumn", json!([]))],
    )
    .await;
    assert_eq!(
        err(&answer["results"][0])["kind"],
        "query-failed",
        "{answer}"
    );
}
