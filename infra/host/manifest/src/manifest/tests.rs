use std::path::{Path, PathBuf};

use super::*;
use crate::error::ProblemKind;
use crate::files::FileMount;
use crate::outbound_hosts::ServiceChaining;
use crate::runtime_config::RuntimeConfig;
use crate::variables::{EnvProvider, VariableError};

const FULL: &str = r#"
spin_manifest_version = 2

[application]
name = "shop"
version = "1.2.3"
description = "A shop"
authors = ["Ada <ada@example.com>"]

[application.trigger.http]
base = "/shop/"

[variables]
api_host = { default = "api.example.com" }
api_key = { required = true, secret = true }
db_host = { default = "db.local", description = "Postgres host" }

[[trigger.http]]
route = "/..."
component = "web"
executor = { type = "spin" }

[[trigger.http]]
id = "cart-trigger"
route = "/cart/:id"
component = "cart"

[[trigger.http]]
route = { private = true }
component = "auth"

[component.web]
description = "Front end"
source = "web/target/web.wasm"
files = ["static/**/*", { source = "assets", destination = "/assets" }]
exclude_files = ["static/drafts/*"]
allowed_outbound_hosts = ["http://auth.spin.internal", "https://{{ api_host }}", "postgres://{{ db_host }}:5433"]
key_value_stores = ["default"]
environment = { RUST_LOG = "info" }

[component.web.variables]
api_url = "https://{{ api_host }}/v1"
key = "{{ api_key }}"
greeting = "hello"

[component.web.build]
command = "cargo build --release"
workdir = "web"
watch = ["src/**/*.rs", "Cargo.toml"]

[component.cart]
source = "cart.wasm"
allowed_outbound_hosts = ["http://*.spin.internal"]
key_value_stores = ["default", "carts"]

[component.auth]
source = "auth.wasm"
"#;

fn load(text: &str) -> Result<Manifest, ManifestError> {
    Manifest::from_str(text, "/app")
}

fn problems(text: &str) -> Vec<String> {
    load(text)
        .expect_err("manifest should be rejected")
        .problems()
        .iter()
        .map(|p| p.to_string())
        .collect()
}

fn assert_has(messages: &[String], expected: &str) {
    assert!(
        messages.iter().any(|m| m.starts_with(expected)),
        "{expected:?} not in {messages:#?}"
    );
}

/// A minimal valid manifest with `extra` appended.
fn minimal(extra: &str) -> String {
    format!(
        r#"
spin_manifest_version = 2
[application]
name = "app"
[[trigger.http]]
route = "/..."
component = "main"
[component.main]
source = "main.wasm"
{extra}
"#
    )
}

#[test]
fn full_manifest_loads() {
    let m = load(FULL).unwrap();
    assert_eq!(m.base_dir, PathBuf::from("/app"));
    assert_eq!(
        m.application,
        Application {
            name: "shop".to_owned(),
            version: Some("1.2.3".to_owned()),
            description: Some("A shop".to_owned()),
            authors: vec!["Ada <ada@example.com>".to_owned()],
            http_base: "/shop".to_owned(),
        }
    );
    assert_eq!(m.variables.len(), 3);
    assert!(m.variables["api_key"].required && m.variables["api_key"].secret);
    assert_eq!(
        m.variables["db_host"].description.as_deref(),
        Some("Postgres host")
    );

    assert_eq!(
        m.http_triggers,
        vec![
            HttpTrigger {
                id: None,
                route: HttpRoute::Path("/...".to_owned()),
                component: "web".to_owned(),
            },
            HttpTrigger {
                id: Some("cart-trigger".to_owned()),
                route: HttpRoute::Path("/cart/:id".to_owned()),
                component: "cart".to_owned(),
            },
            HttpTrigger {
                id: None,
                route: HttpRoute::Private,
                component: "auth".to_owned(),
            },
        ]
    );

    let web = m.component("web").unwrap();
    assert_eq!(web.id, "web");
    assert_eq!(web.description.as_deref(), Some("Front end"));
    assert_eq!(web.source, PathBuf::from("/app/web/target/web.wasm"));
    assert_eq!(
        web.files,
        vec![
            FileMount::Pattern("static/**/*".to_owned()),
            FileMount::Placement {
                source: "assets".to_owned(),
                destination: "/assets".to_owned(),
            },
        ]
    );
    assert_eq!(web.exclude_files, ["static/drafts/*"]);
    assert_eq!(web.allowed_outbound_hosts.len(), 3);
    assert_eq!(web.key_value_stores, ["default"]);
    assert_eq!(web.environment["RUST_LOG"], "info");
    assert_eq!(web.variables["api_url"], "https://{{ api_host }}/v1");
    let build = web.build.as_ref().unwrap();
    assert_eq!(build.commands, ["cargo build --release"]);
    assert_eq!(build.working_dir(&m.base_dir), PathBuf::from("/app/web"));
    assert_eq!(build.watch, ["src/**/*.rs", "Cargo.toml"]);

    assert_eq!(
        m.component("cart").unwrap().key_value_stores,
        ["default", "carts"]
    );
    assert!(m.component("nope").is_none());
}

