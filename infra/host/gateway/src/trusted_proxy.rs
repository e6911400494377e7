//! Address blocks for `trusted_proxies`: "10.0.0.0/8", "fd00::/8", or one
//! address. `ipnet` does the parsing and matching; this adds the gateway's
//! rules on top.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net};

/// Parses `"addr"` (a /32 or /128) or `"addr/len"`. Host bits must be zero
/// ("10.0.0.1/8" is refused: it is almost always a typo for one address).
/// An IPv4-mapped IPv6 block, "::ffff:10.0.0.0/104", becomes the IPv4 block,
/// because client addresses are compared in their canonical form.
pub(crate) fn parse_block(text: &str) -> Result<IpNet, String> {
    let block = match text.split_once('/') {
        None => IpNet::from(
            text.parse::<IpAddr>()
                .map_err(|_| format!("invalid address {text:?}"))?,
        ),
        Some((addr, _)) => text
            .parse::<IpNet>()
            .map_err(|_| match addr.parse::<IpAddr>() {
                Err(_) => format!("invalid address {addr:?} in {text:?}"),
                Ok(addr) => {
                    let max = if addr.is_ipv4() { 32 } else { 128 };
                    format!("invalid prefix length in {text:?}: expected 0..={max}")
                }
            })?,
    };
    if block.addr() != block.network() {
        return Err(format!(
            "{text:?} has host bits set: write the network address, or the address alone"
        ));
    }
    Ok(as_ipv4_if_mapped(block))
}

fn as_ipv4_if_mapped(block: IpNet) -> IpNet {
    if let IpNet::V6(v6) = block
        && let Some(v4) = v6.addr().to_ipv4_mapped()
        && let Some(len) = v6.prefix_len().checked_sub(96)
    {
        return Ipv4Net::new(v4, len).map_or(block, IpNet::V4);
    }
    block
}

/// Whether `addr` is inside one of `blocks`. IPv4-mapped IPv6 addresses count as IPv4.
pub(crate) fn contains(blocks: &[IpNet], addr: IpAddr) -> bool {
    let addr = addr.to_canonical();
    blocks.iter().any(|block| block.contains(&addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn block(text: &str) -> Vec<IpNet> {
        vec![parse_block(text).unwrap()]
    }

    #[test]
    fn blocks_contain_their_addresses_only() {
        let ten = block("10.0.0.0/8");
        assert!(contains(&ten, ip("10.255.1.2")));
        assert!(!contains(&ten, ip("11.0.0.1")));
        assert!(
            !contains(&ten, ip("::a00:1")),
            "an IPv6 address is never in an IPv4 block"
        );
        assert!(
            contains(&ten, ip("::ffff:10.1.2.3")),
            "IPv4-mapped counts as IPv4"
        );

        let one = block("192.168.1.7");
        assert!(contains(&one, ip("192.168.1.7")));
        assert!(!contains(&one, ip("192.168.1.8")));
        assert_eq!(one[0].to_string(), "192.168.1.7/32");

        let v6 = block("fd00::/8");
        assert!(contains(&v6, ip("fd12:3456::1")));
        assert!(!contains(&v6, ip("fe80::1")));

        assert!(contains(&block("0.0.0.0/0"), ip("8.8.8.8")));
        assert!(contains(&block("::/0"), ip("2001:db8::1")));

        let mapped = block("::ffff:10.0.0.0/104");
        assert_eq!(mapped[0].to_string(), "10.0.0.0/8");
        assert!(contains(&mapped, ip("10.1.2.3")));
        assert!(contains(&mapped, ip("::ffff:10.1.2.3")));
    }

    #[test]
    fn malformed_blocks_are_refused() {
        for text in [
            "",
            "10.0.0/8",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.1/8",
            "fd00::1/8",
            "localhost",
            "10.0.0.0/8/8",
        ] {
            assert!(parse_block(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let message = |text| parse_block(text).unwrap_err();
        assert!(message("proxy.local").contains("invalid address"));
        assert!(message("proxy/8").contains("invalid address"));
        assert!(message("10.0.0.0/33").contains("expected 0..=32"));
        assert!(message("fd00::/129").contains("expected 0..=128"));
        assert!(message("10.0.0.1/8").contains("host bits set"));
    }
}
