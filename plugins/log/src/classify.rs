//! What kind of answer a response is (CoreDNS's `response.Typify`) and which log class that
//! falls in (`response.Classify`): `class denial` must log exactly what CoreDNS logs.

use std::time::{SystemTime, UNIX_EPOCH};

use signpost_wire::{opcode, rcode, records, rtype, Rcode, Section};

/// The type of a response message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A positive answer.
    NoError,
    /// NXDOMAIN.
    NameError,
    /// SERVFAIL or NOTIMP.
    ServerError,
    /// NOERROR with an SOA in the authority section: the name exists, the type does not.
    NoData,
    /// NOERROR with NS records in the authority section.
    Delegation,
    /// NOTIFY, AXFR or IXFR.
    Meta,
    /// A dynamic update.
    Update,
    /// Anything else (including answers with expired signatures).
    OtherError,
}

impl Kind {
    /// The name CoreDNS gives the type (`{/log/type}`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NoError => "NOERROR",
            Kind::NameError => "NXDOMAIN",
            Kind::ServerError => "SERVERERROR",
            Kind::NoData => "NODATA",
            Kind::Delegation => "DELEGATION",
            Kind::Meta => "META",
            Kind::Update => "UPDATE",
            Kind::OtherError => "OTHERERROR",
        }
    }

    /// The log class of this type.
    pub fn class(self) -> Class {
        match self {
            Kind::NoError | Kind::Delegation => Class::Success,
            Kind::NameError | Kind::NoData => Class::Denial,
            _ => Class::Error,
        }
    }
}

/// A class of responses, as named after `log { class ... }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Every response.
    All,
    /// Positive answers and delegations.
    Success,
    /// NXDOMAIN and NODATA.
    Denial,
    /// Everything else.
    Error,
}

impl Class {
    /// Parse a class name; the error text is CoreDNS's.
    pub fn from_name(s: &str) -> Result<Class, String> {
        match s {
            "all" => Ok(Class::All),
            "success" => Ok(Class::Success),
            "denial" => Ok(Class::Denial),
            "error" => Ok(Class::Error),
            _ => Err(format!("invalid Class: {s}")),
        }
    }

