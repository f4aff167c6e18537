//! Records as zone-file text: parse `example.org. 300 IN A 192.0.2.1`, print records read
//! from a message the way miekg/dns (and so CoreDNS's tests) prints them.
//!
//! This is the slow path: table-driven tests, hosts files, log lines, debugging.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::{class, records, rtype, Name, NameError, Owner, RData, Response, Section};

/// Data of an owned record. (Names are inline, so variants differ in size; records here are
/// few and short-lived, so boxing would buy nothing.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    /// A.
    A(Ipv4Addr),
    /// AAAA.
    Aaaa(Ipv6Addr),
    /// CNAME, NS or PTR target.
    Name(Name),
    /// MX.
    Mx(u16, Name),
    /// SRV: priority, weight, port, target.
    Srv(u16, u16, u16, Name),
    /// TXT strings.
    Txt(Vec<String>),
    /// SOA: mname, rname, serial, refresh, retry, expire, minimum.
    Soa(Name, Name, u32, u32, u32, u32, u32),
    /// Anything else, raw.
    Other(Vec<u8>),
}

/// An owned resource record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Owner.
    pub name: Name,
    /// TTL.
    pub ttl: u32,
    /// Class.
    pub class: u16,
    /// Type.
    pub rtype: u16,
    /// Data.
    pub data: RecordData,
}

impl Record {
    /// A record of class IN (what zone transfers and tests build).
    pub fn new_in(name: Name, ttl: u32, rtype: u16, data: RecordData) -> Record {
        Record {
            name,
            ttl,
            class: crate::class::IN,
            rtype,
            data,
        }
    }

