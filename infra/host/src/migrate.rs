//! Database migrations: the SQL files of `infra/migrations/`
//! (`0001_init.sql`, `0002_users.sql`, ...), applied in order of their
//! number, each in its own transaction, under a Postgres advisory lock, and
//! recorded in `schema_migrations(version, name, checksum, applied_at)`.
//!
//! The files are plain SQL (no custom syntax), so `psql -f` runs them too;
//! `infra/migrations/apply.sh` does exactly what this module does with psql.
//! The checksum is the SHA-256 of the file's bytes, in hex: editing a file
//! that was already applied is an error that names it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};

/// The advisory-lock key every migration run takes ("SPINSTKM").
pub const LOCK_KEY: i64 = 0x5350_494E_5354_4B4D;

/// The table recording what was applied (same definition as `apply.sh`).
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version bigint PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)";

/// One migration file.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: i64,
    /// The file name, e.g. `0001_init.sql`.
    pub name: String,
    pub sql: String,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub checksum: String,
}

/// The `.sql` files of `dir`, in order of their number. Other files (such
/// as `README.md`) are ignored; a `.sql` file without a number prefix, or
/// two files with one number, is an error.
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<Migration>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the migrations directory {}", dir.display()))?;
    let mut by_version: BTreeMap<i64, Migration> = BTreeMap::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".sql") || !entry.file_type()?.is_file() {
            continue;
        }
        let version = parse_version(&name).with_context(|| {
            format!(
                "migration file {name:?} in {} has no number prefix: name it like \
                 0001_description.sql",
                dir.display()
            )
        })?;
        let bytes = std::fs::read(entry.path())
            .with_context(|| format!("cannot read {}", entry.path().display()))?;
        let sql = String::from_utf8(bytes.clone())
            .with_context(|| format!("migration {name} is not UTF-8"))?;
        let migration = Migration {
            version,
            name: name.clone(),
            sql,
            checksum: hex::encode(Sha256::digest(&bytes)),
        };
        if let Some(other) = by_version.insert(version, migration) {
            anyhow::bail!(
                "migrations {} and {name} have the same number {version}",
                other.name
            );
        }
    }
    Ok(by_version.into_values().collect())
}

/// `0001_init.sql` → 1: digits, then `_` and a non-empty description.
fn parse_version(name: &str) -> Option<i64> {
    let stem = name.strip_suffix(".sql")?;
    let (digits, description) = stem.split_once('_')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || description.is_empty() {
        return None;
    }
    digits.parse().ok()
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Names of the files applied by this run, in order.
    pub applied: Vec<String>,
    /// How many were applied before.
    pub already_applied: usize,
}

/// Applies the migrations not yet recorded in the database at `url`, over
/// TLS as its `sslmode` says (`postgres_tls`).
pub async fn apply(url: &str, migrations: &[Migration]) -> anyhow::Result<Outcome> {
    let cannot =
        |why: String| anyhow::anyhow!("cannot connect to the database to migrate it: {why}");
    let prepared = crate::postgres_tls::prepare(url);
    let tls = prepared.tls.connector().map_err(cannot)?;
    let (mut client, connection) = tokio_postgres::connect(&prepared.conn_str, tls)
        .await
        .map_err(|e| {
            cannot(crate::postgres_tls::describe_connect_error(&e).unwrap_or_else(|| e.to_string()))
        })?;
    let connection = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("migration connection ended: {e}");
        }
    });
    let result = apply_with(&mut client, migrations).await;
    drop(client);
    let _ = connection.await;
    result
}

