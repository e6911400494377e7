//! [`HostConfig`]: everything that shapes a running host, as plain data. The
//! CLI fills it from flags; tests and benchmarks build it directly and get an
//! [`crate::App`] in-process.

use std::path::PathBuf;
use std::time::Duration;

/// Our state directory's name beside the manifest. Not Spin's `.spin`: our
/// key-value files are not Spin's SQLite databases, and the two must not
/// clobber each other when both run the same app.
pub const STATE_DIR_NAME: &str = ".spinstack";

#[derive(Clone)]
pub struct HostConfig {
    /// The application manifest (`spin.toml`).
    pub manifest: PathBuf,
    /// Spin runtime-config file (key-value stores, `state_dir`).
    pub runtime_config_file: Option<PathBuf>,
    /// Local state; default `.spinstack` beside the manifest.
    pub state_dir: Option<PathBuf>,
    /// Compiled components; default `compiled/` in the state directory.
    pub cache_dir: Option<PathBuf>,
    /// Wall-clock limit of one request.
    pub request_timeout: Duration,
    /// Wall-clock limit of a `GET` that asks for `text/event-stream` (a
    /// server-sent events stream is meant to stay open; it still ends).
    pub stream_timeout: Duration,
    /// Requests that may run guests at once.
    pub max_concurrent: u32,
    /// How long a request may wait for a slot before its 503.
    pub max_queue_wait: Duration,
    pub gateway: GatewaySelection,
    /// Linear-memory cap of one instance, in bytes.
    pub max_instance_memory: usize,
    /// Postgres without pooling or statement caching (benchmark baseline).
    pub postgres_naive: bool,
    /// Test-only: Postgres as Spin 4.0.0–4.0.2's client behaves.
    pub postgres_compat: crate::capabilities::postgres::PostgresCompat,
    /// Variable values asked after the environment (the embedded services').
    pub service_variables: spinstack_manifest::StaticProvider,
    /// Record metrics (`metrics/`); `spinstack up --admin-listen` serves them.
    pub metrics: bool,
}

impl HostConfig {
    /// The defaults `spinstack up` has, for the app at `manifest`.
    pub fn new(manifest: impl Into<PathBuf>) -> Self {
        Self {
            manifest: manifest.into(),
            runtime_config_file: None,
            state_dir: None,
            cache_dir: None,
            request_timeout: Duration::from_secs(30),
            stream_timeout: Duration::from_secs(600),
            max_concurrent: 128,
            max_queue_wait: Duration::from_secs(2),
            gateway: GatewaySelection::Project,
            max_instance_memory: 128 << 20,
            postgres_naive: false,
            postgres_compat: Default::default(),
            service_variables: Default::default(),
            metrics: false,
        }
    }

    /// The manifest and the runtime config, parsed and checked together.
    pub fn read_app(
        &self,
    ) -> anyhow::Result<(
        spinstack_manifest::Manifest,
        spinstack_manifest::RuntimeConfig,
    )> {
        let manifest = spinstack_manifest::Manifest::from_file(&self.manifest)?;
        let runtime_config = read_runtime_config(self.runtime_config_file.as_deref())?;
        Ok((manifest, runtime_config))
    }
}

pub fn read_runtime_config(
    path: Option<&std::path::Path>,
) -> anyhow::Result<spinstack_manifest::RuntimeConfig> {
    Ok(match path {
        Some(path) => spinstack_manifest::RuntimeConfig::from_file(path)?,
        None => spinstack_manifest::RuntimeConfig::default(),
    })
}

/// The state directory, absolute: the flag, else the runtime config's
/// `state_dir`, else `.spinstack` beside the manifest.
pub fn state_dir(
    flag: Option<&std::path::Path>,
    manifest: &spinstack_manifest::Manifest,
    runtime_config: &spinstack_manifest::RuntimeConfig,
) -> PathBuf {
    let state_dir = flag
        .map(std::path::Path::to_path_buf)
        .or_else(|| match runtime_config.state_dir() {
            Some(spinstack_manifest::StateDir::Path(dir)) => Some(dir.clone()),
            _ => None,
        })
        .unwrap_or_else(|| manifest.base_dir.join(STATE_DIR_NAME));
    std::path::absolute(&state_dir).unwrap_or(state_dir)
}

/// Which gateway policy fronts the routes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GatewaySelection {
    /// `infra/gateway.toml` beside the manifest if it exists, else the
    /// built-in policy (the same).
    Project,
    /// A policy file.
    File(PathBuf),
    /// The project's policy without rate limits (test suites, load tests).
    WithoutRateLimits,
    /// No gateway at all (benchmark baseline).
    Off,
}

impl GatewaySelection {
    /// The `--gateway` flag's values: `none`, `off`, or a path.
    pub fn from_flag(flag: Option<&str>) -> Self {
        match flag {
            None => Self::Project,
            Some("none") => Self::WithoutRateLimits,
            Some("off") => Self::Off,
            Some(path) => Self::File(path.into()),
        }
    }
}
