//! The application manifest (`spin.toml`, manifest version 2), read strictly.
//!
//! Supported: `spin_manifest_version = 2`; `[application]` with `name`,
//! `version`, `description`, `authors` and `[application.trigger.http] base`;
//! `[variables]`; `[[trigger.http]]` with `route`, `component` (an id),
//! optional `id` and the default `executor`; `[component.<id>]` (see
//! [`Component`]). Every other field is an error naming it by its path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use crate::component::{Component, parse_component};
use crate::error::{ConfigError, ConfigErrorKind, Document, ManifestError, Problem};
use crate::toml_reader::{Problems, TableReader, as_table, index, type_name};
use crate::variables::{VariableDecl, VariableResolver, parse_declarations};

/// A loaded, validated manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// `[application]`.
    pub application: Application,
    /// `[variables]`: application variables by name.
    pub variables: BTreeMap<String, VariableDecl>,
    /// `[[trigger.http]]`, in manifest order.
    pub http_triggers: Vec<HttpTrigger>,
    /// `[component.<id>]` by id.
    pub components: BTreeMap<String, Component>,
    /// The directory relative paths are resolved against (the manifest's
    /// directory), made absolute.
    pub base_dir: PathBuf,
}

/// `[application]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// `name`.
    pub name: String,
    /// `version`, if any.
    pub version: Option<String>,
    /// `description`, if any.
    pub description: Option<String>,
    /// `authors`.
    pub authors: Vec<String>,
    /// `[application.trigger.http] base`: the path prefix of every route,
    /// normalized to `/` or `/segment[/...]` without a trailing slash.
    /// Defaults to `/`.
    pub http_base: String,
}

/// One `[[trigger.http]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTrigger {
    /// Optional `id`.
    pub id: Option<String>,
    /// `route`.
    pub route: HttpRoute,
    /// The component id it runs (checked to exist).
    pub component: String,
}

/// The `route` of an HTTP trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpRoute {
    /// A route pattern as written (`/api/...`, `/users/:id`), relative to
    /// the application base.
    Path(String),
    /// `{ private = true }`: reachable only by service chaining.
    Private,
}

impl Manifest {
    /// Reads and validates a manifest file. Relative paths in it are
    /// resolved against its directory.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ManifestError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(Document::Manifest, Some(path), ConfigErrorKind::Read(e))
        })?;
        let base_dir = path.parent().unwrap_or(Path::new("."));
        let base_dir = if base_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base_dir
        };
        Self::from_str(&text, base_dir).map_err(|mut e| {
            e.set_origin(path);
            e
        })
    }

    /// Parses and validates manifest text; relative paths are resolved
    /// against `base_dir` (made absolute from the working directory).
    pub fn from_str(text: &str, base_dir: impl AsRef<Path>) -> Result<Self, ManifestError> {
        let base_dir = base_dir.as_ref();
        let base_dir = std::path::absolute(base_dir).unwrap_or_else(|_| base_dir.to_path_buf());
        let fail = |kind| ConfigError::new(Document::Manifest, None, kind);
        let table: Table = text
            .parse()
            .map_err(|e: toml::de::Error| fail(ConfigErrorKind::Syntax(e.to_string())))?;
        let mut problems = Problems::default();
        let manifest = parse(&table, base_dir, &mut problems);
        match manifest {
            Some(manifest) if problems.is_empty() => Ok(manifest),
            _ => Err(fail(ConfigErrorKind::Invalid(problems.into_vec()))),
        }
    }

    /// A component by id.
    pub fn component(&self, id: &str) -> Option<&Component> {
        self.components.get(id)
    }

    /// A resolver for this manifest's variables with Spin's default
    /// provider (`SPIN_VARIABLE_*` environment variables, then defaults).
    /// Add providers, or build one with [`VariableResolver::new`], for more.
    pub fn variable_resolver(&self) -> VariableResolver {
        VariableResolver::with_env(self.variables.clone())
    }
}

