//! `spinstack build` on manifests whose build commands are shell one-liners.

use std::time::Duration;

use super::*;

/// A manifest of components `a`, `b`, `c` (built in that order) with these
/// build commands, and what building it printed.
fn build(commands: [&str; 3]) -> (anyhow::Result<()>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut manifest =
        String::from("spin_manifest_version = 2\n[application]\nname = \"build-test\"\n\n");
    for (id, command) in ["a", "b", "c"].iter().zip(commands) {
        manifest.push_str(&format!(
            "[[trigger.http]]\nroute = \"/{id}\"\ncomponent = \"{id}\"\n\
             [component.{id}]\nsource = \"{id}.wasm\"\n\
             [component.{id}.build]\ncommand = {command:?}\n\n"
        ));
    }
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, manifest).unwrap();
    let mut out = Vec::new();
    let result = build_reporting(&path, &mut out);
    (result, String::from_utf8(out).unwrap())
}

#[test]
fn progress_names_each_component_and_its_place() {
    let (result, out) = build(["true", "echo built > marker", "true"]);
    result.unwrap();
    for line in [
        "Building component a (1 of 3)\n",
        "  running `true`\n",
        "Building component b (2 of 3)\n",
        "Building component c (3 of 3)\n",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    assert!(out.contains("Built component b (2 of 3) in "), "{out}");
    assert!(out.contains("Built 3 components in "), "{out}");
}

#[test]
fn a_failed_build_names_the_component_and_stops() {
    let (result, out) = build(["true", "exit 3", "true"]);
    let message = result.unwrap_err().to_string();
    assert!(
        message.starts_with("the build of component b (2 of 3) failed (exit status: 3) after "),
        "{message}"
    );
    assert!(
        !out.contains("component c"),
        "c was not built after b failed:\n{out}"
    );
}

#[test]
fn elapsed_times_read_as_seconds_then_minutes() {
    assert_eq!(elapsed(Duration::from_millis(4_230)), "4.2s");
    assert_eq!(elapsed(Duration::from_millis(59_900)), "59.9s");
    assert_eq!(elapsed(Duration::from_secs(187)), "3m 07s");
}

#[test]
fn only_wasm_builds_need_the_target() {
    let commands = |c: &str| vec![c.to_string()];
    assert!(wasm_target::is_needed_by(&commands(
        "cargo build --target wasm32-wasip2 --profile wasm -p health"
    )));
    assert!(!wasm_target::is_needed_by(&commands("npm run build")));
}
