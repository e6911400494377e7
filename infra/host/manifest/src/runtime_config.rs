//! Spin's runtime-config TOML (`spin up --runtime-config-file`), read
//! strictly.
//!
//! Supported:
//! ```toml
//! state_dir = ".spin"            # optional; "" means no state directory
//!
//! [key_value_store.default]
//! type = "spin"                  # SQLite-backed, like Spin
//! path = "data/kv.db"            # optional; relative to this file's directory;
//!                                # absent = in memory
//!
//! [key_value_store.cache]
//! type = "redis"
//! url = "redis://localhost:6379"
//! ```
//! Anything else (other store types, `[sqlite_database.*]`,
//! `[[variables_provider]]`, `[llm_compute]`, ...) is an error naming it.
//!
//! The `default` store exists even when not configured: as in Spin it is a
//! `spin` store at `<state_dir>/sqlite_key_value.db`, or in memory when there
//! is no state directory (see [`RuntimeConfig::key_value_backend`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use toml::Table;

use crate::error::{ConfigError, ConfigErrorKind, Document, Problem, RuntimeConfigError};
use crate::manifest::Manifest;
use crate::names;
use crate::toml_reader::{Problems, TableReader, as_table};

/// The label of the store every application gets.
pub const DEFAULT_KEY_VALUE_STORE: &str = "default";
/// File name of the default store inside the state directory.
pub const DEFAULT_KEY_VALUE_FILE: &str = "sqlite_key_value.db";
/// Spin's default state directory, relative to the manifest directory.
pub const DEFAULT_STATE_DIR: &str = ".spin";

/// The backend of one key-value store.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyValueBackendConfig {
    /// `type = "spin"`: Spin's SQLite-backed store.
    Spin {
        /// The database file (absolute when loaded from a file); `None`
        /// keeps the store in memory.
        path: Option<PathBuf>,
    },
    /// `type = "redis"`.
    Redis {
        /// Connection URL; may hold a password, so it is redacted in `Debug`
        /// and [`KeyValueBackendConfig::summary`].
        url: String,
    },
}

impl KeyValueBackendConfig {
    /// One line for logs, with any password in a Redis URL hidden.
    pub fn summary(&self) -> String {
        match self {
            Self::Spin { path: Some(path) } => format!("spin (SQLite file {})", path.display()),
            Self::Spin { path: None } => "spin (in memory)".to_owned(),
            Self::Redis { url } => format!("redis ({})", redact_url(url)),
        }
    }
}

impl fmt::Debug for KeyValueBackendConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Spin { path } => f.debug_struct("Spin").field("path", path).finish(),
            Self::Redis { url } => f
                .debug_struct("Redis")
                .field("url", &redact_url(url))
                .finish(),
        }
    }
}

/// Replaces the password of `scheme://user:password@host` with `***`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                "***".to_owned()
            };
            format!("{scheme}://{masked}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// The `state_dir` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateDir {
    /// `state_dir = ""`: no state directory.
    Unset,
    /// A directory, as written (Spin resolves it against the working
    /// directory; see [`RuntimeConfig::effective_state_dir`]).
    Path(PathBuf),
}

/// A loaded runtime config. [`RuntimeConfig::default`] is the empty one
/// used when no file is given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    key_value_stores: BTreeMap<String, KeyValueBackendConfig>,
    state_dir: Option<StateDir>,
}

/// Top-level runtime-config tables of Spin that spinstack does not read.
const UNSUPPORTED_TABLES: &[(&str, &str)] = &[
    ("sqlite_database", "SQLite databases are not available"),
    (
        "variables_provider",
        "variables come from SPIN_VARIABLE_* environment variables only",
    ),
    (
        "config_provider",
        "variables come from SPIN_VARIABLE_* environment variables only",
    ),
    ("llm_compute", "Serverless AI is not available"),
    (
        "client_tls",
        "custom outbound TLS settings are not available",
    ),
    ("outbound_http", "outbound HTTP settings are not available"),
    ("log_dir", "component logs are not written to files"),
];

