//! Embedded data services: what `spinstack up` brings when nobody configured
//! a database or an object store.
//!
//! Components reach their services through Spin variables, so the same
//! manifest runs on real Spin where an operator sets them:
//!
//! | variable | meaning |
//! |---|---|
//! | `database_url` (secret) | `postgres://user:pass@host:port/db` |
//! | `database_host` | `host:port`, for `allowed_outbound_hosts = ["postgres://{{ database_host }}"]` |
//! | `s3_endpoint` | e.g. `http://127.0.0.1:9000` |
//! | `s3_region`, `s3_bucket`, `s3_access_key_id` | |
//! | `s3_secret_access_key` (secret) | |
//! | `jwt_secret` (secret) | the access-token signing key, generated once |
//! | `s3_public_url` | where clients reach the store: the gateway's proxy path (`/_storage`) when the gateway proxies `s3_endpoint` |
//! | `mail_api_url` | the mail API (Postmark-compatible); unset, the embedded catcher (`mail.rs`) |
//!
//! The manifest declares them with `default = ""`, except the two that
//! appear in `allowed_outbound_hosts` (`database_host`, `s3_endpoint`,
//! `mail_api_url`):
//! those are `required = true`, because Spin checks `allowed_outbound_hosts`
//! against default values and an empty host is invalid there. When
//! `database_url` (resp. `s3_endpoint`) has no value — empty, or required
//! and not set by `SPIN_VARIABLE_*` in the environment — the host starts the
//! embedded service and supplies that service's variables through a provider
//! asked after the environment. A service is started only if the manifest
//! declares its variable. A configured `database_url` without
//! `database_host` gets its `host:port` derived from the URL.

mod jwt_secret;
pub mod mail;
pub mod postgres;
pub mod s3;
mod secrets;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use spinstack_manifest::{EnvProvider, Manifest, StaticProvider, VariableDecl, VariableResolver};

use crate::config::{HostConfig, state_dir};

pub const DATABASE_URL: &str = "database_url";
pub const DATABASE_HOST: &str = "database_host";
pub const S3_ENDPOINT: &str = "s3_endpoint";
pub const S3_REGION: &str = "s3_region";
pub const S3_BUCKET: &str = "s3_bucket";
pub const S3_ACCESS_KEY_ID: &str = "s3_access_key_id";
pub const S3_SECRET_ACCESS_KEY: &str = "s3_secret_access_key";
pub const JWT_SECRET: &str = "jwt_secret";
pub const S3_PUBLIC_URL: &str = "s3_public_url";
pub const MAIL_API_URL: &str = "mail_api_url";

const SERVICE_VARIABLES: [&str; 9] = [
    DATABASE_URL,
    DATABASE_HOST,
    S3_ENDPOINT,
    S3_REGION,
    S3_BUCKET,
    S3_ACCESS_KEY_ID,
    S3_SECRET_ACCESS_KEY,
    JWT_SECRET,
    MAIL_API_URL,
];

/// The name the variables provider goes by in messages.
const PROVIDER_NAME: &str = "embedded services";

/// The embedded services started for one run of the host, and the variable
/// values they supply. Dropping it stops them.
#[derive(Default)]
pub struct Services {
    postgres: Option<postgres::EmbeddedPostgres>,
    s3: Option<s3::EmbeddedS3>,
    mail: Option<mail::EmbeddedMail>,
    values: BTreeMap<String, String>,
}

impl Services {
    /// Starts each service the manifest declares a variable for and nobody
    /// configured.
    pub async fn start(manifest: &Manifest, state_dir: &Path) -> anyhow::Result<Self> {
        let resolver = manifest.variable_resolver();
        let mut services = Services::default();

        if unset(manifest, &resolver, DATABASE_URL)? {
            let pg = postgres::EmbeddedPostgres::start(&state_dir.join("postgres")).await?;
            services
                .values
                .insert(DATABASE_URL.into(), pg.database_url());
            services.values.insert(DATABASE_HOST.into(), pg.host_port());
            services.postgres = Some(pg);
        } else if declared(manifest, DATABASE_URL) && unset(manifest, &resolver, DATABASE_HOST)? {
            // A configured URL without its host: derive `host:port` so the
            // outbound rule still matches.
            let url = resolver.resolve(DATABASE_URL)?;
            if let Some(host) = host_port_of(url.expose()) {
                services.values.insert(DATABASE_HOST.into(), host);
            }
        }

        if unset(manifest, &resolver, S3_ENDPOINT)? {
            let s3 = s3::EmbeddedS3::start(&state_dir.join("s3")).await?;
            for (name, value) in [
                (S3_ENDPOINT, s3.endpoint()),
                (S3_REGION, s3.region().to_owned()),
                (S3_BUCKET, s3.bucket().to_owned()),
                (S3_ACCESS_KEY_ID, s3.access_key_id().to_owned()),
                (S3_SECRET_ACCESS_KEY, s3.secret_access_key().to_owned()),
            ] {
                services.values.insert(name.into(), value);
            }
            services.s3 = Some(s3);
        }

        if unset(manifest, &resolver, MAIL_API_URL)? {
            let catcher = mail::EmbeddedMail::start(&state_dir.join("mail")).await?;
            services.values.insert(MAIL_API_URL.into(), catcher.url());
            services.mail = Some(catcher);
        }

        if unset(manifest, &resolver, JWT_SECRET)? {
            let key = jwt_secret::load_or_generate(&state_dir.join("jwt_secret"))?;
            services.values.insert(JWT_SECRET.into(), key);
        }
        Ok(services)
    }

