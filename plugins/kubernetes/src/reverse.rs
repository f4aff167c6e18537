//! Reverse names: which IP a `…in-addr.arpa.` / `…ip6.arpa.` name stands for, read the way
//! CoreDNS's `ExtractAddressFromReverse` reads it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use signpost_wire::Name;

const V4_ROOT: &[u8] = b"\x07in-addr\x04arpa\x00";
const V6_ROOT: &[u8] = b"\x03ip6\x04arpa\x00";

/// Strictly below `in-addr.arpa.` (4) or `ip6.arpa.` (6); 0 otherwise. `name` is lower-case.
pub(crate) fn reverse_family(name: &Name) -> u8 {
    let w = name.wire();
    let below = |root: &[u8]| {
        w.len() > root.len() && w.ends_with(root) && on_boundary(name, w.len() - root.len())
    };
    if below(V4_ROOT) {
        4
    } else if below(V6_ROOT) {
        6
    } else {
        0
    }
}

fn on_boundary(name: &Name, at: usize) -> bool {
    name.suffix_offsets().any(|o| o == at)
}

/// The IP a full reverse name spells; `None` for partial or malformed names.
pub fn address(name: &Name) -> Option<IpAddr> {
    let family = reverse_family(name);
    if family == 0 {
        return None;
    }
    let mut labels = [&b""[..]; 40];
    let mut n = 0usize;
    let root_labels = 2;
    let total = name.label_count();
    for l in name.labels().take(total - root_labels) {
        if n == labels.len() {
            return None;
        }
        labels[n] = l;
        n += 1;
    }
    if family == 4 {
        // All labels reversed and joined with dots must be a dotted quad.
        if n != 4 {
            return None;
        }
        let mut octets = [0u8; 4];
        for (i, l) in labels[..4].iter().rev().enumerate() {
            octets[i] = decimal_octet(l)?;
        }
        return Some(IpAddr::V4(Ipv4Addr::from(octets)));
    }
    // IPv6: the labels, reversed, are grouped by four into the eight groups of the address;
    // leftover labels beyond the last full group are dropped (as CoreDNS does).
    if !(32..36).contains(&n) {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (i, l) in labels[..n].iter().rev().take(32).enumerate() {
        let [c] = **l else { return None };
        let v = (c as char).to_digit(16)? as u8;
        bytes[i / 2] |= if i % 2 == 0 { v << 4 } else { v };
    }
    Some(IpAddr::V6(Ipv6Addr::from(bytes)))
}

/// 0..=255 in decimal without leading zeros (Go's IPv4 rules).
fn decimal_octet(l: &[u8]) -> Option<u8> {
    if l.is_empty() || l.len() > 3 || !l.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if l.len() > 1 && l[0] == b'0' {
        return None;
    }
    let v: u32 = l.iter().fold(0, |acc, &d| acc * 10 + (d - b'0') as u32);
    u8::try_from(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Option<String> {
        address(&Name::from_text(s).unwrap()).map(|ip| ip.to_string())
    }

    #[test]
    fn reverse_names() {
        assert_eq!(addr("1.0.0.10.in-addr.arpa."), Some("10.0.0.1".into()));
        assert_eq!(addr("0.0.10.in-addr.arpa."), None);
        assert_eq!(addr("5.1.0.0.10.in-addr.arpa."), None);
        assert_eq!(addr("01.0.0.10.in-addr.arpa."), None);
        assert_eq!(addr("256.0.0.10.in-addr.arpa."), None);
        assert_eq!(addr("in-addr.arpa."), None);
        assert_eq!(
            addr("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa."),
            Some("fd00::1".into())
        );
        assert_eq!(
            addr("x.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa."),
            Some("fd00::1".into())
        );
        assert_eq!(addr("0.d.f.ip6.arpa."), None);
        assert_eq!(addr("svc1.testns.svc.cluster.local."), None);
        assert_eq!(
            reverse_family(&Name::from_text("0.10.in-addr.arpa.").unwrap()),
            4
        );
        assert_eq!(
            reverse_family(&Name::from_text("in-addr.arpa.").unwrap()),
            0
        );
        assert_eq!(
            reverse_family(&Name::from_text("xin-addr.arpa.").unwrap()),
            0
        );
    }
}
