//! `fermyon:spin/key-value@2.0.0` and `wasi:keyvalue@0.2.0-draft2`
//! (`wasi_keyvalue.rs`): labelled stores a component may open only when its
//! manifest lists the label, with Spin's errors and semantics. Both
//! interfaces reach the same backends, so a value written through one is
//! read through the other.

mod file_store;
mod outage;
mod redis_store;
mod wasi_keyvalue;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use spinstack_manifest::{DEFAULT_KEY_VALUE_STORE, KeyValueBackendConfig};
use wasmtime::component::{Linker, Resource};

use super::{AppContext, Capability, ComponentContext, HasView, HostView, InstanceContext, View};
pub use file_store::FileStore;
use generated::fermyon::spin2_0_0::key_value::{self as wit, Error};
pub use redis_store::RedisStore;

/// Bindings for the one interface this capability serves.
mod generated {
    crate::bindings::spin_bindgen!(
        inline: "
            package spinstack:key-value;
            world host { import fermyon:spin/key-value@2.0.0; }
        ",
        world: "spinstack:key-value/host",
        with: { "fermyon:spin/key-value.store": crate::capabilities::key_value::OpenStore },
    );
}

pub struct KeyValue;

impl Capability for KeyValue {
    const IMPORTS: &'static [&'static str] = &[
        "fermyon:spin/key-value@2.",
        "wasi:keyvalue/store@0.2.0-draft2",
        "wasi:keyvalue/atomics@0.2.0-draft2",
        "wasi:keyvalue/batch@0.2.0-draft2",
    ];
    type App = KeyValueStores;
    type Component = Arc<HashSet<String>>;
    type Instance = KeyValueAccess;

    /// Every store a component lists, backed as the runtime config's
    /// `[key_value_store.<label>]` says; the `default` store (and
    /// `type = "spin"` without a path) in the state directory.
    fn init(ctx: &AppContext<'_>) -> anyhow::Result<KeyValueStores> {
        let mut labels: BTreeSet<String> = ctx
            .manifest
            .components
            .values()
            .flat_map(|c| c.key_value_stores.iter().cloned())
            .collect();
        labels.extend(ctx.runtime_config.key_value_stores().keys().cloned());
        let mut specs = Vec::new();
        for label in labels {
            let spec = match ctx.runtime_config.key_value_store(&label) {
                Some(KeyValueBackendConfig::Redis { url }) => BackendSpec::Redis(url.clone()),
                Some(KeyValueBackendConfig::Spin { path: Some(path) }) => {
                    BackendSpec::File(path.clone())
                }
                Some(KeyValueBackendConfig::Spin { path: None }) => BackendSpec::Memory,
                None if label == DEFAULT_KEY_VALUE_STORE => {
                    BackendSpec::File(default_store_path(ctx.state_dir, &label))
                }
                None => anyhow::bail!("key-value store {label:?} is not configured"),
            };
            specs.push((label, spec));
        }
        KeyValueStores::open(specs)
    }

    fn configure_component(
        _app: &KeyValueStores,
        ctx: &ComponentContext<'_>,
    ) -> anyhow::Result<Arc<HashSet<String>>> {
        Ok(Arc::new(
            ctx.component.key_value_stores.iter().cloned().collect(),
        ))
    }

    fn new_instance(
        app: &Arc<KeyValueStores>,
        allowed: &Arc<HashSet<String>>,
        _ctx: &InstanceContext<'_>,
    ) -> anyhow::Result<KeyValueAccess> {
        Ok(KeyValueAccess {
            stores: app.clone(),
            allowed: allowed.clone(),
        })
    }

    fn add_to_linker<T: HostView>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> View<'_, KeyValueAccess>,
    ) -> anyhow::Result<()> {
        wit::add_to_linker::<T, HasView<KeyValueAccess>>(linker, get)?;
        wasi_keyvalue::add_to_linker(linker, get)
    }

    fn shutdown(app: &KeyValueStores) {
        app.sync();
    }
}

fn default_store_path(state_dir: &Path, label: &str) -> PathBuf {
    state_dir.join("key_value").join(format!("{label}.kvlog"))
}

/// Where a label's data lives.
pub enum BackendSpec {
    File(PathBuf),
    Memory,
    Redis(String),
}

/// One opened backend. An enum rather than a trait object: there are two
/// kinds and the calls are on the hot path.
pub enum Backend {
    File(FileStore),
    Redis(RedisStore, outage::Outage, String),
}

/// Every store of the application, by label, opened once at start-up.
#[derive(Default)]
pub struct KeyValueStores {
    stores: HashMap<String, Arc<Backend>>,
}

impl KeyValueStores {
    pub fn open(specs: impl IntoIterator<Item = (String, BackendSpec)>) -> anyhow::Result<Self> {
        let mut stores = HashMap::new();
        for (label, spec) in specs {
            let backend = match spec {
                BackendSpec::File(path) => Backend::File(FileStore::open(&path).map_err(|e| {
                    anyhow::anyhow!("key-value store {label:?} at {}: {e}", path.display())
                })?),
                BackendSpec::Memory => Backend::File(FileStore::in_memory()),
                BackendSpec::Redis(url) => Backend::Redis(
                    RedisStore::new(&url)
                        .map_err(|e| anyhow::anyhow!("key-value store {label:?}: {e}"))?,
                    outage::Outage::default(),
                    label.clone(),
                ),
            };
            stores.insert(label, Arc::new(backend));
        }
        Ok(Self { stores })
    }

