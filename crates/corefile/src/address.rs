//! Server block keys and zone arguments, read as CoreDNS reads them.
//!
//! A key is `[scheme://]zone[:port]`; the zone may be a CIDR, which stands
//! for the reverse zones covering it. CoreDNS splits a CIDR that is not on an
//! octet (IPv4) or nibble (IPv6) boundary into the boundary-aligned subnets
//! it covers, one zone each (`10.0.0.0/9` is 128 zones), and validates names
//! with `dns.IsDomainName`. We do the same, with the same error texts, and
//! are stricter in two places where CoreDNS lets nonsense through to fail
//! later: a port must be a number in 0..=65535 and an unknown `scheme://`
//! is an error. A key with only a port (`:1053`) means the root zone.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Transport a server block listens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Plain DNS over UDP and TCP (`dns://`, the default).
    Dns,
    /// DNS over TLS (`tls://`).
    Tls,
    /// DNS over HTTPS (`https://`).
    Https,
    /// DNS over gRPC (`grpc://`).
    Grpc,
    /// DNS over QUIC (`quic://`).
    Quic,
}

impl Transport {
    /// The scheme name, as written before `://`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Dns => "dns",
            Transport::Tls => "tls",
            Transport::Https => "https",
            Transport::Grpc => "grpc",
            Transport::Quic => "quic",
        }
    }

    /// The port used when a key names none.
    pub fn default_port(self, default_dns_port: u16) -> u16 {
        match self {
            Transport::Dns => default_dns_port,
            Transport::Tls | Transport::Quic => 853,
            Transport::Https | Transport::Grpc => 443,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A server block key parsed as CoreDNS does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ZoneAddr {
    /// The transport (scheme).
    pub transport: Transport,
    /// Fully qualified, lowercase zone, e.g. "example.org." or ".".
    pub zone: String,
    /// Port to listen on.
    pub port: u16,
}

/// CoreDNS's rendering, e.g. `dns://example.org.:53`.
impl fmt::Display for ZoneAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.transport, self.zone, self.port)
    }
}

/// Parses one server block key. Default ports: `default_dns_port` for dns,
/// 853 for tls and quic, 443 for https and grpc. A CIDR zone expands to the
/// reverse zones covering it, hence a `Vec`.
pub fn parse_key(key: &str, default_dns_port: u16) -> Result<Vec<ZoneAddr>, String> {
    let (transport, rest) = split_transport(key)?;
    let (zones, port) = split_host_port(rest)?;
    let port = port.unwrap_or_else(|| transport.default_port(default_dns_port));
    Ok(zones
        .into_iter()
        .map(|zone| ZoneAddr {
            transport,
            zone,
            port,
        })
        .collect())
}

/// Normalizes a zone argument of a plugin ("cluster.local", "10.0.0.0/8",
/// "in-addr.arpa") into fully qualified lowercase zones, expanding CIDRs like
/// [`parse_key`]. A scheme or port, if present, is accepted and ignored.
pub fn normalize_zone(s: &str) -> Result<Vec<String>, String> {
    let (_, rest) = split_transport(s)?;
    Ok(split_host_port(rest)?.0)
}

fn split_transport(s: &str) -> Result<(Transport, &str), String> {
    let Some((scheme, rest)) = s.split_once("://") else {
        return Ok((Transport::Dns, s));
    };
    let t = match scheme {
        "dns" => Transport::Dns,
        "tls" => Transport::Tls,
        "https" => Transport::Https,
        "grpc" => Transport::Grpc,
        "quic" => Transport::Quic,
        _ => return Err(format!("unsupported transport '{scheme}://'")),
    };
    Ok((t, rest))
}

/// Splits off a trailing `:port` and turns the rest into zones.
fn split_host_port(s: &str) -> Result<(Vec<String>, Option<u16>), String> {
    let mut host = s;
    let mut port = None;
    if let Some(colon) = s.rfind(':') {
        let tail = &s[colon + 1..];
        if tail.is_empty() {
            return Err(format!("expecting data after last colon: {s:?}"));
        }
        if tail.bytes().all(|b| b.is_ascii_digit()) {
            port = Some(
                tail.parse::<u16>()
                    .map_err(|_| format!("invalid port '{tail}'"))?,
            );
            host = &s[..colon];
        } else if !tail.contains('/') {
            return Err(format!("invalid port '{tail}'"));
        }
    }
    if host.is_empty() {
        return Ok((vec![".".to_string()], port));
    }
    if host.len() > 255 {
        return Err(format!("specified zone is too long: {} > 255", host.len()));
    }
    if !is_domain_name(host) {
        return Err(format!("zone is not a valid domain name: {host}"));
    }
    let Some((ip, bits)) = parse_cidr(host) else {
        return Ok((vec![fqdn(host).to_lowercase()], port));
    };
    if host.starts_with(':') || (host.starts_with('0') && host.contains(':')) {
        return Err(format!("invalid CIDR {host}"));
    }
    Ok((reverse_zones(ip, bits), port))
}

