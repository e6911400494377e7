//! `spinstack migrate` against the real system Postgres (127.0.0.1:5432): a
//! fresh database per test. Order, idempotence, checksums, the number
//! prefix, rollback of a failing file, the advisory lock, and agreement with
//! the psql-only `infra/migrations/apply.sh`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::database::{FreshDatabase, connect};

fn migrate(database_url: &str, dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spinstack"))
        .arg("migrate")
        .args(["--database-url", database_url])
        .arg("--migrations")
        .arg(dir)
        .env("RUST_LOG", "info")
        .output()
        .expect("run spinstack migrate")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn write(dir: &Path, name: &str, sql: &str) {
    std::fs::write(dir.join(name), sql).unwrap();
}

async fn recorded(url: &str) -> Vec<(i64, String, String)> {
    connect(url)
        .await
        .query(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

#[tokio::test]
async fn migrations_apply_in_numeric_order_once() {
    let db = FreshDatabase::create("mig").await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_create.sql", "CREATE TABLE t (x int);");
    // "10_" sorts before "2_" by name: numeric order applies 2 first.
    write(dir.path(), "2_fill.sql", "INSERT INTO t VALUES (2);");
    write(
        dir.path(),
        "10_alter.sql",
        "ALTER TABLE t ADD COLUMN y int;\nUPDATE t SET y = x * 10;",
    );
    write(dir.path(), "notes.txt", "not a migration");

    let first = migrate(&db.url, dir.path());
    assert!(first.status.success(), "{}", text(&first));
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(out.contains("Applied 1_create.sql"), "{out}");
    assert!(out.contains("3 applied"), "{out}");

    let client = connect(&db.url).await;
    let row = client.query_one("SELECT x, y FROM t", &[]).await.unwrap();
    assert_eq!((row.get::<_, i32>(0), row.get::<_, i32>(1)), (2, 20));

    let rows = recorded(&db.url).await;
    let names: Vec<&str> = rows.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(names, ["1_create.sql", "2_fill.sql", "10_alter.sql"]);
    assert_eq!(rows[2].0, 10);
    assert_eq!(rows[0].2.len(), 64, "hex SHA-256");

    // Again: nothing to do, nothing applied twice.
    let second = migrate(&db.url, dir.path());
    assert!(second.status.success(), "{}", text(&second));
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("up to date"),
        "{}",
        text(&second)
    );
    let count: i64 = client
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1);

    // A new file later: only it runs.
    write(dir.path(), "11_more.sql", "INSERT INTO t VALUES (3, 30);");
    let third = migrate(&db.url, dir.path());
    assert!(third.status.success(), "{}", text(&third));
    assert!(text(&third).contains("1 applied, 3 already applied"));
    assert_eq!(recorded(&db.url).await.len(), 4);
}

#[tokio::test]
async fn an_edited_applied_migration_is_refused_by_name() {
    let db = FreshDatabase::create("mig").await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "0001_a.sql", "CREATE TABLE a (x int);");
    assert!(migrate(&db.url, dir.path()).status.success());

    write(
        dir.path(),
        "0001_a.sql",
        "CREATE TABLE a (x int, y int); -- edited",
    );
    write(dir.path(), "0002_b.sql", "CREATE TABLE b (x int);");
    let run = migrate(&db.url, dir.path());
    assert!(!run.status.success());
    let message = text(&run);
    assert!(
        message.contains("0001_a.sql") && message.contains("changed"),
        "{message}"
    );
    // Nothing after the check ran.
    assert_eq!(recorded(&db.url).await.len(), 1);
    let b: Option<String> = connect(&db.url)
        .await
        .query_one("SELECT to_regclass('b')::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(b, None);
}

#[tokio::test]
async fn a_file_without_a_number_prefix_is_an_error() {
    let db = FreshDatabase::create("mig").await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "0001_a.sql", "CREATE TABLE a (x int);");
    write(dir.path(), "seed.sql", "SELECT 1;");
    let run = migrate(&db.url, dir.path());
    assert!(!run.status.success());
    let message = text(&run);
    assert!(
        message.contains("seed.sql") && message.contains("number prefix"),
        "{message}"
    );
}

#[tokio::test]
async fn a_failing_migration_rolls_back_and_is_named() {
    let db = FreshDatabase::create("mig").await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "0001_a.sql", "CREATE TABLE a (x int);");
    write(
        dir.path(),
        "0002_b.sql",
        "CREATE TABLE b (x int);\n\nINSERT INTO nowhere VALUES (1);\n",
    );
    let run = migrate(&db.url, dir.path());
    assert!(!run.status.success());
    let message = text(&run);
    assert!(
        message.contains("0002_b.sql") && message.contains("line 3") && message.contains("nowhere"),
        "{message}"
    );
    let rows = recorded(&db.url).await;
    assert_eq!(rows.len(), 1, "0001 stays applied");
    let b: Option<String> = connect(&db.url)
        .await
        .query_one("SELECT to_regclass('b')::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(b, None, "0002's table was rolled back");
}

