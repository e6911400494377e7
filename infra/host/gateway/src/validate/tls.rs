//! Checking the `[tls]` section.

use std::path::PathBuf;

use toml::Spanned;

use super::{Checked, Checker, check_nginx_path};
use crate::config::NginxConfig;
use crate::raw::RawTls;
use crate::tls::{TlsConfig, TlsProtocol};

/// Without `protocols`: both versions worth offering.
const DEFAULT_PROTOCOLS: [TlsProtocol; 2] = [TlsProtocol::Tls12, TlsProtocol::Tls13];

const DEFAULT_NGINX_LISTEN: u16 = 443;

impl Checker<'_, '_> {
    pub(super) fn tls(&self, raw: RawTls, nginx: &NginxConfig) -> Checked<TlsConfig> {
        let cert = self.tls_file(&raw.cert)?;
        let key = self.tls_file(&raw.key)?;
        let nginx_cert = self.nginx_tls_file(raw.nginx_cert.as_ref(), &raw.cert, &cert)?;
        let nginx_key = self.nginx_tls_file(raw.nginx_key.as_ref(), &raw.key, &key)?;
        let nginx_listen = match &raw.nginx_listen {
            None => DEFAULT_NGINX_LISTEN,
            Some(port) => self.port(port)?,
        };
        if nginx_listen == nginx.listen {
            let message = format!(
                "nginx serves HTTPS on port {nginx_listen}, which is also [nginx] listen: \
                 set nginx_listen (443 by default) to another port"
            );
            return match &raw.nginx_listen {
                Some(port) => self.error(port.span(), message),
                None => self.error(raw.cert.span(), message),
            };
        }
        Ok(TlsConfig {
            cert,
            key,
            protocols: self.protocols(raw.protocols.as_ref())?,
            redirect_http: raw.redirect_http,
            nginx_cert,
            nginx_key,
            nginx_listen,
            origin: self.source.origin.to_owned(),
        })
    }

    /// A file spinstack reads, resolved against the policy's directory.
    fn tls_file(&self, path: &Spanned<String>) -> Checked<PathBuf> {
        let text = path.get_ref();
        if text.is_empty() || text.contains('\0') {
            return self.error(
                path.span(),
                format!("invalid path {text:?}: a file name is needed"),
            );
        }
        Ok(match self.base_dir {
            Some(dir) => dir.join(text),
            None => PathBuf::from(text),
        })
    }

    /// The path nginx.conf names: the `nginx_*` override, else spinstack's,
    /// which must then be one nginx.conf can hold.
    fn nginx_tls_file(
        &self,
        explicit: Option<&Spanned<String>>,
        own: &Spanned<String>,
        resolved: &std::path::Path,
    ) -> Checked<String> {
        if let Some(explicit) = explicit {
            return self.path(explicit);
        }
        let text = resolved.to_string_lossy();
        match check_nginx_path(&text) {
            Ok(()) => Ok(text.into_owned()),
            Err(message) => self.error(
                own.span(),
                format!(
                    "{message}; the rendered nginx.conf needs such a path: set nginx_cert / nginx_key"
                ),
            ),
        }
    }

    fn protocols(&self, raw: Option<&Spanned<Vec<Spanned<String>>>>) -> Checked<Vec<TlsProtocol>> {
        let Some(raw) = raw else {
            return Ok(DEFAULT_PROTOCOLS.to_vec());
        };
        let protocols = self.distinct(
            raw.get_ref(),
            TlsProtocol::from_name,
            "TLS protocol",
            "\"TLSv1.2\" or \"TLSv1.3\"",
        )?;
        if protocols.is_empty() {
            return self.error(raw.span(), "protocols lists no TLS protocol");
        }
        Ok(protocols)
    }
}

#[cfg(test)]
mod tests;