    /// The values of the started services' variables, to be asked after the
    /// environment.
    pub fn variables(&self) -> StaticProvider {
        StaticProvider::new(PROVIDER_NAME, self.values.clone())
    }

    /// Stops the services (also done on drop).
    pub async fn stop(mut self) {
        if let Some(s3) = self.s3.take() {
            s3.stop();
        }
        if let Some(mail) = self.mail.take() {
            mail.stop();
        }
        if let Some(pg) = self.postgres.take() {
            pg.shutdown().await;
        }
    }
}

/// The app's variables with the embedded services asked before the
/// environment. A service supplies values only where the environment gave
/// none or an empty one, so asking it first changes nothing else; asked after,
/// an empty `SPIN_VARIABLE_*` (compose passes `MAIL_API_URL=` through when
/// nobody configured mail) would shadow the service it made the host start.
pub fn resolver_with_services(manifest: &Manifest, services: StaticProvider) -> VariableResolver {
    resolver_over(manifest.variables.clone(), services, EnvProvider::new())
}

fn resolver_over(
    declarations: BTreeMap<String, VariableDecl>,
    services: StaticProvider,
    env: EnvProvider,
) -> VariableResolver {
    VariableResolver::new(declarations)
        .with_provider(services)
        .with_provider(env)
}

fn declared(manifest: &Manifest, name: &str) -> bool {
    manifest.variables.contains_key(name)
}