async fn apply_with(
    client: &mut tokio_postgres::Client,
    migrations: &[Migration],
) -> anyhow::Result<Outcome> {
    let locked: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
        .await?
        .get(0);
    if !locked {
        tracing::info!("another migration run holds the lock; waiting for it");
        client
            .execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])
            .await?;
    }
    // The lock is the session's: it ends with the connection, whatever
    // happens below.
    client
        .batch_execute(&format!(
            "SET client_min_messages = warning; {CREATE_TABLE}; RESET client_min_messages"
        ))
        .await?;
    let recorded: HashMap<i64, (String, String)> = client
        .query("SELECT version, name, checksum FROM schema_migrations", &[])
        .await?
        .into_iter()
        .map(|row| (row.get(0), (row.get(1), row.get(2))))
        .collect();

    for migration in migrations {
        if let Some((name, checksum)) = recorded.get(&migration.version)
            && *checksum != migration.checksum
        {
            anyhow::bail!(
                "migration {} was changed after it was applied (as {name}; recorded checksum \
                 {checksum}, file now {}): applied migrations must not be edited, add a new one \
                 instead",
                migration.name,
                migration.checksum
            );
        }
    }
    let known: std::collections::HashSet<i64> = migrations.iter().map(|m| m.version).collect();
    for (version, (name, _)) in &recorded {
        if !known.contains(version) {
            tracing::warn!("the database has migration {name} applied, which has no file here");
        }
    }

    let mut outcome = Outcome::default();
    for migration in migrations {
        if recorded.contains_key(&migration.version) {
            outcome.already_applied += 1;
            continue;
        }
        let transaction = client.transaction().await?;
        transaction
            .batch_execute(&migration.sql)
            .await
            .map_err(|e| describe_failure(migration, &e))?;
        transaction
            .execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                &[&migration.version, &migration.name, &migration.checksum],
            )
            .await?;
        transaction
            .commit()
            .await
            .map_err(|e| describe_failure(migration, &e))?;
        tracing::info!("applied migration {}", migration.name);
        outcome.applied.push(migration.name.clone());
    }
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
        .await?;
    Ok(outcome)
}

/// `migration 0002_x.sql failed at line 3: relation "nope" does not exist`.
fn describe_failure(migration: &Migration, error: &tokio_postgres::Error) -> anyhow::Error {
    let Some(db) = error.as_db_error() else {
        return anyhow::anyhow!("migration {} failed: {error}", migration.name);
    };
    let line = match db.position() {
        Some(tokio_postgres::error::ErrorPosition::Original(position)) => {
            let offset = migration
                .sql
                .char_indices()
                .nth((*position as usize).saturating_sub(1))
                .map_or(migration.sql.len(), |(i, _)| i);
            format!(
                " at line {}",
                migration.sql[..offset].lines().count().max(1)
            )
        }
        _ => String::new(),
    };
    let mut message = format!(
        "migration {} failed{line}: {} (SQLSTATE {})",
        migration.name,
        db.message(),
        db.code().code()
    );
    if let Some(detail) = db.detail() {
        message.push_str(&format!("; {detail}"));
    }
    anyhow::anyhow!(message)
}

/// `--migrations`, else `infra/migrations` beside the manifest.
pub fn migrations_dir(flag: Option<&Path>, manifest: &spinstack_manifest::Manifest) -> PathBuf {
    match flag {
        Some(dir) => std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
        None => manifest.base_dir.join("infra").join("migrations"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_the_number_prefix() {
        assert_eq!(parse_version("0001_init.sql"), Some(1));
        assert_eq!(parse_version("20240101_add_users.sql"), Some(20240101));
        assert_eq!(parse_version("init.sql"), None);
        assert_eq!(parse_version("_init.sql"), None);
        assert_eq!(parse_version("0001.sql"), None);
        assert_eq!(parse_version("0001_.sql"), None);
        assert_eq!(parse_version("v1_init.sql"), None);
    }

    #[test]
    fn a_directory_loads_in_numeric_order_and_ignores_other_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("0010_c.sql"), "SELECT 3;").unwrap();
        std::fs::write(dir.path().join("0002_b.sql"), "SELECT 2;").unwrap();
        std::fs::write(dir.path().join("1_a.sql"), "SELECT 1;").unwrap();
        std::fs::write(dir.path().join("README.md"), "# docs").unwrap();
        let loaded = load_dir(dir.path()).unwrap();
        let names: Vec<&str> = loaded.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["1_a.sql", "0002_b.sql", "0010_c.sql"]);
        assert_eq!(
            loaded[0].checksum,
            hex::encode(Sha256::digest(b"SELECT 1;"))
        );
    }

    #[test]
    fn unnumbered_and_duplicate_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("0001_a.sql"), "").unwrap();
        std::fs::write(dir.path().join("schema.sql"), "").unwrap();
        let error = load_dir(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("schema.sql") && error.contains("number"),
            "{error}"
        );

        std::fs::remove_file(dir.path().join("schema.sql")).unwrap();
        std::fs::write(dir.path().join("01_b.sql"), "").unwrap();
        let error = load_dir(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("0001_a.sql") && error.contains("01_b.sql"),
            "{error}"
        );
    }
}