#[test]
fn variables_and_hosts_resolve_end_to_end() {
    let m = load(FULL).unwrap();
    let resolver = VariableResolver::new(m.variables.clone()).with_provider(
        EnvProvider::with_lookup("SPIN_VARIABLE", |name| match name {
            "SPIN_VARIABLE_API_KEY" => Some("s3cr3t".to_owned()),
            "SPIN_VARIABLE_DB_HOST" => Some("db.prod".to_owned()),
            _ => None,
        }),
    );
    resolver.check_required().unwrap();

    let web = m.component("web").unwrap();
    let vars = resolver.resolve_component_variables(web).unwrap();
    assert_eq!(vars["api_url"].expose(), "https://api.example.com/v1");
    assert_eq!(vars["key"].expose(), "s3cr3t");
    assert!(vars["key"].is_secret());
    assert_eq!(vars["greeting"].expose(), "hello");

    let hosts = web.outbound_hosts(&resolver).unwrap();
    assert!(hosts.allows("https", "api.example.com", None));
    assert!(hosts.allows("postgres", "db.prod", Some(5433)));
    assert!(!hosts.allows("postgres", "db.local", Some(5433)));
    assert!(hosts.allows_service_chaining_to("auth"));
    assert!(!hosts.allows_service_chaining_to("cart"));

    let cart = m
        .component("cart")
        .unwrap()
        .outbound_hosts(&resolver)
        .unwrap();
    assert_eq!(cart.service_chaining(), ServiceChaining::Any);

    let auth = m
        .component("auth")
        .unwrap()
        .outbound_hosts(&resolver)
        .unwrap();
    assert!(auth.is_empty());
    assert!(!auth.allows("https", "example.com", None));
}

#[test]
fn missing_required_variable_refuses_start() {
    let m = load(FULL).unwrap();
    let resolver = VariableResolver::new(m.variables.clone())
        .with_provider(EnvProvider::with_lookup("SPIN_VARIABLE", |_| None));
    let err = resolver.check_required().unwrap_err();
    assert!(
        matches!(&err, VariableError::MissingRequired { names, .. } if names == &["api_key"]),
        "{err:?}"
    );
    assert!(err.to_string().contains("SPIN_VARIABLE_API_KEY"), "{err}");
}

#[test]
fn from_file_uses_the_manifest_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, minimal("files = ['index.html']")).unwrap();
    std::fs::write(dir.path().join("index.html"), "<h1>hi</h1>").unwrap();
    let m = Manifest::from_file(&path).unwrap();
    assert_eq!(m.base_dir, dir.path());
    let main = m.component("main").unwrap();
    assert_eq!(main.source, dir.path().join("main.wasm"));
    let files = main.resolve_files(&m.base_dir).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].guest_path, "/index.html");

    std::fs::write(&path, minimal("sqlite_databases = ['default']")).unwrap();
    let err = Manifest::from_file(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "invalid manifest {}: component.main.sqlite_databases is not supported by \
             spinstack (SQLite databases are not available)",
            path.display()
        )
    );

    let err = Manifest::from_file(dir.path().join("missing.toml")).unwrap_err();
    assert!(matches!(err.kind(), ConfigErrorKind::Read(_)), "{err}");
    assert!(err.to_string().starts_with("cannot read manifest"), "{err}");
}

