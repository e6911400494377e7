//! Application variables: declarations, value providers and resolution.
//!
//! The manifest declares application variables in `[variables]`; each has
//! either a `default` or `required = true` (exactly one, as in Spin) and may
//! be marked `secret`. Components never read application variables directly:
//! their own `variables` table maps names to templates such as
//! `"https://{{ api_host }}/v1"` that refer to application variables.
//!
//! A value comes from the first [`VariableProvider`] that has one, else from
//! the declared default. Spin's default provider reads the environment
//! variable `SPIN_VARIABLE_<NAME>` (name upper-cased); [`EnvProvider`] does
//! the same. Values of secret variables are wrapped in [`VariableValue`],
//! whose `Debug` and `Display` never show them.

use std::collections::BTreeMap;
use std::fmt;

use toml::Table;

use crate::component::Component;
use crate::error::Problem;
use crate::names;
use crate::template::{Template, TemplateError};
use crate::toml_reader::{Problems, TableReader, as_table, join};

/// An application variable declared in `[variables]`.
#[derive(Clone, PartialEq, Eq)]
pub struct VariableDecl {
    /// Optional human description.
    pub description: Option<String>,
    /// Value used when no provider has one. `None` exactly when `required`.
    pub default: Option<String>,
    /// The application refuses to start without a provided value.
    pub required: bool,
    /// The value is sensitive: never log it.
    pub secret: bool,
}

impl fmt::Debug for VariableDecl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default = match (&self.default, self.secret) {
            (Some(_), true) => Some("<redacted>"),
            (Some(value), false) => Some(value.as_str()),
            (None, _) => None,
        };
        f.debug_struct("VariableDecl")
            .field("description", &self.description)
            .field("default", &default)
            .field("required", &self.required)
            .field("secret", &self.secret)
            .finish()
    }
}

/// A resolved value that remembers whether it is secret.
///
/// `Debug` and `Display` print `<redacted>` for secrets; use
/// [`VariableValue::expose`] to get the actual text.
#[derive(Clone, PartialEq, Eq)]
pub struct VariableValue {
    value: String,
    secret: bool,
}

impl VariableValue {
    /// Wraps a value.
    pub fn new(value: impl Into<String>, secret: bool) -> Self {
        Self {
            value: value.into(),
            secret,
        }
    }

    /// The actual value. Do not log it when [`Self::is_secret`].
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Takes the actual value.
    pub fn into_exposed(self) -> String {
        self.value
    }

    /// True when the value derives from a secret variable.
    pub fn is_secret(&self) -> bool {
        self.secret
    }
}

impl fmt::Debug for VariableValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            f.write_str("VariableValue(<redacted>)")
        } else {
            write!(f, "VariableValue({:?})", self.value)
        }
    }
}

impl fmt::Display for VariableValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            f.write_str("<redacted>")
        } else {
            f.write_str(&self.value)
        }
    }
}

/// A source of variable values, asked in order before the declared default.
pub trait VariableProvider: Send + Sync {
    /// Short description for error messages, e.g. `"environment"`.
    fn name(&self) -> String;

    /// The value of application variable `variable`, if this provider has one.
    fn get(&self, variable: &str) -> anyhow::Result<Option<String>>;

    /// How a user would set `variable` through this provider, for the
    /// message about missing required variables (e.g. `SPIN_VARIABLE_API_KEY`).
    fn how_to_set(&self, _variable: &str) -> Option<String> {
        None
    }
}

type EnvLookup = dyn Fn(&str) -> Result<Option<String>, String> + Send + Sync;

/// Reads `<PREFIX>_<NAME>` from the environment, `NAME` being the variable
/// name upper-cased. The default prefix is Spin's, `SPIN_VARIABLE`.
///
/// Spin also reads a `.env` file in the working directory; that is left to
/// the host (add a [`StaticProvider`] with its contents).
pub struct EnvProvider {
    prefix: String,
    lookup: Box<EnvLookup>,
}

impl EnvProvider {
    /// Spin's prefix.
    pub const DEFAULT_PREFIX: &'static str = "SPIN_VARIABLE";

    /// Reads the process environment with the default prefix.
    pub fn new() -> Self {
        Self::with_prefix(Self::DEFAULT_PREFIX)
    }

