//! The hosts file format (hosts(5)) and the lookup tables built from it.
//!
//! Each line is `ADDRESS NAME [NAME...]`; `#` starts a comment; lines that do not start with
//! an address are skipped. An IPv6 zone (`fe80::1%lo0`) is dropped, and an IPv4-mapped IPv6
//! address counts as IPv4, as in CoreDNS (which inherits both from Go's resolver).
//!
//! Tables are keyed by the lower-cased wire form of the name, which is what a query's name
//! already is, so a lookup hashes the query's bytes and allocates nothing.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use signpost_plugin::Zones;
use signpost_wire::Name;

/// The addresses of one name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Addrs {
    pub(crate) v4: Vec<Ipv4Addr>,
    pub(crate) v6: Vec<Ipv6Addr>,
}

/// Everything one source (the file, or the Corefile's inline lines) says.
#[derive(Debug, Default)]
pub(crate) struct HostsMap {
    /// Exact names.
    names: HashMap<Box<[u8]>, Addrs>,
    /// Wildcard names (`*.example.com.`), keyed with the `*` label.
    wildcards: HashMap<Box<[u8]>, Addrs>,
    /// Address -> names, for PTR answers (empty with `no_reverse`).
    reverse: HashMap<IpAddr, Vec<Box<[u8]>>>,
    /// CoreDNS's entry count: every address of every name plus every reverse name.
    len: usize,
}

/// Longest line Go's `bufio.Scanner` reads; CoreDNS stops reading the file at a longer one.
const MAX_LINE: usize = 64 * 1024;

/// Read hosts-file text. Names outside `zones` are ignored; `reverse` fills the PTR table.
pub(crate) fn parse(text: &[u8], zones: &Zones, reverse: bool) -> HostsMap {
    let mut map = HostsMap::default();
    for line in text.split(|&b| b == b'\n') {
        if line.len() >= MAX_LINE {
            break;
        }
        let line = match line.iter().position(|&b| b == b'#') {
            Some(i) => &line[..i],
            None => line,
        };
        let line = String::from_utf8_lossy(line);
        let mut fields = line.split_whitespace();
        let Some(ip) = fields.next().and_then(parse_ip) else {
            continue;
        };
        for field in fields {
            let Ok(mut name) = Name::from_text(field) else {
                continue;
            };
            name.make_lowercase();
            if zones.matches(&name).is_none() {
                continue;
            }
            let key: Box<[u8]> = name.wire().into();
            let wildcard = name.labels().next() == Some(b"*".as_slice());
            let table = if wildcard {
                &mut map.wildcards
            } else {
                &mut map.names
            };
            let addrs = table.entry(key.clone()).or_default();
            match ip {
                IpAddr::V4(v4) => addrs.v4.push(v4),
                IpAddr::V6(v6) => addrs.v6.push(v6),
            }
            map.len += 1;
            if reverse && !wildcard {
                map.reverse.entry(ip).or_default().push(key);
                map.len += 1;
            }
        }
    }
    map
}

/// An address as CoreDNS's hosts parser takes it: zone dropped, IPv4-mapped made IPv4.
fn parse_ip(text: &str) -> Option<IpAddr> {
    let text = text.split_once('%').map_or(text, |(addr, _zone)| addr);
    match text.parse().ok()? {
        IpAddr::V6(v6) => Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)),
        v4 => Some(v4),
    }
}

impl HostsMap {
    /// CoreDNS's `Len`, reported by `coredns_hosts_entries`.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// IPv4 addresses of `qname` (lower-cased): its own, else those of the wildcard one
    /// label up.
    pub(crate) fn v4(&self, qname: &Name) -> &[Ipv4Addr] {
        match self.names.get(qname.wire()) {
            Some(a) if !a.v4.is_empty() => &a.v4,
            _ => self.wildcard(qname).map_or(&[], |a| &a.v4),
        }
    }

    /// IPv6 addresses of `qname`, like [`HostsMap::v4`].
    pub(crate) fn v6(&self, qname: &Name) -> &[Ipv6Addr] {
        match self.names.get(qname.wire()) {
            Some(a) if !a.v6.is_empty() => &a.v6,
            _ => self.wildcard(qname).map_or(&[], |a| &a.v6),
        }
    }

    /// True when `qname` has an address of either family.
    pub(crate) fn has(&self, qname: &Name) -> bool {
        !self.v4(qname).is_empty() || !self.v6(qname).is_empty()
    }

    /// Names of `ip`, lower-cased wire form, in file order.
    pub(crate) fn names_of(&self, ip: IpAddr) -> &[Box<[u8]>] {
        self.reverse.get(&ip).map_or(&[], Vec::as_slice)
    }

