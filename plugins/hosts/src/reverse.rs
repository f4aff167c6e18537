//! The address a reverse name stands for, as CoreDNS's `dnsutil.ExtractAddressFromReverse`
//! reads it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use signpost_wire::Name;

/// `4.3.2.1.in-addr.arpa.` -> 1.2.3.4; 32 nibbles under `ip6.arpa.` -> the IPv6 address.
/// IPv4-mapped IPv6 addresses come back as IPv4, since that is how CoreDNS keys them. Like
/// CoreDNS, up to three extra labels in front of the 32 nibbles are ignored.
pub(crate) fn address(qname: &Name) -> Option<IpAddr> {
    let count = qname.label_count();
    let mut labels = qname.labels();
    if ends_with(qname, count, b"in-addr") && count == 6 {
        let mut octets = [0u8; 4];
        for i in (0..4).rev() {
            octets[i] = octet(labels.next()?)?;
        }
        return Some(IpAddr::V4(Ipv4Addr::from(octets)));
    }
    if ends_with(qname, count, b"ip6") && (34..=37).contains(&count) {
        let mut bits: u128 = 0;
        for (i, label) in labels.skip(count - 34).take(32).enumerate() {
            let [digit] = label else { return None };
            let nibble = (*digit as char).to_digit(16)? as u128;
            bits |= nibble << (4 * i);
        }
        let v6 = Ipv6Addr::from_bits(bits);
        return Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4));
    }
    None
}

/// True when the name ends in `<zone>.arpa.` with at least one label before it.
fn ends_with(qname: &Name, count: usize, zone: &[u8]) -> bool {
    count > 2 && {
        let mut tail = qname.labels().skip(count - 2);
        tail.next() == Some(zone) && tail.next() == Some(b"arpa".as_slice())
    }
}

/// A decimal octet as Go's IPv4 parser takes it: 1 to 3 digits, no leading zero, at most 255.
fn octet(label: &[u8]) -> Option<u8> {
    if label.is_empty() || label.len() > 3 || (label.len() > 1 && label[0] == b'0') {
        return None;
    }
    if !label.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(label).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Option<IpAddr> {
        address(&Name::from_text(s).unwrap())
    }

    #[test]
    fn reverse_names() {
        let v6 = "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.";
        let mapped = "2.0.0.0.0.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.";
        let table: Vec<(String, Option<&str>)> = vec![
            ("54.119.58.176.in-addr.arpa.".into(), Some("176.58.119.54")),
            ("1.0.0.127.in-addr.arpa.".into(), Some("127.0.0.1")),
            ("0.0.0.0.in-addr.arpa.".into(), Some("0.0.0.0")),
            ("0.0.10.in-addr.arpa.".into(), None),
            ("1.1.0.0.10.in-addr.arpa.".into(), None),
            ("01.0.0.10.in-addr.arpa.".into(), None),
            ("256.0.0.10.in-addr.arpa.".into(), None),
            ("in-addr.arpa.".into(), None),
            ("example.org.".into(), None),
            (v6.into(), Some("2001:db8::567:89ab")),
            (format!("x.y.{v6}"), Some("2001:db8::567:89ab")),
            (format!("w.x.y.z.{v6}"), None),
            (v6[2..].into(), None),
            (v6.replace("b.a.", "bb.a."), None),
            (v6.replace("b.a.", "g.a."), None),
            (mapped.into(), Some("10.0.0.2")),
        ];
        for (name, want) in table {
            assert_eq!(addr(&name), want.map(|w| w.parse().unwrap()), "{name}");
        }
    }
}
