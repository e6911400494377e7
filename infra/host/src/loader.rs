//! Start-up: read the manifest and runtime config, resolve variables, build
//! every capability's state, compile (or load from cache) and
//! pre-instantiate every component, and build the router. Anything wrong is
//! reported here, before the first request, naming what is at fault.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use anyhow::Context;
use spinstack_manifest::HttpRoute;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::app::App;
use crate::capabilities::{AppContext, AppStates, ComponentContext};
use crate::compile_cache::CompileCache;
use crate::component::{ComponentRuntime, Runtime};
use crate::config::{HostConfig, state_dir};
use crate::engine::{EngineLimits, build_engine};
use crate::linker::{build_linker, unsupported_import};
use crate::outbound_policy::OutboundPolicy;
use crate::server::admission::Admission;

pub struct Loaded {
    pub app: Arc<App>,
    /// (route, component) for the start-up banner, in precedence order.
    pub routes: Vec<(String, String)>,
}

impl App {
    /// Loads the application `config` names.
    pub fn load(config: &HostConfig) -> anyhow::Result<Loaded> {
        let (manifest, runtime_config) = config.read_app()?;
        runtime_config.check_manifest(&manifest)?;
        anyhow::ensure!(
            manifest.application.http_base == "/",
            "application.trigger.http.base = {:?} is not supported by spinstack (Spin serves at /)",
            manifest.application.http_base
        );
        let resolver =
            crate::embedded::resolver_with_services(&manifest, config.service_variables.clone());
        resolver.check_required()?;

        let state_dir = state_dir(config.state_dir.as_deref(), &manifest, &runtime_config);
        let capabilities = AppStates::init(&AppContext {
            manifest: &manifest,
            runtime_config: &runtime_config,
            config,
            state_dir: &state_dir,
        })?;

        let limits = EngineLimits {
            // Room for every admitted request plus the instances it chains to.
            max_instances: config.max_concurrent * 2 + 8,
            max_instance_memory: config.max_instance_memory,
        };
        let engine = build_engine(&limits)?;
        let linker = build_linker(&engine)?;
        let cache = CompileCache::new(
            config
                .cache_dir
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
                anyhow::bail!(
                    "component {id:?} imports {import}, which spinstack does not provide"
                );
            }
            let pre = linker
                .instantiate_pre(&compiled)
                .and_then(ProxyPre::new)
                .map_err(|e| anyhow::anyhow!("component {id:?} cannot be instantiated: {e:#}"))?;
            let outbound = component
                .outbound_hosts(&resolver)
                .with_context(|| format!("component {id:?} allowed_outbound_hosts"))?;
            let component_capabilities = capabilities.configure_component(&ComponentContext {
                id,
                component,
                manifest_dir: &manifest.base_dir,
                state_dir: &state_dir,
                resolver: &resolver,
                outbound: &Arc::new(OutboundPolicy::new(outbound)),
            })?;
            components.insert(
                id.to_owned(),
                Arc::new(ComponentRuntime {
                    id: Arc::from(id),
                    pre,
                    capabilities: component_capabilities,
                }),
            );
        }

        let routes = router
            .routes()
            .map(|summary| (summary.to_string(), summary.component_id.to_owned()))
            .collect();
        let max_concurrent = config.max_concurrent as usize;
        let app = App {
            runtime: Runtime {
                engine,
                capabilities,
                request_timeout: config.request_timeout,
                stream_timeout: config.stream_timeout,
                metrics: config
                    .metrics
                    .then(|| Arc::new(crate::metrics::Metrics::new())),
            },
            components,
            router,
            admission: Admission::new(max_concurrent, max_concurrent * 4, config.max_queue_wait),
            gateway: crate::gateway::load(&config.gateway, &manifest.base_dir, &|name| {
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
}
