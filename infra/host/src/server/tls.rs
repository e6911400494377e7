//! TLS for the listener, as `spin up --tls-cert FILE --tls-key FILE` does:
//! a PEM certificate chain and a PEM key (PKCS#8, PKCS#1 RSA or SEC1 EC),
//! rustls with the ring provider, ALPN `h2` then `http/1.1`, the protocol
//! versions the gateway policy allows. Every error names the file at fault
//! (and the policy that named it); no certificate or key material is ever
//! logged.

pub mod local_ca;
pub mod settings;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use spinstack_gateway::TlsProtocol;

pub use settings::{TlsFlags, TlsSettings};

/// Where the certificate and key come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsSource {
    Files {
        cert: PathBuf,
        key: PathBuf,
        /// The policy file whose `[tls]` named them; `None` for the flags.
        named_in: Option<String>,
    },
    /// A `localhost` certificate from the local development CA in this
    /// state directory (generated once, reused).
    SelfSigned { state_dir: PathBuf },
}

/// The rustls configuration for `settings`, and for a self-signed setup the
/// CA's path (to tell the user what to trust).
pub fn server_config(
    settings: &TlsSettings,
) -> anyhow::Result<(Arc<ServerConfig>, Option<PathBuf>)> {
    let (cert, key, named_in, ca) = match &settings.source {
        TlsSource::Files {
            cert,
            key,
            named_in,
        } => (cert.clone(), key.clone(), named_in.as_deref(), None),
        TlsSource::SelfSigned { state_dir } => {
            let issued = local_ca::ensure(&state_dir.join("tls"))?;
            (issued.cert, issued.key, None, Some(issued.ca))
        }
    };
    let cert_name = file_name("TLS certificate", &cert, named_in);
    let key_name = file_name("TLS key", &key, named_in);
    let chain = read_chain(&cert, &cert_name)?;
    let key_der = read_key(&key, &key_name)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions(&settings.protocols))
        .map_err(|e| anyhow::anyhow!("TLS protocol versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| {
            anyhow::anyhow!("{cert_name} and {key_name} do not form a usable pair: {e}")
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((Arc::new(config), ca))
}

/// rustls's versions for the policy's `protocols` (TLS 1.3 first, as
/// rustls prefers it whatever the order).
fn versions(protocols: &[TlsProtocol]) -> Vec<&'static rustls::SupportedProtocolVersion> {
    let mut versions = Vec::new();
    if protocols.contains(&TlsProtocol::Tls13) {
        versions.push(&rustls::version::TLS13);
    }
    if protocols.contains(&TlsProtocol::Tls12) {
        versions.push(&rustls::version::TLS12);
    }
    versions
}

/// "TLS certificate /p", and where it was named when a policy named it.
fn file_name(what: &str, path: &Path, named_in: Option<&str>) -> String {
    match named_in {
        Some(policy) => format!("{what} {} (from [tls] in {policy})", path.display()),
        None => format!("{what} {}", path.display()),
    }
}

fn read_chain(path: &Path, name: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    std::fs::metadata(path).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let chain = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("{name}: not a PEM certificate chain ({e})"))?;
    anyhow::ensure!(!chain.is_empty(), "{name}: no PEM certificate in the file");
    Ok(chain)
}

fn read_key(path: &Path, name: &str) -> anyhow::Result<PrivateKeyDer<'static>> {
    std::fs::metadata(path).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    // Any of PKCS#8, PKCS#1 (RSA) and SEC1 (EC), as Spin accepts.
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| anyhow::anyhow!("{name}: not a PEM private key (PKCS#8, RSA or EC) ({e})"))
}
