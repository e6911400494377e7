//! `open(address)`: the connection string must name only hosts (and
//! `hostaddr` IPs) that the component's `allowed_outbound_hosts` allows as
//! `postgres://host:port`, with Spin's error when one is not. The TLS
//! options tokio-postgres cannot parse (`sslrootcert`, `sslmode=verify-*`)
//! are taken out first (`postgres_tls`), so they change nothing here.

use tokio_postgres::Config;
use tokio_postgres::config::Host;

use super::generated::spin::postgres4_0_0::postgres::Error;
use crate::outbound_policy::OutboundPolicy;
use crate::postgres_tls::{self, TlsSettings};

const DEFAULT_PORT: u16 = 5432;

/// The port for the `index`th host: its own, or the only one given.
fn port_for(ports: &[u16], index: usize) -> Option<u16> {
    ports
        .get(index)
        .or(if ports.len() == 1 {
            ports.first()
        } else {
            None
        })
        .copied()
}

fn denied(host: &str, port: Option<u16>) -> Error {
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    Error::ConnectionFailed(format!("address postgres://{host}{port} is not permitted"))
}

/// Parses `address` (URL or key=value form) and checks every destination.
pub fn check(address: &str, policy: &OutboundPolicy) -> Result<(Config, TlsSettings), Error> {
    let prepared = postgres_tls::prepare(address);
    let config: Config = prepared
        .conn_str
        .parse()
        .map_err(|e: tokio_postgres::Error| {
            // The causes name an option or a position, never a value.
            let cause = std::error::Error::source(&e)
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            Error::ConnectionFailed(format!("invalid connection string{cause}"))
        })?;
    let ports = config.get_ports();
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        return Err(Error::ConnectionFailed(
            "the connection string names no host".into(),
        ));
    }
    for (index, host) in config.get_hosts().iter().enumerate() {
        match host {
            Host::Tcp(name) => {
                let port = port_for(ports, index);
                if !policy.allows("postgres", name, Some(port.unwrap_or(DEFAULT_PORT))) {
                    return Err(denied(name, port));
                }
            }
            #[cfg(unix)]
            Host::Unix(_) => {
                return Err(Error::ConnectionFailed(
                    "Unix sockets are not supported on WebAssembly".into(),
                ));
            }
        }
    }
    // `hostaddr` is where tokio-postgres actually connects when it is given
    // (Spin checks only `host`).
    for (index, ip) in config.get_hostaddrs().iter().enumerate() {
        let port = port_for(ports, index);
        let ip = ip.to_string();
        if !policy.allows("postgres", &ip, Some(port.unwrap_or(DEFAULT_PORT))) {
            return Err(denied(&ip, port));
        }
    }
    Ok((config, prepared.tls))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        OutboundPolicy::new(spinstack_manifest::AllowedOutboundHosts::parse(entries).unwrap())
    }

    fn message(e: Error) -> String {
        match e {
            Error::ConnectionFailed(m) => m,
            other => panic!("not connection-failed: {other:?}"),
        }
    }

    #[test]
    fn allowed_hosts_and_ports() {
        let p = policy(&["postgres://db.internal", "postgres://127.0.0.1:6543"]);
        assert!(check("postgres://u:p@db.internal/app", &p).is_ok());
        assert!(check("host=db.internal user=u dbname=app", &p).is_ok());
        assert!(check("postgres://127.0.0.1:6543/app", &p).is_ok());
        assert_eq!(
            message(check("postgres://127.0.0.1/app", &p).unwrap_err()),
            "address postgres://127.0.0.1:5432 is not permitted"
        );
        assert_eq!(
            message(check("postgres://u:secret@evil.example:5432/app", &p).unwrap_err()),
            "address postgres://evil.example:5432 is not permitted"
        );
        // Every host of a multi-host string must be allowed.
        assert!(check("host=db.internal,evil.example user=u", &p).is_err());
        // hostaddr is where the connection really goes.
        assert!(check("host=db.internal hostaddr=10.1.2.3 user=u", &p).is_err());
        assert!(check("host=db.internal hostaddr=127.0.0.1 port=6543 user=u", &p).is_err());
    }

    #[test]
    fn tls_options_do_not_change_what_is_allowed() {
        let p = policy(&["postgres://db.internal"]);
        let (config, _) = check(
            "postgres://db.internal/app?sslmode=verify-full&sslrootcert=/ca.pem",
            &p,
        )
        .unwrap();
        assert_eq!(
            config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
        assert!(
            check(
                "host=db.internal sslmode=verify-ca sslrootcert=/ca.pem user=u",
                &p
            )
            .is_ok()
        );
        assert_eq!(
            message(
                check(
                    "postgres://u:secret@evil.example/app?sslmode=verify-full",
                    &p
                )
                .unwrap_err()
            ),
            "address postgres://evil.example:5432 is not permitted"
        );
        assert!(
            check(
                "host=evil.example sslrootcert=/ca.pem sslmode=verify-ca",
                &p
            )
            .is_err()
        );
        // Other unknown options are refused as before.
        let e = message(check("host=db.internal sslcert=/c.pem", &p).unwrap_err());
        assert!(e.starts_with("invalid connection string"), "{e}");
    }

    #[test]
    fn unusable_strings() {
        let p = policy(&["postgres://*:*"]);
        assert!(check("host=/var/run/postgresql user=u", &p).is_err());
        let e = message(check("host=db user=u password=hunter2 bogus=1", &p).unwrap_err());
        assert!(e.starts_with("invalid connection string"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let e = message(check("postgres://u:hunter2@db:notaport/x", &p).unwrap_err());
        assert!(!e.contains("hunter2"), "{e}");
        assert!(check("user=u dbname=x", &p).is_err());
    }
}