fn parse(table: &Table, base_dir: PathBuf, problems: &mut Problems) -> Option<Manifest> {
    if let Some(key) = version_one_key(table) {
        problems.push(Problem::invalid(
            key,
            "manifest version 1 is not supported by spinstack; convert the manifest to \
             version 2 (spin_manifest_version = 2)",
        ));
        return None;
    }
    let mut root = TableReader::new("", table);

    match root.take("spin_manifest_version") {
        None => problems.push(Problem::missing("spin_manifest_version")),
        Some(Value::Integer(2)) => {}
        Some(Value::Integer(n)) => problems.push(Problem::invalid(
            "spin_manifest_version",
            format!("must be 2, found {n}"),
        )),
        Some(other) => problems.push(Problem::wrong_type(
            "spin_manifest_version",
            "the integer 2",
            type_name(other),
        )),
    }

    let application = match root.table("application", problems) {
        Some(reader) => parse_application(reader, problems),
        None => {
            if !table.contains_key("application") {
                problems.push(Problem::missing("application"));
            }
            None
        }
    };

    let variables = root
        .take("variables")
        .and_then(|v| as_table(v, "variables", problems))
        .map(|t| parse_declarations(t, problems))
        .unwrap_or_default();

    let mut components = BTreeMap::new();
    if let Some(table) = root.table("component", problems) {
        for (id, value) in table.entries() {
            if let Some(component) = parse_component(id, value, &base_dir, &variables, problems) {
                components.insert(id.clone(), component);
            }
        }
    }

    let http_triggers = match root.table("trigger", problems) {
        Some(reader) => parse_triggers(reader, problems),
        None => {
            if !table.contains_key("trigger") {
                problems.push(Problem::missing("trigger"));
            }
            Vec::new()
        }
    };
    root.finish(problems, &[]);

    for (i, trigger) in http_triggers.iter().enumerate() {
        if !components.contains_key(&trigger.component)
            && table_has_component(table, &trigger.component)
        {
            // The component exists but failed to load; its own problems say why.
            continue;
        }
        if !components.contains_key(&trigger.component) {
            let defined: Vec<&str> = components.keys().map(String::as_str).collect();
            let defined = if defined.is_empty() {
                "no component is defined".to_owned()
            } else {
                format!("defined: {}", defined.join(", "))
            };
            problems.push(Problem::invalid(
                format!("trigger.http[{i}].component"),
                format!(
                    "refers to component {:?}, which is not defined ({defined})",
                    trigger.component
                ),
            ));
        }
    }

    Some(Manifest {
        application: application?,
        variables,
        http_triggers,
        components,
        base_dir,
    })
}

fn table_has_component(table: &Table, id: &str) -> bool {
    table
        .get("component")
        .and_then(Value::as_table)
        .is_some_and(|c| c.contains_key(id))
}

/// The key that marks a version 1 manifest, if this is one.
fn version_one_key(table: &Table) -> Option<&'static str> {
    if table.contains_key("spin_version") {
        return Some("spin_version");
    }
    match table.get("spin_manifest_version") {
        Some(Value::Integer(1)) => Some("spin_manifest_version"),
        Some(Value::String(s)) if s == "1" => Some("spin_manifest_version"),
        _ => None,
    }
}

fn parse_application(mut reader: TableReader<'_>, problems: &mut Problems) -> Option<Application> {
    let name = reader.required_string("name", problems).map(str::to_owned);
    let version = reader.string("version", problems).map(str::to_owned);
    let description = reader.string("description", problems).map(str::to_owned);
    let authors = reader
        .string_list("authors", problems)
        .unwrap_or_default()
        .into_iter()
        .map(|(_, a)| a.to_owned())
        .collect();
    let mut http_base = "/".to_owned();
    if let Some(triggers) = reader.table("trigger", problems) {
        for (kind, value) in triggers.entries() {
            let path = triggers.child(kind);
            if kind != "http" {
                problems.push(Problem::unsupported(
                    path,
                    Some("only HTTP triggers are available"),
                ));
                continue;
            }
            let Some(table) = as_table(value, &path, problems) else {
                continue;
            };
            let mut http = TableReader::new(path, table);
            if let Some(base) = http.string("base", problems) {
                http_base = normalize_base(base);
            }
            http.finish(problems, &[]);
        }
    }
    reader.finish(
        problems,
        &[
            ("targets", "deployment targets are not checked"),
            ("tool", "tool settings are not read"),
        ],
    );
    Some(Application {
        name: name?,
        version,
        description,
        authors,
        http_base,
    })
}

