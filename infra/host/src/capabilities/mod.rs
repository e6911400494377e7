//! Every host capability a component can import, one module each, all with
//! the same small surface (after Spin's `factor-*` crates): the
//! [`Capability`] trait. A capability has
//!
//! - its app-wide state, built once at start-up from the manifest, the
//!   runtime config (its own section) and the host's settings;
//! - its per-component state, what the manifest lets that component use;
//! - its per-instance state, built fresh for every request;
//! - its linker hook, which sees the store only through a [`View`] of its own
//!   instance state and the shared resource table (Wasmtime's `WasiView`
//!   pattern), so no capability knows the store's concrete type;
//! - the imports it provides, so an unsupported one is named at start-up.
//!
//! [`capability_list!`] below is the one place a capability is registered:
//! the store's state, the linker, start-up and shutdown all iterate it.

pub mod key_value;
pub mod outbound_http;
pub mod outbound_mqtt;
pub mod outbound_redis;
pub mod postgres;
pub mod variables;
pub mod wasi;

use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::WasiView;
use wasmtime_wasi_http::WasiHttpView;

use crate::config::HostConfig;
use crate::outbound_policy::OutboundPolicy;

/// What start-up knows when it builds a capability's app-wide state.
pub struct AppContext<'a> {
    pub manifest: &'a spinstack_manifest::Manifest,
    pub runtime_config: &'a spinstack_manifest::RuntimeConfig,
    pub config: &'a HostConfig,
    /// The state directory, absolute.
    pub state_dir: &'a Path,
}

/// What start-up knows about one component.
pub struct ComponentContext<'a> {
    pub id: &'a str,
    pub component: &'a spinstack_manifest::Component,
    pub manifest_dir: &'a Path,
    pub state_dir: &'a Path,
    pub resolver: &'a spinstack_manifest::VariableResolver,
    /// Its `allowed_outbound_hosts`, templates expanded (HTTP and Postgres
    /// both check it).
    pub outbound: &'a Arc<OutboundPolicy>,
}

/// What a request knows when its instance's state is built.
pub struct InstanceContext<'a> {
    pub component_id: &'a Arc<str>,
    /// When the request's time is up.
    pub deadline: Instant,
    /// Serves `http://<component>.spin.internal` in-process.
    pub chaining: &'a Arc<dyn outbound_http::ServiceChaining>,
}

/// The part of a store's state one capability's host functions see.
pub struct View<'a, S> {
    pub state: &'a mut S,
    pub table: &'a mut ResourceTable,
}

/// Tells bindgen's `add_to_linker` that a capability's host functions run
/// on a [`View`] of `S` (Wasmtime's `HasData` convention).
pub struct HasView<S>(PhantomData<S>);

impl<S: Send + 'static> HasData for HasView<S> {
    type Data<'a> = View<'a, S>;
}

/// What a store's data offers the capabilities: the WASI and wasi:http views
/// wasmtime-wasi links against, and the capabilities' own states.
pub trait HostView: WasiView + WasiHttpView + Send + 'static {
    fn capabilities(&mut self) -> (&mut InstanceStates, &mut ResourceTable);
}

/// One host capability. See the module documentation.
pub trait Capability: 'static {
    /// Import names (prefixes: `package/interface@version`) it provides.
    const IMPORTS: &'static [&'static str];
    type App: Send + Sync + 'static;
    type Component: Send + Sync + 'static;
    type Instance: Send + 'static;

    fn init(ctx: &AppContext<'_>) -> anyhow::Result<Self::App>;

    fn configure_component(
        app: &Self::App,
        ctx: &ComponentContext<'_>,
    ) -> anyhow::Result<Self::Component>;

    fn new_instance(
        app: &Arc<Self::App>,
        component: &Self::Component,
        ctx: &InstanceContext<'_>,
    ) -> anyhow::Result<Self::Instance>;

    fn add_to_linker<T: HostView>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> View<'_, Self::Instance>,
    ) -> anyhow::Result<()>;

    /// At shutdown, after the last request (flush what needs flushing).
    fn shutdown(_app: &Self::App) {}
}

