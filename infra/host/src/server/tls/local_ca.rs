//! `spinstack up --tls-self-signed`: a local development CA kept in the
//! state directory, created once, and a `localhost` / `127.0.0.1` / `::1`
//! certificate it signs. Trust `ca.pem` once (curl `--cacert`, the browser's
//! authorities) and every restart reuses the same CA.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

const CA_NAME: &str = "Spinstack local development CA";

pub struct Issued {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The CA and the leaf in `dir`, made when missing.
pub fn ensure(dir: &Path) -> anyhow::Result<Issued> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
    let issued = Issued {
        ca: dir.join("ca.pem"),
        cert: dir.join("localhost.pem"),
        key: dir.join("localhost-key.pem"),
    };
    let ca_key_path = dir.join("ca-key.pem");
    let ca_key = if ca_key_path.exists() && issued.ca.exists() {
        let pem = std::fs::read_to_string(&ca_key_path)?;
        KeyPair::from_pem(&pem).map_err(|e| anyhow::anyhow!("{}: {e}", ca_key_path.display()))?
    } else {
        let key = KeyPair::generate()?;
        let ca = ca_params().self_signed(&key)?;
        write_private(&ca_key_path, &key.serialize_pem())?;
        std::fs::write(&issued.ca, ca.pem())?;
        // A new CA invalidates any leaf the old one signed.
        let _ = std::fs::remove_file(&issued.cert);
        key
    };
    if !(issued.cert.exists() && issued.key.exists()) {
        // The issuer needs only the CA's name, key usages and key: the same
        // parameters that made ca.pem, so no certificate parsing is needed.
        let issuer = Issuer::new(ca_params(), ca_key);
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ])?;
        params.distinguished_name = name("localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &issuer)?;
        std::fs::write(&issued.cert, cert.pem())?;
        write_private(&issued.key, &key.serialize_pem())?;
    }
    Ok(issued)
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(CA_NAME);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name.push(DnType::OrganizationName, "Spinstack");
    name
}

/// Keys are readable by their owner only.
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_made_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = ensure(dir.path()).unwrap();
        let ca = std::fs::read_to_string(&first.ca).unwrap();
        std::fs::remove_file(&first.cert).unwrap();
        let second = ensure(dir.path()).unwrap();
        assert_eq!(std::fs::read_to_string(&second.ca).unwrap(), ca);
        assert!(second.cert.exists() && second.key.exists());
        let mode = std::fs::metadata(&second.key).unwrap().permissions();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.mode() & 0o777, 0o600);
    }
}
