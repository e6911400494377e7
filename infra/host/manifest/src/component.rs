//! `[component.<id>]`: one Wasm component and what it may use.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::Value;

use crate::error::Problem;
use crate::files::{self, FileMapping, FileMount, FilesError};
use crate::names;
use crate::outbound_hosts::{AllowedHost, AllowedOutboundHosts, OutboundHostError};
use crate::template::Template;
use crate::toml_reader::{Problems, TableReader, as_str, index, join, type_name};
use crate::variables::{VariableDecl, VariableResolver, check_template};

/// A component of the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// The id, the key of `[component.<id>]`.
    pub id: String,
    /// `description`, if any.
    pub description: Option<String>,
    /// The Wasm file: `source` joined to the manifest directory. Not checked
    /// for existence (it may not be built yet).
    pub source: PathBuf,
    /// `files`, as written (see [`crate::files`]).
    pub files: Vec<FileMount>,
    /// `exclude_files` globs.
    pub exclude_files: Vec<String>,
    /// `allowed_outbound_hosts`, as written (may contain templates; see
    /// [`Component::outbound_hosts`]).
    pub allowed_outbound_hosts: Vec<String>,
    /// `key_value_stores` labels.
    pub key_value_stores: Vec<String>,
    /// Component variables: name → template.
    pub variables: BTreeMap<String, String>,
    /// Environment variables for the guest (no templates, as in Spin).
    pub environment: BTreeMap<String, String>,
    /// `[component.<id>.build]`, if any.
    pub build: Option<BuildConfig>,
}

/// `[component.<id>.build]`, used by a `spin build` equivalent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildConfig {
    /// Commands to run in order (`command` as a string gives one).
    pub commands: Vec<String>,
    /// `workdir` as written, relative to the manifest directory.
    pub workdir: Option<String>,
    /// `watch` globs, relative to the working directory.
    pub watch: Vec<String>,
}

impl BuildConfig {
    /// The directory the commands run in.
    pub fn working_dir(&self, base_dir: &Path) -> PathBuf {
        match &self.workdir {
            Some(dir) => base_dir.join(dir),
            None => base_dir.to_path_buf(),
        }
    }
}

impl Component {
    /// The files the guest sees (see [`crate::files`]); `base_dir` is the
    /// manifest directory ([`crate::Manifest::base_dir`]).
    pub fn resolve_files(&self, base_dir: &Path) -> Result<Vec<FileMapping>, FilesError> {
        files::resolve_files(base_dir, &self.files, &self.exclude_files)
    }

    /// `allowed_outbound_hosts` with templates expanded and parsed.
    pub fn outbound_hosts(
        &self,
        resolver: &VariableResolver,
    ) -> Result<AllowedOutboundHosts, OutboundHostError> {
        AllowedOutboundHosts::resolve(&self.allowed_outbound_hosts, resolver)
    }

    #[cfg(test)]
    pub(crate) fn new_for_tests(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            description: None,
            source: PathBuf::from(format!("{id}.wasm")),
            files: Vec::new(),
            exclude_files: Vec::new(),
            allowed_outbound_hosts: Vec::new(),
            key_value_stores: Vec::new(),
            variables: BTreeMap::new(),
            environment: BTreeMap::new(),
            build: None,
        }
    }
}

/// Spin component fields that spinstack does not implement, with the reason.
const UNSUPPORTED_FIELDS: &[(&str, &str)] = &[
    ("sqlite_databases", "SQLite databases are not available"),
    ("ai_models", "Serverless AI is not available"),
    ("dependencies", "component dependencies are not available"),
    (
        "dependencies_inherit_configuration",
        "component dependencies are not available",
    ),
    ("allowed_http_hosts", "use allowed_outbound_hosts instead"),
    ("tool", "tool settings are not read"),
    ("profile", "build profiles are not available"),
];