    /// Reads the process environment with another prefix.
    pub fn with_prefix(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            lookup: Box::new(|key| match std::env::var(key) {
                Ok(value) => Ok(Some(value)),
                Err(std::env::VarError::NotPresent) => Ok(None),
                Err(std::env::VarError::NotUnicode(_)) => {
                    Err(format!("environment variable {key} is not valid UTF-8"))
                }
            }),
        }
    }

    /// Reads from `lookup` instead of the process environment (for tests
    /// and embedding). `lookup` receives the full environment name.
    pub fn with_lookup(
        prefix: impl Into<String>,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            prefix: prefix.into(),
            lookup: Box::new(move |key| Ok(lookup(key))),
        }
    }

    /// The environment name read for `variable`.
    pub fn env_name(&self, variable: &str) -> String {
        let upper = variable.to_ascii_uppercase();
        if self.prefix.is_empty() {
            upper
        } else {
            format!("{}_{upper}", self.prefix)
        }
    }
}

impl Default for EnvProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl VariableProvider for EnvProvider {
    fn name(&self) -> String {
        "environment".to_owned()
    }

    fn get(&self, variable: &str) -> anyhow::Result<Option<String>> {
        (self.lookup)(&self.env_name(variable)).map_err(anyhow::Error::msg)
    }

    fn how_to_set(&self, variable: &str) -> Option<String> {
        Some(self.env_name(variable))
    }
}

/// Fixed values, e.g. from `--variable name=value` on the command line.
#[derive(Clone, Default)]
pub struct StaticProvider {
    label: String,
    values: BTreeMap<String, String>,
}

impl StaticProvider {
    /// `label` names the source in messages (e.g. `"--variable"`).
    pub fn new(label: impl Into<String>, values: BTreeMap<String, String>) -> Self {
        Self {
            label: label.into(),
            values,
        }
    }
}

impl VariableProvider for StaticProvider {
    fn name(&self) -> String {
        self.label.clone()
    }

    fn get(&self, variable: &str) -> anyhow::Result<Option<String>> {
        Ok(self.values.get(variable).cloned())
    }
}

/// Errors resolving variables.
#[derive(Debug, thiserror::Error)]
pub enum VariableError {
    /// Required variables for which no provider has a value.
    #[error("{}", missing_message(names, how_to_set))]
    MissingRequired {
        /// The variable names, sorted.
        names: Vec<String>,
        /// For each name, how to set it (may be empty).
        how_to_set: Vec<String>,
    },
    /// A name that is not declared in `[variables]`.
    #[error("application variable {0:?} is not declared in [variables]")]
    Undeclared(String),
    /// No such component variable.
    #[error("component {component:?} has no variable {key:?}")]
    UnknownComponentVariable { component: String, key: String },
    /// A provider failed.
    #[error("cannot read variable {variable:?} from {provider}: {message}")]
    Provider {
        provider: String,
        variable: String,
        message: String,
    },
    /// A template could not be parsed.
    #[error(transparent)]
    Template(#[from] TemplateError),
}

fn missing_message(names: &[String], how_to_set: &[String]) -> String {
    let list = names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut message = if names.len() == 1 {
        format!("required application variable {list} has no value")
    } else {
        format!("required application variables {list} have no value")
    };
    let hints: Vec<&str> = how_to_set
        .iter()
        .filter(|h| !h.is_empty())
        .map(String::as_str)
        .collect();
    if !hints.is_empty() {
        message.push_str(&format!(" (set {})", hints.join(", ")));
    }
    message
}

/// Resolves application variables and component variable templates.
pub struct VariableResolver {
    declarations: BTreeMap<String, VariableDecl>,
    providers: Vec<Box<dyn VariableProvider>>,
}

impl fmt::Debug for VariableResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let providers: Vec<String> = self.providers.iter().map(|p| p.name()).collect();
        f.debug_struct("VariableResolver")
            .field("declarations", &self.declarations)
            .field("providers", &providers)
            .finish()
    }
}

impl VariableResolver {
    /// A resolver with no provider: only defaults resolve.
    pub fn new(declarations: BTreeMap<String, VariableDecl>) -> Self {
        Self {
            declarations,
            providers: Vec::new(),
        }
    }

    /// Spin's default setup: the environment (`SPIN_VARIABLE_*`), then
    /// defaults.
    pub fn with_env(declarations: BTreeMap<String, VariableDecl>) -> Self {
        Self::new(declarations).with_provider(EnvProvider::new())
    }

    /// Adds a provider, asked after the ones already added.
    pub fn with_provider(mut self, provider: impl VariableProvider + 'static) -> Self {
        self.add_provider(provider);
        self
    }