    /// The entry of `*.<qname minus its first label>`. A wildcard matches exactly one label.
    fn wildcard(&self, qname: &Name) -> Option<&Addrs> {
        if self.wildcards.is_empty() || qname.is_root() {
            return None;
        }
        let pattern = qname.strip_labels(1).prepend_label(b"*").ok()?;
        self.wildcards.get(pattern.wire())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTS: &str = "255.255.255.255\tbroadcasthost
\t127.0.0.2\todin
\t127.0.0.3\todin  # inline comment
\t::2             odin
\t127.1.1.1\tthor
\t# aliases
\t127.1.1.2\tullr ullrhost
\tfe80::1%lo0\tlocalhost
\t# Bogus entries that must be ignored.
\t123.123.123\tloki
\t321.321.321.321
127.0.0.1 localhost localhost.domain\r
::FFFF:10.0.0.2 example.com
10.0.0.9 *.apps.example.com
::9 *.apps.example.com
10.0.0.10 one.apps.example.com
127.0.0.1\tPreserveMe\tPreserveMe.local
";

    fn name(s: &str) -> Name {
        Name::from_text(s).unwrap().lowercase()
    }

    fn map(reverse: bool) -> HostsMap {
        parse(HOSTS.as_bytes(), &Zones::new(vec![Name::root()]), reverse)
    }

    #[test]
    fn forward_lookups() {
        let m = map(true);
        let table: &[(&str, &[&str], &[&str])] = &[
            ("odin.", &["127.0.0.2", "127.0.0.3"], &["::2"]),
            ("thor.", &["127.1.1.1"], &[]),
            ("ullr.", &["127.1.1.2"], &[]),
            ("ullrhost.", &["127.1.1.2"], &[]),
            ("localhost.", &["127.0.0.1"], &["fe80::1"]),
            ("localhost.domain.", &["127.0.0.1"], &[]),
            ("loki.", &[], &[]),
            ("example.com.", &["10.0.0.2"], &[]),
            ("x.apps.example.com.", &["10.0.0.9"], &["::9"]),
            ("one.apps.example.com.", &["10.0.0.10"], &["::9"]),
            ("apps.example.com.", &[], &[]),
            ("a.b.apps.example.com.", &[], &[]),
            ("*.apps.example.com.", &["10.0.0.9"], &["::9"]),
            ("preserveme.", &["127.0.0.1"], &[]),
            ("PreserveMe.local.", &["127.0.0.1"], &[]),
        ];
        for (n, v4, v6) in table {
            let got4: Vec<String> = m.v4(&name(n)).iter().map(|a| a.to_string()).collect();
            let got6: Vec<String> = m.v6(&name(n)).iter().map(|a| a.to_string()).collect();
            assert_eq!(got4, *v4, "{n} A");
            assert_eq!(got6, *v6, "{n} AAAA");
            assert_eq!(m.has(&name(n)), !v4.is_empty() || !v6.is_empty(), "{n}");
        }
    }

    #[test]
    fn reverse_lookups() {
        let m = map(true);
        let table: &[(&str, &[&str])] = &[
            ("255.255.255.255", &["broadcasthost."]),
            ("127.0.0.2", &["odin."]),
            ("::2", &["odin."]),
            ("127.1.1.2", &["ullr.", "ullrhost."]),
            ("fe80::1", &["localhost."]),
            (
                "127.0.0.1",
                &[
                    "localhost.",
                    "localhost.domain.",
                    "preserveme.",
                    "preserveme.local.",
                ],
            ),
            ("10.0.0.2", &["example.com."]),
            ("10.0.0.9", &[]),
        ];
        for (ip, names) in table {
            let got: Vec<String> = m
                .names_of(ip.parse().unwrap())
                .iter()
                .map(|w| Name::from_wire(w).unwrap().to_string())
                .collect();
            assert_eq!(got, *names, "{ip}");
        }
        // 16 addresses of names (2 of them wildcards) and 14 reverse names.
        assert_eq!(m.len(), 16 + 14);
        let without = map(false);
        assert!(without.names_of("127.0.0.2".parse().unwrap()).is_empty());
        assert_eq!(without.len(), 16);
    }

    #[test]
    fn names_outside_the_zones_are_dropped() {
        let zones = Zones::new(vec![name("example.com.")]);
        let m = parse(HOSTS.as_bytes(), &zones, true);
        assert!(m.v4(&name("odin.")).is_empty());
        assert_eq!(
            m.v4(&name("example.com.")),
            ["10.0.0.2".parse::<Ipv4Addr>().unwrap()]
        );
        assert_eq!(m.names_of("127.0.0.2".parse().unwrap()).len(), 0);
    }
}
