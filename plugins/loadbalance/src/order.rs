//! The order CoreDNS gives a section's records: `roundRobin`, then the `prefer` subnets.
//!
//! Orders are lists of old record indices by new position, so that the bytes are moved once,
//! after the whole order is known.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use signpost_wire::{rtype, RecordRef};

use crate::cidr::Cidr;
use crate::rng;

/// How CoreDNS sorts records before shuffling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Cname,
    Address,
    Mx,
    Rest,
}

fn group(t: u16) -> Group {
    match t {
        rtype::CNAME => Group::Cname,
        rtype::A | rtype::AAAA => Group::Address,
        rtype::MX => Group::Mx,
        _ => Group::Rest,
    }
}

/// True for A and AAAA.
pub(crate) fn is_address(t: u16) -> bool {
    group(t) == Group::Address
}

/// CoreDNS's `roundRobin`: a section of only A (or only AAAA) records is shuffled as a
/// whole; otherwise CNAMEs come first, then other types, then the address records
/// (A and AAAA together) shuffled, then the MX records shuffled.
pub(crate) fn round_robin(recs: &[RecordRef], order: &mut Vec<usize>) {
    order.clear();
    let n = recs.len();
    order.extend(0..n);
    if n <= 1 {
        return;
    }
    let first = recs[0].rtype;
    if is_address(first) && recs.iter().all(|r| r.rtype == first) {
        rng::shuffle(order);
        return;
    }
    order.clear();
    let push = |order: &mut Vec<usize>, g: Group| {
        order.extend((0..n).filter(|&i| group(recs[i].rtype) == g));
        order.len()
    };
    push(order, Group::Cname);
    let address = push(order, Group::Rest);
    let mx = push(order, Group::Address);
    push(order, Group::Mx);
    rng::shuffle(&mut order[address..mx]);
    rng::shuffle(&mut order[mx..]);
}

/// CoreDNS's `reorderPreferredSubnets` for one section, applied to `order`: CNAMEs, then the
/// address records in the preferred subnets (subnet by subnet, in the order given), then the
/// other address records, then MX, then everything else; ties keep their current order.
pub(crate) fn prefer(
    msg: &[u8],
    recs: &[RecordRef],
    order: &mut Vec<usize>,
    out: &mut Vec<usize>,
    seen: &mut Vec<bool>,
    subnets: &[Cidr],
) {
    out.clear();
    seen.clear();
    seen.resize(recs.len(), false);
    let of = |k: usize| group(recs[k].rtype);
    out.extend(order.iter().copied().filter(|&k| of(k) == Group::Cname));
    for subnet in subnets {
        for &k in order.iter() {
            if seen[k] || of(k) != Group::Address {
                continue;
            }
            if address(msg, &recs[k]).is_some_and(|ip| subnet.contains(ip)) {
                out.push(k);
                seen[k] = true;
            }
        }
    }
    out.extend(
        order
            .iter()
            .copied()
            .filter(|&k| of(k) == Group::Address && !seen[k]),
    );
    out.extend(order.iter().copied().filter(|&k| of(k) == Group::Mx));
    out.extend(order.iter().copied().filter(|&k| of(k) == Group::Rest));
    std::mem::swap(order, out);
}

/// The address in an A or AAAA record's data.
fn address(msg: &[u8], r: &RecordRef) -> Option<IpAddr> {
    let data = msg.get(r.rdata_offset()..r.end)?;
    match (r.rtype, data.len()) {
        (rtype::A, 4) => Some(IpAddr::V4(Ipv4Addr::new(
            data[0], data[1], data[2], data[3],
        ))),
        (rtype::AAAA, 16) => {
            let mut b = [0u8; 16];
            b.copy_from_slice(data);
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}
