//! Path prefixes the gateway reverse-proxies to another HTTP service (the
//! object store under `/_storage/`), so the browser reaches it on the app's
//! own origin. `METHOD <prefix><rest>?<query>` goes to
//! `<upstream>/<rest>?<query>` with `Host` set to the upstream's authority:
//! a URL presigned (SigV4) for the upstream stays valid once its scheme and
//! authority are replaced by `<app origin><prefix without its last slash>`.

use std::fmt;

use crate::units::Size;

/// One `[[proxies]]` entry, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    /// Starts and ends with "/" (e.g. "/_storage/").
    pub prefix: String,
    pub upstream: ProxyUpstream,
    /// The upstream of the rendered nginx.conf; `None` only when `upstream` is a URL
    /// (then nginx uses that).
    pub nginx_upstream: Option<UpstreamUrl>,
    /// The upstream of the rendered Kubernetes Ingress; `None`: as nginx's.
    pub ingress_upstream: Option<UpstreamUrl>,
    /// Overrides `[body] max_size` for this prefix.
    pub max_body_size: Option<Size>,
}

impl ProxyConfig {
    /// The upstream nginx proxies to.
    pub fn nginx_upstream(&self) -> &UpstreamUrl {
        match (&self.nginx_upstream, &self.upstream) {
            (Some(url), _) | (None, ProxyUpstream::Url(url)) => url,
            (None, ProxyUpstream::Variable(_)) => {
                unreachable!("validation requires nginx_upstream for a variable upstream")
            }
        }
    }

    /// The upstream the rendered Ingress proxies to (`ingress_upstream`, else nginx's).
    pub fn ingress_upstream(&self) -> &UpstreamUrl {
        self.ingress_upstream
            .as_ref()
            .unwrap_or_else(|| self.nginx_upstream())
    }

    /// The part of a raw request path after the prefix, with its leading "/"
    /// (`/_storage/app/k` gives `/app/k`); `None` when the raw path does not
    /// start with the prefix as written (a disguised path such as
    /// `//_storage/k` or `/_st%6frage/k`, which is never forwarded).
    pub fn forwarded_path<'p>(&self, raw_path: &'p str) -> Option<&'p str> {
        let keep = self.prefix.len() - 1;
        raw_path
            .starts_with(&self.prefix)
            .then(|| &raw_path[keep..])
    }
}

/// Where a proxy forwards to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyUpstream {
    Url(UpstreamUrl),
    /// The value of this Spin variable of the application, resolved at start-up
    /// (e.g. `s3_endpoint`, which the embedded S3 provides when unset).
    Variable(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// An upstream base URL: `http(s)://host[:port]`, without path, query or user info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamUrl {
    pub scheme: Scheme,
    /// A name, an IPv4 address, or `[v6]`.
    pub host: String,
    pub port: u16,
}

impl UpstreamUrl {
    /// Parses `http://host:port`, `https://host` (default ports), a trailing "/" allowed.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = |why: &str| {
            format!(
                "invalid upstream URL {text:?}: {why} (expected \"http://host:port\" or \"https://host[:port]\")"
            )
        };
        let (scheme, rest) = if let Some(rest) = text.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else if let Some(rest) = text.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else {
            return Err(invalid("the scheme must be http or https"));
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#', '@']) {
            return Err(invalid("no path, query or user info"));
        }
        let default_port = match scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        let (host, port) = if authority.starts_with('[') {
            let end = authority.find(']').ok_or_else(|| invalid("unclosed ["))?;
            let v6 = &authority[1..end];
            if v6.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(invalid("not an IPv6 address"));
            }
            let port = match &authority[end + 1..] {
                "" => None,
                rest => Some(rest.strip_prefix(':').ok_or_else(|| invalid("bad port"))?),
            };
            (&authority[..=end], port)
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let host_ok = host.starts_with('[')
            || (!host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-_".contains(&b)));
        if !host_ok {
            return Err(invalid("bad host"));
        }
        let port = match port {
            None => default_port,
            Some(port) if !port.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(invalid("bad port"));
            }
            Some(port) => match port.parse::<u16>() {
                Ok(port) if port != 0 => port,
                _ => return Err(invalid("bad port")),
            },
        };
        Ok(UpstreamUrl {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    pub fn is_default_port(&self) -> bool {
        matches!(
            (self.scheme, self.port),
            (Scheme::Http, 80) | (Scheme::Https, 443)
        )
    }

    /// The `Host` header a client of this URL sends, and SigV4 signs:
    /// `host:port`, or `host` for the scheme's default port.
    pub fn authority(&self) -> String {
        if self.is_default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// `host:port` always (for nginx `server` lines and for connecting).
    pub fn host_port(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The host to connect to, without IPv6 brackets.
    pub fn connect_host(&self) -> &str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(&self.host)
    }
}

impl fmt::Display for UpstreamUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        write!(f, "{scheme}://{}", self.authority())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_urls() {
        let url = UpstreamUrl::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!(
            (url.scheme, url.host.as_str(), url.port),
            (Scheme::Http, "127.0.0.1", 9000)
        );
        assert_eq!(url.authority(), "127.0.0.1:9000");
        assert_eq!(url.to_string(), "http://127.0.0.1:9000");

        let aws = UpstreamUrl::parse("https://S3.eu-west-1.amazonaws.com/").unwrap();
        assert_eq!(aws.port, 443);
        assert_eq!(aws.authority(), "s3.eu-west-1.amazonaws.com");
        assert_eq!(aws.host_port(), "s3.eu-west-1.amazonaws.com:443");

        let explicit_default = UpstreamUrl::parse("http://minio:80").unwrap();
        assert_eq!(explicit_default.authority(), "minio", "as SigV4 signs it");

        let v6 = UpstreamUrl::parse("http://[::1]:9000").unwrap();
        assert_eq!(v6.authority(), "[::1]:9000");
        assert_eq!(v6.connect_host(), "::1");

        for bad in [
            "127.0.0.1:9000",
            "ftp://x",
            "http://",
            "http://x:0",
            "http://x:99999",
            "http://x:+1",
            "http://x/bucket",
            "http://u:p@x",
            "http://x?y",
            "http://[nope]:1",
            "http://a b",
        ] {
            assert!(UpstreamUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_paths_keep_the_raw_rest() {
        let proxy = ProxyConfig {
            prefix: "/_storage/".into(),
            upstream: ProxyUpstream::Variable("s3_endpoint".into()),
            nginx_upstream: Some(UpstreamUrl::parse("http://minio:9000").unwrap()),
            ingress_upstream: None,
            max_body_size: None,
        };
        assert_eq!(
            proxy.forwarded_path("/_storage/app/a%2Fb c"),
            Some("/app/a%2Fb c")
        );
        assert_eq!(proxy.forwarded_path("/_storage/"), Some("/"));
        assert_eq!(proxy.forwarded_path("//_storage/app/k"), None);
        assert_eq!(proxy.forwarded_path("/_storage"), None);
        assert_eq!(proxy.nginx_upstream().to_string(), "http://minio:9000");
        assert_eq!(proxy.ingress_upstream().to_string(), "http://minio:9000");
    }
}
