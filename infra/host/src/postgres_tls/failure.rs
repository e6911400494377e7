//! A failed TLS handshake with the database as a reason a person can act
//! on: tokio-postgres reports it as "error performing TLS handshake" with
//! rustls's error buried in an `io::Error` beneath.

use std::error::Error as StdError;

use rustls::CertificateError;

/// The rustls error somewhere in `e`'s causes.
fn rustls_cause<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut cause = Some(e);
    while let Some(current) = cause {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // An io::Error's `source` skips the error it wraps.
        if let Some(tls) = current
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        cause = current.source();
    }
    None
}

/// Why a connection failed in its TLS handshake; `None` if it did not.
/// Never names the connection string.
pub fn describe_connect_error(e: &tokio_postgres::Error) -> Option<String> {
    let tls = rustls_cause(e)?;
    Some(describe(tls))
}

fn describe(tls: &rustls::Error) -> String {
    match tls {
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => format!(
            "the server's certificate is not valid for the host connected to \
             (sslmode=verify-full checks the name): {tls}"
        ),
        rustls::Error::InvalidCertificate(_) => format!(
            "the server's certificate is not trusted: {tls} (give the certificate of its \
             CA as sslrootcert=PATH)"
        ),
        other => format!("TLS with the database server failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_failures_say_what_to_fix() {
        let untrusted = std::io::Error::other(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ));
        let text = describe(rustls_cause(&untrusted).unwrap());
        assert!(
            text.starts_with("the server's certificate is not trusted: "),
            "{text}"
        );
        assert!(text.contains("sslrootcert"), "{text}");

        let wrong_name = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
        assert!(describe(&wrong_name).contains("not valid for the host"));
        let other = rustls::Error::HandshakeNotComplete;
        assert!(describe(&other).starts_with("TLS with the database server failed"));
        assert!(rustls_cause(&std::io::Error::other("plain")).is_none());
    }
}
