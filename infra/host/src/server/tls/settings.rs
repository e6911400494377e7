//! What `spinstack up` serves TLS with: the command line (`--tls-cert` /
//! `--tls-key` or `SPIN_TLS_CERT` / `SPIN_TLS_KEY`, `--tls-self-signed`,
//! `--redirect-http`) over the gateway policy's `[tls]` section, so that one
//! gateway.toml describes both spinstack and the rendered nginx.conf, and a
//! deployment can still swap the certificate without editing the policy.

use std::net::SocketAddr;
use std::path::PathBuf;

use spinstack_gateway::{TlsConfig, TlsProtocol};

use super::TlsSource;

/// The TLS flags of `spinstack up`.
#[derive(Clone, Debug, Default)]
pub struct TlsFlags {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub self_signed: bool,
    pub redirect_http: Option<SocketAddr>,
}

/// The certificate and the protocol versions of the main listener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    pub source: TlsSource,
    pub protocols: Vec<TlsProtocol>,
}

/// The cleartext listener that answers with redirects to https.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectListener {
    pub address: SocketAddr,
    /// The policy whose `redirect_http = true` asked for it; `None` for the flag.
    pub named_in: Option<String>,
}

/// Everything TLS about one `spinstack up`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsPlan {
    pub tls: Option<TlsSettings>,
    pub redirect_http: Option<RedirectListener>,
}

/// A policy's `redirect_http = true` without `--redirect-http` listens on
/// this port of the main listener's address: plain HTTP's port, which
/// browsers try first and nginx's redirect server uses too.
pub const DEFAULT_REDIRECT_PORT: u16 = 80;

/// Both versions worth offering, when no policy narrows them.
const ALL_PROTOCOLS: [TlsProtocol; 2] = [TlsProtocol::Tls12, TlsProtocol::Tls13];

