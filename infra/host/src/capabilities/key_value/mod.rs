//! `fermyon:spin/key-value@2.0.0`: labelled stores a component may open only
//! when its manifest lists the label, with Spin's errors and semantics.

mod file_store;
mod outage;
mod redis_store;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use wasmtime::component::Resource;

use crate::bindings::fermyon::spin2_0_0::key_value::{self as wit, Error};
pub use file_store::FileStore;
pub use redis_store::RedisStore;

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

impl wit::Host for crate::state::RequestState {}

impl wit::HostStore for crate::state::RequestState {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<OpenStore>, Error>> {
        // As Spin: a label the component does not list is access-denied,
        // whether or not the application has such a store.
        if !self.key_value.allowed.contains(&label) {
            return Ok(Err(Error::AccessDenied));
        }
        let Some(backend) = self.key_value.stores.stores.get(&label) else {
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
        Ok(match backend.as_ref() {
            Backend::File(s) => Ok(s.get(&key).map(|v| v.to_vec())),
            Backend::Redis(s, outage, label) => redis_call(outage, label, s.get(&key)).await,
        })
    }

    async fn set(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let backend = self.table.get(&store)?.backend.clone();
        Ok(match backend.as_ref() {
            Backend::File(s) => s.set(&key, &value).map_err(backend_error),
            Backend::Redis(s, outage, label) => {
                redis_call(outage, label, s.set(&key, &value)).await
            }
        })
    }

    async fn delete(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        let backend = self.table.get(&store)?.backend.clone();
        Ok(match backend.as_ref() {
            Backend::File(s) => s.delete(&key).map_err(backend_error),
            Backend::Redis(s, outage, label) => redis_call(outage, label, s.delete(&key)).await,
        })
    }

    async fn exists(
        &mut self,
        store: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        let backend = self.table.get(&store)?.backend.clone();
        Ok(match backend.as_ref() {
            Backend::File(s) => Ok(s.exists(&key)),
            Backend::Redis(s, outage, label) => redis_call(outage, label, s.exists(&key)).await,
        })
    }

    async fn get_keys(
        &mut self,
        store: Resource<OpenStore>,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        let backend = self.table.get(&store)?.backend.clone();
        Ok(match backend.as_ref() {
            Backend::File(s) => Ok(s.keys()),
            Backend::Redis(s, outage, label) => redis_call(outage, label, s.keys()).await,
        })
    }

    async fn drop(&mut self, store: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}
