//! `wasi:keyvalue@0.2.0-draft2` (`store`, `atomics`, `batch`), the standard
//! interface Spin 3+ serves beside its own, over the same stores and the
//! same access rule: a bucket opens only for a label the component lists.
//!
//! As Spin (`factor-key-value`'s host): an unlisted label is
//! `access-denied`, a listed one the application does not define
//! `no-such-store`; `list-keys` returns every key at once and refuses a
//! cursor; backend failures are `other`. `increment` keeps Spin's encodings
//! per backend: eight little-endian bytes in the default (file) store, as
//! Spin's SQLite store; Redis's decimal integer (INCRBY) in Redis. Where we
//! follow the WIT rather than Spin: `get-many` answers every key asked, in
//! order, with `none` for an absent one (Spin's SQLite store leaves absent
//! keys out); a compare-and-swap succeeds only while the key still holds the
//! value last read (at `new` or `current`; absent included), where Spin's
//! SQLite store upserts unconditionally when it read no value.

use std::sync::Arc;

use wasmtime::component::{Linker, Resource};

use super::{Backend, KeyValueAccess, OpenStore, backend_error, redis_call, unavailable};
use crate::capabilities::{HasView, HostView, View};
use generated::wasi::keyvalue::{atomics, batch, store};

type SpinError = super::Error;
use store::{Error, KeyResponse};

/// Bindings for the three interfaces, from the pinned spin-sdk's WIT; a
/// bucket is the same handle `fermyon:spin/key-value` opens.
mod generated {
    crate::bindings::spin_bindgen!(
        inline: "
            package spinstack:wasi-keyvalue;
            world host {
                import wasi:keyvalue/store@0.2.0-draft2;
                import wasi:keyvalue/atomics@0.2.0-draft2;
                import wasi:keyvalue/batch@0.2.0-draft2;
            }
        ",
        world: "spinstack:wasi-keyvalue/host",
        with: {
            "wasi:keyvalue/store.bucket": crate::capabilities::key_value::OpenStore,
            "wasi:keyvalue/atomics.cas": crate::capabilities::key_value::wasi_keyvalue::Cas,
        },
    );
}

pub(super) fn add_to_linker<T: HostView>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> View<'_, KeyValueAccess>,
) -> anyhow::Result<()> {
    store::add_to_linker::<T, HasView<KeyValueAccess>>(linker, get)?;
    atomics::add_to_linker::<T, HasView<KeyValueAccess>>(linker, get)?;
    batch::add_to_linker::<T, HasView<KeyValueAccess>>(linker, get)?;
    Ok(())
}

/// The resource behind a guest's `cas` handle: the key and the value it
/// expects to replace (`None`: the key is expected absent).
pub struct Cas {
    backend: Arc<Backend>,
    key: String,
    expected: Option<Vec<u8>>,
}

/// Spin's mapping of its own errors onto the WASI ones.
fn to_wasi(e: SpinError) -> Error {
    match e {
        SpinError::AccessDenied => Error::AccessDenied,
        SpinError::NoSuchStore => Error::NoSuchStore,
        SpinError::StoreTableFull => Error::Other("store table full".into()),
        SpinError::Other(message) => Error::Other(message),
    }
}

