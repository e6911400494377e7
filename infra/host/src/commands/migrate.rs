//! `spinstack migrate`: apply the SQL migrations to the app's database.

use spinstack::config::{read_runtime_config, state_dir};
use spinstack::embedded;
use spinstack::migrate::{apply, load_dir, migrations_dir};
use spinstack_manifest::Manifest;

use crate::cli::MigrateArgs;

/// `spinstack migrate`: the database from `--database-url`, else the
/// manifest's `database_url` variable (environment, then default), else the
/// embedded Postgres (started for the run). With both `--database-url` and
/// `--migrations`, no manifest is needed.
pub async fn run(args: &MigrateArgs) -> anyhow::Result<()> {
    let mut manifest = None;
    let mut manifest = || -> anyhow::Result<Manifest> {
        if manifest.is_none() {
            manifest = Some(Manifest::from_file(&args.manifest.manifest)?);
        }
        Ok(manifest.clone().expect("just set"))
    };
    let dir = match &args.migrations {
        Some(dir) => dir.clone(),
        None => migrations_dir(None, &manifest()?),
    };
    let migrations = load_dir(&dir)?;

    let mut started = None;
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => {
            let manifest = manifest()?;
            let name = embedded::DATABASE_URL;
            let configured = match manifest.variables.contains_key(name) {
                true => manifest.variable_resolver().resolve(name)?.into_exposed(),
                false => String::new(),
            };
            if configured.is_empty() {
                let runtime_config = read_runtime_config(args.runtime_config_file.as_deref())?;
                let state_dir = state_dir(args.state_dir.as_deref(), &manifest, &runtime_config);
                let pg = embedded::postgres::EmbeddedPostgres::start(&state_dir.join("postgres"))
                    .await?;
                let url = pg.database_url();
                started = Some(pg);
                url
            } else {
                configured
            }
        }
    };
    let result = apply(&url, &migrations).await;
    if let Some(pg) = started {
        pg.shutdown().await;
    }
    let outcome = result?;
    if outcome.applied.is_empty() {
        println!(
            "Database up to date: {} migration(s) from {} already applied",
            outcome.already_applied,
            dir.display()
        );
    } else {
        for name in &outcome.applied {
            println!("Applied {name}");
        }
        println!(
            "{} applied, {} already applied",
            outcome.applied.len(),
            outcome.already_applied
        );
    }
    Ok(())
}
