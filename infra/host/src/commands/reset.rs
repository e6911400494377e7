//! `spinstack reset`: delete the local state directory.

use std::path::PathBuf;

use spinstack::config::{read_runtime_config, state_dir};
use spinstack::embedded::reset_state_dir;

use crate::cli::StateArgs;

pub fn run(args: &StateArgs) -> anyhow::Result<()> {
    let (state_dir, manifest_dir) = resolve(args)?;
    reset_state_dir(&state_dir, &manifest_dir)
}

/// The state directory `args` name, and the manifest's directory.
pub fn resolve(args: &StateArgs) -> anyhow::Result<(PathBuf, PathBuf)> {
    let manifest = spinstack_manifest::Manifest::from_file(&args.manifest.manifest)?;
    let runtime_config = read_runtime_config(args.runtime_config_file.as_deref())?;
    let state_dir = state_dir(args.state_dir.as_deref(), &manifest, &runtime_config);
    Ok((state_dir, manifest.base_dir))
}
