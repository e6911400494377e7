//! What the renderers' tests share: repository files and variants of the
//! committed policy.

use std::path::{Path, PathBuf};

use crate::GatewayConfig;

/// A file of the repository, by its path from the root.
pub(crate) fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../..")
        .join(relative)
}

/// The committed gateway.toml with each `(from, to)` replaced once (each `from` must be there).
pub(crate) fn with(replacements: &[(&str, &str)]) -> GatewayConfig {
    let mut text = GatewayConfig::default_toml().to_owned();
    for (from, to) in replacements {
        assert!(text.contains(from), "{from:?} not in gateway.toml");
        text = text.replacen(from, to, 1);
    }
    GatewayConfig::from_str(&text).unwrap()
}