/// `"shop/"` → `"/shop"`, `""` → `"/"`.
fn normalize_base(base: &str) -> String {
    let trimmed = base.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}")
    }
}

fn parse_triggers(reader: TableReader<'_>, problems: &mut Problems) -> Vec<HttpTrigger> {
    let mut triggers = Vec::new();
    for (kind, value) in reader.entries() {
        let path = reader.child(kind);
        if kind != "http" {
            problems.push(Problem::unsupported(
                path,
                Some("only HTTP triggers are available"),
            ));
            continue;
        }
        let Value::Array(items) = value else {
            problems.push(Problem::wrong_type(
                path,
                "an array of tables ([[trigger.http]])",
                type_name(value),
            ));
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let item_path = index(&path, i);
            let Some(table) = as_table(item, &item_path, problems) else {
                continue;
            };
            if let Some(trigger) = parse_http_trigger(TableReader::new(item_path, table), problems)
            {
                triggers.push(trigger);
            }
        }
    }
    triggers
}

fn parse_http_trigger(mut reader: TableReader<'_>, problems: &mut Problems) -> Option<HttpTrigger> {
    let id = reader.string("id", problems).map(str::to_owned);

    let component_path = reader.child("component");
    let component = match reader.take("component") {
        None => {
            problems.push(Problem::missing(&component_path));
            None
        }
        Some(Value::String(id)) => Some(id.clone()),
        Some(Value::Table(_)) => {
            problems.push(Problem::unsupported(
                component_path,
                Some(
                    "inline components are not supported; define it as [component.<id>] \
                     and set component = \"<id>\"",
                ),
            ));
            None
        }
        Some(other) => {
            problems.push(Problem::wrong_type(
                component_path,
                "a component id (string)",
                type_name(other),
            ));
            None
        }
    };

    let route = parse_route(&mut reader, problems);

    if let Some(mut executor) = reader.table("executor", problems) {
        let executor_path = executor.path().to_owned();
        match executor.required_string("type", problems) {
            Some("spin" | "http") => executor.finish(problems, &[]),
            Some(other) => problems.push(Problem::unsupported(
                executor_path,
                Some(&format!(
                    "executor type {other:?} is not available; only the default \
                     {{ type = \"spin\" }} is"
                )),
            )),
            None => {}
        }
    }

    reader.finish(
        problems,
        &[
            ("static_response", "static responses are not available"),
            (
                "components",
                "trigger middleware components are not available",
            ),
        ],
    );
    Some(HttpTrigger {
        id,
        route: route?,
        component: component?,
    })
}

fn parse_route(reader: &mut TableReader<'_>, problems: &mut Problems) -> Option<HttpRoute> {
    let path = reader.child("route");
    match reader.take("route") {
        None => {
            problems.push(Problem::missing(path));
            None
        }
        Some(Value::String(route)) => Some(HttpRoute::Path(route.clone())),
        Some(Value::Table(table)) => {
            let mut private = TableReader::new(path.clone(), table);
            let flag = private.boolean("private", problems);
            private.finish(problems, &[]);
            match flag {
                Some(true) => Some(HttpRoute::Private),
                Some(false) => {
                    problems.push(Problem::invalid(
                        path,
                        "must be a route string or { private = true }",
                    ));
                    None
                }
                None => {
                    if !table.contains_key("private") {
                        problems.push(Problem::missing(format!("{path}.private")));
                    }
                    None
                }
            }
        }
        Some(other) => {
            problems.push(Problem::wrong_type(
                path,
                "a route string or { private = true }",
                type_name(other),
            ));
            None
        }
    }
}
#[cfg(test)]
mod tests;
