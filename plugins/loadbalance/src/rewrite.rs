//! Reordering the records of a finished message.
//!
//! The fast way moves whole records in place and rewrites every compression pointer that
//! pointed into a moved record, so the message keeps exactly its bytes, only in another
//! order. That fails when a pointer would have to point forward (a name spelled out in a
//! record that moves behind one pointing at it); then the message is written again in the new
//! order, names decompressed and compressed anew.
//!
//! All working space lives in per-thread buffers that keep their capacity, so a warm thread
//! reorders without allocating.

use std::cell::RefCell;

use signpost_wire::{
    records, rtype, Name, Owner, Query, RData, RecordRef, Response, Section, HEADER_LEN,
};

use crate::cidr::Cidr;
use crate::order;
use crate::pointers;

/// Per-thread working space.
struct Scratch {
    recs: Vec<RecordRef>,
    order: Vec<usize>,
    other: Vec<usize>,
    seen: Vec<bool>,
    delta: Vec<isize>,
    fixes: Vec<(usize, usize)>,
    bytes: Vec<u8>,
    data: Vec<u8>,
    rebuilt: Response,
}

impl Default for Scratch {
    fn default() -> Scratch {
        Scratch {
            recs: Vec::with_capacity(64),
            order: Vec::with_capacity(64),
            other: Vec::with_capacity(64),
            seen: Vec::with_capacity(64),
            delta: Vec::with_capacity(64),
            fixes: Vec::with_capacity(64),
            bytes: Vec::with_capacity(4096),
            data: Vec::with_capacity(512),
            rebuilt: Response::new(),
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Shuffle every section of `resp` as CoreDNS's round_robin policy does, then apply the
/// `prefer` subnets to the answer and additional sections.
pub(crate) fn balance(query: &Query<'_>, resp: &mut Response, prefer: &[Cidr]) {
    SCRATCH.with_borrow_mut(|s| {
        let Scratch {
            recs,
            order,
            other,
            seen,
            delta,
            fixes,
            bytes,
            data,
            rebuilt,
        } = s;
        // True while the buffer holds moved records the response's compression memory does
        // not know about.
        let mut moved = false;
        for section in [Section::Answer, Section::Authority, Section::Additional] {
            if !collect(resp.bytes(), section, recs) {
                return;
            }
            order::round_robin(recs, order);
            if !prefer.is_empty() && section != Section::Authority {
                order::prefer(resp.bytes(), recs, order, other, seen, prefer);
            }
            if order.iter().enumerate().all(|(i, &k)| i == k) {
                continue;
            }
            if move_records(resp.bytes_mut(), recs, order, delta, fixes, bytes) {
                moved = true;
            } else if rebuild(resp.bytes(), query, section, recs, order, rebuilt, data) {
                resp.set_bytes(rebuilt.bytes());
                moved = false;
            }
        }
        if moved {
            // Reload the buffer so the response forgets the name positions it remembered for
            // compression: they no longer hold the same names.
            bytes.clear();
            bytes.extend_from_slice(resp.bytes());
            resp.set_bytes(bytes);
        }
    });
}

/// The records of `section`, in message order. False when the message is malformed.
fn collect(msg: &[u8], section: Section, out: &mut Vec<RecordRef>) -> bool {
    out.clear();
    for r in records(msg) {
        let Ok(r) = r else { return false };
        if r.section == section {
            out.push(r);
        }
    }
    true
}

fn len(r: &RecordRef) -> usize {
    r.end - r.start
}

/// Move whole records so that position `i` holds old record `order[i]`, and rewrite the
/// pointers into moved records. Leaves the message untouched and returns false when a
/// pointer would end up pointing forward or out of reach.
fn move_records(
    msg: &mut [u8],
    recs: &[RecordRef],
    order: &[usize],
    delta: &mut Vec<isize>,
    fixes: &mut Vec<(usize, usize)>,
    bytes: &mut Vec<u8>,
) -> bool {
    let (Some(first), Some(last)) = (recs.first(), recs.last()) else {
        return false;
    };
    let (from, to) = (first.start, last.end);
    delta.clear();
    delta.resize(recs.len(), 0);
    let mut at = from;
    for &k in order {
        delta[k] = at as isize - recs[k].start as isize;
        at += len(&recs[k]);
    }
    let moved = |x: usize| -> usize {
        if x < from || x >= to {
            return x;
        }
        let k = recs.partition_point(|r| r.start <= x) - 1;
        x.wrapping_add_signed(delta[k])
    };
    fixes.clear();
    let mut ok = true;
    let walked = pointers::for_each(msg, from, &mut |pos, target| {
        let (pos, new_target) = (moved(pos), moved(target));
        if new_target >= pos || new_target > 0x3FFF {
            ok = false;
        } else if new_target != target {
            fixes.push((pos, new_target));
        }
    });
    if !walked || !ok {
        return false;
    }
    bytes.clear();
    bytes.extend_from_slice(&msg[from..to]);
    let mut at = from;
    for &k in order {
        let r = &recs[k];
        msg[at..at + len(r)].copy_from_slice(&bytes[r.start - from..r.end - from]);
        at += len(r);
    }
    for &(pos, target) in fixes.iter() {
        msg[pos..pos + 2].copy_from_slice(&(0xC000 | target as u16).to_be_bytes());
    }
    true
}

/// Write the whole message again into `out`, with `section` in the new order. The header
/// (ID, flags, rcode) and the question are kept as they were.
fn rebuild(
    msg: &[u8],
    query: &Query<'_>,
    section: Section,
    recs: &[RecordRef],
    order: &[usize],
    out: &mut Response,
    data: &mut Vec<u8>,
) -> bool {
    let question_count = msg.get(4..6).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let Ok((_, after_name)) = Name::read(msg, HEADER_LEN) else {
        return false;
    };
    let question = HEADER_LEN..after_name + 4;
    if question_count != Some(1) || question.end > msg.len() {
        return false;
    }
    out.start(query, signpost_wire::rcode::NOERROR);
    for s in [Section::Answer, Section::Authority, Section::Additional] {
        if s == section {
            for &k in order {
                if !emit(msg, &recs[k], out, data) {
                    return false;
                }
            }
            continue;
        }
        for r in records(msg) {
            match r {
                Ok(r) if r.section != s => {}
                Ok(r) if emit(msg, &r, out, data) => {}
                _ => return false,
            }
        }
    }
    let o = out.bytes_mut();
    o[..4].copy_from_slice(&msg[..4]);
    if query.question_wire().len() == question.len() {
        o[question.clone()].copy_from_slice(&msg[question]);
    }
    true
}

/// Append one record of `msg` to `out`, names read in full (and compressed again where the
/// type allows it).
fn emit(msg: &[u8], r: &RecordRef, out: &mut Response, data: &mut Vec<u8>) -> bool {
    let Ok((owner, _)) = Name::read(msg, r.start) else {
        return false;
    };
    let rd = r.rdata_offset();
    // A name inside the data, and where the data goes on after it.
    let name = |at: usize| Name::read(msg, at).ok().filter(|&(_, next)| next <= r.end);
    let u16_at = |at: usize| {
        msg.get(at..at + 2)
            .filter(|_| at + 2 <= r.end)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let push = |out: &mut Response, rdata: &RData<'_>| {
        out.push(r.section, Owner::Name(&owner), r.class, r.ttl, rdata)
    };
    match r.rtype {
        rtype::NS | rtype::CNAME | rtype::PTR => {
            let Some((target, _)) = name(rd) else {
                return false;
            };
            let rdata = match r.rtype {
                rtype::NS => RData::Ns(&target),
                rtype::CNAME => RData::Cname(&target),
                _ => RData::Ptr(&target),
            };
            push(out, &rdata)
        }
        rtype::MX => {
            let (Some(preference), Some((exchange, _))) = (u16_at(rd), name(rd + 2)) else {
                return false;
            };
            push(
                out,
                &RData::Mx {
                    preference,
                    exchange: &exchange,
                },
            )
        }
        rtype::SRV => {
            let (Some(priority), Some(weight), Some(port), Some((target, _))) =
                (u16_at(rd), u16_at(rd + 2), u16_at(rd + 4), name(rd + 6))
            else {
                return false;
            };
            push(
                out,
                &RData::Srv {
                    priority,
                    weight,
                    port,
                    target: &target,
                },
            )
        }
        rtype::SOA => {
            let Some((mname, next)) = name(rd) else {
                return false;
            };
            let Some((rname, next)) = name(next) else {
                return false;
            };
            let Some(n) = msg.get(next..r.end).filter(|n| n.len() == 20) else {
                return false;
            };
            let v = |i: usize| u32::from_be_bytes([n[i], n[i + 1], n[i + 2], n[i + 3]]);
            push(
                out,
                &RData::Soa {
                    mname: &mname,
                    rname: &rname,
                    serial: v(0),
                    refresh: v(4),
                    retry: v(8),
                    expire: v(12),
                    minimum: v(16),
                },
            )
        }
        _ => {
            let Some((first, count)) = pointers::data_names(msg, r) else {
                let raw = RData::Raw {
                    rtype: r.rtype,
                    data: &msg[rd..r.end],
                };
                return push(out, &raw);
            };
            // Other types carry their names uncompressed (RFC 3597), so write them out in full.
            data.clear();
            let Some(head) = msg.get(rd..first) else {
                return false;
            };
            data.extend_from_slice(head);
            let mut at = first;
            for _ in 0..count {
                let Some((n, next)) = name(at) else {
                    return false;
                };
                data.extend_from_slice(n.wire());
                at = next;
            }
            data.extend_from_slice(&msg[at..r.end]);
            push(
                out,
                &RData::Raw {
                    rtype: r.rtype,
                    data,
                },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_wire::text::message_sections;
    use signpost_wire::{build_query, rcode};

    fn name(s: &str) -> Name {
        Name::from_text(s).unwrap()
    }

    /// A response to `www.example.org. A` whose answer is `answer` (owner, address) plus a
    /// TXT record and an RP record (a type whose names are never compressed).
    fn message(packet: &[u8], owners: &[&str]) -> Response {
        let q = Query::parse(packet).unwrap();
        let mut r = Response::new();
        r.start(&q, rcode::NOERROR);
        r.set_authoritative(true);
        r.set_recursion_available(true);
        for (i, owner) in owners.iter().enumerate() {
            let ip = std::net::Ipv4Addr::new(10, 0, 0, i as u8 + 1);
            assert!(r.answer(Owner::Name(&name(owner)), 60, &RData::A(ip)));
        }
        let txt = ["hello".to_string()];
        assert!(r.answer(Owner::Question, 60, &RData::Txt(&txt)));
        let mut rp = name("admin.example.org.").wire().to_vec();
        rp.extend_from_slice(name("info.example.org.").wire());
        assert!(r.additional(
            Owner::Question,
            60,
            &RData::Raw {
                rtype: 17,
                data: &rp
            }
        ));
        r
    }

    fn sorted_records(msg: &[u8]) -> Vec<String> {
        let mut v: Vec<String> = message_sections(msg)
            .unwrap()
            .iter()
            .flatten()
            .map(|r| r.to_string())
            .collect();
        v.sort();
        v
    }

    fn answer_order(msg: &[u8]) -> Vec<String> {
        message_sections(msg).unwrap()[0]
            .iter()
            .map(|r| r.to_string())
            .collect()
    }

    #[test]
    fn moves_in_place_when_pointers_allow_and_writes_again_otherwise() {
        let packet = build_query(77, &name("www.example.org."), rtype::A, true, None);
        let q = Query::parse(&packet).unwrap();
        // (owners of the A records, whether whole records can move)
        let cases: &[(&[&str], bool)] = &[
            (
                &["www.example.org.", "www.example.org.", "www.example.org."],
                true,
            ),
            (
                &["web.example.org.", "web.example.org.", "web.example.org."],
                false,
            ),
        ];
        for (owners, in_place) in cases {
            let original = message(&packet, owners);
            let recs: Vec<RecordRef> = records(original.bytes())
                .map(Result::unwrap)
                .filter(|r| r.section == Section::Answer)
                .collect();
            // The TXT record first, then the A records backwards.
            let order = [3, 2, 1, 0];
            let mut msg = original.bytes().to_vec();
            let (mut delta, mut fixes, mut bytes) = (Vec::new(), Vec::new(), Vec::new());
            let moved = move_records(&mut msg, &recs, &order, &mut delta, &mut fixes, &mut bytes);
            assert_eq!(moved, *in_place, "{owners:?}");
            if !moved {
                assert_eq!(msg, original.bytes(), "left untouched");
                let mut out = Response::new();
                let mut data = Vec::new();
                let section = Section::Answer;
                assert!(rebuild(
                    original.bytes(),
                    &q,
                    section,
                    &recs,
                    &order,
                    &mut out,
                    &mut data
                ));
                msg = out.bytes().to_vec();
            }
            assert_eq!(sorted_records(&msg), sorted_records(original.bytes()));
            let want: Vec<String> = order
                .iter()
                .map(|&k| answer_order(original.bytes())[k].clone())
                .collect();
            assert_eq!(answer_order(&msg), want);
            // ID, flags and the question as the client spelled it are kept.
            assert_eq!(msg[..12], original.bytes()[..12]);
            assert_eq!(&msg[13..16], b"www");
        }
    }
}
