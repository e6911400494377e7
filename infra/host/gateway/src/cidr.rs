//! Address blocks for `trusted_proxies`: "10.0.0.0/8", "fd00::/8", or one address.

use std::fmt;
use std::net::IpAddr;

/// An IPv4 or IPv6 network. A bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix_len: u8,
}

impl Cidr {
    /// Parses `"addr"` or `"addr/len"`. Host bits must be zero ("10.0.0.1/8"
    /// is refused: it is almost always a typo for a single address).
    pub fn parse(text: &str) -> Result<Self, String> {
        let (addr, len) = match text.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (text, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("invalid address {addr:?} in {text:?}"))?;
        let max = max_len(network);
        let prefix_len = match len {
            None => max,
            Some(digits) => match digits.parse::<u8>() {
                Ok(len) if len <= max && digits.bytes().all(|b| b.is_ascii_digit()) => len,
                _ => {
                    return Err(format!(
                        "invalid prefix length in {text:?}: expected 0..={max}"
                    ));
                }
            },
        };
        let cidr = Cidr {
            network: network.to_canonical(),
            prefix_len: if network.to_canonical() != network {
                // An IPv4-mapped IPv6 block, "::ffff:10.0.0.0/104", is the IPv4 block.
                prefix_len.saturating_sub(96)
            } else {
                prefix_len
            },
        };
        if cidr.mask(cidr.network) != cidr.network {
            return Err(format!(
                "{text:?} has host bits set: write the network address, or the address alone"
            ));
        }
        Ok(cidr)
    }

    /// Whether `addr` is inside the block. IPv4-mapped IPv6 addresses count as IPv4.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        addr.is_ipv4() == self.network.is_ipv4() && self.mask(addr) == self.network
    }

    fn mask(&self, addr: IpAddr) -> IpAddr {
        match addr {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4);
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                IpAddr::V4((bits & mask).into())
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                IpAddr::V6((bits & mask).into())
            }
        }
    }
}

fn max_len(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

impl fmt::Display for Cidr {
    /// nginx's `set_real_ip_from` syntax: always with the prefix length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses_only() {
        let block = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(block.contains(ip("10.255.1.2")));
        assert!(!block.contains(ip("11.0.0.1")));
        assert!(
            !block.contains(ip("::a00:1")),
            "an IPv6 address is never in an IPv4 block"
        );
        assert!(
            block.contains(ip("::ffff:10.1.2.3")),
            "IPv4-mapped counts as IPv4"
        );

        let one = Cidr::parse("192.168.1.7").unwrap();
        assert!(one.contains(ip("192.168.1.7")));
        assert!(!one.contains(ip("192.168.1.8")));
        assert_eq!(one.to_string(), "192.168.1.7/32");

        let v6 = Cidr::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12:3456::1")));
        assert!(!v6.contains(ip("fe80::1")));

        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains(ip("8.8.8.8")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("2001:db8::1")));

        let mapped = Cidr::parse("::ffff:10.0.0.0/104").unwrap();
        assert_eq!(mapped.to_string(), "10.0.0.0/8");
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
            assert!(Cidr::parse(text).is_err(), "{text:?} was accepted");
        }
    }
}
