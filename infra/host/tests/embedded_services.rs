//! `spinstack up` with no configuration: the embedded Postgres (as an
//! unprivileged user when the host is root; data kept across restarts;
//! migrations applied before serving), the embedded S3 endpoint (SigV4 from a
//! real S3 client), a configured database instead of the embedded one, the
//! message when PostgreSQL is missing, and the reset command.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use common::database::{FreshDatabase, connect};
use common::{AppOptions, TestApp, client};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "embedded-test"

[variables]
database_url = { default = "", secret = true }
database_host = { required = true }
s3_endpoint = { required = true }
s3_region = { default = "" }
s3_bucket = { default = "" }
s3_access_key_id = { default = "" }
s3_secret_access_key = { default = "", secret = true }

[[trigger.http]]
route = "/probe/..."
component = "probe"

[component.probe]
source = "{probe}"
allowed_outbound_hosts = ["postgres://{{ database_host }}", "{{ s3_endpoint }}"]
[component.probe.variables]
database_url = "{{ database_url }}"
database_host = "{{ database_host }}"
s3_endpoint = "{{ s3_endpoint }}"
s3_region = "{{ s3_region }}"
s3_bucket = "{{ s3_bucket }}"
s3_access_key_id = "{{ s3_access_key_id }}"
s3_secret_access_key = "{{ s3_secret_access_key }}"
"#;

const MIGRATION: (&str, &str) = (
    "infra/migrations/0001_notes.sql",
    "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);\n",
);

async fn variable(app: &TestApp, name: &str) -> String {
    let response = client()
        .get(app.url(&format!("/probe/var/{name}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "variable {name}");
    response.text().await.unwrap()
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").unwrap().uid() == 0
}

fn postmaster_pid(state: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(state.join("postgres/data/postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}

#[tokio::test]
async fn embedded_postgres_starts_unconfigured_and_keeps_its_data() {
    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            files: vec![MIGRATION],
            ..AppOptions::default()
        },
    );
    let state = app.dir.path().join(".spinstack");
    let url = variable(&app, "database_url").await;
    assert!(url.starts_with("postgres://spinstack:"), "{url}");
    let host = variable(&app, "database_host").await;
    assert!(host.starts_with("127.0.0.1:"), "{host}");
    assert!(url.contains(&format!("@{host}/app")), "{url} / {host}");

    // The server runs as an unprivileged user when the host is root.
    let pid = postmaster_pid(&state).expect("postmaster.pid");
    let server_uid = std::fs::metadata(format!("/proc/{pid}")).unwrap().uid();
    if is_root() {
        assert_ne!(server_uid, 0, "Postgres must not run as root");
        let data_uid = std::fs::metadata(state.join("postgres/data"))
            .unwrap()
            .uid();
        assert_eq!(data_uid, server_uid, "the server's user owns its data");
    }
    // The generated password is private and never logged.
    let password_file = state.join("postgres/password");
    let mode = std::fs::metadata(&password_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let password = std::fs::read_to_string(&password_file).unwrap();
    assert!(url.contains(password.trim()));
    assert!(!app.log().contains(password.trim()), "{}", app.log());

    // Migrations were applied before serving; the data is ours to keep.
    let db = connect(&url).await;
    let applied: i64 = db
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, 1);
    db.execute("INSERT INTO notes (body) VALUES ('kept')", &[])
        .await
        .unwrap();
    drop(db);

    // A graceful stop stops the server too.
    let dir = app.stop();
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
    assert_eq!(postmaster_pid(&dir.path().join(".spinstack")), None);

    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            files: vec![MIGRATION],
            dir: Some(dir),
            ..AppOptions::default()
        },
    );
    let url = variable(&app, "database_url").await;
    let db = connect(&url).await;
    let body: String = db
        .query_one("SELECT body FROM notes", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(body, "kept");
    let applied: i64 = db
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, 1, "migrations are not applied twice");
    assert!(app.log().contains("embedded Postgres"), "{}", app.log());
}

#[tokio::test]
async fn a_killed_host_takes_its_postgres_with_it() {
    let app = TestApp::spawn(MANIFEST);
    let state = app.dir.path().join(".spinstack");
    let pid = postmaster_pid(&state).expect("postmaster.pid");
    let dir = app.dir.path().to_owned();
    drop(app); // SIGKILL: no chance to clean up.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while Path::new(&format!("/proc/{pid}")).exists() {
        // A zombie until reaped by init counts as gone.
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        if status.contains("State:\tZ") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "postgres {pid} outlived its host"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = dir;
}

#[tokio::test]
async fn a_configured_database_is_used_instead() {
    let db = FreshDatabase::create("up").await;
    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            env: vec![("SPIN_VARIABLE_DATABASE_URL", db.url.clone())],
            files: vec![MIGRATION],
            ..AppOptions::default()
        },
    );
    assert_eq!(variable(&app, "database_url").await, db.url);
    // Derived from the URL when not set.
    assert_eq!(variable(&app, "database_host").await, "127.0.0.1:5432");
    assert!(!app.dir.path().join(".spinstack/postgres").exists());
    // Migrated before serving.
    let applied: i64 = connect(&db.url)
        .await
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, 1);
}