impl RuntimeConfig {
    /// Reads a runtime-config file; relative store paths are resolved
    /// against its directory.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, RuntimeConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(
                Document::RuntimeConfig,
                Some(path),
                ConfigErrorKind::Read(e),
            )
        })?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        Self::from_str(&text, dir).map_err(|mut e| {
            e.set_origin(path);
            e
        })
    }

    /// Parses runtime-config text; relative store paths are resolved against
    /// `base_dir` (made absolute from the working directory).
    pub fn from_str(text: &str, base_dir: impl AsRef<Path>) -> Result<Self, RuntimeConfigError> {
        let base_dir = base_dir.as_ref();
        let base_dir = std::path::absolute(base_dir).unwrap_or_else(|_| base_dir.to_path_buf());
        let fail = |kind| ConfigError::new(Document::RuntimeConfig, None, kind);
        let table: Table = text
            .parse()
            .map_err(|e: toml::de::Error| fail(ConfigErrorKind::Syntax(e.to_string())))?;

        let mut problems = Problems::default();
        let mut root = TableReader::new("", &table);
        let state_dir = root.string("state_dir", &mut problems).map(|dir| {
            if dir.is_empty() {
                StateDir::Unset
            } else {
                StateDir::Path(PathBuf::from(dir))
            }
        });
        let mut key_value_stores = BTreeMap::new();
        if let Some(stores) = root.table("key_value_store", &mut problems) {
            for (label, value) in stores.entries() {
                let path = stores.child(label);
                if let Err(reason) = names::check_store_label(label) {
                    problems.push(Problem::invalid(&path, format!("invalid label: {reason}")));
                    continue;
                }
                let Some(store) = as_table(value, &path, &mut problems) else {
                    continue;
                };
                if let Some(backend) =
                    parse_store(TableReader::new(path, store), &base_dir, &mut problems)
                {
                    key_value_stores.insert(label.clone(), backend);
                }
            }
        }
        root.finish(&mut problems, UNSUPPORTED_TABLES);

        if problems.is_empty() {
            Ok(Self {
                key_value_stores,
                state_dir,
            })
        } else {
            Err(fail(ConfigErrorKind::Invalid(problems.into_vec())))
        }
    }

    /// The stores configured explicitly, by label.
    pub fn key_value_stores(&self) -> &BTreeMap<String, KeyValueBackendConfig> {
        &self.key_value_stores
    }

    /// The explicitly configured store `label`, if any.
    pub fn key_value_store(&self, label: &str) -> Option<&KeyValueBackendConfig> {
        self.key_value_stores.get(label)
    }

    /// The backend for store `label`: its configuration, or for `default`
    /// when not configured, Spin's default store under `state_dir` (see
    /// [`RuntimeConfig::effective_state_dir`]). `None` for an unknown label.
    pub fn key_value_backend(
        &self,
        label: &str,
        state_dir: Option<&Path>,
    ) -> Option<KeyValueBackendConfig> {
        match self.key_value_stores.get(label) {
            Some(config) => Some(config.clone()),
            None if label == DEFAULT_KEY_VALUE_STORE => Some(KeyValueBackendConfig::Spin {
                path: state_dir.map(|dir| dir.join(DEFAULT_KEY_VALUE_FILE)),
            }),
            None => None,
        }
    }

    /// The `state_dir` setting, if present.
    pub fn state_dir(&self) -> Option<&StateDir> {
        self.state_dir.as_ref()
    }

    /// The state directory as Spin picks it: `from_cli` if given, else
    /// `state_dir` from this file (relative paths against the working
    /// directory; `""` gives none), else `<manifest dir>/.spin`.
    pub fn effective_state_dir(
        &self,
        from_cli: Option<&Path>,
        manifest_dir: &Path,
    ) -> Option<PathBuf> {
        let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        if let Some(dir) = from_cli {
            return Some(absolute(dir));
        }
        match &self.state_dir {
            Some(StateDir::Unset) => None,
            Some(StateDir::Path(dir)) => Some(absolute(dir)),
            None => Some(manifest_dir.join(DEFAULT_STATE_DIR)),
        }
    }

    /// Checks that every store a component uses is `default` or configured
    /// here; the error names each component field at fault.
    pub fn check_manifest(&self, manifest: &Manifest) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        for (id, component) in &manifest.components {
            for (i, label) in component.key_value_stores.iter().enumerate() {
                if label != DEFAULT_KEY_VALUE_STORE && !self.key_value_stores.contains_key(label) {
                    problems.push(Problem::invalid(
                        format!("component.{id}.key_value_stores[{i}]"),
                        format!(
                            "key-value store {label:?} is not defined; add \
                             [key_value_store.{label}] to the runtime config (only \
                             \"default\" exists without one)"
                        ),
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::new(
                Document::Manifest,
                None,
                ConfigErrorKind::Invalid(problems),
            ))
        }
    }
}

fn parse_store(
    mut reader: TableReader<'_>,
    base_dir: &Path,
    problems: &mut Problems,
) -> Option<KeyValueBackendConfig> {
    let type_path = reader.child("type");
    let backend = match reader.required_string("type", problems)? {
        "spin" => {
            let path = reader.string("path", problems).map(|p| base_dir.join(p));
            KeyValueBackendConfig::Spin { path }
        }
        "redis" => {
            let url = reader.required_string("url", problems)?;
            if let Err(reason) = check_redis_url(url) {
                problems.push(Problem::invalid(reader.child("url"), reason));
                return None;
            }
            KeyValueBackendConfig::Redis {
                url: url.to_owned(),
            }
        }
        other => {
            problems.push(Problem::unsupported(
                type_path,
                Some(&format!(
                    "store type {other:?} is not available; use \"spin\" or \"redis\""
                )),
            ));
            return None;
        }
    };
    reader.finish(problems, &[]);
    Some(backend)
}

fn check_redis_url(url: &str) -> Result<(), String> {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    match scheme {
        Some("redis" | "rediss" | "redis+unix" | "unix") => Ok(()),
        _ => Err(format!(
            "{:?} is not a Redis URL (redis://, rediss:// or redis+unix://)",
            redact_url(url)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RuntimeConfig, ConfigError> {
        RuntimeConfig::from_str(text, "/etc/app")
    }

    fn messages(err: &ConfigError) -> Vec<String> {
        err.problems().iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn spin_and_redis_stores() {
        let rc = parse(
            r#"
            [key_value_store.default]
            type = "spin"
            path = "data/kv.db"

            [key_value_store.abs]
            type = "spin"
            path = "/var/lib/kv.db"

            [key_value_store.memory]
            type = "spin"

            [key_value_store.cache]
            type = "redis"
            url = "redis://:hunter2@localhost:6379/0"
            "#,
        )
        .unwrap();
        assert_eq!(
            rc.key_value_store("default"),
            Some(&KeyValueBackendConfig::Spin {
                path: Some(PathBuf::from("/etc/app/data/kv.db"))
            })
        );
        assert_eq!(
            rc.key_value_store("abs"),
            Some(&KeyValueBackendConfig::Spin {
                path: Some(PathBuf::from("/var/lib/kv.db"))
            })
        );
        assert_eq!(
            rc.key_value_store("memory"),
            Some(&KeyValueBackendConfig::Spin { path: None })
        );
        let cache = rc.key_value_store("cache").unwrap();
        assert_eq!(
            cache,
            &KeyValueBackendConfig::Redis {
                url: "redis://:hunter2@localhost:6379/0".to_owned()
            }
        );
        assert!(!format!("{cache:?}").contains("hunter2"));
        assert_eq!(cache.summary(), "redis (redis://:***@localhost:6379/0)");
        assert_eq!(rc.key_value_stores().len(), 4);
    }

    #[test]
    fn default_store_is_implicit() {
        let rc = RuntimeConfig::default();
        assert_eq!(
            rc.key_value_backend("default", Some(Path::new("/app/.spin"))),
            Some(KeyValueBackendConfig::Spin {
                path: Some(PathBuf::from("/app/.spin/sqlite_key_value.db"))
            })
        );
        assert_eq!(
            rc.key_value_backend("default", None),
            Some(KeyValueBackendConfig::Spin { path: None })
        );
        assert_eq!(rc.key_value_backend("other", None), None);

        let rc = parse("[key_value_store.default]\ntype = 'redis'\nurl = 'redis://r'\n").unwrap();
        assert!(matches!(
            rc.key_value_backend("default", Some(Path::new("/x"))),
            Some(KeyValueBackendConfig::Redis { .. })
        ));
    }

    #[test]
    fn state_dir() {
        let app = Path::new("/app");
        let rc = RuntimeConfig::default();
        assert_eq!(
            rc.effective_state_dir(None, app),
            Some(PathBuf::from("/app/.spin"))
        );
        assert_eq!(
            rc.effective_state_dir(Some(Path::new("/cli")), app),
            Some(PathBuf::from("/cli"))
        );
        let rc = parse("state_dir = ''").unwrap();
        assert_eq!(rc.state_dir(), Some(&StateDir::Unset));
        assert_eq!(rc.effective_state_dir(None, app), None);
        let rc = parse("state_dir = '/data/state'").unwrap();
        assert_eq!(
            rc.effective_state_dir(None, app),
            Some(PathBuf::from("/data/state"))
        );
    }

    #[test]
    fn unsupported_types_and_tables_are_named() {
        let err = parse(
            r#"
            [key_value_store.cosmos]
            type = "azure_cosmos"
            key = "x"

            [key_value_store.bad]
            type = "spin"
            path = "a.db"
            extra = true

            [key_value_store.r]
            type = "redis"

            [key_value_store.u]
            type = "redis"
            url = "http://user:pw@example.com"

            [key_value_store."b@d"]
            type = "spin"

            [key_value_store.notype]
            path = "x"

            [sqlite_database.default]
            type = "spin"

            [[variables_provider]]
            type = "vault"

            [llm_compute]
            type = "remote_http"

            [whatever]
            "#,
        )
        .unwrap_err();
        let messages = messages(&err);
        let expect = [
            "key_value_store.cosmos.type is not supported by spinstack (store type \"azure_cosmos\"",
            "key_value_store.bad.extra is not supported by spinstack (unknown field)",
            "key_value_store.r.url is required",
            "key_value_store.u.url: \"http://user:***@example.com\" is not a Redis URL",
            "key_value_store.\"b@d\": invalid label",
            "key_value_store.notype.type is required",
            "sqlite_database is not supported by spinstack",
            "variables_provider is not supported by spinstack",
            "llm_compute is not supported by spinstack",
            "whatever is not supported by spinstack (unknown field)",
        ];
        for e in expect {
            assert!(
                messages.iter().any(|m| m.starts_with(e)),
                "{e:?} not in {messages:#?}"
            );
        }
        assert_eq!(messages.len(), expect.len(), "{messages:#?}");
        assert!(
            err.to_string().starts_with("invalid runtime config ("),
            "{err}"
        );
    }

    #[test]
    fn wrong_shapes() {
        let err = parse("key_value_store = 1").unwrap_err();
        assert_eq!(
            messages(&err),
            ["key_value_store must be a table, found an integer"]
        );
        let err = parse("[key_value_store]\ndefault = 'spin'").unwrap_err();
        assert_eq!(
            messages(&err),
            ["key_value_store.default must be a table, found a string"]
        );
        let err = parse("not toml [").unwrap_err();
        assert!(matches!(err.kind(), ConfigErrorKind::Syntax(_)), "{err}");
    }

    #[test]
    fn from_file_resolves_against_the_file_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("runtime-config.toml");
        std::fs::write(
            &file,
            "[key_value_store.default]\ntype = 'spin'\npath = 'kv.db'\n",
        )
        .unwrap();
        let rc = RuntimeConfig::from_file(&file).unwrap();
        assert_eq!(
            rc.key_value_store("default"),
            Some(&KeyValueBackendConfig::Spin {
                path: Some(dir.path().join("kv.db"))
            })
        );

        std::fs::write(&file, "[llm_compute]\ntype = 'spin'\n").unwrap();
        let err = RuntimeConfig::from_file(&file).unwrap_err();
        assert_eq!(err.origin(), Some(file.as_path()));
        assert!(
            err.to_string().contains(&file.display().to_string()),
            "{err}"
        );

        let missing = RuntimeConfig::from_file(dir.path().join("nope.toml")).unwrap_err();
        assert!(matches!(missing.kind(), ConfigErrorKind::Read(_)));
    }

    #[test]
    fn redaction() {
        assert_eq!(redact_url("redis://u:p@h:1/2"), "redis://u:***@h:1/2");
        assert_eq!(redact_url("redis://tok@h"), "redis://***@h");
        assert_eq!(redact_url("redis://h:6379"), "redis://h:6379");
    }
}