/// Appends the root dot unless `s` already ends in an unescaped dot.
fn fqdn(s: &str) -> String {
    let trailing_backslashes = s
        .strip_suffix('.')
        .map(|rest| rest.bytes().rev().take_while(|&b| b == b'\\').count());
    match trailing_backslashes {
        Some(n) if n % 2 == 0 => s.to_string(),
        _ => format!("{s}."),
    }
}

/// `dns.IsDomainName` from miekg/dns: label and name lengths, no empty
/// labels, escapes (`\.`, `\DDD`) allowed. Anything else goes.
fn is_domain_name(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    let s = fqdn(s);
    let b = s.as_bytes();
    let (mut off, mut begin, mut i) = (0usize, 0usize, 0usize);
    let (mut was_dot, mut escape) = (false, false);
    while i < b.len() {
        match b[i] {
            b'\\' => {
                escape = !escape;
                if off + 1 > 256 {
                    return false;
                }
                let ddd = b.len() >= i + 4 && b[i + 1..i + 4].iter().all(u8::is_ascii_digit);
                let skip = if ddd { 3 } else { 1 };
                i += skip;
                begin += skip;
                was_dot = false;
            }
            b'.' => {
                escape = false;
                if (i == 0 && b.len() > 1) || was_dot {
                    return false;
                }
                was_dot = true;
                let label = i - begin;
                if label >= 64 {
                    return false;
                }
                off += 1 + label;
                if off > 256 {
                    return false;
                }
                begin = i + 1;
            }
            _ => {
                escape = false;
                was_dot = false;
            }
        }
        i += 1;
    }
    !escape
}

/// Parses `addr/bits` like Go's `net.ParseCIDR`, returning the masked network.
fn parse_cidr(s: &str) -> Option<(IpAddr, u32)> {
    let (addr, bits) = s.split_once('/')?;
    if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) || bits.len() > 3 {
        return None;
    }
    let bits: u32 = bits.parse().ok()?;
    let ip: IpAddr = addr.parse().ok()?;
    match ip {
        IpAddr::V4(v4) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            Some((IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask)), bits))
        }
        IpAddr::V6(v6) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            Some((IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask)), bits))
        }
        _ => None,
    }
}