/// Reads `[component.<id>]`. Problems go to `problems`; the component is
/// returned when its required parts could be read.
pub(crate) fn parse_component(
    id: &str,
    value: &Value,
    base_dir: &Path,
    declarations: &BTreeMap<String, VariableDecl>,
    problems: &mut Problems,
) -> Option<Component> {
    let path = join("component", id);
    if let Err(reason) = names::check_component_id(id) {
        problems.push(Problem::invalid(
            &path,
            format!("invalid component id: {reason}"),
        ));
    }
    let Value::Table(table) = value else {
        problems.push(Problem::wrong_type(&path, "a table", type_name(value)));
        return None;
    };
    let mut reader = TableReader::new(path, table);

    let source = parse_source(&mut reader, base_dir, problems);
    let description = reader.string("description", problems).map(str::to_owned);
    let files = parse_files(&mut reader, problems);
    let exclude_files = strings_checked(&mut reader, "exclude_files", problems, |p| {
        files::check_exclude(p)
    });
    let allowed_outbound_hosts = parse_outbound_hosts(&mut reader, declarations, problems);
    let key_value_stores = strings_checked(&mut reader, "key_value_stores", problems, |label| {
        names::check_store_label(label)
    });
    let variables = parse_variables(&mut reader, declarations, problems);
    let environment = parse_environment(&mut reader, problems);
    let build = reader
        .table("build", problems)
        .and_then(|build| parse_build(build, problems));
    reader.finish(problems, UNSUPPORTED_FIELDS);

    Some(Component {
        id: id.to_owned(),
        description,
        source: source?,
        files,
        exclude_files,
        allowed_outbound_hosts,
        key_value_stores,
        variables,
        environment,
        build,
    })
}

fn parse_source(
    reader: &mut TableReader<'_>,
    base_dir: &Path,
    problems: &mut Problems,
) -> Option<PathBuf> {
    let path = reader.child("source");
    let Some(value) = reader.take("source") else {
        problems.push(Problem::missing(path));
        return None;
    };
    match value {
        Value::String(s) if s.is_empty() => {
            problems.push(Problem::invalid(path, "must not be empty"));
            None
        }
        Value::String(s) => Some(base_dir.join(s)),
        Value::Table(t) => {
            let hint = if t.contains_key("url") {
                "only local file paths are supported; download the Wasm file and give its path"
            } else {
                "only local file paths are supported, not registry packages"
            };
            problems.push(Problem::unsupported(path, Some(hint)));
            None
        }
        other => {
            problems.push(Problem::wrong_type(path, "a string", type_name(other)));
            None
        }
    }
}

fn parse_files(reader: &mut TableReader<'_>, problems: &mut Problems) -> Vec<FileMount> {
    let path = reader.child("files");
    let Some(value) = reader.take("files") else {
        return Vec::new();
    };
    let Value::Array(items) = value else {
        problems.push(Problem::wrong_type(path, "an array", type_name(value)));
        return Vec::new();
    };
    let mut mounts = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = index(&path, i);
        let mount = match item {
            Value::String(pattern) => FileMount::Pattern(pattern.clone()),
            Value::Table(t) => {
                let mut placement = TableReader::new(item_path.clone(), t);
                let source = placement.required_string("source", problems);
                let destination = placement.required_string("destination", problems);
                placement.finish(problems, &[]);
                let (Some(source), Some(destination)) = (source, destination) else {
                    continue;
                };
                FileMount::Placement {
                    source: source.to_owned(),
                    destination: destination.to_owned(),
                }
            }
            other => {
                problems.push(Problem::wrong_type(
                    item_path,
                    "a string or a { source, destination } table",
                    type_name(other),
                ));
                continue;
            }
        };
        match files::check_mount(&mount) {
            Ok(()) => mounts.push(mount),
            Err(reason) => problems.push(Problem::invalid(item_path, reason)),
        }
    }
    mounts
}

/// Reads a list of strings, checking each with `check`.
fn strings_checked(
    reader: &mut TableReader<'_>,
    key: &str,
    problems: &mut Problems,
    check: impl Fn(&str) -> Result<(), String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (item_path, item) in reader.string_list(key, problems).unwrap_or_default() {
        match check(item) {
            Ok(()) => out.push(item.to_owned()),
            Err(reason) => {
                problems.push(Problem::invalid(item_path, format!("{item:?}: {reason}")))
            }
        }
    }
    out
}

fn parse_outbound_hosts(
    reader: &mut TableReader<'_>,
    declarations: &BTreeMap<String, VariableDecl>,
    problems: &mut Problems,
) -> Vec<String> {
    let mut out = Vec::new();
    let items = reader
        .string_list("allowed_outbound_hosts", problems)
        .unwrap_or_default();
    for (item_path, entry) in items {
        let Some(template) = check_template(entry, declarations, &item_path, problems) else {
            continue;
        };
        match check_outbound_entry(entry, &template, declarations) {
            Ok(()) => out.push(entry.to_owned()),
            Err(reason) => problems.push(Problem::invalid(item_path, reason)),
        }
    }
    out
}

