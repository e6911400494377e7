//! The servers of a policy with `[tls]`: HTTPS with every location of the
//! plain server, and, with `redirect_http`, a plain one that only redirects.

use super::{Conf, server_body};
use crate::config::GatewayConfig;
use crate::tls::{TlsConfig, TlsProtocol};

/// TLS 1.2 suites: forward secrecy (ECDHE) and AEAD (AES-GCM, ChaCha20-Poly1305)
/// only, ECDSA first. TLS 1.3 suites are not set: nginx's defaults are all
/// modern, and `ssl_ciphers` does not apply to them.
const TLS12_CIPHERS: &[&str] = &[
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
];

pub(super) fn servers(out: &mut Conf, config: &GatewayConfig, tls: &TlsConfig) {
    let nginx = config.nginx();
    if tls.redirect_http {
        out.blank();
        out.open("server");
        out.line(&format!("listen {};", nginx.listen));
        out.line(&format!("server_name {};", nginx.server_name));
        // `$host` has no port: name the HTTPS one unless it is the default,
        // as spinstack's --redirect-http does.
        let port = match tls.nginx_listen {
            443 => String::new(),
            port => format!(":{port}"),
        };
        out.line(&format!("return 301 https://$host{port}$request_uri;"));
        out.close();
    }
    out.blank();
    out.open("server");
    // `http2 on;` needs nginx 1.25.1; Debian 12's nginx (1.22, the one CI
    // checks with) knows only the listen parameter, which later ones still accept.
    out.line(&format!("listen {} ssl http2;", tls.nginx_listen));
    out.line(&format!("server_name {};", nginx.server_name));
    out.line(&format!("ssl_certificate {};", tls.nginx_cert));
    out.line(&format!("ssl_certificate_key {};", tls.nginx_key));
    let protocols: Vec<&str> = tls.protocols.iter().map(|p| p.name()).collect();
    out.line(&format!("ssl_protocols {};", protocols.join(" ")));
    if tls.protocols.contains(&TlsProtocol::Tls12) {
        out.line(&format!("ssl_ciphers {};", TLS12_CIPHERS.join(":")));
    }
    // Every suite offered is strong: let the client pick the one fastest on
    // its hardware (ChaCha20 without AES instructions).
    out.line("ssl_prefer_server_ciphers off;");
    out.line("ssl_session_cache shared:SSL:10m;");
    out.line("ssl_session_timeout 1d;");
    // Ticket keys never rotate in a plain nginx: they would undo forward secrecy.
    out.line("ssl_session_tickets off;");
    server_body(out, config, true);
    out.close();
}

#[cfg(test)]
mod tests;
