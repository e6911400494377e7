//! The client address that rate limits key on: nginx's `real_ip` rules.
//!
//! The TCP peer is the client unless it is a trusted proxy. Then the
//! configured header (every occurrence, in order, read as one
//! comma-separated list) is read from the right: each address replaces the
//! current one, and with `recursive` the walk goes on while the current
//! address is itself a trusted proxy. A malformed entry stops the walk at the
//! last good address. IPv4-mapped IPv6 addresses are taken as IPv4.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use crate::config::ClientIpConfig;
use crate::trusted_proxy;

impl ClientIpConfig {
    /// Whether `addr` is one of the trusted proxies.
    pub fn is_trusted(&self, addr: IpAddr) -> bool {
        trusted_proxy::contains(&self.trusted_proxies, addr)
    }

    /// The client address of a request from `peer`, given the values of the
    /// configured header (`self.header.name()`) in the order received. The
    /// values are only looked at when `peer` is trusted.
    pub fn client_key<'h>(
        &self,
        peer: IpAddr,
        header_values: impl IntoIterator<Item = &'h [u8]>,
    ) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.is_trusted(client) {
            return client;
        }
        let values: Vec<&[u8]> = header_values.into_iter().collect();
        let entries = values
            .iter()
            .rev()
            .flat_map(|value| value.split(|&b| b == b',' || b == b' ').rev())
            .filter(|entry| !entry.is_empty());
        for entry in entries {
            if !self.is_trusted(client) {
                break;
            }
            match parse_entry(entry) {
                Some(addr) => client = addr.to_canonical(),
                None => break,
            }
            if !self.recursive {
                break;
            }
        }
        client
    }
}

/// An address as a forwarding header carries it: "1.2.3.4", "1.2.3.4:5678",
/// "2001:db8::1", "[2001:db8::1]" or "[2001:db8::1]:5678".
fn parse_entry(entry: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(entry).ok()?;
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Some(addr);
    }
    if let Ok(socket) = text.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    let v6 = text.strip_prefix('[')?.strip_suffix(']')?;
    v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GatewayConfig;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn with_proxies(proxies: &str, recursive: bool) -> ClientIpConfig {
        let text = GatewayConfig::default_toml()
            .replace(
                "trusted_proxies = []",
                &format!("trusted_proxies = [{proxies}]"),
            )
            .replace("recursive = true", &format!("recursive = {recursive}"));
        GatewayConfig::from_str(&text).unwrap().client_ip().clone()
    }

    fn key(config: &ClientIpConfig, peer: &str, values: &[&str]) -> IpAddr {
        config.client_key(ip(peer), values.iter().map(|v| v.as_bytes()))
    }

    #[test]
    fn with_no_trusted_proxy_the_peer_is_the_client() {
        let config = GatewayConfig::default().client_ip().clone();
        assert_eq!(key(&config, "203.0.113.9", &["1.1.1.1"]), ip("203.0.113.9"));
        assert_eq!(key(&config, "127.0.0.1", &["1.1.1.1"]), ip("127.0.0.1"));
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let config = with_proxies(r#""10.0.0.0/8""#, true);
        assert_eq!(key(&config, "203.0.113.9", &["1.1.1.1"]), ip("203.0.113.9"));
        assert_eq!(
            key(&config, "203.0.113.9", &["10.0.0.1, 1.1.1.1"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_trusted_proxy_gives_the_client_address() {
        let config = with_proxies(r#""10.0.0.0/8", "fd00::/8""#, true);
        assert_eq!(
            key(&config, "10.1.2.3", &["198.51.100.7"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            key(&config, "fd00::1", &["198.51.100.7"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            key(&config, "::ffff:10.1.2.3", &["198.51.100.7"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            key(&config, "10.1.2.3", &["198.51.100.7:4711"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            key(&config, "10.1.2.3", &["[2001:db8::5]:443"]),
            ip("2001:db8::5")
        );
        assert_eq!(
            key(&config, "10.1.2.3", &["2001:db8::5"]),
            ip("2001:db8::5")
        );
        assert_eq!(
            key(&config, "10.1.2.3", &["::ffff:198.51.100.7"]),
            ip("198.51.100.7")
        );
        // No header: the proxy itself.
        assert_eq!(key(&config, "10.1.2.3", &[]), ip("10.1.2.3"));
        assert_eq!(key(&config, "10.1.2.3", &[" , "]), ip("10.1.2.3"));
    }

    #[test]
    fn recursion_skips_trusted_hops_and_stops_at_the_first_untrusted() {
        let config = with_proxies(r#""10.0.0.0/8""#, true);
        // The client forged "6.6.6.6"; the first untrusted address from the right is real.
        assert_eq!(
            key(&config, "10.0.0.1", &["6.6.6.6, 198.51.100.7, 10.0.0.2"]),
            ip("198.51.100.7")
        );
        // Several header lines are one list, in order.
        assert_eq!(
            key(&config, "10.0.0.1", &["6.6.6.6, 198.51.100.7", "10.0.0.2"]),
            ip("198.51.100.7")
        );
        // All trusted: the leftmost.
        assert_eq!(
            key(&config, "10.0.0.1", &["10.0.0.3,10.0.0.2"]),
            ip("10.0.0.3")
        );
        // Garbage stops the walk at the last good address.
        assert_eq!(
            key(&config, "10.0.0.1", &["198.51.100.7, junk, 10.0.0.2"]),
            ip("10.0.0.2")
        );
        assert_eq!(key(&config, "10.0.0.1", &["junk"]), ip("10.0.0.1"));
        assert_eq!(key(&config, "10.0.0.1", &["1.2.3.4.5"]), ip("10.0.0.1"));
    }

    #[test]
    fn without_recursion_only_the_last_entry_counts() {
        let config = with_proxies(r#""10.0.0.0/8""#, false);
        assert_eq!(
            key(&config, "10.0.0.1", &["198.51.100.7, 10.0.0.2"]),
            ip("10.0.0.2")
        );
        assert_eq!(
            key(&config, "10.0.0.1", &["198.51.100.7"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn invalid_utf8_is_garbage() {
        let config = with_proxies(r#""10.0.0.0/8""#, true);
        let values: [&[u8]; 1] = [b"\xff\xfe"];
        assert_eq!(config.client_key(ip("10.0.0.1"), values), ip("10.0.0.1"));
    }
}
