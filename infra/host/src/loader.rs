//! Start-up: read the manifest and runtime config, resolve variables, open
//! the key-value stores, compile (or load from cache) and pre-instantiate
//! every component, and build the router. Anything wrong is reported here,
//! before the first request, naming what is at fault.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use spinstack_manifest::{
    DEFAULT_KEY_VALUE_STORE, HttpRoute, KeyValueBackendConfig, Manifest, RuntimeConfig,
};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::capabilities::files;
use crate::capabilities::key_value::{BackendSpec, KeyValueStores};
use crate::capabilities::outbound_http::OutboundPolicy;
use crate::cli::UpArgs;
use crate::compile_cache::CompileCache;
use crate::engine::{EngineLimits, build_engine};
use crate::linker::{build_linker, unsupported_import};
use crate::runtime::{App, ComponentRuntime};
use crate::server::admission::Admission;

/// Our state directory's name beside the manifest. Not Spin's `.spin`: our
/// key-value files are not Spin's SQLite databases, and the two must not
/// clobber each other when both run the same app.
pub const STATE_DIR_NAME: &str = ".spinstack";

pub struct Loaded {
    pub app: Arc<App>,
    /// (route, component) for the start-up banner, in precedence order.
    pub routes: Vec<(String, String)>,
}

pub fn load(args: &UpArgs) -> anyhow::Result<Loaded> {
    load_with_services(args, spinstack_manifest::StaticProvider::default())
}

/// [`load`], with the variables of the embedded services (`embedded/`)
/// asked after the environment.
pub fn load_with_services(
    args: &UpArgs,
    services: spinstack_manifest::StaticProvider,
) -> anyhow::Result<Loaded> {
    let manifest = Manifest::from_file(&args.manifest.manifest)?;
    let runtime_config = match &args.runtime_config_file {
        Some(path) => RuntimeConfig::from_file(path)?,
        None => RuntimeConfig::default(),
    };
    runtime_config.check_manifest(&manifest)?;
    anyhow::ensure!(
        manifest.application.http_base == "/",
        "application.trigger.http.base = {:?} is not supported by spinstack (Spin serves at /)",
        manifest.application.http_base
    );
    let resolver = manifest.variable_resolver().with_provider(services);
    resolver.check_required()?;

    let state_dir = state_dir(args.state_dir.as_deref(), &manifest, &runtime_config);

    let key_value = Arc::new(open_key_value_stores(
        &manifest,
        &runtime_config,
        &state_dir,
    )?);

    let limits = EngineLimits {
        // Room for every admitted request plus the instances it chains to.
        max_instances: args.max_concurrent * 2 + 8,
        max_instance_memory: args.max_instance_memory_mib << 20,
    };
    let engine = build_engine(&limits)?;
    let linker = build_linker(&engine)?;
    let cache = CompileCache::new(
        args.cache_dir
            .clone()
            .unwrap_or_else(|| state_dir.join("compiled")),
    );

    let public_routes: Vec<(&str, &str)> = manifest
        .http_triggers
        .iter()
        .filter_map(|trigger| match &trigger.route {
            HttpRoute::Path(route) => Some((trigger.component.as_str(), route.as_str())),
            HttpRoute::Private => None,
        })
        .collect();
    let router = spinstack_router::Router::build(public_routes)?;
    for duplicate in router.duplicates() {
        tracing::warn!("duplicate route: {duplicate:?}");
    }

    let triggered: BTreeSet<&str> = manifest
        .http_triggers
        .iter()
        .map(|t| t.component.as_str())
        .collect();
    let mut components = HashMap::new();
    for id in triggered {
        let component = manifest
            .component(id)
            .with_context(|| format!("trigger names unknown component {id:?}"))?;
        let compiled = cache.load(&engine, &component.source)?;
        if let Some(import) = unsupported_import(&engine, &compiled) {
            anyhow::bail!("component {id:?} imports {import}, which spinstack does not provide");
        }
        let pre = linker
            .instantiate_pre(&compiled)
            .and_then(ProxyPre::new)
            .map_err(|e| anyhow::anyhow!("component {id:?} cannot be instantiated: {e:#}"))?;
        let variables = resolver
            .resolve_component_variables(component)?
            .into_iter()
            .map(|(name, value)| (name, value.into_exposed()))
            .collect();
        let outbound = component
            .outbound_hosts(&resolver)
            .with_context(|| format!("component {id:?} allowed_outbound_hosts"))?;
        let files_root = files::stage(
            component,
            &manifest.base_dir,
            &state_dir.join("files").join(id),
        )
        .with_context(|| format!("component {id:?} files"))?;
        components.insert(
            id.to_owned(),
            Arc::new(ComponentRuntime {
                id: Arc::from(id),
                pre,
                variables: Arc::new(variables),
                key_value_stores: Arc::new(
                    component
                        .key_value_stores
                        .iter()
                        .cloned()
                        .collect::<HashSet<_>>(),
                ),
                environment: component
                    .environment
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                files_root,
                outbound: Arc::new(OutboundPolicy::new(outbound)),
            }),
        );
    }

    let routes = router
        .routes()
        .map(|summary| (summary.to_string(), summary.component_id.to_owned()))
        .collect();
    let app = App {
        engine,
        components,
        router,
        key_value,
        postgres: Arc::new(crate::capabilities::postgres::PostgresPools::new(
            crate::capabilities::postgres::PostgresSettings {
                naive: args.postgres_naive,
                compat: args.postgres_compat,
                max_result_bytes: args.max_instance_memory_mib << 20,
                ..Default::default()
            },
        )),
        admission: Admission::new(
            args.max_concurrent as usize,
            args.max_concurrent as usize * 4,
            Duration::from_millis(args.max_queue_wait_ms),
        ),
        request_timeout: Duration::from_millis(args.request_timeout_ms),
        gateway: crate::gateway::load(args.gateway.as_deref(), &manifest.base_dir, &|name| {
            resolver
                .resolve(name)
                .ok()
                .map(|value| value.into_exposed())
        })?,
        application_name: manifest.application.name.clone(),
        application_version: manifest.application.version.clone(),
    };
    Ok(Loaded {
        app: Arc::new(app),
        routes,
    })
}