#[tokio::test]
async fn without_postgres_binaries_start_up_names_both_fixes() {
    let stderr = TestApp::start_failure(
        MANIFEST,
        AppOptions {
            env: vec![
                ("PATH", "/nonexistent".into()),
                ("SPINSTACK_POSTGRES_ROOT", "/nonexistent".into()),
            ],
            ..AppOptions::default()
        },
    );
    assert!(stderr.contains("apt-get install postgresql"), "{stderr}");
    assert!(stderr.contains("SPIN_VARIABLE_DATABASE_URL"), "{stderr}");
}

#[tokio::test]
async fn embedded_s3_speaks_sigv4() {
    let app = TestApp::spawn(MANIFEST);
    let endpoint = variable(&app, "s3_endpoint").await;
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    let region = variable(&app, "s3_region").await;
    let bucket_name = variable(&app, "s3_bucket").await;
    let key = variable(&app, "s3_access_key_id").await;
    let secret = variable(&app, "s3_secret_access_key").await;
    assert!(!key.is_empty() && secret.len() >= 32);
    assert!(!app.log().contains(&secret));
    let credentials_file = app.dir.path().join(".spinstack/s3/credentials.json");
    let mode = std::fs::metadata(&credentials_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let bucket = Bucket::new(
        endpoint.parse().unwrap(),
        UrlStyle::Path,
        bucket_name,
        region,
    )
    .unwrap();
    let credentials = Credentials::new(key.clone(), secret.clone());
    let http = client();
    let ttl = Duration::from_secs(60);

    let head_bucket = bucket.head_bucket(Some(&credentials)).sign(ttl);
    assert_eq!(http.head(head_bucket).send().await.unwrap().status(), 200);

    let put = bucket
        .put_object(Some(&credentials), "notes/hello.txt")
        .sign(ttl);
    let response = http.put(put).body("hello, s3").send().await.unwrap();
    assert_eq!(response.status(), 200);

    let get = bucket
        .get_object(Some(&credentials), "notes/hello.txt")
        .sign(ttl);
    let response = http.get(get).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "hello, s3");

    let head = bucket
        .head_object(Some(&credentials), "notes/hello.txt")
        .sign(ttl);
    let response = http.head(head.clone()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-length"], "9");

    // A wrong secret, or none, is refused.
    let forged = Credentials::new(key.clone(), "not-the-secret");
    let get = bucket
        .get_object(Some(&forged), "notes/hello.txt")
        .sign(ttl);
    assert_eq!(http.get(get).send().await.unwrap().status(), 403);
    let anonymous = bucket.get_object(None, "notes/hello.txt").sign(ttl);
    assert!(
        http.get(anonymous)
            .send()
            .await
            .unwrap()
            .status()
            .is_client_error()
    );

    let delete = bucket
        .delete_object(Some(&credentials), "notes/hello.txt")
        .sign(ttl);
    assert_eq!(http.delete(delete).send().await.unwrap().status(), 204);
    assert_eq!(http.head(head).send().await.unwrap().status(), 404);

    // Objects and credentials survive a restart.
    let put = bucket.put_object(Some(&credentials), "kept.txt").sign(ttl);
    assert_eq!(
        http.put(put).body("kept").send().await.unwrap().status(),
        200
    );
    let dir = app.stop();
    let app = TestApp::spawn_with(
        MANIFEST,
        AppOptions {
            dir: Some(dir),
            ..AppOptions::default()
        },
    );
    assert_eq!(variable(&app, "s3_access_key_id").await, key);
    let endpoint = variable(&app, "s3_endpoint").await;
    let bucket = Bucket::new(
        endpoint.parse().unwrap(),
        UrlStyle::Path,
        bucket.name().to_owned(),
        bucket.region().to_owned(),
    )
    .unwrap();
    let get = bucket.get_object(Some(&credentials), "kept.txt").sign(ttl);
    let response = http.get(get).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "kept");
}

const PLAIN_MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "plain"
[[trigger.http]]
route = "/..."
component = "hello"
[component.hello]
source = "{hello}"
"#;

#[tokio::test]
async fn no_service_variables_start_no_services() {
    let app = TestApp::spawn(PLAIN_MANIFEST);
    let state = app.dir.path().join(".spinstack");
    assert!(!state.join("postgres").exists());
    assert!(!state.join("s3").exists());
}

#[tokio::test]
async fn reset_deletes_the_state_directory() {
    let app = TestApp::spawn(PLAIN_MANIFEST);
    let dir = app.stop();
    let state = dir.path().join(".spinstack");
    std::fs::create_dir_all(state.join("key_value")).unwrap();
    std::fs::write(state.join("key_value/default.kvlog"), "data").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_spinstack"))
        .arg("reset")
        .arg("-f")
        .arg(dir.path().join("spin.toml"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains(".spinstack"), "{message}");
    assert!(!state.exists());

    // `up --reset` does the same before serving.
    std::fs::create_dir_all(state.join("key_value")).unwrap();
    std::fs::write(state.join("marker"), "old").unwrap();
    let app = TestApp::spawn_with(
        PLAIN_MANIFEST,
        AppOptions {
            dir: Some(dir),
            args: vec!["--reset".into()],
            ..AppOptions::default()
        },
    );
    assert!(!app.dir.path().join(".spinstack/marker").exists());
    assert!(app.log().contains("Reset: deleted"), "{}", app.log());
}
