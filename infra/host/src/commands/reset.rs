//! `spinstack reset`: delete the local state directory.

use spinstack::config::{read_runtime_config, state_dir};
use spinstack::embedded::reset_state_dir;

use crate::cli::ResetArgs;

pub fn run(args: &ResetArgs) -> anyhow::Result<()> {
    let manifest = spinstack_manifest::Manifest::from_file(&args.manifest.manifest)?;
    let runtime_config = read_runtime_config(args.runtime_config_file.as_deref())?;
    let state_dir = state_dir(args.state_dir.as_deref(), &manifest, &runtime_config);
    reset_state_dir(&state_dir, &manifest.base_dir)
}