/// Validates an entry now when possible: literal entries always, templated
/// ones when every variable they use has a non-secret default (as Spin does).
fn check_outbound_entry(
    entry: &str,
    template: &Template,
    declarations: &BTreeMap<String, VariableDecl>,
) -> Result<(), String> {
    if template.is_literal() {
        return AllowedHost::parse(entry)
            .map(|_| ())
            .map_err(|e| e.to_string());
    }
    let expanded = template.render(|name| {
        match declarations.get(name) {
            Some(decl) if !decl.secret => decl.default.clone(),
            _ => None,
        }
        .ok_or(())
    });
    match expanded {
        Ok(expanded) => AllowedHost::parse(&expanded).map(|_| ()).map_err(|e| {
            format!(
                "with default variable values {entry:?} becomes {expanded:?}, which is invalid: {}",
                e.reason
            )
        }),
        Err(()) => Ok(()),
    }
}

fn parse_variables(
    reader: &mut TableReader<'_>,
    declarations: &BTreeMap<String, VariableDecl>,
    problems: &mut Problems,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(table) = reader.table("variables", problems) else {
        return out;
    };
    for (name, value) in table.entries() {
        let path = table.child(name);
        if let Err(reason) = names::check_variable_name(name) {
            problems.push(Problem::invalid(
                &path,
                format!("invalid variable name: {reason}"),
            ));
            continue;
        }
        let Some(text) = as_str(value, &path, problems) else {
            continue;
        };
        if check_template(text, declarations, &path, problems).is_some() {
            out.insert(name.clone(), text.to_owned());
        }
    }
    out
}

fn parse_environment(
    reader: &mut TableReader<'_>,
    problems: &mut Problems,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(table) = reader.table("environment", problems) else {
        return out;
    };
    for (name, value) in table.entries() {
        let path = table.child(name);
        if name.is_empty() || name.contains(['=', '\0']) {
            problems.push(Problem::invalid(
                &path,
                "environment variable names must be non-empty, without '=' or NUL",
            ));
            continue;
        }
        if let Some(text) = as_str(value, &path, problems) {
            out.insert(name.clone(), text.to_owned());
        }
    }
    out
}

