//! `spinstack build`: runs each component's `[component.X.build]` command in
//! its working directory, as `spin build` does, saying which component is
//! being built ("2 of 5") and how long each took: the first build of a fresh
//! checkout takes minutes, and a silent terminal looks like a hang.

mod wasm_target;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub fn build_all(manifest_path: &Path) -> anyhow::Result<()> {
    build_reporting(manifest_path, &mut std::io::stdout())
}

/// One component's build: its commands and where they run.
struct Build<'m> {
    id: &'m str,
    commands: &'m [String],
    workdir: PathBuf,
}

/// `build_all`, with the progress lines written to `out`.
fn build_reporting(manifest_path: &Path, out: &mut impl Write) -> anyhow::Result<()> {
    let manifest = spinstack_manifest::Manifest::from_file(manifest_path)?;
    let builds: Vec<Build> = manifest
        .components
        .iter()
        .filter_map(|(id, component)| {
            let build = component.build.as_ref()?;
            let workdir = build
                .workdir
                .as_ref()
                .map(|w| manifest.base_dir.join(w))
                .unwrap_or_else(|| manifest.base_dir.clone());
            Some(Build {
                id,
                commands: &build.commands,
                workdir,
            })
        })
        .collect();

    // Before minutes of building, not after the first component fails.
    if let Some(build) = builds
        .iter()
        .find(|b| wasm_target::is_needed_by(b.commands))
    {
        wasm_target::ensure_installed(&build.workdir, out)?;
    }

    let started = Instant::now();
    let total = builds.len();
    for (n, build) in builds.iter().enumerate() {
        let id = build.id;
        let position = format!("{} of {total}", n + 1);
        writeln!(out, "Building component {id} ({position})")?;
        let component_started = Instant::now();
        for command in build.commands {
            writeln!(out, "  running `{command}`")?;
            out.flush()?;
            let status = Command::new("sh")
                .arg("-c")
                .arg(command)
                .current_dir(&build.workdir)
                .status()
                .map_err(|e| anyhow::anyhow!("running the build of {id}: {e}"))?;
            anyhow::ensure!(
                status.success(),
                "the build of component {id} ({position}) failed ({status}) after {}",
                elapsed(component_started.elapsed())
            );
        }
        writeln!(
            out,
            "Built component {id} ({position}) in {}",
            elapsed(component_started.elapsed())
        )?;
    }
    if total > 0 {
        writeln!(
            out,
            "Built {total} component{} in {}",
            if total == 1 { "" } else { "s" },
            elapsed(started.elapsed())
        )?;
    }
    Ok(())
}

/// "4.2s" under a minute, "3m 07s" past it.
fn elapsed(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs < 60 {
        format!("{:.1}s", duration.as_secs_f64())
    } else {
        format!("{}m {:02}s", secs / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests;