/// Declared, and without a value: it resolves (environment, then default) to
/// the empty string, or it is required and nothing sets it.
fn unset(manifest: &Manifest, resolver: &VariableResolver, name: &str) -> anyhow::Result<bool> {
    if !declared(manifest, name) {
        return Ok(false);
    }
    match resolver.resolve(name) {
        Ok(value) => Ok(value.expose().is_empty()),
        Err(spinstack_manifest::VariableError::MissingRequired { .. }) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

/// `host:port` of a `postgres://` URL (port 5432 when absent).
fn host_port_of(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))?;
    let authority = rest.split(['/', '?']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.is_empty() {
        return None;
    }
    let has_port = if host.starts_with('[') {
        host.contains("]:")
    } else {
        host.contains(':')
    };
    Some(if has_port {
        host.to_owned()
    } else {
        format!("{host}:5432")
    })
}

/// `spinstack up`'s preparation: reset if asked, then start the embedded
/// services the app needs. The caller applies the migrations.
pub async fn prepare_up(config: &HostConfig, reset: bool) -> anyhow::Result<Services> {
    let (manifest, runtime_config) = config.read_app()?;
    let state_dir = state_dir(config.state_dir.as_deref(), &manifest, &runtime_config);
    if reset {
        reset_state_dir(&state_dir, &manifest.base_dir)?;
    }
    // Report other missing required variables before starting anything (the
    // loader checks again with the services' real values).
    let placeholders = SERVICE_VARIABLES
        .iter()
        .map(|name| ((*name).to_owned(), "-".to_owned()))
        .collect();
    manifest
        .variable_resolver()
        .with_provider(StaticProvider::new(PROVIDER_NAME, placeholders))
        .check_required()?;
    let mut services = Services::start(&manifest, &state_dir).await?;
    // Presigned URLs for browsers go through the gateway's proxy of the
    // store (same origin) when it has one and nobody chose otherwise.
    if unset(&manifest, &manifest.variable_resolver(), S3_PUBLIC_URL)?
        && let Some(path) = crate::gateway::proxy_path_for_variable(
            &config.gateway,
            &manifest.base_dir,
            S3_ENDPOINT,
        )?
    {
        services.values.insert(S3_PUBLIC_URL.into(), path);
    }
    Ok(services)
}

/// The app's database URL (the environment, the manifest's default, then
/// `services`), or None when the manifest declares no `database_url`.
pub fn database_url(manifest: &Manifest, services: &Services) -> anyhow::Result<Option<String>> {
    if !declared(manifest, DATABASE_URL) {
        return Ok(None);
    }
    let resolver = resolver_with_services(manifest, services.variables());
    let url = resolver.resolve(DATABASE_URL)?;
    if url.expose().is_empty() {
        anyhow::bail!("variable {DATABASE_URL:?} is empty; cannot apply migrations");
    }
    Ok(Some(url.into_exposed()))
}

/// Deletes the state directory (compiled code, key-value data, the embedded
/// Postgres and S3 data, caught mail), refusing when a server still runs on it or the path
/// is not a plausible state directory.
pub fn reset_state_dir(state_dir: &Path, manifest_dir: &Path) -> anyhow::Result<()> {
    let state_dir = std::path::absolute(state_dir).unwrap_or_else(|_| state_dir.to_path_buf());
    if !state_dir.exists() {
        eprintln!(
            "Reset: {} does not exist; nothing to delete",
            state_dir.display()
        );
        return Ok(());
    }
    let canonical = state_dir.canonicalize()?;
    let manifest_dir = manifest_dir
        .canonicalize()
        .unwrap_or(manifest_dir.to_path_buf());
    let home = std::env::var_os("HOME").map(PathBuf::from);
    anyhow::ensure!(
        canonical.parent().is_some()
            && !manifest_dir.starts_with(&canonical)
            && home.as_deref() != Some(canonical.as_path()),
        "refusing to delete {}: it is not a state directory (it contains the app or your home)",
        canonical.display()
    );
    if let Some(pid) = postgres::running_server(&canonical.join("postgres")) {
        anyhow::bail!(
            "refusing to reset {}: its Postgres (pid {pid}) is still running; stop the \
             spinstack that uses it first",
            canonical.display()
        );
    }
    std::fs::remove_dir_all(&canonical)
        .with_context(|| format!("cannot delete {}", canonical.display()))?;
    eprintln!(
        "Reset: deleted {} (compiled components, key-value data, embedded Postgres and S3 data)",
        canonical.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use spinstack_manifest::{EnvProvider, StaticProvider, VariableDecl};

    use super::{MAIL_API_URL, host_port_of, resolver_over};

    fn required() -> VariableDecl {
        VariableDecl {
            description: None,
            default: None,
            required: true,
            secret: false,
        }
    }

    #[test]
    fn an_empty_environment_value_does_not_shadow_a_started_service() {
        let declarations = BTreeMap::from([(MAIL_API_URL.to_owned(), required())]);
        let services = StaticProvider::new(
            "embedded services",
            BTreeMap::from([(MAIL_API_URL.to_owned(), "http://127.0.0.1:4000".to_owned())]),
        );
        let env = EnvProvider::with_lookup("SPIN_VARIABLE", |key| {
            (key == "SPIN_VARIABLE_MAIL_API_URL").then(String::new)
        });
        let resolver = resolver_over(declarations, services, env);
        assert_eq!(
            resolver.resolve(MAIL_API_URL).unwrap().expose(),
            "http://127.0.0.1:4000"
        );
    }

    #[test]
    fn the_environment_answers_where_no_service_started() {
        let declarations = BTreeMap::from([(MAIL_API_URL.to_owned(), required())]);
        let services = StaticProvider::new("embedded services", BTreeMap::new());
        let env = EnvProvider::with_lookup("SPIN_VARIABLE", |key| {
            (key == "SPIN_VARIABLE_MAIL_API_URL").then(|| "https://mail.example".to_owned())
        });
        let resolver = resolver_over(declarations, services, env);
        assert_eq!(
            resolver.resolve(MAIL_API_URL).unwrap().expose(),
            "https://mail.example"
        );
    }

    #[test]
    fn host_port_of_postgres_urls() {
        assert_eq!(
            host_port_of("postgres://u:p@db.internal:6543/app").as_deref(),
            Some("db.internal:6543")
        );
        assert_eq!(
            host_port_of("postgresql://db/app?sslmode=disable").as_deref(),
            Some("db:5432")
        );
        assert_eq!(
            host_port_of("postgres://u@[::1]:5433/x").as_deref(),
            Some("[::1]:5433")
        );
        assert_eq!(
            host_port_of("postgres://u@[::1]/x").as_deref(),
            Some("[::1]:5432")
        );
        assert_eq!(host_port_of("mysql://x/y"), None);
        assert_eq!(host_port_of("postgres:///app"), None);
    }
}
