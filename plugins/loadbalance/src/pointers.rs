//! Where the domain names of a record are, and the compression pointers in them.
//!
//! Moving a record moves the names other records point into, so every pointer has to be
//! found and, if its target moved, rewritten. Pointers may sit in owner names and in the
//! names inside the data of the types whose data holds domain names.

use signpost_wire::{records, rtype, RecordRef};

const MD: u16 = 3;
const MF: u16 = 4;
const MB: u16 = 7;
const MG: u16 = 8;
const MR: u16 = 9;
const MINFO: u16 = 14;
const RP: u16 = 17;
const AFSDB: u16 = 18;
const RT: u16 = 21;
const PX: u16 = 26;
const KX: u16 = 36;
const DNAME: u16 = 39;

/// The names inside a record's data: offset of the first one and how many follow it
/// back to back. `None` for types whose data holds no name.
pub(crate) fn data_names(msg: &[u8], r: &RecordRef) -> Option<(usize, usize)> {
    let rd = r.rdata_offset();
    Some(match r.rtype {
        rtype::NS | MD | MF | rtype::CNAME | MB | MG | MR | rtype::PTR | DNAME | rtype::NSEC => {
            (rd, 1)
        }
        rtype::SOA | MINFO | RP => (rd, 2),
        rtype::MX | AFSDB | RT | KX => (rd + 2, 1),
        PX => (rd + 2, 2),
        rtype::SRV => (rd + 6, 1),
        rtype::RRSIG => (rd + 18, 1),
        rtype::NAPTR => {
            // order, preference, then flags, services and regexp as character-strings.
            let mut at = rd + 4;
            for _ in 0..3 {
                at += 1 + *msg.get(at)? as usize;
            }
            (at, 1)
        }
        _ => return None,
    })
}

/// Calls `f(position, target)` for every compression pointer in the records that start at or
/// after offset `from`. Returns false when the message cannot be walked.
pub(crate) fn for_each(msg: &[u8], from: usize, f: &mut dyn FnMut(usize, usize)) -> bool {
    for r in records(msg) {
        let Ok(r) = r else { return false };
        if r.start < from {
            continue;
        }
        if scan_name(msg, r.start, r.fixed, f).is_none() {
            return false;
        }
        if let Some((mut at, count)) = data_names(msg, &r) {
            for _ in 0..count {
                match scan_name(msg, at, r.end, f) {
                    Some(next) => at = next,
                    None => break,
                }
            }
        }
    }
    true
}

/// Walks the name at `pos` (it must end before `limit`) without following its pointer,
/// reporting the pointer if there is one. Returns the offset just after the name, `None` if
/// the name is malformed.
fn scan_name(
    msg: &[u8],
    mut pos: usize,
    limit: usize,
    f: &mut dyn FnMut(usize, usize),
) -> Option<usize> {
    loop {
        if pos >= limit {
            return None;
        }
        let b = *msg.get(pos)?;
        match b & 0xC0 {
            0x00 if b == 0 => return Some(pos + 1),
            0x00 => pos += 1 + b as usize,
            0xC0 => {
                if pos + 2 > limit {
                    return None;
                }
                let target = (((b & 0x3F) as usize) << 8) | *msg.get(pos + 1)? as usize;
                f(pos, target);
                return Some(pos + 2);
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_wire::{build_query, rcode, Name, Owner, Query, RData, Response};

    #[test]
    fn finds_pointers_in_owners_and_data() {
        let n = |s: &str| Name::from_text(s).unwrap();
        let p = build_query(1, &n("example.org."), rtype::MX, false, None);
        let q = Query::parse(&p).unwrap();
        let mut r = Response::new();
        r.start(&q, rcode::NOERROR);
        let mail = n("mail.example.org.");
        r.answer(
            Owner::Question,
            5,
            &RData::Mx {
                preference: 1,
                exchange: &mail,
            },
        );
        r.additional(
            Owner::Name(&mail),
            5,
            &RData::A("10.0.0.1".parse().unwrap()),
        );
        let mut found = Vec::new();
        assert!(for_each(r.bytes(), 0, &mut |p, t| found.push((p, t))));
        // Answer owner -> question; MX exchange "mail" + pointer -> question; additional owner
        // -> the exchange name inside the MX data.
        let answer = 12 + 13 + 4;
        let exchange = answer + 2 + 10 + 2;
        assert_eq!(
            found,
            [(answer, 12), (exchange + 5, 12), (exchange + 7, exchange)]
        );
        let mut later = Vec::new();
        assert!(for_each(r.bytes(), exchange + 7, &mut |p, t| later.push((p, t))));
        assert_eq!(later, [(exchange + 7, exchange)]);
    }
}