impl Backend {
    async fn get_many(&self, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>, Error> {
        let values = match self {
            Backend::File(s) => keys.iter().map(|k| s.get(k).map(|v| v.to_vec())).collect(),
            Backend::Redis(s, outage, label) => redis_call(outage, label, s.get_many(&keys))
                .await
                .map_err(to_wasi)?,
        };
        Ok(keys.into_iter().zip(values).collect())
    }

    async fn set_many(&self, pairs: Vec<(String, Vec<u8>)>) -> Result<(), Error> {
        match self {
            Backend::File(s) => pairs
                .iter()
                .try_for_each(|(k, v)| s.set(k, v))
                .map_err(|e| to_wasi(backend_error(e))),
            Backend::Redis(s, outage, label) => redis_call(outage, label, s.set_many(&pairs))
                .await
                .map_err(to_wasi),
        }
    }

    async fn delete_many(&self, keys: Vec<String>) -> Result<(), Error> {
        match self {
            Backend::File(s) => keys
                .iter()
                .try_for_each(|k| s.delete(k))
                .map_err(|e| to_wasi(backend_error(e))),
            Backend::Redis(s, outage, label) => redis_call(outage, label, s.delete_many(&keys))
                .await
                .map_err(to_wasi),
        }
    }

    async fn increment(&self, key: &str, delta: i64) -> Result<i64, Error> {
        match self {
            Backend::File(s) => {
                let outcome = s
                    .update(key, |current| {
                        let old = match current {
                            None => 0,
                            Some(bytes) => match <[u8; 8]>::try_from(bytes) {
                                Ok(bytes) => i64::from_le_bytes(bytes),
                                Err(_) => {
                                    return (None, Err("the value is not a 64-bit integer"));
                                }
                            },
                        };
                        match old.checked_add(delta) {
                            Some(new) => (Some(new.to_le_bytes().to_vec()), Ok(new)),
                            None => (None, Err("the increment overflows a 64-bit integer")),
                        }
                    })
                    .map_err(|e| to_wasi(backend_error(e)))?;
                outcome.map_err(|message| Error::Other(message.into()))
            }
            Backend::Redis(s, outage, label) => {
                answered_redis_call(outage, label, s.increment(key, delta)).await
            }
        }
    }

    /// Sets `key` to `value` if it holds `expected`; true when it did.
    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> Result<bool, Error> {
        match self {
            Backend::File(s) => s
                .update(key, |current| {
                    if current == expected {
                        (Some(value.to_vec()), true)
                    } else {
                        (None, false)
                    }
                })
                .map_err(|e| to_wasi(backend_error(e))),
            Backend::Redis(s, outage, label) => {
                redis_call(outage, label, s.compare_and_set(key, expected, value))
                    .await
                    .map_err(to_wasi)
            }
        }
    }
}

/// A Redis call whose refusal by the server (say, INCRBY on a value that is
/// not an integer) is the guest's error, not an outage.
async fn answered_redis_call<T>(
    outage: &super::outage::Outage,
    label: &str,
    call: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, Error> {
    if !outage.allows_call() {
        return Err(to_wasi(unavailable()));
    }
    match call.await {
        Err(e) if e.kind() == redis::ErrorKind::ResponseError => {
            outage.record::<(), &str>(label, &Ok(()));
            Err(Error::Other(e.to_string()))
        }
        result => {
            outage.record(label, &result);
            result.map_err(|_| to_wasi(unavailable()))
        }
    }
}

impl View<'_, KeyValueAccess> {
    fn bucket(&self, bucket: &Resource<OpenStore>) -> wasmtime::Result<Arc<Backend>> {
        Ok(self.table.get(bucket)?.backend.clone())
    }

    /// A CAS handle on `key` expecting the value it holds now.
    async fn new_cas(
        &mut self,
        backend: Arc<Backend>,
        key: String,
    ) -> wasmtime::Result<Result<Resource<Cas>, Error>> {
        let expected = match backend.get(&key).await {
            Ok(value) => value,
            Err(e) => return Ok(Err(to_wasi(e))),
        };
        let cas = Cas {
            backend,
            key,
            expected,
        };
        Ok(self
            .table
            .push(cas)
            .map_err(|_| Error::Other("too many compare_and_swaps opened".into())))
    }
}

impl store::Host for View<'_, KeyValueAccess> {
    async fn open(
        &mut self,
        identifier: String,
    ) -> wasmtime::Result<Result<Resource<OpenStore>, Error>> {
        let opened = super::wit::HostStore::open(self, identifier).await?;
        Ok(opened.map_err(to_wasi))
    }
}

