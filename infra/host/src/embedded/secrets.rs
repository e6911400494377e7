//! Generated credentials and small files in the state directory.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;

/// `len` random characters from `alphabet` (at most 256 long), drawn from
/// the OS's random source through v4 UUIDs, without modulo bias.
pub fn random_token(len: usize, alphabet: &[u8]) -> String {
    assert!(!alphabet.is_empty() && alphabet.len() <= 256);
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let bytes = uuid::Uuid::new_v4().into_bytes();
        // Bytes 6 and 8 carry the version and variant bits; the rest are random.
        for (i, byte) in bytes.into_iter().enumerate() {
            if i != 6 && i != 8 && (byte as usize) < limit && out.len() < len {
                out.push(alphabet[byte as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

pub const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const UPPER_ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Writes `contents` to `path` readable by its owner only (0600), replacing
/// it atomically.
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The remembered port in `path` if it is free on 127.0.0.1, else a free
/// one (then remembered), so a restarted host keeps its address when it can.
pub fn loopback_port(path: &Path) -> anyhow::Result<u16> {
    let remembered = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.trim().parse::<u16>().ok())
        .filter(|port| *port != 0);
    if let Some(port) = remembered
        && TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).is_ok()
    {
        return Ok(port);
    }
    let port = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?
        .local_addr()?
        .port();
    std::fs::write(path, format!("{port}\n"))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_length_and_alphabet_asked() {
        let a = random_token(40, ALPHANUMERIC);
        let b = random_token(40, ALPHANUMERIC);
        assert_eq!(a.len(), 40);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| ALPHANUMERIC.contains(&c)));
        let k = random_token(16, UPPER_ALPHANUMERIC);
        assert!(k.bytes().all(|c| UPPER_ALPHANUMERIC.contains(&c)));
    }

    #[test]
    fn private_files_are_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        write_private(&path, "x").unwrap();
        write_private(&path, "y").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "y");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
