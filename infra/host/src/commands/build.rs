//! `spinstack build`: runs each component's `[component.X.build]` command in
//! its working directory, as `spin build` does.

use std::path::Path;
use std::process::Command;

pub fn build_all(manifest_path: &Path) -> anyhow::Result<()> {
    let manifest = spinstack_manifest::Manifest::from_file(manifest_path)?;
    for (id, component) in &manifest.components {
        let Some(build) = &component.build else {
            continue;
        };
        let workdir = build
            .workdir
            .as_ref()
            .map(|w| manifest.base_dir.join(w))
            .unwrap_or_else(|| manifest.base_dir.clone());
        for command in &build.commands {
            println!("Building component {id} with `{command}`");
            let status = Command::new("sh")
                .arg("-c")
                .arg(command)
                .current_dir(&workdir)
                .status()
                .map_err(|e| anyhow::anyhow!("running the build of {id}: {e}"))?;
            anyhow::ensure!(
                status.success(),
                "the build of component {id} failed ({status})"
            );
        }
    }
    Ok(())
}