    /// The name (`{/log/class}`).
    pub fn as_str(self) -> &'static str {
        match self {
            Class::All => "all",
            Class::Success => "success",
            Class::Denial => "denial",
            Class::Error => "error",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of classes (empty means `all`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Classes(u8);

impl Classes {
    /// Add a class.
    pub fn insert(&mut self, c: Class) {
        self.0 |= c.bit();
    }

    /// Does a response of class `c` get logged?
    pub fn matches(self, c: Class) -> bool {
        self.0 == 0 || self.0 & Class::All.bit() != 0 || self.0 & c.bit() != 0
    }

    /// True when every class is logged (no need to classify).
    pub fn is_all(self) -> bool {
        self.0 == 0 || self.0 & Class::All.bit() != 0
    }
}

/// Classify a finished message. `rc` is the full response code, `qtype` the question type,
/// `dnssec_ok` whether the client asked for signatures (only then do expired signatures
/// make an answer an error, as in CoreDNS).
pub fn typify(msg: &[u8], rc: Rcode, qtype: u16, dnssec_ok: bool) -> Kind {
    if msg.len() < signpost_wire::HEADER_LEN {
        return Kind::OtherError;
    }
    let op = (msg[2] >> 3) & 0x0F;
    if op == opcode::UPDATE {
        return Kind::Update;
    }
    if op == opcode::NOTIFY || qtype == rtype::AXFR || qtype == rtype::IXFR {
        return Kind::Meta;
    }
    if dnssec_ok && has_expired_signature(msg, unix_now()) {
        return Kind::OtherError;
    }
    let answers = u16::from_be_bytes([msg[6], msg[7]]);
    if answers > 0 && rc == rcode::NOERROR {
        return Kind::NoError;
    }
    if answers > 0 && rc == rcode::NXDOMAIN {
        return Kind::OtherError;
    }
    let (mut soa, mut ns) = (false, 0);
    for r in records(msg).flatten() {
        if r.section != Section::Authority {
            continue;
        }
        match r.rtype {
            rtype::SOA => soa = true,
            rtype::NS => ns += 1,
            _ => {}
        }
    }
    match rc {
        rcode::NOERROR if soa => Kind::NoData,
        rcode::NXDOMAIN => Kind::NameError,
        rcode::SERVFAIL | rcode::NOTIMP => Kind::ServerError,
        rcode::NOERROR if ns > 0 => Kind::Delegation,
        rcode::NOERROR => Kind::NoError,
        _ => Kind::OtherError,
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Seconds in 68 years: RRSIG times are serial numbers (RFC 4034 3.1.5) that wrap.
const YEAR68: i64 = 1 << 31;

/// Is any RRSIG in the message outside its validity period at `now`?
fn has_expired_signature(msg: &[u8], now: i64) -> bool {
    records(msg).flatten().any(|r| {
        if r.rtype != rtype::RRSIG {
            return false;
        }
        let rd = r.rdata(msg);
        if rd.len() < 16 {
            return false;
        }
        let at = |i: usize| i64::from(u32::from_be_bytes([rd[i], rd[i + 1], rd[i + 2], rd[i + 3]]));
        let (expiration, inception) = (at(8), at(12));
        let start = inception + (inception - now) / YEAR68 * YEAR68;
        let end = expiration + (expiration - now) / YEAR68 * YEAR68;
        !(start <= now && now <= end)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_wire::{build_query, Name, Owner, Query, RData, Response};

    fn reply(qtype: u16, rc: Rcode, fill: impl FnOnce(&mut Response)) -> (Vec<u8>, u16) {
        let p = build_query(
            1,
            &Name::from_text("a.example.org.").unwrap(),
            qtype,
            true,
            None,
        );
        let q = Query::parse(&p).unwrap();
        let mut r = Response::new();
        r.start(&q, rc);
        fill(&mut r);
        (r.bytes().to_vec(), qtype)
    }

    fn kind(qtype: u16, rc: Rcode, fill: impl FnOnce(&mut Response)) -> Kind {
        let (m, t) = reply(qtype, rc, fill);
        typify(&m, rc, t, false)
    }

    #[test]
    fn types_and_classes() {
        let a = RData::A("192.0.2.1".parse().unwrap());
        let soa = RData::Soa {
            mname: &Name::from_text("ns.example.org.").unwrap(),
            rname: &Name::from_text("h.example.org.").unwrap(),
            serial: 1,
            refresh: 2,
            retry: 3,
            expire: 4,
            minimum: 5,
        };
        let ns = RData::Ns(&Name::from_text("ns.example.org.").unwrap());
        let k = kind(rtype::A, rcode::NOERROR, |r| {
            r.answer(Owner::Question, 5, &a);
        });
        assert_eq!(k, Kind::NoError);
        assert_eq!(k.class(), Class::Success);
        let k = kind(rtype::A, rcode::NOERROR, |r| {
            r.authority(Owner::Question, 5, &soa);
        });
        assert_eq!((k, k.class()), (Kind::NoData, Class::Denial));
        let k = kind(rtype::A, rcode::NXDOMAIN, |_| {});
        assert_eq!((k, k.class()), (Kind::NameError, Class::Denial));
        let k = kind(rtype::A, rcode::NOERROR, |r| {
            r.authority(Owner::Question, 5, &ns);
        });
        assert_eq!((k, k.class()), (Kind::Delegation, Class::Success));
        let k = kind(rtype::A, rcode::SERVFAIL, |_| {});
        assert_eq!((k, k.class()), (Kind::ServerError, Class::Error));
        let k = kind(rtype::A, rcode::REFUSED, |_| {});
        assert_eq!((k, k.class()), (Kind::OtherError, Class::Error));
        assert_eq!(kind(rtype::AXFR, rcode::NOERROR, |_| {}), Kind::Meta);
        assert_eq!(kind(rtype::A, rcode::NOERROR, |_| {}), Kind::NoError);
    }

    #[test]
    fn class_sets() {
        let mut c = Classes::default();
        assert!(c.is_all() && c.matches(Class::Error));
        c.insert(Class::Denial);
        assert!(c.matches(Class::Denial) && !c.matches(Class::Success));
        c.insert(Class::All);
        assert!(c.matches(Class::Success));
        assert_eq!(
            Class::from_name("bogus"),
            Err("invalid Class: bogus".into())
        );
    }

    #[test]
    fn expired_signatures_are_found() {
        let rrsig = |inception: u32, expiration: u32| {
            let mut d = vec![0, 1, 8, 3, 0, 0, 0, 60];
            d.extend_from_slice(&expiration.to_be_bytes());
            d.extend_from_slice(&inception.to_be_bytes());
            d.extend_from_slice(&[0, 1, 0, 0xAA]);
            d
        };
        let with_sig = |data: &[u8]| {
            reply(rtype::A, rcode::NOERROR, |r| {
                r.answer(
                    Owner::Question,
                    5,
                    &RData::Raw {
                        rtype: rtype::RRSIG,
                        data,
                    },
                );
            })
            .0
        };
        let m = with_sig(&rrsig(1_000, 2_000));
        assert!(!has_expired_signature(&m, 1_500));
        assert!(has_expired_signature(&m, 2_500));
        assert!(has_expired_signature(&m, 500));
        let m = with_sig(&rrsig(1_699_000_000, 1_701_000_000));
        assert!(!has_expired_signature(&m, 1_700_000_000));
        // Only a client that asked for signatures sees an expired one as an error.
        let m = with_sig(&rrsig(1_000, 2_000));
        assert_eq!(typify(&m, rcode::NOERROR, rtype::A, false), Kind::NoError);
        assert_eq!(typify(&m, rcode::NOERROR, rtype::A, true), Kind::OtherError);
    }
}
