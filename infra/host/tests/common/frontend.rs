//! The built web app (`frontend/dist`) for tests that run the project's
//! `spin.toml`: its `web` component mounts `frontend/dist` relative to the
//! manifest, and the harness writes the manifest into a temporary
//! directory, so the directory is linked there. The app is built once if
//! it is missing (`spinstack build` and scripts/test.sh build it anyway).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::workspace_root;

/// Where a manifest expects the built app, relative to its directory.
const DIST: &str = "frontend/dist";

/// `frontend/dist` of the workspace, built if it has no `index.html`.
pub fn dist() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let frontend = workspace_root().join("frontend");
            let dist = frontend.join("dist");
            if !dist.join("index.html").is_file() {
                let npm = |args: &[&str]| {
                    let status = Command::new("npm")
                        .arg("--prefix")
                        .arg(&frontend)
                        .args(args)
                        .status()
                        .expect("run npm (Node 20) to build frontend/");
                    assert!(status.success(), "npm {args:?} failed in frontend/");
                };
                if !frontend.join("node_modules").is_dir() {
                    npm(&["ci", "--no-audit", "--no-fund"]);
                }
                npm(&["run", "build"]);
            }
            dist
        })
        .clone()
}

/// Links the built app into `project_dir` when `manifest` mounts it.
pub fn link_dist(manifest: &str, project_dir: &Path) {
    if !manifest.contains(&format!("source = \"{DIST}\"")) {
        return;
    }
    let link = project_dir.join(DIST);
    if link.exists() {
        return;
    }
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(dist(), &link).unwrap();
}
