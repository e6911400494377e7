//! The certificates a verifying `sslmode` trusts: the file `sslrootcert`
//! names (PEM, one or more), or the system's store (`/etc/ssl/certs` on
//! Debian; `SSL_CERT_FILE` / `SSL_CERT_DIR` override), read once per
//! process because it is large and does not change under us.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    /// The system's trusted CAs.
    System,
    /// The certificates in this PEM file.
    File(PathBuf),
}

impl Roots {
    pub fn load(&self) -> Result<Arc<RootCertStore>, String> {
        match self {
            Roots::System => system(),
            Roots::File(path) => from_file(path),
        }
    }
}

fn system() -> Result<Arc<RootCertStore>, String> {
    static SYSTEM: OnceLock<Result<Arc<RootCertStore>, String>> = OnceLock::new();
    SYSTEM
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut store = RootCertStore::empty();
            let (added, _unusable) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found
                    .errors
                    .first()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default();
                return Err(format!(
                    "no system root certificates to verify the server with{why} \
                     (install ca-certificates, or give sslrootcert=PATH)"
                ));
            }
            Ok(Arc::new(store))
        })
        .clone()
}

fn from_file(path: &Path) -> Result<Arc<RootCertStore>, String> {
    let shown = path.display();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read sslrootcert {shown}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("sslrootcert {shown} is not valid PEM: {e}"))?;
    let mut store = RootCertStore::empty();
    for cert in certs {
        store
            .add(cert)
            .map_err(|e| format!("sslrootcert {shown} holds an unusable certificate: {e}"))?;
    }
    if store.is_empty() {
        return Err(format!("sslrootcert {shown} holds no PEM certificate"));
    }
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_file_must_exist_and_hold_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Roots::File(dir.path().join("nope.pem")).load().unwrap_err();
        assert!(missing.starts_with("cannot read sslrootcert"), "{missing}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let none = Roots::File(empty).load().unwrap_err();
        assert!(none.contains("holds no PEM certificate"), "{none}");

        let cert = rcgen::generate_simple_self_signed(vec!["db.test".to_owned()]).unwrap();
        let good = dir.path().join("ca.pem");
        std::fs::write(&good, cert.cert.pem()).unwrap();
        assert_eq!(Roots::File(good).load().unwrap().len(), 1);
    }
}
