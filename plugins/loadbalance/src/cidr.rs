//! `prefer` subnets, parsed and matched the way Go's `net.ParseCIDR` and `IPNet.Contains` do.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One subnet of a `prefer` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parse `ADDR/BITS`. The error text is Go's (`invalid CIDR address: TEXT`).
    pub(crate) fn parse(s: &str) -> Result<Cidr, String> {
        let bad = || format!("invalid CIDR address: {s}");
        let (addr, bits) = s.split_once('/').ok_or_else(bad)?;
        let ip: IpAddr = addr.parse().map_err(|_| bad())?;
        if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix: u32 = bits.parse().map_err(|_| bad())?;
        if prefix > max {
            return Err(bad());
        }
        Ok(Cidr::new(ip, prefix as u8))
    }

    /// The network of `ip/prefix`. Like Go, an IPv6 network that is IPv4-mapped after masking
    /// (prefix 96 or more) matches IPv4 addresses.
    fn new(ip: IpAddr, prefix: u8) -> Cidr {
        match ip {
            IpAddr::V4(v4) => Cidr {
                net: IpAddr::V4(Ipv4Addr::from_bits(v4.to_bits() & mask32(prefix))),
                prefix,
            },
            IpAddr::V6(v6) => {
                let net = Ipv6Addr::from_bits(v6.to_bits() & mask128(prefix));
                match net.to_ipv4_mapped() {
                    Some(v4) if prefix >= 96 => Cidr {
                        net: IpAddr::V4(v4),
                        prefix: prefix - 96,
                    },
                    _ => Cidr {
                        net: IpAddr::V6(net),
                        prefix,
                    },
                }
            }
        }
    }

    /// Does the subnet hold `ip`? IPv4-mapped IPv6 addresses count as IPv4.
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(net), IpAddr::V4(a)) => a.to_bits() & mask32(self.prefix) == net.to_bits(),
            (IpAddr::V6(net), IpAddr::V6(a)) => a.to_bits() & mask128(self.prefix) == net.to_bits(),
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_matches_like_go() {
        let table: &[(&str, &[&str], &[&str])] = &[
            (
                "10.9.20.0/24",
                &["10.9.20.1", "10.9.20.255", "::ffff:10.9.20.7"],
                &["10.9.21.1", "::1"],
            ),
            ("10.9.20.77/24", &["10.9.20.1"], &["10.9.19.1"]),
            ("0.0.0.0/0", &["1.2.3.4", "::ffff:1.2.3.4"], &["::1"]),
            (
                "2001:db8::/32",
                &["2001:db8::1"],
                &["2001:db9::1", "10.0.0.1"],
            ),
            (
                "::ffff:10.0.0.0/104",
                &["10.1.2.3", "::ffff:10.1.2.3"],
                &["11.0.0.1"],
            ),
            ("::ffff:10.0.0.0/64", &["::1"], &["10.1.2.3"]),
            ("::/0", &["2001:db8::1"], &["10.0.0.1"]),
            ("192.168.1.1/032", &["192.168.1.1"], &["192.168.1.2"]),
        ];
        for (cidr, inside, outside) in table {
            let c = Cidr::parse(cidr).unwrap();
            for a in *inside {
                assert!(c.contains(ip(a)), "{cidr} should hold {a}");
            }
            for a in *outside {
                assert!(!c.contains(ip(a)), "{cidr} should not hold {a}");
            }
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "010.0.0.0/8",
            "fe80::1%eth0/64",
            "::/129",
            "foo/8",
            "10.0.0.0/8/8",
        ] {
            assert_eq!(
                Cidr::parse(bad),
                Err(format!("invalid CIDR address: {bad}")),
                "{bad}"
            );
        }
    }
}