    /// The data as [`RData`] for writing into a response.
    pub fn rdata(&self) -> RData<'_> {
        match &self.data {
            RecordData::A(ip) => RData::A(*ip),
            RecordData::Aaaa(ip) => RData::Aaaa(*ip),
            RecordData::Name(n) => match self.rtype {
                rtype::NS => RData::Ns(n),
                rtype::PTR => RData::Ptr(n),
                _ => RData::Cname(n),
            },
            RecordData::Mx(p, n) => RData::Mx {
                preference: *p,
                exchange: n,
            },
            RecordData::Srv(p, w, port, t) => RData::Srv {
                priority: *p,
                weight: *w,
                port: *port,
                target: t,
            },
            RecordData::Txt(s) => RData::Txt(s),
            RecordData::Soa(m, r, a, b, c, d, e) => RData::Soa {
                mname: m,
                rname: r,
                serial: *a,
                refresh: *b,
                retry: *c,
                expire: *d,
                minimum: *e,
            },
            RecordData::Other(d) => RData::Raw {
                rtype: self.rtype,
                data: d,
            },
        }
    }

    /// Append this record to `resp` in `section`.
    pub fn write(&self, resp: &mut Response, section: Section) -> bool {
        resp.push(
            section,
            Owner::Name(&self.name),
            self.class,
            self.ttl,
            &self.rdata(),
        )
    }

    /// Decode the record at `r` in `msg`.
    pub fn from_wire(msg: &[u8], r: &crate::RecordRef) -> Result<Record, NameError> {
        let (name, _) = Name::read(msg, r.start)?;
        let at = r.rdata_offset();
        let rd = r.rdata(msg);
        let u16_at = |i: usize| -> Result<u16, NameError> {
            rd.get(i..i + 2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .ok_or(NameError::Truncated)
        };
        let u32_at = |b: &[u8], i: usize| -> Result<u32, NameError> {
            b.get(i..i + 4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or(NameError::Truncated)
        };
        let data = match r.rtype {
            rtype::A if rd.len() == 4 => RecordData::A(Ipv4Addr::new(rd[0], rd[1], rd[2], rd[3])),
            rtype::AAAA if rd.len() == 16 => {
                let mut o = [0u8; 16];
                o.copy_from_slice(rd);
                RecordData::Aaaa(Ipv6Addr::from(o))
            }
            rtype::CNAME | rtype::NS | rtype::PTR => RecordData::Name(Name::read(msg, at)?.0),
            rtype::MX => RecordData::Mx(u16_at(0)?, Name::read(msg, at + 2)?.0),
            rtype::SRV => RecordData::Srv(
                u16_at(0)?,
                u16_at(2)?,
                u16_at(4)?,
                Name::read(msg, at + 6)?.0,
            ),
            rtype::TXT => {
                let mut out = Vec::new();
                let mut i = 0;
                while i < rd.len() {
                    let l = rd[i] as usize;
                    let s = rd.get(i + 1..i + 1 + l).ok_or(NameError::Truncated)?;
                    out.push(String::from_utf8_lossy(s).into_owned());
                    i += 1 + l;
                }
                RecordData::Txt(out)
            }
            rtype::SOA => {
                let (m, p) = Name::read(msg, at)?;
                let (rn, p) = Name::read(msg, p)?;
                let nums = msg.get(p..r.end).ok_or(NameError::Truncated)?;
                RecordData::Soa(
                    m,
                    rn,
                    u32_at(nums, 0)?,
                    u32_at(nums, 4)?,
                    u32_at(nums, 8)?,
                    u32_at(nums, 12)?,
                    u32_at(nums, 16)?,
                )
            }
            _ => RecordData::Other(rd.to_vec()),
        };
        Ok(Record {
            name,
            ttl: r.ttl,
            class: r.class,
            rtype: r.rtype,
            data,
        })
    }
}

/// Every record of a message (answer, authority, additional; OPT included), decoded.
pub fn message_records(msg: &[u8]) -> Result<Vec<Record>, NameError> {
    records(msg)
        .map(|r| r.and_then(|r| Record::from_wire(msg, &r)))
        .collect()
}

/// The records of a message by section, without the OPT pseudo-record.
pub fn message_sections(msg: &[u8]) -> Result<[Vec<Record>; 3], NameError> {
    let mut out: [Vec<Record>; 3] = Default::default();
    for r in records(msg) {
        let r = r?;
        if r.rtype == rtype::OPT {
            continue;
        }
        out[r.section as usize].push(Record::from_wire(msg, &r)?);
    }
    Ok(out)
}

fn class_name(c: u16) -> String {
    match c {
        class::IN => "IN".into(),
        class::CH => "CH".into(),
        class::ANY => "ANY".into(),
        _ => format!("CLASS{c}"),
    }
}

fn type_name(t: u16) -> String {
    rtype::name(t).map_or_else(|| format!("TYPE{t}"), str::to_string)
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\t{}\t{}\t{}\t",
            self.name,
            self.ttl,
            class_name(self.class),
            type_name(self.rtype)
        )?;
        match &self.data {
            RecordData::A(ip) => write!(f, "{ip}"),
            RecordData::Aaaa(ip) => write!(f, "{ip}"),
            RecordData::Name(n) => write!(f, "{n}"),
            RecordData::Mx(p, n) => write!(f, "{p} {n}"),
            RecordData::Srv(p, w, port, t) => write!(f, "{p} {w} {port} {t}"),
            RecordData::Txt(s) => {
                let quoted: Vec<String> = s
                    .iter()
                    .map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")))
                    .collect();
                f.write_str(&quoted.join(" "))
            }
            RecordData::Soa(m, r, a, b, c, d, e) => write!(f, "{m} {r} {a} {b} {c} {d} {e}"),
            RecordData::Other(d) => {
                write!(f, "\\# {}", d.len())?;
                if !d.is_empty() {
                    f.write_str(" ")?;
                }
                for b in d {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// Why record text did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError(pub String);

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TextError {}

fn split_fields(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quote = false;
    let mut quoted_field = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_quote = !in_quote;
                quoted_field = true;
            }
            '\\' if in_quote => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() && !in_quote => {
                if !cur.is_empty() || quoted_field {
                    out.push(std::mem::take(&mut cur));
                    quoted_field = false;
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() || quoted_field {
        out.push(cur);
    }
    out
}

impl FromStr for Record {
    type Err = TextError;

    /// `NAME [TTL] [CLASS] TYPE RDATA...`; TTL defaults to 3600, class to IN.
    fn from_str(s: &str) -> Result<Record, TextError> {
        let err = |m: &str| TextError(format!("{m} in record '{s}'"));
        let f = split_fields(s);
        let mut it = f.iter().map(String::as_str).peekable();
        let name: Name = it
            .next()
            .ok_or_else(|| err("empty"))?
            .parse()
            .map_err(|_| err("bad owner name"))?;
        let mut ttl = 3600;
        let mut cls = class::IN;
        let mut rt = None;
        for _ in 0..3 {
            let Some(&tok) = it.peek() else { break };
            if let Ok(v) = tok.parse::<u32>() {
                ttl = v;
                it.next();
            } else if tok.eq_ignore_ascii_case("IN") {
                cls = class::IN;
                it.next();
            } else if tok.eq_ignore_ascii_case("CH") {
                cls = class::CH;
                it.next();
            } else {
                rt = Some(rtype::from_name(tok).ok_or_else(|| err("unknown type"))?);
                it.next();
                break;
            }
        }
        let rt = rt.ok_or_else(|| err("missing type"))?;
        let rest: Vec<&str> = it.collect();
        let n = |i: usize| -> Result<Name, TextError> {
            rest.get(i)
                .ok_or_else(|| err("missing name"))?
                .parse()
                .map_err(|_| err("bad name"))
        };
        let num = |i: usize| -> Result<u32, TextError> {
            rest.get(i)
                .ok_or_else(|| err("missing number"))?
                .parse()
                .map_err(|_| err("bad number"))
        };
        let data = match rt {
            rtype::A => RecordData::A(
                rest.first()
                    .and_then(|a| a.parse().ok())
                    .ok_or_else(|| err("bad IPv4 address"))?,
            ),
            rtype::AAAA => RecordData::Aaaa(
                rest.first()
                    .and_then(|a| a.parse().ok())
                    .ok_or_else(|| err("bad IPv6 address"))?,
            ),
            rtype::CNAME | rtype::NS | rtype::PTR => RecordData::Name(n(0)?),
            rtype::MX => RecordData::Mx(num(0)? as u16, n(1)?),
            rtype::SRV => RecordData::Srv(num(0)? as u16, num(1)? as u16, num(2)? as u16, n(3)?),
            rtype::TXT => RecordData::Txt(rest.iter().map(|s| s.to_string()).collect()),
            rtype::SOA => {
                RecordData::Soa(n(0)?, n(1)?, num(2)?, num(3)?, num(4)?, num(5)?, num(6)?)
            }
            _ => return Err(err("type not supported in text")),
        };
        Ok(Record {
            name,
            ttl,
            class: cls,
            rtype: rt,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{build_query, rcode, Query};

    #[test]
    fn parse_print_round_trip() {
        for t in [
            "example.org.\t303\tIN\tA\t127.0.0.1",
            "example.org.\t303\tIN\tAAAA\t::1",
            "_http._tcp.svc.ns.svc.cluster.local.\t5\tIN\tSRV\t0 100 80 svc.ns.svc.cluster.local.",
            "dns-version.cluster.local.\t28800\tIN\tTXT\t\"1.1.0\"",
            "cluster.local.\t5\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. 12 7200 1800 86400 5",
            "1.0.0.10.in-addr.arpa.\t5\tIN\tPTR\tsvc.ns.svc.cluster.local.",
        ] {
            let r: Record = t.parse().unwrap();
            assert_eq!(r.to_string(), t);
        }
        let r: Record = "a.example. A 10.0.0.1".parse().unwrap();
        assert_eq!((r.ttl, r.class), (3600, class::IN));
        assert!("a.example. 5 IN A nope".parse::<Record>().is_err());
    }

    #[test]
    fn wire_round_trip() {
        let p = build_query(3, &"x.example.".parse().unwrap(), rtype::TXT, false, None);
        let q = Query::parse(&p).unwrap();
        let mut resp = Response::new();
        resp.start(&q, rcode::NOERROR);
        let recs: Vec<Record> = [
            "x.example. 5 IN TXT \"hello world\" \"two\"",
            "x.example. 5 IN CNAME y.example.",
            "example. 5 IN SOA ns.example. host.example. 1 2 3 4 5",
        ]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
        recs[0].write(&mut resp, Section::Answer);
        recs[1].write(&mut resp, Section::Answer);
        recs[2].write(&mut resp, Section::Authority);
        let back = message_records(resp.bytes()).unwrap();
        assert_eq!(back, recs);
        let secs = message_sections(resp.bytes()).unwrap();
        assert_eq!(secs[0].len(), 2);
        assert_eq!(secs[1].len(), 1);
    }
}