impl store::HostBucket for View<'_, KeyValueAccess> {
    async fn get(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let backend = self.bucket(&bucket)?;
        Ok(backend.get(&key).await.map_err(to_wasi))
    }

    async fn set(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let backend = self.bucket(&bucket)?;
        Ok(backend.set(&key, &value).await.map_err(to_wasi))
    }

    async fn delete(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        let backend = self.bucket(&bucket)?;
        Ok(backend.delete(&key).await.map_err(to_wasi))
    }

    async fn exists(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        let backend = self.bucket(&bucket)?;
        Ok(backend.exists(&key).await.map_err(to_wasi))
    }

    async fn list_keys(
        &mut self,
        bucket: Resource<OpenStore>,
        cursor: Option<String>,
    ) -> wasmtime::Result<Result<KeyResponse, Error>> {
        let backend = self.bucket(&bucket)?;
        if cursor.is_some() {
            return Ok(Err(Error::Other("list_keys: cursor not supported".into())));
        }
        Ok(backend
            .keys()
            .await
            .map(|keys| KeyResponse { keys, cursor: None })
            .map_err(to_wasi))
    }

    async fn drop(&mut self, bucket: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl batch::Host for View<'_, KeyValueAccess> {
    async fn get_many(
        &mut self,
        bucket: Resource<OpenStore>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<(String, Option<Vec<u8>>)>, Error>> {
        let backend = self.bucket(&bucket)?;
        if keys.is_empty() {
            return Ok(Ok(Vec::new()));
        }
        Ok(backend.get_many(keys).await)
    }

    async fn set_many(
        &mut self,
        bucket: Resource<OpenStore>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let backend = self.bucket(&bucket)?;
        if key_values.is_empty() {
            return Ok(Ok(()));
        }
        Ok(backend.set_many(key_values).await)
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<OpenStore>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let backend = self.bucket(&bucket)?;
        if keys.is_empty() {
            return Ok(Ok(()));
        }
        Ok(backend.delete_many(keys).await)
    }
}

impl atomics::Host for View<'_, KeyValueAccess> {
    async fn increment(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
        delta: i64,
    ) -> wasmtime::Result<Result<i64, Error>> {
        let backend = self.bucket(&bucket)?;
        Ok(backend.increment(&key, delta).await)
    }

    async fn swap(
        &mut self,
        cas: Resource<Cas>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let Cas {
            backend,
            key,
            expected,
        } = self.table.delete(cas)?;
        match backend
            .compare_and_set(&key, expected.as_deref(), &value)
            .await
        {
            Ok(true) => Ok(Ok(())),
            // As the WIT asks: a fresh handle, expecting the value now there.
            Ok(false) => Ok(match self.new_cas(backend, key).await? {
                Ok(fresh) => Err(atomics::CasError::CasFailed(fresh)),
                Err(e) => Err(atomics::CasError::StoreError(e)),
            }),
            Err(e) => Ok(Err(atomics::CasError::StoreError(e))),
        }
    }
}

impl atomics::HostCas for View<'_, KeyValueAccess> {
    async fn new(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<Resource<Cas>, Error>> {
        let backend = self.bucket(&bucket)?;
        self.new_cas(backend, key).await
    }

    async fn current(
        &mut self,
        cas: Resource<Cas>,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let (backend, key) = {
            let cas = self.table.get(&cas)?;
            (cas.backend.clone(), cas.key.clone())
        };
        let value = match backend.get(&key).await {
            Ok(value) => value,
            Err(e) => return Ok(Err(to_wasi(e))),
        };
        self.table.get_mut(&cas)?.expected = value.clone();
        Ok(Ok(value))
    }

    async fn drop(&mut self, cas: Resource<Cas>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::key_value::{BackendSpec, KeyValueStores};

    fn backend() -> Arc<Backend> {
        let stores = KeyValueStores::open([("default".to_owned(), BackendSpec::Memory)]).unwrap();
        stores.stores["default"].clone()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_increments_and_swaps_lose_no_update() {
        let backend = backend();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let backend = backend.clone();
                tokio::spawn(async move {
                    for _ in 0..250 {
                        backend.increment("counter", 1).await.unwrap();
                        // A CAS loop: read, add one, retry on a lost race.
                        loop {
                            let current = backend.get("cas").await.unwrap();
                            let n: u64 = current
                                .as_deref()
                                .map_or(0, |v| std::str::from_utf8(v).unwrap().parse().unwrap());
                            let next = (n + 1).to_string();
                            if backend
                                .compare_and_set("cas", current.as_deref(), next.as_bytes())
                                .await
                                .unwrap()
                            {
                                break;
                            }
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(backend.increment("counter", 0).await.unwrap(), 2000);
        assert_eq!(backend.get("cas").await.unwrap().unwrap(), b"2000");
    }
}
