//! The access-token signing key (`jwt_secret`) when the operator set none:
//! 64 random characters (~380 bits), generated once and kept in the state
//! directory (0600), so tokens survive a restart of the host.

use std::path::Path;

use super::secrets;

const LEN: usize = 64;

/// The key stored at `path`, generated first if there is none.
pub fn load_or_generate(path: &Path) -> anyhow::Result<String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let key = text.trim();
        if key.len() >= LEN {
            return Ok(key.to_owned());
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let key = secrets::random_token(LEN, secrets::ALPHANUMERIC);
    secrets::write_private(path, &format!("{key}\n"))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_key_is_generated_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt_secret");
        let first = load_or_generate(&path).unwrap();
        assert_eq!(first.len(), LEN);
        assert_eq!(load_or_generate(&path).unwrap(), first);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
