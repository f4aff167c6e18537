//! Index keys: how object host names become keys, and which keys a query name tries.
//!
//! A key is a lower-cased name built from the host name as the object spells it, so both
//! full names (`app.example.com`) and relative ones (`svc.ns`, the default of a Service) are
//! keys. A query tries its full name and its zone-relative part (spec §4), so a relative key
//! is served under every zone. Building these names happens inline on the stack: a [`Name`]
//! never touches the heap.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use signpost_wire::{Name, MAX_NAME_LEN};

/// The key for a host name as an object spells it: lower-cased, an optional trailing dot
/// dropped. None for names that are not valid DNS names (or empty).
pub(crate) fn key(host: &str) -> Option<Name> {
    let host = host.trim();
    if host.is_empty() || host == "." {
        return None;
    }
    Name::from_text(host).ok().map(|n| n.lowercase())
}

/// `qname` without the labels of `zone` (which it is below or equal to); None when equal.
pub(crate) fn relative(qname: &Name, zone: &Name) -> Option<Name> {
    let cut = qname.len().checked_sub(zone.len())?;
    if cut == 0 {
        return None;
    }
    let mut buf = [0u8; MAX_NAME_LEN];
    buf[..cut].copy_from_slice(&qname.wire()[..cut]);
    Name::from_wire(&buf[..=cut]).ok()
}

/// The one-label wildcard standing for `qname`: its first label replaced by `*`, or `*.zone`
/// for the zone itself (upstream: a wildcard host also answers its parent).
pub(crate) fn wildcard(qname: &Name, zone: &Name) -> Option<Name> {
    let rest = if qname == zone {
        qname.wire()
    } else {
        let first = *qname.wire().first()? as usize;
        &qname.wire()[first + 1..]
    };
    let mut buf = [0u8; MAX_NAME_LEN + 2];
    buf[0] = 1;
    buf[1] = b'*';
    let end = 2 + rest.len();
    if end > MAX_NAME_LEN {
        return None;
    }
    buf[2..end].copy_from_slice(rest);
    Name::from_wire(&buf[..end]).ok()
}

/// Whether `name` starts with a `*` label.
pub(crate) fn is_wildcard(name: &Name) -> bool {
    name.wire().starts_with(b"\x01*")
}

/// The keys a query name tries in `zone`: the full name, then the relative part.
pub(crate) fn exact_keys(qname: &Name, zone: &Name) -> [Option<Name>; 2] {
    [Some(*qname), relative(qname, zone)]
}

/// The wildcard keys of a query name in `zone`.
pub(crate) fn wildcard_keys(qname: &Name, zone: &Name) -> [Option<Name>; 2] {
    match wildcard(qname, zone) {
        Some(w) => [Some(w), relative(&w, zone)],
        None => [None, None],
    }
}

/// The address a reverse name (`4.3.2.1.in-addr.arpa.`, 32 nibbles `.ip6.arpa.`) stands
/// for; None for anything else (partial names included).
pub(crate) fn reverse_address(name: &Name) -> Option<IpAddr> {
    // At most 34 labels matter; more is no reverse address (and no heap).
    let mut labels: [&[u8]; 34] = [&[]; 34];
    let mut n = 0;
    for l in name.labels() {
        if n == labels.len() {
            return None;
        }
        labels[n] = l;
        n += 1;
    }
    let tail = |a: &str, b: &str| {
        n >= 2
            && labels[n - 2].eq_ignore_ascii_case(a.as_bytes())
            && labels[n - 1].eq_ignore_ascii_case(b.as_bytes())
    };
    if n == 6 && tail("in-addr", "arpa") {
        let mut octets = [0u8; 4];
        for (i, l) in labels[..4].iter().enumerate() {
            let s = std::str::from_utf8(l).ok()?;
            if s.is_empty() || s.len() > 3 || (s.len() > 1 && s.starts_with('0')) {
                return None;
            }
            octets[3 - i] = s.parse().ok()?;
        }
        return Some(IpAddr::V4(Ipv4Addr::from(octets)));
    }
    if n == 34 && tail("ip6", "arpa") {
        let mut v: u128 = 0;
        for l in labels[..32].iter().rev() {
            let [c] = l else { return None };
            let d = (*c as char).to_digit(16)?;
            v = (v << 4) | u128::from(d);
        }
        return Some(IpAddr::V6(Ipv6Addr::from(v)));
    }
    None
}

/// The reverse name of an address.
pub(crate) fn reverse_name(ip: IpAddr) -> Name {
    let text = match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::with_capacity(72);
            for b in v6.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", b & 0xF, b >> 4));
            }
            s.push_str("ip6.arpa.");
            s
        }
    };
    Name::from_text(&text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::from_text(s).unwrap()
    }

    fn text(k: Option<Name>) -> String {
        k.map(|k| k.to_string()).unwrap_or_default()
    }

    #[test]
    fn keys_of_query_names() {
        let zone = n("example.com.");
        for (q, exact, wild) in [
            (
                "svc1.ns1.example.com.",
                ["svc1.ns1.example.com.", "svc1.ns1."],
                ["*.ns1.example.com.", "*.ns1."],
            ),
            (
                "a.example.com.",
                ["a.example.com.", "a."],
                ["*.example.com.", "*."],
            ),
            (
                "example.com.",
                ["example.com.", ""],
                ["*.example.com.", "*."],
            ),
        ] {
            let got = exact_keys(&n(q), &zone).map(text);
            assert_eq!(got, exact.map(String::from), "{q}");
            let got = wildcard_keys(&n(q), &zone).map(text);
            assert_eq!(got, wild.map(String::from), "{q}");
        }
        assert!(is_wildcard(&n("*.a.example.")));
        assert!(!is_wildcard(&n("a.*.example.")));
    }

    #[test]
    fn object_keys() {
        assert_eq!(text(key("App.Example.com")), "app.example.com.");
        assert_eq!(text(key("app.example.com.")), "app.example.com.");
        assert_eq!(text(key("svc.ns")), "svc.ns.");
        assert_eq!(key(""), None);
        assert_eq!(key("a..b"), None);
    }

    #[test]
    fn reverse() {
        for ip in ["192.0.2.1", "2001:db8::1"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(reverse_address(&reverse_name(ip)), Some(ip));
        }
        assert_eq!(reverse_address(&n("2.0.192.in-addr.arpa.")), None);
        assert_eq!(reverse_address(&n("01.2.0.192.in-addr.arpa.")), None);
        assert_eq!(reverse_address(&n("1.2.0.192.example.")), None);
    }
}