fn parse_build(mut reader: TableReader<'_>, problems: &mut Problems) -> Option<BuildConfig> {
    let command_path = reader.child("command");
    let commands = match reader.take("command") {
        None => {
            problems.push(Problem::missing(&command_path));
            None
        }
        Some(Value::String(command)) => Some(vec![command.clone()]),
        Some(Value::Array(items)) => {
            let mut commands = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if let Some(command) = as_str(item, &index(&command_path, i), problems) {
                    commands.push(command.to_owned());
                }
            }
            Some(commands)
        }
        Some(other) => {
            problems.push(Problem::wrong_type(
                &command_path,
                "a string or an array of strings",
                type_name(other),
            ));
            None
        }
    };
    let workdir = reader.string("workdir", problems).map(str::to_owned);
    let watch = reader
        .string_list("watch", problems)
        .unwrap_or_default()
        .into_iter()
        .map(|(_, w)| w.to_owned())
        .collect();
    reader.finish(problems, &[]);
    Some(BuildConfig {
        commands: commands?,
        workdir,
        watch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::Table;

    fn decls() -> BTreeMap<String, VariableDecl> {
        BTreeMap::from([
            (
                "host".to_owned(),
                VariableDecl {
                    description: None,
                    default: Some("db.local".to_owned()),
                    required: false,
                    secret: false,
                },
            ),
            (
                "bad_host".to_owned(),
                VariableDecl {
                    description: None,
                    default: Some("has space".to_owned()),
                    required: false,
                    secret: false,
                },
            ),
            (
                "token".to_owned(),
                VariableDecl {
                    description: None,
                    default: None,
                    required: true,
                    secret: true,
                },
            ),
        ])
    }

    fn parse(id: &str, toml_text: &str) -> (Option<Component>, Vec<String>) {
        let table: Table = toml_text.parse().unwrap();
        let value = Value::Table(table);
        let mut problems = Problems::default();
        let c = parse_component(id, &value, Path::new("/app"), &decls(), &mut problems);
        let messages = problems.into_vec().iter().map(|p| p.to_string()).collect();
        (c, messages)
    }

    #[test]
    fn full_component() {
        let (c, problems) = parse(
            "web",
            r#"
            source = "target/web.wasm"
            description = "The web"
            files = ["static/**/*", { source = "assets", destination = "/assets" }]
            exclude_files = ["static/secret/*"]
            allowed_outbound_hosts = ["https://example.com", "postgres://{{ host }}"]
            key_value_stores = ["default", "my-cache"]
            variables = { endpoint = "https://{{ host }}/x", api_token = "{{ token }}" }
            environment = { RUST_LOG = "info" }
            [build]
            command = ["cargo build", "wasm-opt"]
            workdir = "web"
            watch = ["src/**/*.rs"]
            "#,
        );
        assert!(problems.is_empty(), "{problems:#?}");
        let c = c.unwrap();
        assert_eq!(c.source, PathBuf::from("/app/target/web.wasm"));
        assert_eq!(c.files.len(), 2);
        assert_eq!(c.key_value_stores, ["default", "my-cache"]);
        assert_eq!(c.variables["endpoint"], "https://{{ host }}/x");
        assert_eq!(c.environment["RUST_LOG"], "info");
        let build = c.build.unwrap();
        assert_eq!(build.commands, ["cargo build", "wasm-opt"]);
        assert_eq!(
            build.working_dir(Path::new("/app")),
            PathBuf::from("/app/web")
        );
    }

    #[test]
    fn unsupported_fields_are_named() {
        let (_, problems) = parse(
            "auth",
            r#"
            source = "a.wasm"
            sqlite_databases = ["default"]
            ai_models = ["llama2-chat"]
            allowed_http_hosts = ["example.com"]
            dependencies_inherit_configuration = true
            mystery = 1
            [dependencies]
            "a:b/c" = "1.0"
            [tool.x]
            y = 1
            "#,
        );
        for field in [
            "sqlite_databases",
            "ai_models",
            "allowed_http_hosts",
            "dependencies_inherit_configuration",
            "dependencies",
            "tool",
            "mystery",
        ] {
            let expected = format!("component.auth.{field} is not supported by spinstack");
            assert!(
                problems.iter().any(|p| p.starts_with(&expected)),
                "{expected:?} not in {problems:#?}"
            );
        }
    }

    #[test]
    fn remote_sources_are_unsupported() {
        let (c, problems) = parse(
            "r",
            r#"source = { url = "https://example.com/x.wasm", digest = "sha256:00" }"#,
        );
        assert!(c.is_none());
        assert!(
            problems[0].starts_with("component.r.source is not supported by spinstack"),
            "{problems:?}"
        );
        let (_, problems) = parse(
            "r",
            r#"source = { registry = "ttl.sh", package = "a:b", version = "1.0.0" }"#,
        );
        assert!(problems[0].contains("registry"), "{problems:?}");
        let (_, problems) = parse("r", "description = 'x'");
        assert_eq!(problems, ["component.r.source is required"]);
    }

    #[test]
    fn values_are_validated_with_paths() {
        let (_, problems) = parse(
            "My_Comp",
            r#"
            source = "a.wasm"
            files = ["../x/*", { source = "a" }, 3, { source = "a", destination = "rel" }]
            exclude_files = ["["]
            allowed_outbound_hosts = ["example.com", "https://{{ nope }}", "https://{{ bad_host }}", "https://{{ token }}"]
            key_value_stores = ["b@d"]
            variables = { Bad = "x", ok = "{{ nope }}", num = 1 }
            environment = { "A=B" = "x", N = 2 }
            [build]
            workdir = "x"
            "#,
        );
        let expect = [
            "component.My_Comp: invalid component id",
            "component.My_Comp.files[0]: a pattern must stay inside",
            "component.My_Comp.files[1].destination is required",
            "component.My_Comp.files[2] must be a string or a { source, destination } table, found an integer",
            "component.My_Comp.files[3]: destination \"rel\" must be an absolute path",
            "component.My_Comp.exclude_files[0]: \"[\": invalid glob",
            "component.My_Comp.allowed_outbound_hosts[0]: invalid allowed_outbound_hosts entry \"example.com\": missing scheme",
            "component.My_Comp.allowed_outbound_hosts[1]: template refers to \"nope\"",
            "component.My_Comp.allowed_outbound_hosts[2]: with default variable values",
            "component.My_Comp.key_value_stores[0]: \"b@d\"",
            "component.My_Comp.variables.Bad: invalid variable name",
            "component.My_Comp.variables.ok: template refers to \"nope\"",
            "component.My_Comp.variables.num must be a string, found an integer",
            "component.My_Comp.environment.\"A=B\": environment variable names",
            "component.My_Comp.environment.N must be a string, found an integer",
            "component.My_Comp.build.command is required",
        ];
        for e in expect {
            assert!(
                problems.iter().any(|p| p.starts_with(e)),
                "{e:?} not in {problems:#?}"
            );
        }
        assert_eq!(problems.len(), expect.len(), "{problems:#?}");
    }

    #[test]
    fn build_command_may_be_a_string() {
        let (c, problems) = parse(
            "b",
            "source = 'b.wasm'\n[build]\ncommand = 'make'\nextra = 1\n",
        );
        assert_eq!(
            problems,
            ["component.b.build.extra is not supported by spinstack (unknown field)"]
        );
        assert_eq!(c.unwrap().build.unwrap().commands, ["make"]);
    }
}