#[tokio::test]
async fn concurrent_runs_apply_each_file_once() {
    let db = FreshDatabase::create("mig").await;
    let dir = tempfile::tempdir().unwrap();
    // Slow enough that, without the lock, both runs would see it pending.
    write(
        dir.path(),
        "0001_slow.sql",
        "CREATE TABLE IF NOT EXISTS runs (n int);\nINSERT INTO runs VALUES (1);\nSELECT pg_sleep(1);",
    );
    write(dir.path(), "0002_after.sql", "INSERT INTO runs VALUES (2);");
    let (url, path) = (db.url.clone(), dir.path().to_owned());
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let (url, path) = (url.clone(), path.clone());
            std::thread::spawn(move || migrate(&url, &path))
        })
        .collect();
    for run in runs {
        let output = run.join().unwrap();
        assert!(output.status.success(), "{}", text(&output));
    }
    let values: Vec<i32> = connect(&db.url)
        .await
        .query("SELECT n FROM runs ORDER BY n", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(values, [1, 2]);
    assert_eq!(recorded(&db.url).await.len(), 2);
}

/// The project's own migrations, applied by the psql-only script, are seen
/// as applied by `spinstack migrate` (same table, same checksums), and the
/// other way round.
#[tokio::test]
async fn apply_sh_and_spinstack_migrate_agree() {
    let root = common::workspace_root();
    let migrations = root.join("infra/migrations");
    let script = migrations.join("apply.sh");

    let db = FreshDatabase::create("mig").await;
    let applied = Command::new("sh")
        .arg(&script)
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(applied.status.success(), "{}", text(&applied));
    assert!(text(&applied).contains("Applied 0001_init.sql"));
    let run = migrate(&db.url, &migrations);
    assert!(run.status.success(), "{}", text(&run));
    assert!(text(&run).contains("up to date"), "{}", text(&run));
    // The first migration made the settings table.
    connect(&db.url)
        .await
        .execute(
            "INSERT INTO app_settings (key, value) VALUES ('k', '{\"a\": 1}')",
            &[],
        )
        .await
        .unwrap();

    // spinstack first, then the script: nothing re-applied, and an edited
    // file is refused by the script too.
    let other = FreshDatabase::create("mig").await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "0001_a.sql", "CREATE TABLE a (x int);");
    assert!(migrate(&other.url, dir.path()).status.success());
    let again = Command::new("sh")
        .arg(&script)
        .arg(dir.path())
        .env("DATABASE_URL", &other.url)
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", text(&again));
    assert!(!text(&again).contains("Applied"), "{}", text(&again));
    write(dir.path(), "0001_a.sql", "CREATE TABLE a (x bigint);");
    let edited = Command::new("sh")
        .arg(&script)
        .arg(dir.path())
        .env("DATABASE_URL", &other.url)
        .output()
        .unwrap();
    assert!(!edited.status.success());
    assert!(text(&edited).contains("0001_a.sql"), "{}", text(&edited));
}

#[tokio::test]
async fn migrate_speaks_tls_as_sslmode_says() {
    let db = FreshDatabase::create("migtls").await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_seen.sql",
        "CREATE TABLE seen AS SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();",
    );
    // A root that did not sign the server's certificate: refused, with why.
    let roots = tempfile::tempdir().unwrap();
    let unrelated = roots.path().join("unrelated.pem");
    let cert = rcgen::generate_simple_self_signed(vec!["unrelated.test".to_owned()]).unwrap();
    std::fs::write(&unrelated, cert.cert.pem()).unwrap();
    let refused = migrate(
        &format!(
            "{}?sslmode=verify-full&sslrootcert={}",
            db.url,
            unrelated.display()
        ),
        dir.path(),
    );
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        text(&refused).contains("the server's certificate is not trusted"),
        "{}",
        text(&refused)
    );

    let output = migrate(&format!("{}?sslmode=require", db.url), dir.path());
    assert!(output.status.success(), "{}", text(&output));
    let encrypted: bool = connect(&db.url)
        .await
        .query_one("SELECT ssl FROM seen", &[])
        .await
        .unwrap()
        .get(0);
    assert!(encrypted, "the migration ran over cleartext");
}
