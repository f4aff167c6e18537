//! Type, class and rcode names exactly as CoreDNS prints them (miekg/dns's `Type.String`,
//! `Class.String` and `RcodeToString`), for log lines, error lines and metric labels.
//!
//! The wire crate names only the types the server itself handles; a query log must name
//! whatever a client asked for, so the full table lives here. Unknown values print as
//! `TYPE<n>` / `CLASS<n>`, like miekg/dns.

use std::fmt;

/// Every type miekg/dns has a mnemonic for (note `NSAP-PTR`, `None` and `Reserved`).
const TYPES: &[(u16, &str)] = &[
    (0, "None"),
    (1, "A"),
    (2, "NS"),
    (3, "MD"),
    (4, "MF"),
    (5, "CNAME"),
    (6, "SOA"),
    (7, "MB"),
    (8, "MG"),
    (9, "MR"),
    (10, "NULL"),
    (12, "PTR"),
    (13, "HINFO"),
    (14, "MINFO"),
    (15, "MX"),
    (16, "TXT"),
    (17, "RP"),
    (18, "AFSDB"),
    (19, "X25"),
    (20, "ISDN"),
    (21, "RT"),
    (23, "NSAP-PTR"),
    (24, "SIG"),
    (25, "KEY"),
    (26, "PX"),
    (27, "GPOS"),
    (28, "AAAA"),
    (29, "LOC"),
    (30, "NXT"),
    (31, "EID"),
    (32, "NIMLOC"),
    (33, "SRV"),
    (34, "ATMA"),
    (35, "NAPTR"),
    (36, "KX"),
    (37, "CERT"),
    (39, "DNAME"),
    (41, "OPT"),
    (42, "APL"),
    (43, "DS"),
    (44, "SSHFP"),
    (45, "IPSECKEY"),
    (46, "RRSIG"),
    (47, "NSEC"),
    (48, "DNSKEY"),
    (49, "DHCID"),
    (50, "NSEC3"),
    (51, "NSEC3PARAM"),
    (52, "TLSA"),
    (53, "SMIMEA"),
    (55, "HIP"),
    (56, "NINFO"),
    (57, "RKEY"),
    (58, "TALINK"),
    (59, "CDS"),
    (60, "CDNSKEY"),
    (61, "OPENPGPKEY"),
    (62, "CSYNC"),
    (63, "ZONEMD"),
    (64, "SVCB"),
    (65, "HTTPS"),
    (99, "SPF"),
    (100, "UINFO"),
    (101, "UID"),
    (102, "GID"),
    (103, "UNSPEC"),
    (104, "NID"),
    (105, "L32"),
    (106, "L64"),
    (107, "LP"),
    (108, "EUI48"),
    (109, "EUI64"),
    (128, "NXNAME"),
    (249, "TKEY"),
    (250, "TSIG"),
    (251, "IXFR"),
    (252, "AXFR"),
    (253, "MAILB"),
    (254, "MAILA"),
    (255, "ANY"),
    (256, "URI"),
    (257, "CAA"),
    (258, "AVC"),
    (260, "AMTRELAY"),
    (261, "RESINFO"),
    (32768, "TA"),
    (32769, "DLV"),
    (65535, "Reserved"),
];

/// The mnemonic of a record type, if miekg/dns has one.
pub fn type_name(t: u16) -> Option<&'static str> {
    TYPES
        .binary_search_by_key(&t, |&(n, _)| n)
        .ok()
        .map(|i| TYPES[i].1)
}

/// A record type as CoreDNS prints it: the mnemonic, or `TYPE<n>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeText(pub u16);

impl fmt::Display for TypeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match type_name(self.0) {
            Some(s) => f.write_str(s),
            None => write!(f, "TYPE{}", self.0),
        }
    }
}

/// The mnemonic of a class, if it has an unambiguous one. `ANY` is also a type name, so
/// miekg/dns prints class 255 as `CLASS255`.
pub fn class_name(c: u16) -> Option<&'static str> {
    Some(match c {
        1 => "IN",
        2 => "CS",
        3 => "CH",
        4 => "HS",
        254 => "NONE",
        _ => return None,
    })
}

/// A class as CoreDNS prints it: the mnemonic, or `CLASS<n>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassText(pub u16);

impl fmt::Display for ClassText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match class_name(self.0) {
            Some(s) => f.write_str(s),
            None => write!(f, "CLASS{}", self.0),
        }
    }
}

/// miekg/dns's `RcodeToString` (16 is `BADSIG`; 12-15 have no name).
pub fn rcode_name(r: u16) -> Option<&'static str> {
    Some(match r {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        11 => "DSOTYPENI",
        16 => "BADSIG",
        17 => "BADKEY",
        18 => "BADTIME",
        19 => "BADMODE",
        20 => "BADNAME",
        21 => "BADALG",
        22 => "BADTRUNC",
        23 => "BADCOOKIE",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(TYPES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn names_like_miekg() {
        assert_eq!(TypeText(1).to_string(), "A");
        assert_eq!(TypeText(23).to_string(), "NSAP-PTR");
        assert_eq!(TypeText(65).to_string(), "HTTPS");
        assert_eq!(TypeText(11).to_string(), "TYPE11");
        assert_eq!(TypeText(65280).to_string(), "TYPE65280");
        assert_eq!(ClassText(1).to_string(), "IN");
        assert_eq!(ClassText(3).to_string(), "CH");
        assert_eq!(ClassText(255).to_string(), "CLASS255");
        assert_eq!(ClassText(42).to_string(), "CLASS42");
        assert_eq!(rcode_name(16), Some("BADSIG"));
        assert_eq!(rcode_name(12), None);
    }
}