    /// Adds a provider, asked after the ones already added.
    pub fn add_provider(&mut self, provider: impl VariableProvider + 'static) {
        self.providers.push(Box::new(provider));
    }

    /// The declarations.
    pub fn declarations(&self) -> &BTreeMap<String, VariableDecl> {
        &self.declarations
    }

    /// True when `name` is declared secret.
    pub fn is_secret(&self, name: &str) -> bool {
        self.declarations.get(name).is_some_and(|d| d.secret)
    }

    /// The value of application variable `name`.
    pub fn resolve(&self, name: &str) -> Result<VariableValue, VariableError> {
        let decl = self
            .declarations
            .get(name)
            .ok_or_else(|| VariableError::Undeclared(name.to_owned()))?;
        if let Some(value) = self.ask_providers(name)? {
            return Ok(VariableValue::new(value, decl.secret));
        }
        match &decl.default {
            Some(default) => Ok(VariableValue::new(default.clone(), decl.secret)),
            None => Err(VariableError::MissingRequired {
                names: vec![name.to_owned()],
                how_to_set: vec![self.how_to_set(name)],
            }),
        }
    }

    /// Fails, naming every one of them, if any required variable has no
    /// value. Call before starting the application.
    pub fn check_required(&self) -> Result<(), VariableError> {
        let mut names = Vec::new();
        let mut how_to_set = Vec::new();
        for (name, decl) in &self.declarations {
            if decl.required && self.ask_providers(name)?.is_none() {
                names.push(name.clone());
                how_to_set.push(self.how_to_set(name));
            }
        }
        if names.is_empty() {
            Ok(())
        } else {
            Err(VariableError::MissingRequired { names, how_to_set })
        }
    }

    /// Renders a template; the result is secret if any variable it uses is.
    pub fn resolve_template(&self, template: &Template) -> Result<VariableValue, VariableError> {
        let mut secret = false;
        let value = template.render(|name| {
            let value = self.resolve(name)?;
            secret |= value.is_secret();
            Ok::<_, VariableError>(value.into_exposed())
        })?;
        Ok(VariableValue::new(value, secret))
    }

    /// Parses and renders a template string.
    pub fn resolve_str(&self, template: &str) -> Result<VariableValue, VariableError> {
        self.resolve_template(&Template::parse(template)?)
    }

    /// One variable of a component (what the guest's `variables.get` sees).
    pub fn resolve_component_variable(
        &self,
        component: &Component,
        key: &str,
    ) -> Result<VariableValue, VariableError> {
        let template = component.variables.get(key).ok_or_else(|| {
            VariableError::UnknownComponentVariable {
                component: component.id.clone(),
                key: key.to_owned(),
            }
        })?;
        self.resolve_str(template)
    }

    /// All variables of a component.
    pub fn resolve_component_variables(
        &self,
        component: &Component,
    ) -> Result<BTreeMap<String, VariableValue>, VariableError> {
        component
            .variables
            .iter()
            .map(|(key, template)| Ok((key.clone(), self.resolve_str(template)?)))
            .collect()
    }

    fn ask_providers(&self, name: &str) -> Result<Option<String>, VariableError> {
        for provider in &self.providers {
            match provider.get(name) {
                Ok(Some(value)) => return Ok(Some(value)),
                Ok(None) => {}
                Err(err) => {
                    return Err(VariableError::Provider {
                        provider: provider.name(),
                        variable: name.to_owned(),
                        message: format!("{err:#}"),
                    });
                }
            }
        }
        Ok(None)
    }

