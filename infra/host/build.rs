//! Generates the host bindings for Spin's interfaces from the WIT files that
//! ship inside the `spin-sdk` crate our components are built with, so the
//! host and the guests can never disagree about an interface.
//!
//! The crate is located through `cargo metadata` (it is a dependency of the
//! workspace's components, pinned in Cargo.lock); the bindgen invocation is
//! written to OUT_DIR with the absolute WIT path and `include!`d by
//! `src/bindings.rs`.

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

    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("spin_bindings.rs");
    let wit = wit_dir.to_str().expect("WIT path is UTF-8");
    // Only the Spin interfaces the host implements itself; WASI comes from
    // wasmtime-wasi and wasmtime-wasi-http.
    let source = format!(
        r#"wasmtime::component::bindgen!({{
    path: {wit:?},
    inline: "
        package spinstack:host;
        world spin-capabilities {{
            import fermyon:spin/key-value@2.0.0;
            import fermyon:spin/variables@2.0.0;
            import spin:postgres/postgres@3.0.0;
            import spin:postgres/postgres@4.0.0;
        }}
    ",
    world: "spinstack:host/spin-capabilities",
    imports: {{ default: async | trappable }},
    with: {{
        "fermyon:spin/key-value.store": crate::capabilities::key_value::OpenStore,
        "spin:postgres/postgres@3.0.0.connection": crate::capabilities::postgres::ConnectionV3,
        "spin:postgres/postgres@4.0.0.connection": crate::capabilities::postgres::Connection,
    }},
}});
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