#[test]
fn unsupported_fields_are_errors_naming_them() {
    let cases: &[(&str, &str)] = &[
        (
            "sqlite_databases = ['default']",
            "component.main.sqlite_databases",
        ),
        ("ai_models = ['llama2-chat']", "component.main.ai_models"),
        (
            "allowed_http_hosts = ['example.com']",
            "component.main.allowed_http_hosts",
        ),
        (
            "dependencies_inherit_configuration = true",
            "component.main.dependencies_inherit_configuration",
        ),
        ("unknown_key = 1", "component.main.unknown_key"),
        (
            "[component.main.dependencies]\n\"a:b\" = \"1.0\"",
            "component.main.dependencies",
        ),
        ("[component.main.tool.x]\ny = 1", "component.main.tool"),
        (
            "[component.main.profile.debug]\nsource = 'd.wasm'",
            "component.main.profile",
        ),
        (
            "[[trigger.redis]]\nchannel = 'c'\ncomponent = 'main'",
            "trigger.redis",
        ),
        (
            "[[trigger.cron]]\ncron_expression = '* * * * *'\ncomponent = 'main'",
            "trigger.cron",
        ),
        (
            "[application.trigger.redis]\naddress = 'redis://x'",
            "application.trigger.redis",
        ),
        ("[application.tool.lint]\nlevel = 1", "application.tool"),
        (
            "[application.trigger.http]\nbase = '/'\nlisten = '0.0.0.0:80'",
            "application.trigger.http.listen",
        ),
        (
            "[[trigger.http]]\nroute = '/s'\nstatic_response = { body = 'x' }",
            "trigger.http[1].static_response",
        ),
        (
            "[[trigger.http]]\nroute = '/w'\ncomponent = 'main'\nexecutor = { type = 'wagi' }",
            "trigger.http[1].executor",
        ),
        (
            "[[trigger.http]]\nroute = '/w'\ncomponent = 'main'\nextra = true",
            "trigger.http[1].extra",
        ),
        (
            "[[trigger.http]]\nroute = '/i'\ncomponent = { source = 'inline.wasm' }",
            "trigger.http[1].component",
        ),
        (
            "[[trigger.http]]\nroute = '/m'\ncomponent = 'main'\ncomponents = { middleware = ['main'] }",
            "trigger.http[1].components",
        ),
        (
            "[component.remote]\nsource = { url = 'https://x/y.wasm', digest = 'sha256:0' }",
            "component.remote.source",
        ),
        (
            "[variables.v]\ndefault = 'x'\nsecrets = true",
            "variables.v.secrets",
        ),
    ];
    for (extra, field) in cases {
        let messages = problems(&minimal(extra));
        assert_has(&messages, &format!("{field} is not supported by spinstack"));
    }

    // `application.targets` and unknown top-level keys.
    let text = minimal("").replace(
        "[application]\nname = \"app\"",
        "something = 1\n[application]\nname = \"app\"\ntargets = ['spin-up:3.2']",
    );
    let messages = problems(&text);
    assert_has(
        &messages,
        "application.targets is not supported by spinstack",
    );
    assert_has(
        &messages,
        "something is not supported by spinstack (unknown field)",
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let err = load(&minimal(
        "sqlite_databases = ['default']\nai_models = ['m']\n[[trigger.redis]]\nchannel = 'x'",
    ))
    .unwrap_err();
    assert_eq!(err.problems().len(), 3);
    assert!(err.problems().iter().all(|p| p.is_unsupported()));
    let text = err.to_string();
    assert!(
        text.starts_with("invalid manifest (3 problems):\n  - "),
        "{text}"
    );
    assert!(
        text.contains(
            "\n  - trigger.redis is not supported by spinstack (only HTTP triggers are available)"
        ),
        "{text}"
    );
}

#[test]
fn default_executor_is_accepted() {
    for executor in ["{ type = 'spin' }", "{ type = 'http' }"] {
        let text = minimal("").replace(
            "component = \"main\"",
            &format!("component = \"main\"\nexecutor = {executor}"),
        );
        load(&text).unwrap_or_else(|e| panic!("{executor}: {e}"));
    }
    let text = minimal("").replace(
        "component = \"main\"",
        "component = \"main\"\nexecutor = { type = 'spin', argv = 'x' }",
    );
    assert_has(
        &problems(&text),
        "trigger.http[0].executor.argv is not supported by spinstack",
    );
    let messages = problems(&minimal(
        "[[trigger.http]]\nroute = '/w'\ncomponent = 'main'\nexecutor = { type = 'wagi' }",
    ));
    assert!(messages[0].contains("\"wagi\""), "{messages:?}");
}

#[test]
fn manifest_version_is_checked() {
    let v2 = minimal("");
    assert_eq!(
        problems(&v2.replace("spin_manifest_version = 2", "spin_manifest_version = 3")),
        ["spin_manifest_version: must be 2, found 3"]
    );
    assert_eq!(
        problems(&v2.replace("spin_manifest_version = 2", "")),
        ["spin_manifest_version is required"]
    );
    assert_eq!(
        problems(&v2.replace("spin_manifest_version = 2", "spin_manifest_version = 'two'")),
        ["spin_manifest_version must be the integer 2, found a string"]
    );
    for v1 in ["spin_manifest_version = 1", "spin_manifest_version = \"1\""] {
        let messages = problems(&v2.replace("spin_manifest_version = 2", v1));
        assert_eq!(messages.len(), 1);
        assert!(
            messages[0].contains("manifest version 1 is not supported"),
            "{messages:?}"
        );
    }
    let v1 = "spin_version = \"1\"\nname = \"x\"\ntrigger = { type = \"http\", base = \"/\" }\n";
    assert!(problems(v1)[0].starts_with("spin_version: manifest version 1"));
}

#[test]
fn required_sections_and_fields() {
    assert_eq!(
        problems("spin_manifest_version = 2"),
        ["application is required", "trigger is required"]
    );
    let messages = problems(
        "spin_manifest_version = 2\n[application]\nversion = '1'\n[[trigger.http]]\n[component.c]\n",
    );
    for e in [
        "application.name is required",
        "trigger.http[0].component is required",
        "trigger.http[0].route is required",
        "component.c.source is required",
    ] {
        assert_has(&messages, e);
    }
    assert_eq!(messages.len(), 4, "{messages:#?}");

    assert_eq!(
        problems(&minimal("").replace("[[trigger.http]]", "[trigger.http]")),
        ["trigger.http must be an array of tables ([[trigger.http]]), found a table"]
    );
}

#[test]
fn triggers_must_reference_existing_components() {
    let messages = problems(&minimal(
        "[[trigger.http]]\nroute = '/x'\ncomponent = 'ghost'",
    ));
    assert_eq!(
        messages,
        [
            "trigger.http[1].component: refers to component \"ghost\", which is not defined \
          (defined: main)"
        ]
    );
    // A component that exists but is broken is reported once, for itself.
    let messages = problems(&minimal("").replace("source = \"main.wasm\"", ""));
    assert_eq!(messages, ["component.main.source is required"]);
}

#[test]
fn private_routes() {
    let text = minimal("[[trigger.http]]\nroute = { private = false }\ncomponent = 'main'");
    assert_eq!(
        problems(&text),
        ["trigger.http[1].route: must be a route string or { private = true }"]
    );
    let text = minimal("[[trigger.http]]\nroute = { privat = true }\ncomponent = 'main'");
    let messages = problems(&text);
    assert_has(
        &messages,
        "trigger.http[1].route.privat is not supported by spinstack",
    );
    assert_has(&messages, "trigger.http[1].route.private is required");
    assert_eq!(
        problems(&minimal("[[trigger.http]]\nroute = 1\ncomponent = 'main'")),
        ["trigger.http[1].route must be a route string or { private = true }, found an integer"]
    );
}

#[test]
fn application_base_is_normalized() {
    for (base, expected) in [("/", "/"), ("", "/"), ("shop", "/shop"), ("/a/b/", "/a/b")] {
        let text = minimal("").replace(
            "name = \"app\"",
            &format!("name = \"app\"\n[application.trigger.http]\nbase = \"{base}\""),
        );
        assert_eq!(load(&text).unwrap().application.http_base, expected);
    }
    assert_eq!(load(&minimal("")).unwrap().application.http_base, "/");
}

#[test]
fn names_are_validated() {
    let text = minimal(
        r#"key_value_stores = ["ok-label", "Bad Label"]
[component.Bad_Id]
source = "x.wasm"
[component.main.variables]
"Upper" = "x"
"#,
    )
    .replace(
        "[application]",
        "[variables]\n\"API-KEY\" = { default = \"x\" }\n\"_x\" = { default = \"y\" }\n[application]",
    );
    let messages = problems(&text);
    for e in [
        "variables.API-KEY: invalid variable name",
        "variables._x: invalid variable name",
        "component.Bad_Id: invalid component id",
        "component.main.key_value_stores[1]: \"Bad Label\"",
        "component.main.variables.Upper: invalid variable name",
    ] {
        assert_has(&messages, e);
    }
    assert_eq!(messages.len(), 5, "{messages:#?}");
}

#[test]
fn templates_must_reference_declared_variables() {
    let text = minimal(
        r#"allowed_outbound_hosts = ["https://{{ host }}"]
variables = { url = "https://{{ missing }}/x", bad = "{{ open" }
"#,
    )
    .replace(
        "[application]",
        "[variables]\nhost = { default = 'h.example' }\n[application]",
    );
    let messages = problems(&text);
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert_has(
        &messages,
        "component.main.variables.url: template refers to \"missing\", which is not declared \
         in [variables]",
    );
    assert_has(&messages, "component.main.variables.bad: invalid template");
}

#[test]
fn variable_declaration_rules() {
    let text = minimal("").replace(
        "[application]",
        "[variables]\nboth = { default = 'x', required = true }\nneither = {}\n[application]",
    );
    let messages = problems(&text);
    assert_eq!(
        messages,
        [
            "variables.both: set either `default` or `required = true`, not both",
            "variables.neither: needs a `default` value or `required = true`",
        ]
    );
}

#[test]
fn invalid_outbound_hosts_are_named() {
    let err = load(&minimal(
        r#"allowed_outbound_hosts = ["https://ok.example.com", "not-a-url", "http://a.com/path"]"#,
    ))
    .unwrap_err();
    let messages: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
    assert_eq!(messages.len(), 2);
    assert_has(
        &messages,
        "component.main.allowed_outbound_hosts[1]: invalid allowed_outbound_hosts entry \
         \"not-a-url\"",
    );
    assert_has(&messages, "component.main.allowed_outbound_hosts[2]");
    assert!(matches!(err.problems()[0].kind, ProblemKind::Invalid(_)));
}

#[test]
fn syntax_errors_are_reported() {
    let err = load("spin_manifest_version = 2\n[application\n").unwrap_err();
    assert!(matches!(err.kind(), ConfigErrorKind::Syntax(_)));
    assert!(
        err.to_string().starts_with("manifest is not valid TOML"),
        "{err}"
    );
}

#[test]
fn runtime_config_must_define_used_stores() {
    let m = load(FULL).unwrap();
    let err = RuntimeConfig::default().check_manifest(&m).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid manifest: component.cart.key_value_stores[1]: key-value store \"carts\" is \
         not defined; add [key_value_store.carts] to the runtime config (only \"default\" \
         exists without one)"
    );
    let rc = RuntimeConfig::from_str("[key_value_store.carts]\ntype = 'spin'\n", "/app").unwrap();
    rc.check_manifest(&m).unwrap();
}

#[test]
fn relative_base_dir_is_made_absolute() {
    let m = Manifest::from_str(&minimal(""), Path::new("some/dir")).unwrap();
    assert!(m.base_dir.is_absolute());
    assert!(m.base_dir.ends_with("some/dir"));
}