    fn how_to_set(&self, name: &str) -> String {
        self.providers
            .iter()
            .filter_map(|p| p.how_to_set(name))
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

/// Reads the `[variables]` table of a manifest.
pub(crate) fn parse_declarations(
    table: &Table,
    problems: &mut Problems,
) -> BTreeMap<String, VariableDecl> {
    let mut declarations = BTreeMap::new();
    for (name, value) in table {
        let path = join("variables", name);
        if let Err(reason) = names::check_variable_name(name) {
            problems.push(Problem::invalid(
                &path,
                format!("invalid variable name: {reason}"),
            ));
            continue;
        }
        let Some(fields) = as_table(value, &path, problems) else {
            continue;
        };
        let mut reader = TableReader::new(path.clone(), fields);
        let default = reader.string("default", problems).map(str::to_owned);
        let required = reader.boolean("required", problems).unwrap_or(false);
        let secret = reader.boolean("secret", problems).unwrap_or(false);
        let description = reader.string("description", problems).map(str::to_owned);
        reader.finish(problems, &[]);

        match (&default, required) {
            (Some(_), true) => problems.push(Problem::invalid(
                &path,
                "set either `default` or `required = true`, not both",
            )),
            (None, false) => problems.push(Problem::invalid(
                &path,
                "needs a `default` value or `required = true`",
            )),
            _ => {}
        }
        declarations.insert(
            name.clone(),
            VariableDecl {
                description,
                default,
                required,
                secret,
            },
        );
    }
    declarations
}

/// Parses a template found at `path` and checks that it only refers to
/// declared application variables.
pub(crate) fn check_template(
    text: &str,
    declarations: &BTreeMap<String, VariableDecl>,
    path: &str,
    problems: &mut Problems,
) -> Option<Template> {
    let template = match Template::parse(text) {
        Ok(template) => template,
        Err(err) => {
            problems.push(Problem::invalid(path, err.to_string()));
            return None;
        }
    };
    let mut ok = true;
    for name in template.variables() {
        if !declarations.contains_key(name) {
            ok = false;
            problems.push(Problem::invalid(
                path,
                format!("template refers to {name:?}, which is not declared in [variables]"),
            ));
        }
    }
    ok.then_some(template)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn decl(default: Option<&str>, secret: bool) -> VariableDecl {
        VariableDecl {
            description: None,
            default: default.map(str::to_owned),
            required: default.is_none(),
            secret,
        }
    }

    fn declarations() -> BTreeMap<String, VariableDecl> {
        BTreeMap::from([
            ("api_host".to_owned(), decl(Some("api.example.com"), false)),
            ("api_key".to_owned(), decl(None, true)),
            ("db_url".to_owned(), decl(None, false)),
        ])
    }

    fn env(pairs: &[(&str, &str)]) -> EnvProvider {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvProvider::with_lookup(EnvProvider::DEFAULT_PREFIX, move |k| map.get(k).cloned())
    }

    fn component(vars: &[(&str, &str)]) -> Component {
        let mut c = Component::new_for_tests("web");
        c.variables = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        c
    }

    #[test]
    fn default_is_used_without_provider_value() {
        let resolver = VariableResolver::new(declarations()).with_provider(env(&[]));
        assert_eq!(
            resolver.resolve("api_host").unwrap().expose(),
            "api.example.com"
        );
    }

    #[test]
    fn environment_overrides_default() {
        let resolver = VariableResolver::new(declarations())
            .with_provider(env(&[("SPIN_VARIABLE_API_HOST", "override.test")]));
        assert_eq!(
            resolver.resolve("api_host").unwrap().expose(),
            "override.test"
        );
    }

    #[test]
    fn first_provider_wins() {
        let cli = StaticProvider::new(
            "--variable",
            BTreeMap::from([("db_url".to_owned(), "from-cli".to_owned())]),
        );
        let resolver = VariableResolver::new(declarations())
            .with_provider(cli)
            .with_provider(env(&[("SPIN_VARIABLE_DB_URL", "from-env")]));
        assert_eq!(resolver.resolve("db_url").unwrap().expose(), "from-cli");
    }

    #[test]
    fn check_required_names_every_missing_variable() {
        let resolver = VariableResolver::new(declarations()).with_provider(env(&[]));
        let err = resolver.check_required().unwrap_err();
        match &err {
            VariableError::MissingRequired { names, .. } => {
                assert_eq!(names, &["api_key", "db_url"]);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "required application variables \"api_key\", \"db_url\" have no value \
             (set SPIN_VARIABLE_API_KEY, SPIN_VARIABLE_DB_URL)"
        );
    }

    #[test]
    fn check_required_passes_when_all_provided() {
        let resolver = VariableResolver::new(declarations()).with_provider(env(&[
            ("SPIN_VARIABLE_API_KEY", "k"),
            ("SPIN_VARIABLE_DB_URL", "postgres://db"),
        ]));
        resolver.check_required().unwrap();
    }

    #[test]
    fn missing_required_on_resolve() {
        let resolver = VariableResolver::new(declarations());
        let err = resolver.resolve("db_url").unwrap_err();
        assert_eq!(
            err.to_string(),
            "required application variable \"db_url\" has no value"
        );
        assert!(matches!(
            resolver.resolve("nope"),
            Err(VariableError::Undeclared(_))
        ));
    }

    #[test]
    fn component_templates_resolve_and_track_secrecy() {
        let resolver = VariableResolver::new(declarations())
            .with_provider(env(&[("SPIN_VARIABLE_API_KEY", "s3cr3t")]));
        let c = component(&[
            ("endpoint", "https://{{ api_host }}/v1"),
            ("auth", "Bearer {{api_key}}"),
            ("plain", "just text"),
        ]);
        let values = resolver.resolve_component_variables(&c).unwrap();
        assert_eq!(values["endpoint"].expose(), "https://api.example.com/v1");
        assert!(!values["endpoint"].is_secret());
        assert_eq!(values["auth"].expose(), "Bearer s3cr3t");
        assert!(values["auth"].is_secret());
        assert_eq!(values["plain"].expose(), "just text");

        // Secrets never show in Debug or Display.
        assert_eq!(values["auth"].to_string(), "<redacted>");
        assert!(!format!("{:?}", values["auth"]).contains("s3cr3t"));
        assert_eq!(values["endpoint"].to_string(), "https://api.example.com/v1");

        let one = resolver.resolve_component_variable(&c, "endpoint").unwrap();
        assert_eq!(one.expose(), "https://api.example.com/v1");
        assert!(matches!(
            resolver.resolve_component_variable(&c, "nope"),
            Err(VariableError::UnknownComponentVariable { .. })
        ));
    }

    #[test]
    fn secret_default_is_redacted_in_debug() {
        let d = decl(Some("hunter2"), true);
        assert!(!format!("{d:?}").contains("hunter2"));
    }

    #[test]
    fn provider_errors_are_reported() {
        struct Broken;
        impl VariableProvider for Broken {
            fn name(&self) -> String {
                "vault".to_owned()
            }
            fn get(&self, _: &str) -> anyhow::Result<Option<String>> {
                anyhow::bail!("connection refused")
            }
        }
        let resolver = VariableResolver::new(declarations()).with_provider(Broken);
        let err = resolver.resolve("api_host").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read variable \"api_host\" from vault: connection refused"
        );
        assert!(resolver.check_required().is_err());
    }

    #[test]
    fn env_names_are_upper_cased() {
        let p = EnvProvider::new();
        assert_eq!(p.env_name("api_key"), "SPIN_VARIABLE_API_KEY");
        let p = EnvProvider::with_prefix("APP");
        assert_eq!(p.env_name("x1"), "APP_X1");
    }

    #[test]
    fn declarations_need_exactly_one_of_default_and_required() {
        let table: Table = r#"
            ok_default = { default = "x" }
            ok_required = { required = true, secret = true, description = "d" }
            both = { default = "x", required = true }
            neither = { secret = true }
            not_required = { required = false }
            BadName = { default = "x" }
            typo = { default = "x", defualt = "y" }
            wrong = "x"
        "#
        .parse()
        .unwrap();
        let mut problems = Problems::default();
        let decls = parse_declarations(&table, &mut problems);
        assert!(decls["ok_required"].secret);
        assert_eq!(decls["ok_default"].default.as_deref(), Some("x"));
        let messages: Vec<String> = problems.into_vec().iter().map(|p| p.to_string()).collect();
        let expect = [
            "variables.BadName: invalid variable name",
            "variables.both: set either `default` or `required = true`, not both",
            "variables.neither: needs a `default` value or `required = true`",
            "variables.not_required: needs a `default` value or `required = true`",
            "variables.typo.defualt is not supported by spinstack (unknown field)",
            "variables.wrong must be a table, found a string",
        ];
        for e in expect {
            assert!(
                messages.iter().any(|m| m.starts_with(e)),
                "missing {e:?} in {messages:#?}"
            );
        }
        assert_eq!(messages.len(), expect.len(), "{messages:#?}");
    }

    #[test]
    fn templates_must_use_declared_variables() {
        let decls = declarations();
        let mut problems = Problems::default();
        assert!(check_template("{{ api_host }}", &decls, "p", &mut problems).is_some());
        assert!(check_template("{{ nope }}", &decls, "p", &mut problems).is_none());
        assert!(check_template("{{ open", &decls, "q", &mut problems).is_none());
        let messages: Vec<String> = problems.into_vec().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            messages[0],
            "p: template refers to \"nope\", which is not declared in [variables]"
        );
        assert!(
            messages[1].starts_with("q: invalid template"),
            "{messages:?}"
        );
    }
}
