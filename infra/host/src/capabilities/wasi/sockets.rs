//! `wasi:sockets` as Spin permits it: outbound TCP to exactly the addresses
//! the component's `allowed_outbound_hosts` allows as `tcp://ip:port` (or
//! `*://`, CIDR ranges included); nothing else. A refused use is WASI's
//! `access-denied`, Spin's error.
//!
//! - Listening (`listen`, `accept`, a `bind` to a real address) is refused,
//!   as on Spin: a component serves through its trigger only.
//! - UDP is off altogether (see `mod.rs`).
//! - Name lookup is off, as on Spin: the check sees IP addresses only, so an
//!   entry naming a host by name never matches a socket.
//!
//! wasmtime-wasi asks about an implicit bind to the unspecified address
//! (`0.0.0.0:0`) before every `connect`; that one, and an explicit bind to an
//! ephemeral port on it, are what a client socket needs and are allowed.

use std::net::SocketAddr;

use wasmtime_wasi::sockets::SocketAddrUse;

use crate::outbound_policy::OutboundPolicy;

/// The scheme a TCP connection is checked under (Spin's).
const TCP_SCHEME: &str = "tcp";

pub fn permits(policy: &OutboundPolicy, addr: SocketAddr, usage: SocketAddrUse) -> bool {
    match usage {
        SocketAddrUse::TcpConnect => {
            policy.allows(TCP_SCHEME, &addr.ip().to_string(), Some(addr.port()))
        }
        SocketAddrUse::TcpBind => addr.ip().is_unspecified() && addr.port() == 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        OutboundPolicy::new(spinstack_manifest::AllowedOutboundHosts::parse(entries).unwrap())
    }

    fn connect(p: &OutboundPolicy, addr: &str) -> bool {
        permits(p, addr.parse().unwrap(), SocketAddrUse::TcpConnect)
    }

    #[test]
    fn connects_only_where_the_manifest_allows_tcp() {
        let p = policy(&[
            "tcp://127.0.0.1:7000",
            "*://10.0.0.0/8:5432",
            "http://127.0.0.1:8080",
            "tcp://[::1]:7001",
            "tcp://localhost:7002",
        ]);
        assert!(connect(&p, "127.0.0.1:7000"));
        assert!(!connect(&p, "127.0.0.1:7001"));
        assert!(!connect(&p, "127.0.0.2:7000"));
        assert!(connect(&p, "10.20.30.40:5432"));
        assert!(!connect(&p, "10.20.30.40:5433"));
        assert!(!connect(&p, "11.0.0.1:5432"));
        // An HTTP entry is not a TCP permission.
        assert!(!connect(&p, "127.0.0.1:8080"));
        assert!(connect(&p, "[::1]:7001"));
        // Sockets see addresses, never names.
        assert!(!connect(&p, "127.0.0.1:7002"));
        assert!(!connect(&policy(&[]), "127.0.0.1:7000"));
    }

    #[test]
    fn listening_and_udp_are_refused_even_when_everything_is_allowed() {
        let p = policy(&["*://*:*"]);
        let any = |addr: &str, usage| permits(&p, addr.parse().unwrap(), usage);
        assert!(any("1.2.3.4:80", SocketAddrUse::TcpConnect));
        // The implicit bind of a connect.
        assert!(any("0.0.0.0:0", SocketAddrUse::TcpBind));
        assert!(any("[::]:0", SocketAddrUse::TcpBind));
        assert!(!any("0.0.0.0:8080", SocketAddrUse::TcpBind));
        assert!(!any("127.0.0.1:0", SocketAddrUse::TcpBind));
        assert!(!any("0.0.0.0:0", SocketAddrUse::TcpListen));
        assert!(!any("1.2.3.4:80", SocketAddrUse::TcpAccept));
        assert!(!any("0.0.0.0:0", SocketAddrUse::UdpBind));
        assert!(!any("1.2.3.4:53", SocketAddrUse::UdpSend));
    }
}