/// The reverse zones covering network `ip/bits`: one per boundary-aligned
/// subnet (octets for IPv4, nibbles for IPv6).
fn reverse_zones(ip: IpAddr, bits: u32) -> Vec<String> {
    let (width, digit, suffix, base): (u32, u32, &str, u128) = match ip {
        IpAddr::V4(v4) => (32, 8, "in-addr.arpa.", u128::from(u32::from(v4))),
        IpAddr::V6(v6) => (128, 4, "ip6.arpa.", u128::from(v6)),
    };
    let aligned = bits.div_ceil(digit) * digit;
    let count: u128 = 1 << (aligned - bits);
    (0..count)
        .map(|k| {
            let net = if k == 0 {
                base
            } else {
                base | (k << (width - aligned))
            };
            let mut labels: Vec<String> = (0..aligned / digit)
                .map(|d| {
                    let shift = width - digit * (d + 1);
                    let v = (net >> shift) & ((1u128 << digit) - 1);
                    if digit == 8 {
                        v.to_string()
                    } else {
                        format!("{v:x}")
                    }
                })
                .collect();
            labels.reverse();
            labels.push(suffix.to_string());
            labels.join(".")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn za(transport: Transport, zone: &str, port: u16) -> ZoneAddr {
        ZoneAddr {
            transport,
            zone: zone.to_string(),
            port,
        }
    }

    #[test]
    fn keys() {
        use Transport::*;
        let cases: Vec<(&str, Vec<ZoneAddr>)> = vec![
            (".", vec![za(Dns, ".", 53)]),
            (".:53", vec![za(Dns, ".", 53)]),
            (":1053", vec![za(Dns, ".", 1053)]),
            ("dns://.:1053", vec![za(Dns, ".", 1053)]),
            ("example.org", vec![za(Dns, "example.org.", 53)]),
            ("Example.ORG.", vec![za(Dns, "example.org.", 53)]),
            ("example.org:1053", vec![za(Dns, "example.org.", 1053)]),
            ("tls://example.org", vec![za(Tls, "example.org.", 853)]),
            ("quic://example.org", vec![za(Quic, "example.org.", 853)]),
            ("https://example.org", vec![za(Https, "example.org.", 443)]),
            (
                "grpc://example.org:8443",
                vec![za(Grpc, "example.org.", 8443)],
            ),
            ("10.0.0.0/8", vec![za(Dns, "10.in-addr.arpa.", 53)]),
            (
                "dns://10.0.0.0/24:53",
                vec![za(Dns, "0.0.10.in-addr.arpa.", 53)],
            ),
            ("192.168.0.0/16", vec![za(Dns, "168.192.in-addr.arpa.", 53)]),
            ("10.1.2.3/8", vec![za(Dns, "10.in-addr.arpa.", 53)]),
            ("0.0.0.0/0", vec![za(Dns, "in-addr.arpa.", 53)]),
            ("fd00::/8", vec![za(Dns, "d.f.ip6.arpa.", 53)]),
            ("in-addr.arpa", vec![za(Dns, "in-addr.arpa.", 53)]),
            (
                "example.org,example.com",
                vec![za(Dns, "example.org,example.com.", 53)],
            ),
        ];
        for (key, want) in cases {
            assert_eq!(parse_key(key, 53), Ok(want), "key {key:?}");
        }
        assert_eq!(parse_key(".", 1053), Ok(vec![za(Dns, ".", 1053)]));
        assert_eq!(parse_key("tls://.", 1053), Ok(vec![za(Tls, ".", 853)]));
    }

    #[test]
    fn cidr_splits() {
        let zones: Vec<String> = parse_key("10.0.0.0/9", 53)
            .unwrap()
            .into_iter()
            .map(|z| z.zone)
            .collect();
        assert_eq!(zones.len(), 128);
        assert_eq!(zones[0], "0.10.in-addr.arpa.");
        assert_eq!(zones[127], "127.10.in-addr.arpa.");

        let cases: &[(&str, &[&str])] = &[
            ("10.0.0.0/15", &["0.10.in-addr.arpa.", "1.10.in-addr.arpa."]),
            (
                "2001:db8::/30",
                &[
                    "8.b.d.0.1.0.0.2.ip6.arpa.",
                    "9.b.d.0.1.0.0.2.ip6.arpa.",
                    "a.b.d.0.1.0.0.2.ip6.arpa.",
                    "b.b.d.0.1.0.0.2.ip6.arpa.",
                ],
            ),
            (
                "2001:db8::/115",
                &[
                    "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
                    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
                ],
            ),
            (
                "2001:db8::/112",
                &["0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."],
            ),
        ];
        for (zone, want) in cases {
            assert_eq!(normalize_zone(zone).unwrap(), *want, "zone {zone}");
        }
        let z = normalize_zone("10.9.3.0/18").unwrap();
        assert_eq!(z.len(), 64);
        assert_eq!(
            &z[..3],
            [
                "0.9.10.in-addr.arpa.",
                "1.9.10.in-addr.arpa.",
                "2.9.10.in-addr.arpa."
            ]
        );
    }

    #[test]
    fn normalize_zones() {
        assert_eq!(
            normalize_zone("cluster.local"),
            Ok(vec!["cluster.local.".into()])
        );
        assert_eq!(
            normalize_zone("Cluster.Local."),
            Ok(vec!["cluster.local.".into()])
        );
        assert_eq!(
            normalize_zone("dns://example.org:53"),
            Ok(vec!["example.org.".into()])
        );
        assert_eq!(
            normalize_zone("10.0.0.0/8"),
            Ok(vec!["10.in-addr.arpa.".into()])
        );
    }

    #[test]
    fn errors() {
        let long = format!("{}.org", "a".repeat(300));
        let label = format!("{}.org", "a".repeat(64));
        let cases = [
            ("example.org:99999", "invalid port '99999'".to_string()),
            ("example.org:abc", "invalid port 'abc'".to_string()),
            (
                "example.org:",
                "expecting data after last colon: \"example.org:\"".to_string(),
            ),
            (
                "foo://example.org",
                "unsupported transport 'foo://'".to_string(),
            ),
            ("a..b", "zone is not a valid domain name: a..b".to_string()),
            (
                ".example.org",
                "zone is not a valid domain name: .example.org".to_string(),
            ),
            (
                label.as_str(),
                format!("zone is not a valid domain name: {label}"),
            ),
            (
                long.as_str(),
                "specified zone is too long: 304 > 255".to_string(),
            ),
            ("::fFFF:B:F/115", "invalid CIDR ::fFFF:B:F/115".to_string()),
        ];
        for (key, want) in cases {
            assert_eq!(parse_key(key, 53), Err(want), "key {key:?}");
        }
    }

    #[test]
    fn display() {
        let z = &parse_key("tls://Example.org", 53).unwrap()[0];
        assert_eq!(z.to_string(), "tls://example.org.:853");
    }
}
