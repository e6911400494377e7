//! `open(address)`: the address must be a Redis URL whose host and port the
//! component's `allowed_outbound_hosts` allows under the URL's own scheme
//! (`redis://host:port`), as Spin checks it; anything else is
//! `invalid-address`, Spin's error for both a denied and an unreadable
//! address. The destination checked is the one the client will dial, as the
//! `redis` crate reads it (default port included), so the two cannot differ.

use redis::ConnectionAddr;

use super::generated::fermyon::spin2_0_0::redis::Error;
use crate::outbound_policy::OutboundPolicy;

/// The client for `address`, if the address is readable and allowed.
pub fn check(address: &str, policy: &OutboundPolicy) -> Result<redis::Client, Error> {
    let scheme = address
        .split_once("://")
        .map(|(scheme, _)| scheme)
        .ok_or(Error::InvalidAddress)?;
    // Parsing dials nothing; a TLS URL fails here (the host's redis client
    // is built without TLS), a Unix socket is no network destination.
    let client = redis::Client::open(address).map_err(|_| Error::InvalidAddress)?;
    match &client.get_connection_info().addr {
        ConnectionAddr::Tcp(host, port) if policy.allows(scheme, host, Some(*port)) => Ok(client),
        _ => Err(Error::InvalidAddress),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        OutboundPolicy::new(spinstack_manifest::AllowedOutboundHosts::parse(entries).unwrap())
    }

    fn allowed(address: &str, p: &OutboundPolicy) -> bool {
        match check(address, p) {
            Ok(_) => true,
            Err(Error::InvalidAddress) => false,
            Err(other) => panic!("{address}: not invalid-address: {other:?}"),
        }
    }

    #[test]
    fn hosts_and_ports_as_the_manifest_allows_them() {
        let p = policy(&["redis://127.0.0.1:6379", "redis://cache.internal"]);
        assert!(allowed("redis://127.0.0.1:6379", &p));
        assert!(allowed("redis://127.0.0.1:6379/2", &p));
        assert!(allowed("redis://user:secret@127.0.0.1:6379/0", &p));
        // No port: Redis's own, 6379, on both sides.
        assert!(allowed("redis://127.0.0.1", &p));
        assert!(allowed("redis://cache.internal/1", &p));
        assert!(!allowed("redis://127.0.0.1:6380", &p));
        assert!(!allowed("redis://cache.internal:6380", &p));
        assert!(!allowed("redis://localhost:6379", &p));
        assert!(!allowed("redis://evil.example", &p));
    }

    #[test]
    fn the_scheme_must_be_allowed_too() {
        let p = policy(&["redis://127.0.0.1:6379"]);
        assert!(!allowed("valkey://127.0.0.1:6379", &p));
        let any = policy(&["*://127.0.0.1:6379"]);
        assert!(allowed("redis://127.0.0.1:6379", &any));
    }

    #[test]
    fn unreadable_and_non_network_addresses_are_invalid() {
        let p = policy(&["*://*:*"]);
        assert!(!allowed("", &p));
        assert!(!allowed("127.0.0.1:6379", &p));
        assert!(!allowed("redis://", &p));
        assert!(!allowed("redis://127.0.0.1:notaport", &p));
        assert!(!allowed("redis+unix:///run/redis.sock", &p));
        assert!(!allowed("unix:///run/redis.sock", &p));
        assert!(!allowed("http://127.0.0.1:6379", &p));
    }

    #[test]
    fn ip_ranges_and_ipv6() {
        let p = policy(&["redis://10.0.0.0/8:6379", "redis://[::1]:6379"]);
        assert!(allowed("redis://10.1.2.3:6379", &p));
        assert!(!allowed("redis://11.1.2.3:6379", &p));
        assert!(allowed("redis://[::1]:6379", &p));
    }
}
