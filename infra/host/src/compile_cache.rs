//! Compiled components cached on disk, so a restart maps machine code in
//! (milliseconds) instead of compiling it again (seconds).
//!
//! The key is the SHA-256 of the component's bytes plus Wasmtime's own
//! compatibility hash of the engine configuration, so a new Wasmtime or a
//! changed setting never loads stale code.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

pub struct CompileCache {
    dir: PathBuf,
}

impl CompileCache {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// Loads `wasm` compiled, from the cache when it holds it.
    pub fn load(&self, engine: &Engine, wasm_path: &Path) -> anyhow::Result<Component> {
        let bytes = std::fs::read(wasm_path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", wasm_path.display()))?;
        let cached = self
            .dir
            .join(format!("{}.cwasm", cache_key(engine, &bytes)));
        if cached.exists() {
            // SAFETY: the file was written by `Component::serialize` below, by
            // this engine configuration (the key includes its hash), into a
            // directory only this host writes.
            match unsafe { Component::deserialize_file(engine, &cached) } {
                Ok(component) => return Ok(component),
                Err(e) => tracing::warn!("ignoring unreadable compile cache entry: {e}"),
            }
        }
        let component = Component::new(engine, &bytes)
            .map_err(|e| anyhow::anyhow!("compiling {}: {e:#}", wasm_path.display()))?;
        if let Err(e) = self.store(&cached, &component) {
            tracing::warn!("could not write compile cache: {e}");
        }
        Ok(component)
    }

    fn store(&self, path: &Path, component: &Component) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        // Write then rename: a concurrent reader never sees half a file.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, component.serialize()?)?;
        std::fs::rename(tmp, path)?;
        Ok(())
    }
}

fn cache_key(engine: &Engine, wasm: &[u8]) -> String {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let mut digest = Sha256::new();
    digest.update(wasm);
    digest.update(engine_hash.finish().to_le_bytes());
    hex::encode(digest.finalize())
}
