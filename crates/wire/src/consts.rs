//! Numeric constants of the protocol and their mnemonic names (used in logs and metric labels).

/// Record types.
pub mod rtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const PTR: u16 = 12;
    pub const HINFO: u16 = 13;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const NAPTR: u16 = 35;
    pub const DS: u16 = 43;
    pub const OPT: u16 = 41;
    pub const RRSIG: u16 = 46;
    pub const NSEC: u16 = 47;
    pub const DNSKEY: u16 = 48;
    pub const NSEC3: u16 = 50;
    pub const HTTPS: u16 = 65;
    pub const SVCB: u16 = 64;
    pub const IXFR: u16 = 251;
    pub const AXFR: u16 = 252;
    pub const ANY: u16 = 255;
    pub const CAA: u16 = 257;

    /// Mnemonic for a type, as CoreDNS prints it; `None` for types without one here.
    pub fn name(t: u16) -> Option<&'static str> {
        Some(match t {
            A => "A",
            NS => "NS",
            CNAME => "CNAME",
            SOA => "SOA",
            PTR => "PTR",
            HINFO => "HINFO",
            MX => "MX",
            TXT => "TXT",
            AAAA => "AAAA",
            SRV => "SRV",
            NAPTR => "NAPTR",
            DS => "DS",
            OPT => "OPT",
            RRSIG => "RRSIG",
            NSEC => "NSEC",
            DNSKEY => "DNSKEY",
            NSEC3 => "NSEC3",
            SVCB => "SVCB",
            HTTPS => "HTTPS",
            IXFR => "IXFR",
            AXFR => "AXFR",
            ANY => "ANY",
            CAA => "CAA",
            _ => return None,
        })
    }

    /// Parse a mnemonic (case-insensitive) or `TYPEnnn`.
    pub fn from_name(s: &str) -> Option<u16> {
        let up = s.to_ascii_uppercase();
        if let Some(n) = up.strip_prefix("TYPE") {
            return n.parse().ok();
        }
        (0..=u16::MAX).find(|&t| name(t) == Some(up.as_str()))
    }
}

/// Classes.
pub mod class {
    pub const IN: u16 = 1;
    pub const CH: u16 = 3;
    pub const ANY: u16 = 255;
}

/// Opcodes.
pub mod opcode {
    pub const QUERY: u8 = 0;
    pub const NOTIFY: u8 = 4;
    pub const UPDATE: u8 = 5;
}

/// A response code. Values above 15 need the EDNS extended rcode bits.
pub type Rcode = u16;

/// Response codes.
pub mod rcode {
    use super::Rcode;
    pub const NOERROR: Rcode = 0;
    pub const FORMERR: Rcode = 1;
    pub const SERVFAIL: Rcode = 2;
    pub const NXDOMAIN: Rcode = 3;
    pub const NOTIMP: Rcode = 4;
    pub const REFUSED: Rcode = 5;
    pub const YXDOMAIN: Rcode = 6;
    pub const NOTAUTH: Rcode = 9;
    pub const NOTZONE: Rcode = 10;
    pub const BADVERS: Rcode = 16;

    /// Mnemonic as CoreDNS prints it in logs and the `rcode` metric label.
    pub fn name(r: Rcode) -> &'static str {
        match r {
            NOERROR => "NOERROR",
            FORMERR => "FORMERR",
            SERVFAIL => "SERVFAIL",
            NXDOMAIN => "NXDOMAIN",
            NOTIMP => "NOTIMP",
            REFUSED => "REFUSED",
            YXDOMAIN => "YXDOMAIN",
            7 => "YXRRSET",
            8 => "NXRRSET",
            NOTAUTH => "NOTAUTH",
            NOTZONE => "NOTZONE",
            BADVERS => "BADSIG",
            _ => "UNKNOWN",
        }
    }
}
