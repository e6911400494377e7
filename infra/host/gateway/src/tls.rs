//! The `[tls]` section: the certificate both spinstack and the rendered
//! nginx.conf serve HTTPS with, the protocol versions, and whether plain HTTP
//! is answered with a redirect.

use std::path::PathBuf;

/// A TLS protocol version the policy may allow. Older ones are not offered:
/// TLS 1.0 and 1.1 are deprecated (RFC 8996).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsProtocol {
    Tls12,
    Tls13,
}

impl TlsProtocol {
    /// The spelling in gateway.toml, which is also nginx's `ssl_protocols` name.
    pub fn name(self) -> &'static str {
        match self {
            TlsProtocol::Tls12 => "TLSv1.2",
            TlsProtocol::Tls13 => "TLSv1.3",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        [TlsProtocol::Tls12, TlsProtocol::Tls13]
            .into_iter()
            .find(|protocol| protocol.name() == name)
    }
}

/// The checked `[tls]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// The PEM certificate chain spinstack serves; a relative path in the file
    /// is resolved against the policy file's directory.
    pub cert: PathBuf,
    /// Its PEM private key, resolved like `cert`.
    pub key: PathBuf,
    /// In file order, without duplicates, never empty.
    pub protocols: Vec<TlsProtocol>,
    /// Plain HTTP is answered with 301 to the same URL on https.
    pub redirect_http: bool,
    /// `ssl_certificate` in the rendered nginx.conf: `nginx_cert`, else `cert`
    /// (nginx in a container usually sees the files elsewhere).
    pub nginx_cert: String,
    /// `ssl_certificate_key`: `nginx_key`, else `key`.
    pub nginx_key: String,
    /// The port nginx serves HTTPS on (`nginx_listen`, 443 by default); the
    /// plain `[nginx] listen` port then only redirects.
    pub nginx_listen: u16,
    /// The policy file the section was read from, so that spinstack's
    /// errors about `cert` or `key` can say where they were named.
    pub origin: String,
}