/// Combines the flags with the policy's `[tls]` (if any): the flags name
/// the certificate (or ask for a self-signed one, in `state_dir()`) and the
/// redirect address over the policy; the protocols are the policy's.
pub fn plan(
    flags: &TlsFlags,
    policy: Option<&TlsConfig>,
    listen: SocketAddr,
    state_dir: impl FnOnce() -> anyhow::Result<PathBuf>,
) -> anyhow::Result<TlsPlan> {
    let source = match (&flags.cert, &flags.key, flags.self_signed) {
        (Some(cert), Some(key), false) => Some(TlsSource::Files {
            cert: cert.clone(),
            key: key.clone(),
            named_in: None,
        }),
        (None, None, true) => Some(TlsSource::SelfSigned {
            state_dir: state_dir()?,
        }),
        (None, None, false) => policy.map(|tls| TlsSource::Files {
            cert: tls.cert.clone(),
            key: tls.key.clone(),
            named_in: Some(tls.origin.clone()),
        }),
        (_, _, true) => {
            anyhow::bail!("--tls-self-signed and --tls-cert / --tls-key exclude each other")
        }
        _ => anyhow::bail!("--tls-cert and --tls-key go together"),
    };
    let tls = source.map(|source| TlsSettings {
        source,
        protocols: policy.map_or(ALL_PROTOCOLS.to_vec(), |tls| tls.protocols.clone()),
    });
    let redirect_http = match (flags.redirect_http, policy) {
        (Some(address), _) => Some(RedirectListener {
            address,
            named_in: None,
        }),
        (None, Some(policy)) if policy.redirect_http => Some(RedirectListener {
            address: SocketAddr::new(listen.ip(), DEFAULT_REDIRECT_PORT),
            named_in: Some(policy.origin.clone()),
        }),
        (None, _) => None,
    };
    anyhow::ensure!(
        redirect_http.is_none() || tls.is_some(),
        "--redirect-http needs TLS (--tls-cert and --tls-key, --tls-self-signed, or [tls] in the gateway policy)"
    );
    Ok(TlsPlan { tls, redirect_http })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTEN: &str = "0.0.0.0:3000";

    fn policy(extra: &str) -> TlsConfig {
        let text = format!(
            "{}\n[tls]\ncert = \"/p/cert.pem\"\nkey = \"/p/key.pem\"\n{extra}",
            spinstack_gateway::GatewayConfig::default_toml()
        );
        spinstack_gateway::GatewayConfig::parse(&text, "/p/gateway.toml")
            .unwrap()
            .tls()
            .unwrap()
            .clone()
    }

    fn planned(flags: &TlsFlags, policy: Option<&TlsConfig>) -> anyhow::Result<TlsPlan> {
        plan(flags, policy, LISTEN.parse().unwrap(), || {
            Ok(PathBuf::from("/state"))
        })
    }

    fn files(cert: &str, key: &str, named_in: Option<&str>) -> TlsSource {
        TlsSource::Files {
            cert: cert.into(),
            key: key.into(),
            named_in: named_in.map(str::to_owned),
        }
    }

    #[test]
    fn without_flags_or_policy_there_is_no_tls() {
        let plan = planned(&TlsFlags::default(), None).unwrap();
        assert_eq!(
            plan,
            TlsPlan {
                tls: None,
                redirect_http: None
            }
        );
    }

    #[test]
    fn the_policy_names_the_files_protocols_and_the_redirect_on_port_80() {
        let tls = policy("protocols = [\"TLSv1.3\"]\nredirect_http = true\n");
        let plan = planned(&TlsFlags::default(), Some(&tls)).unwrap();
        let settings = plan.tls.unwrap();
        assert_eq!(
            settings.source,
            files("/p/cert.pem", "/p/key.pem", Some("/p/gateway.toml"))
        );
        assert_eq!(settings.protocols, [TlsProtocol::Tls13]);
        assert_eq!(
            plan.redirect_http,
            Some(RedirectListener {
                address: "0.0.0.0:80".parse().unwrap(),
                named_in: Some("/p/gateway.toml".into()),
            })
        );
    }

    #[test]
    fn flags_override_the_policys_files_and_redirect_address_not_its_protocols() {
        let tls = policy("protocols = [\"TLSv1.2\"]\nredirect_http = true\n");
        let flags = TlsFlags {
            cert: Some("/f/cert.pem".into()),
            key: Some("/f/key.pem".into()),
            redirect_http: Some("127.0.0.1:8080".parse().unwrap()),
            ..Default::default()
        };
        let plan = planned(&flags, Some(&tls)).unwrap();
        let settings = plan.tls.unwrap();
        assert_eq!(settings.source, files("/f/cert.pem", "/f/key.pem", None));
        assert_eq!(settings.protocols, [TlsProtocol::Tls12]);
        assert_eq!(plan.redirect_http.unwrap().address.port(), 8080);

        let self_signed = TlsFlags {
            self_signed: true,
            ..Default::default()
        };
        let plan = planned(&self_signed, Some(&tls)).unwrap();
        assert_eq!(
            plan.tls.unwrap().source,
            TlsSource::SelfSigned {
                state_dir: "/state".into()
            }
        );
    }

    #[test]
    fn flags_alone_offer_both_protocols_and_a_redirect_needs_tls() {
        let flags = TlsFlags {
            cert: Some("/f/cert.pem".into()),
            key: Some("/f/key.pem".into()),
            ..Default::default()
        };
        let plan = planned(&flags, None).unwrap();
        assert_eq!(plan.tls.unwrap().protocols, ALL_PROTOCOLS);
        assert_eq!(plan.redirect_http, None);

        let redirect_only = TlsFlags {
            redirect_http: Some("127.0.0.1:8080".parse().unwrap()),
            ..Default::default()
        };
        let error = planned(&redirect_only, None).unwrap_err().to_string();
        assert!(error.contains("needs TLS"), "{error}");
        let half = TlsFlags {
            cert: Some("/f/cert.pem".into()),
            ..Default::default()
        };
        assert!(planned(&half, None).is_err());
    }
}
