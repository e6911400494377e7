//! The `wasm32-wasip2` standard library the components are built with.
//!
//! `rust-toolchain.toml` lists the target, and rustup installs it with a
//! missing toolchain, or on first use when auto-install is on; but a
//! toolchain already installed with auto-install off (`RUSTUP_AUTO_INSTALL=0`)
//! or a Rust without rustup gets no target, and cargo then fails one
//! component at a time with "can't find crate for `core`". So the build
//! checks first, and adds it when rustup is there.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

pub const TARGET: &str = "wasm32-wasip2";

/// Whether any of a component's build commands compiles for the target.
pub fn is_needed_by(commands: &[String]) -> bool {
    commands.iter().any(|command| command.contains(TARGET))
}

/// Makes sure the toolchain selected in `workdir` (where the build commands
/// run, so its `rust-toolchain.toml` applies) has the target.
pub fn ensure_installed(workdir: &Path, out: &mut impl Write) -> anyhow::Result<()> {
    if is_installed(workdir) {
        return Ok(());
    }
    writeln!(
        out,
        "The Rust target {TARGET} is not installed: running `rustup target add {TARGET}` (once)"
    )?;
    out.flush()?;
    let added = Command::new("rustup")
        .args(["target", "add", TARGET])
        .current_dir(workdir)
        .status()
        .is_ok_and(|status| status.success());
    anyhow::ensure!(
        added && is_installed(workdir),
        "the Rust target {TARGET} is not installed and could not be added: run `rustup target add {TARGET}`"
    );
    Ok(())
}

/// `rustc --print target-libdir` names the directory whether or not it
/// exists; the target is installed when it does.
fn is_installed(workdir: &Path) -> bool {
    let Ok(output) = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", TARGET])
        .current_dir(workdir)
        .stderr(Stdio::null())
        .output()
    else {
        return false;
    };
    let libdir = String::from_utf8_lossy(&output.stdout);
    output.status.success() && Path::new(libdir.trim()).is_dir()
}
