//! TLS for the host's own Postgres connections (the `spin:postgres`
//! capability and `spinstack migrate`), libpq-style, from the connection
//! string's `sslmode` and `sslrootcert`:
//!
//! | `sslmode` | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | never | |
//! | `prefer` (default) | when the server offers it | not verified |
//! | `require` | required | verified against `sslrootcert` if given (no host name check), else not |
//! | `verify-ca` | required | chains to `sslrootcert`, else the system's roots |
//! | `verify-full` | required | as `verify-ca`, and names the host connected to |
//!
//! As with libpq, `prefer` and `require` without a root certificate encrypt
//! but do not authenticate the server: they protect against eavesdropping,
//! not against someone in the middle. `prefer` ignores `sslrootcert` (it
//! would fall back to cleartext anyway). rustls with the ring provider.
//!
//! - `options`: taking what tokio-postgres 0.7 cannot parse out of the string
//! - `roots`: the `sslrootcert` file or the system's store
//! - `verifiers`: the checks rustls's verifier does not make
//! - `failure`: TLS failures as a reason a person can act on

mod failure;
mod options;
mod roots;
mod verifiers;

use std::sync::Arc;

use rustls::ClientConfig;
pub use tokio_postgres_rustls::MakeRustlsConnect;

pub use failure::describe_connect_error;
use roots::Roots;

/// What is checked of the server's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verify {
    Nothing,
    /// The chain, not the names in it.
    Chain(Roots),
    /// The chain and the host name.
    Full(Roots),
}

/// The certificate checking a connection string asks for; its TLS on/off
/// (`sslmode`) is in the string handed to tokio-postgres.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    verify: Verify,
}

/// A connection string ready for tokio-postgres, and its TLS settings.
#[derive(Debug)]
pub struct Prepared {
    pub conn_str: String,
    pub tls: TlsSettings,
}

/// Splits the TLS options out of `conn_str` (URL or key/value form).
pub fn prepare(conn_str: &str) -> Prepared {
    let (conn_str, found) = options::split(conn_str);
    let given = found.sslrootcert.as_deref().map(|root| match root {
        // libpq 16's spelling for the system's store.
        "system" => Roots::System,
        path => Roots::File(path.into()),
    });
    let verify = match found.sslmode.as_deref() {
        Some("require") => given.map_or(Verify::Nothing, Verify::Chain),
        Some("verify-ca") => Verify::Chain(given.unwrap_or(Roots::System)),
        Some("verify-full") => Verify::Full(given.unwrap_or(Roots::System)),
        // disable, prefer, and values tokio-postgres will refuse.
        _ => Verify::Nothing,
    };
    Prepared {
        conn_str,
        tls: TlsSettings { verify },
    }
}

impl TlsSettings {
    /// The connector for tokio-postgres (also for cancelling a statement,
    /// which opens a connection of its own). Fails if the roots cannot be
    /// read.
    pub fn connector(&self) -> Result<MakeRustlsConnect, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let algorithms = provider.signature_verification_algorithms;
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?;
        let without_name = |roots| {
            Arc::new(verifiers::WithoutHostName { roots, algorithms })
                as Arc<dyn rustls::client::danger::ServerCertVerifier>
        };
        let config = match &self.verify {
            Verify::Nothing => builder
                .dangerous()
                .with_custom_certificate_verifier(without_name(None)),
            Verify::Chain(roots) => builder
                .dangerous()
                .with_custom_certificate_verifier(without_name(Some(roots.load()?))),
            Verify::Full(roots) => builder.with_root_certificates(roots.load()?),
        };
        Ok(MakeRustlsConnect::new(config.with_no_client_auth()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verify(conn_str: &str) -> Verify {
        prepare(conn_str).tls.verify
    }

    #[test]
    fn modes_choose_what_is_verified() {
        let file = |p: &str| Roots::File(p.into());
        assert_eq!(verify("postgres://db/app"), Verify::Nothing);
        assert_eq!(
            verify("postgres://db/app?sslmode=prefer&sslrootcert=/ca"),
            Verify::Nothing
        );
        assert_eq!(verify("host=db sslmode=require"), Verify::Nothing);
        assert_eq!(
            verify("host=db sslmode=require sslrootcert=/ca"),
            Verify::Chain(file("/ca"))
        );
        assert_eq!(
            verify("postgres://db/app?sslmode=verify-ca"),
            Verify::Chain(Roots::System)
        );
        assert_eq!(
            verify("postgres://db/app?sslmode=verify-full&sslrootcert=/ca"),
            Verify::Full(file("/ca"))
        );
        assert_eq!(
            verify("host=db sslmode=verify-full sslrootcert=system"),
            Verify::Full(Roots::System)
        );
        let prepared = prepare("postgres://db/app?sslmode=verify-full&sslrootcert=/ca");
        assert_eq!(prepared.conn_str, "postgres://db/app?sslmode=require");
    }

    #[test]
    fn a_missing_root_file_fails_the_connector_not_prepare() {
        let tls = prepare("host=db sslmode=verify-ca sslrootcert=/nonexistent/ca.pem").tls;
        let error = tls.connector().err().expect("no connector without roots");
        assert!(error.contains("/nonexistent/ca.pem"), "{error}");
        assert!(prepare("host=db").tls.connector().is_ok());
    }
}
