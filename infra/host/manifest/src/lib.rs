//! Spin manifest (version 2) and runtime-config loading for spinstack.
//!
//! spinstack reads the same `spin.toml` and runtime-config TOML as Spin, but
//! strictly: a field it does not implement is an error naming the field by
//! its path (`component.auth.sqlite_databases is not supported by
//! spinstack`), never silently ignored.
//!
//! - [`Manifest`]: the application, its variables, HTTP triggers and
//!   components ([`Manifest::from_file`]).
//! - [`VariableResolver`]: application variable values (environment
//!   `SPIN_VARIABLE_<NAME>`, then defaults), component variable templates,
//!   and [`VariableResolver::check_required`] before start-up.
//! - [`AllowedOutboundHosts`]: a component's network permissions, including
//!   local service chaining (`http://<component>.spin.internal`).
//! - [`files`]: which host files a component's guest sees.
//! - [`RuntimeConfig`]: key-value store backends.
//!
//! A typical start-up:
//! ```no_run
//! use spinstack_manifest::{Manifest, RuntimeConfig};
//!
//! # fn main() -> anyhow::Result<()> {
//! let manifest = Manifest::from_file("spin.toml")?;
//! let runtime_config = RuntimeConfig::default();
//! runtime_config.check_manifest(&manifest)?;
//! let resolver = manifest.variable_resolver();
//! resolver.check_required()?;
//! for component in manifest.components.values() {
//!     let hosts = component.outbound_hosts(&resolver)?;
//!     let variables = resolver.resolve_component_variables(component)?;
//!     let files = component.resolve_files(&manifest.base_dir)?;
//!     # let _ = (hosts, variables, files);
//! }
//! # Ok(())
//! # }
//! ```

mod component;
mod error;
pub mod files;
mod manifest;
mod names;
mod outbound_hosts;
mod runtime_config;
mod template;
mod toml_reader;
mod variables;

pub use component::{BuildConfig, Component};
pub use error::{
    ConfigError, ConfigErrorKind, Document, ManifestError, Problem, ProblemKind, RuntimeConfigError,
};
pub use files::{FileMapping, FileMount, FilesError};
pub use manifest::{Application, HttpRoute, HttpTrigger, Manifest};
pub use names::{check_component_id, check_store_label, check_variable_name};
pub use outbound_hosts::{
    AllowedHost, AllowedOutboundHosts, OutboundHostError, SERVICE_CHAINING_SUFFIX, ServiceChaining,
    default_port, service_chaining_target,
};
pub use runtime_config::{
    DEFAULT_KEY_VALUE_FILE, DEFAULT_KEY_VALUE_STORE, DEFAULT_STATE_DIR, KeyValueBackendConfig,
    RuntimeConfig, StateDir,
};
pub use template::{Template, TemplateError};
pub use variables::{
    EnvProvider, StaticProvider, VariableDecl, VariableError, VariableProvider, VariableResolver,
    VariableValue,
};