/// Generates, from one list of `field: Capability` pairs, the structs that
/// hold each capability's app, component and instance state, and the loops
/// over them. Declarative rather than a trait-object list: the states keep
/// their concrete types, so the hot path has no dynamic dispatch.
macro_rules! capability_list {
    ($($field:ident: $capability:ty),* $(,)?) => {
        /// Every capability's app-wide state.
        pub struct AppStates {
            $(pub $field: Arc<<$capability as Capability>::App>,)*
        }

        /// Every capability's state for one component.
        pub struct ComponentStates {
            $(pub $field: <$capability as Capability>::Component,)*
        }

        /// Every capability's state for one instance (one request).
        pub struct InstanceStates {
            $(pub $field: <$capability as Capability>::Instance,)*
        }

        impl AppStates {
            pub fn init(ctx: &AppContext<'_>) -> anyhow::Result<Self> {
                Ok(Self {
                    $($field: Arc::new(<$capability as Capability>::init(ctx)
                        .with_context(|| concat!("the ", stringify!($field), " capability"))?),)*
                })
            }

            pub fn configure_component(
                &self,
                ctx: &ComponentContext<'_>,
            ) -> anyhow::Result<ComponentStates> {
                Ok(ComponentStates {
                    $($field: <$capability as Capability>::configure_component(&self.$field, ctx)?,)*
                })
            }

            pub fn new_instance(
                &self,
                component: &ComponentStates,
                ctx: &InstanceContext<'_>,
            ) -> anyhow::Result<InstanceStates> {
                Ok(InstanceStates {
                    $($field: <$capability as Capability>::new_instance(
                        &self.$field,
                        &component.$field,
                        ctx,
                    )?,)*
                })
            }

            pub fn shutdown(&self) {
                $(<$capability as Capability>::shutdown(&self.$field);)*
            }
        }

        /// Adds every capability's imports to `linker`.
        pub fn add_to_linker<T: HostView>(linker: &mut Linker<T>) -> anyhow::Result<()> {
            $(
                <$capability as Capability>::add_to_linker(linker, |data: &mut T| {
                    let (states, table) = data.capabilities();
                    View { state: &mut states.$field, table }
                })?;
            )*
            Ok(())
        }

        /// True when some capability provides `import`.
        pub fn provides(import: &str) -> bool {
            false $(|| <$capability as Capability>::IMPORTS
                .iter()
                .any(|prefix| import.starts_with(prefix)))*
        }
    };
}

capability_list! {
    wasi: wasi::Wasi,
    outbound_http: outbound_http::OutboundHttp,
    key_value: key_value::KeyValue,
    variables: variables::Variables,
    postgres: postgres::Postgres,
    outbound_redis: outbound_redis::OutboundRedis,
    outbound_mqtt: outbound_mqtt::OutboundMqtt,
}

#[cfg(test)]
mod tests {
    use super::provides;

    #[test]
    fn the_list_provides_exactly_the_interfaces_its_capabilities_name() {
        for import in [
            "wasi:cli/environment@0.2.6",
            "wasi:io/streams@0.2.0",
            "wasi:filesystem/preopens@0.2.3",
            "wasi:http/types@0.2.0",
            "wasi:http/outgoing-handler@0.2.6",
            "fermyon:spin/key-value@2.0.0",
            "fermyon:spin/variables@2.0.0",
            "spin:postgres/postgres@3.0.0",
            "spin:postgres/postgres@4.0.0",
            "fermyon:spin/redis@2.0.0",
            "fermyon:spin/mqtt@2.0.0",
            "wasi:keyvalue/store@0.2.0-draft2",
            "wasi:keyvalue/atomics@0.2.0-draft2",
            "wasi:keyvalue/batch@0.2.0-draft2",
            "wasi:config/store@0.2.0-draft-2024-09-27",
        ] {
            assert!(provides(import), "{import} should be provided");
        }
        for import in [
            "fermyon:spin/sqlite@2.0.0",
            "fermyon:spin/redis",
            "spin:postgres/postgres@2.0.0",
            "wasi:http/incoming-handler@0.2.0",
            "fermyon:spin/key-value@1.0.0",
            "wasi:keyvalue/watcher@0.2.0-draft2",
            "wasi:keyvalue/store@0.2.0-draft",
            "wasi:config/store@0.2.0-draft",
        ] {
            assert!(!provides(import), "{import} is not provided");
        }
    }
}