/// The state directory, absolute: `--state-dir`, else the runtime config's
/// `state_dir`, else `.spinstack` beside the manifest.
pub fn state_dir(
    flag: Option<&std::path::Path>,
    manifest: &Manifest,
    runtime_config: &RuntimeConfig,
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

/// Every store a component lists, backed as the runtime config says; the
/// `default` store (and `type = "spin"` without a path) in our state dir.
fn open_key_value_stores(
    manifest: &Manifest,
    runtime_config: &RuntimeConfig,
    state_dir: &std::path::Path,
) -> anyhow::Result<KeyValueStores> {
    let mut labels: BTreeSet<String> = manifest
        .components
        .values()
        .flat_map(|c| c.key_value_stores.iter().cloned())
        .collect();
    labels.extend(runtime_config.key_value_stores().keys().cloned());
    let mut specs = Vec::new();
    for label in labels {
        let spec = match runtime_config.key_value_store(&label) {
            Some(KeyValueBackendConfig::Redis { url }) => BackendSpec::Redis(url.clone()),
            Some(KeyValueBackendConfig::Spin { path: Some(path) }) => {
                BackendSpec::File(path.clone())
            }
            Some(KeyValueBackendConfig::Spin { path: None }) => BackendSpec::Memory,
            None if label == DEFAULT_KEY_VALUE_STORE => {
                BackendSpec::File(default_store_path(state_dir, &label))
            }
            None => anyhow::bail!("key-value store {label:?} is not configured"),
        };
        specs.push((label, spec));
    }
    KeyValueStores::open(specs)
}

fn default_store_path(state_dir: &std::path::Path, label: &str) -> PathBuf {
    state_dir.join("key_value").join(format!("{label}.kvlog"))
}
