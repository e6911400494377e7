//! TLS for the listener, as `spin up --tls-cert FILE --tls-key FILE` does:
//! a PEM certificate chain and a PEM key (PKCS#8, PKCS#1 RSA or SEC1 EC),
//! rustls with the ring provider, ALPN `h2` then `http/1.1`. Every error
//! names the file at fault; no certificate or key material is ever logged.

pub mod local_ca;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Where the certificate and key come from.
#[derive(Clone, Debug)]
pub enum TlsSource {
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
    /// A `localhost` certificate from the local development CA in this
    /// state directory (generated once, reused).
    SelfSigned {
        state_dir: PathBuf,
    },
}

/// The rustls configuration for `source`, and for a self-signed setup the
/// CA's path (to tell the user what to trust).
pub fn server_config(source: &TlsSource) -> anyhow::Result<(Arc<ServerConfig>, Option<PathBuf>)> {
    let (cert, key, ca) = match source {
        TlsSource::Files { cert, key } => (cert.clone(), key.clone(), None),
        TlsSource::SelfSigned { state_dir } => {
            let issued = local_ca::ensure(&state_dir.join("tls"))?;
            (issued.cert, issued.key, Some(issued.ca))
        }
    };
    let chain = read_chain(&cert)?;
    let key_der = read_key(&key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| anyhow::anyhow!("TLS protocol versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| {
            anyhow::anyhow!(
                "TLS certificate {} and key {} do not form a usable pair: {e}",
                cert.display(),
                key.display()
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((Arc::new(config), ca))
}

fn read_chain(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    std::fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("TLS certificate {}: {e}", path.display()))?;
    let chain = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            anyhow::anyhow!(
                "TLS certificate {}: not a PEM certificate chain ({e})",
                path.display()
            )
        })?;
    anyhow::ensure!(
        !chain.is_empty(),
        "TLS certificate {}: no PEM certificate in the file",
        path.display()
    );
    Ok(chain)
}

fn read_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    std::fs::metadata(path).map_err(|e| anyhow::anyhow!("TLS key {}: {e}", path.display()))?;
    // Any of PKCS#8, PKCS#1 (RSA) and SEC1 (EC), as Spin accepts.
    PrivateKeyDer::from_pem_file(path).map_err(|e| {
        anyhow::anyhow!(
            "TLS key {}: not a PEM private key (PKCS#8, RSA or EC) ({e})",
            path.display()
        )
    })
}
