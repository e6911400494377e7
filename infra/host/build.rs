//! Generates the host bindings for Spin's interfaces from the WIT files that
//! ship inside the `spin-sdk` crate our components are built with, so the
//! host and the guests can never disagree about an interface.
//!
//! The crate is located through `cargo metadata` (it is a dependency of the
//! workspace's components, pinned in Cargo.lock); a `spin_bindgen!` macro
//! carrying the absolute WIT path is written to OUT_DIR and `include!`d by
//! `src/bindings.rs`. Each capability invokes it for its own interfaces.

use std::path::{Path, PathBuf};
use std::process::Command;

const SPIN_SDK_VERSION: &str = "5.2.0";

fn main() -> anyhow::Result<()> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let workspace_manifest = manifest_dir.join("../../Cargo.toml");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../../Cargo.lock");

    let wit_dir = locate_spin_sdk(&workspace_manifest)?.join("wit");
    anyhow::ensure!(
        wit_dir.join("world.wit").exists(),
        "spin-sdk {SPIN_SDK_VERSION} has no wit/world.wit at {}",
        wit_dir.display()
    );

    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("spin_bindgen.rs");
    let wit = wit_dir.to_str().expect("WIT path is UTF-8");
    // Only the WIT location is decided here; each capability module names
    // the interfaces it serves (its own inline world), so adding one touches
    // that module and the capability list, not this file. WASI comes from
    // wasmtime-wasi and wasmtime-wasi-http.
    let source = format!(
        r#"/// `wasmtime::component::bindgen!` over the pinned spin-sdk's WIT, with
/// the host's conventions (async, trappable imports); the caller adds its
/// `inline` world, `world` and `with`.
macro_rules! spin_bindgen {{
    ($($options:tt)*) => {{
        wasmtime::component::bindgen!({{
            path: {wit:?},
            imports: {{ default: async | trappable }},
            $($options)*
        }});
    }};
}}
"#
    );
    std::fs::write(out, source)?;
    Ok(())
}

/// The directory of the pinned spin-sdk package, as cargo resolved it.
fn locate_spin_sdk(workspace_manifest: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(workspace_manifest)
        .env_remove("CARGO_TARGET_DIR")
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    let spin_sdk = packages
        .iter()
        .find(|p| p["name"] == "spin-sdk" && p["version"] == SPIN_SDK_VERSION)
        .ok_or_else(|| anyhow::anyhow!("spin-sdk {SPIN_SDK_VERSION} is not in the workspace"))?;
    let manifest_path = spin_sdk["manifest_path"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("spin-sdk has no manifest_path"))?;
    Ok(Path::new(manifest_path)
        .parent()
        .expect("a manifest has a parent directory")
        .to_path_buf())
}