    /// Flushes file-backed stores to disk (at shutdown).
    pub fn sync(&self) {
        for (label, backend) in &self.stores {
            if let Backend::File(store) = backend.as_ref()
                && let Err(e) = store.sync()
            {
                tracing::warn!(label, "key-value store sync failed: {e}");
            }
        }
    }
}

/// What one component instance may reach: its listed labels.
#[derive(Clone)]
pub struct KeyValueAccess {
    pub stores: Arc<KeyValueStores>,
    pub allowed: Arc<HashSet<String>>,
}

/// The resource behind a guest's `store` handle.
pub struct OpenStore {
    backend: Arc<Backend>,
}

/// Errors from a backend reach the guest as `other`, without internals.
fn backend_error(e: impl std::fmt::Display) -> Error {
    tracing::warn!("key-value backend error: {e}");
    unavailable()
}

fn unavailable() -> Error {
    Error::Other("key-value backend unavailable".into())
}

/// A Redis call for the guest: refused at once while the circuit is open,
/// its outcome recorded (an outage is logged once).
async fn redis_call<T>(
    outage: &outage::Outage,
    label: &str,
    call: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, Error> {
    if !outage.allows_call() {
        return Err(unavailable());
    }
    let result = call.await;
    outage.record(label, &result);
    result.map_err(|_| unavailable())
}

/// The operations both key-value interfaces share, on whichever backend.
impl Backend {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        match self {
            Backend::File(s) => Ok(s.get(key).map(|v| v.to_vec())),
            Backend::Redis(s, outage, label) => redis_call(outage, label, s.get(key)).await,
        }
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        match self {
            Backend::File(s) => s.set(key, value).map_err(backend_error),
            Backend::Redis(s, outage, label) => redis_call(outage, label, s.set(key, value)).await,
        }
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        match self {
            Backend::File(s) => s.delete(key).map_err(backend_error),
            Backend::Redis(s, outage, label) => redis_call(outage, label, s.delete(key)).await,
        }
    }

    async fn exists(&self, key: &str) -> Result<bool, Error> {
        match self {
            Backend::File(s) => Ok(s.exists(key)),
            Backend::Redis(s, outage, label) => redis_call(outage, label, s.exists(key)).await,
        }
    }

    async fn keys(&self) -> Result<Vec<String>, Error> {
        match self {
            Backend::File(s) => Ok(s.keys()),
            Backend::Redis(s, outage, label) => redis_call(outage, label, s.keys()).await,
        }
    }
}

impl wit::Host for View<'_, KeyValueAccess> {}

impl wit::HostStore for View<'_, KeyValueAccess> {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<OpenStore>, Error>> {
        // As Spin: a label the component does not list is access-denied,
        // whether or not the application has such a store.
        if !self.state.allowed.contains(&label) {
            return Ok(Err(Error::AccessDenied));
        }
        let Some(backend) = self.state.stores.stores.get(&label) else {
            return Ok(Err(Error::NoSuchStore));
        };
        let handle = OpenStore {
            backend: backend.clone(),
        };
        match self.table.push(handle) {
            Ok(resource) => Ok(Ok(resource)),
            Err(_) => Ok(Err(Error::StoreTableFull)),
        }
    }

    async fn get(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let backend = self.table.get(&store)?.backend.clone();
        Ok(backend.get(&key).await)
    }

    async fn set(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let backend = self.table.get(&store)?.backend.clone();
        Ok(backend.set(&key, &value).await)
    }

    async fn delete(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        let backend = self.table.get(&store)?.backend.clone();
        Ok(backend.delete(&key).await)
    }

    async fn exists(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        let backend = self.table.get(&store)?.backend.clone();
        Ok(backend.exists(&key).await)
    }

    async fn get_keys(
        &mut self,
        store: Resource<OpenStore>,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        let backend = self.table.get(&store)?.backend.clone();
        Ok(backend.keys().await)
    }

    async fn drop(&mut self, store: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

/// The capability through its view, without wasm or a store process: the
/// in-memory backend stands in where the backend is not the point.
#[cfg(test)]
mod tests {
    use super::*;

    fn access(allowed: &[&str]) -> KeyValueAccess {
        let stores = KeyValueStores::open([
            ("default".to_owned(), BackendSpec::Memory),
            ("other".to_owned(), BackendSpec::Memory),
        ])
        .unwrap();
        KeyValueAccess {
            stores: Arc::new(stores),
            allowed: Arc::new(allowed.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    #[tokio::test]
    async fn a_component_opens_only_the_labels_it_lists() {
        let mut state = access(&["default", "missing"]);
        let mut table = wasmtime::component::ResourceTable::new();
        let mut view = View {
            state: &mut state,
            table: &mut table,
        };
        let refused = wit::HostStore::open(&mut view, "other".into())
            .await
            .unwrap();
        assert!(matches!(refused, Err(Error::AccessDenied)));
        let absent = wit::HostStore::open(&mut view, "missing".into())
            .await
            .unwrap();
        assert!(matches!(absent, Err(Error::NoSuchStore)));
        let store = wit::HostStore::open(&mut view, "default".into())
            .await
            .unwrap()
            .unwrap();
        let handle = || Resource::<OpenStore>::new_borrow(store.rep());
        wit::HostStore::set(&mut view, handle(), "k".into(), b"v".to_vec())
            .await
            .unwrap()
            .unwrap();
        let value = wit::HostStore::get(&mut view, handle(), "k".into())
            .await
            .unwrap();
        assert_eq!(value.unwrap(), Some(b"v".to_vec()));
        let keys = wit::HostStore::get_keys(&mut view, handle()).await.unwrap();
        assert_eq!(keys.unwrap(), vec!["k".to_owned()]);
    }
}
