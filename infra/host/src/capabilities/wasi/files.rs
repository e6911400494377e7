//! A component's `files`, mounted read-only at its `/`.
//!
//! As `spin up` does for local apps, the matched files are copied into a
//! per-component staging directory at start-up, so the guest sees exactly
//! what the manifest lists (not the rest of the project) and a rebuild that
//! rewrites the sources mid-run cannot change what a running app serves.

use std::path::{Path, PathBuf};

use spinstack_manifest::Component;

/// Stages `component`'s files under `staging` (emptied first); returns the
/// directory to preopen at `/`, or None when it has no files.
pub fn stage(
    component: &Component,
    manifest_dir: &Path,
    staging: &Path,
) -> anyhow::Result<Option<PathBuf>> {
    let mappings = component.resolve_files(manifest_dir)?;
    if mappings.is_empty() && component.files.is_empty() {
        return Ok(None);
    }
    if staging.exists() {
        std::fs::remove_dir_all(staging)?;
    }
    spinstack_manifest::files::materialize(&mappings, staging)?;
    Ok(Some(staging.to_path_buf()))
}
