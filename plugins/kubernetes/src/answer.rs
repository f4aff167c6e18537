//! Turning a [`Found`] into records: A/AAAA, SRV (with address glue), PTR, NS, SOA.
//!
//! Records go straight into the response buffer (or, on the CNAME-chasing slow path, into a
//! list). Names are assembled on the stack from the index's wire labels and the zone as the
//! client spelled it. De-duplication (CoreDNS removes repeated A records and repeated
//! `(target, port)` SRV records) consults flags the index precomputed, so the common case
//! of no duplicates costs nothing and the rare one scans only earlier results.

use std::net::IpAddr;

use signpost_wire::text::{Record, RecordData};
use signpost_wire::{class, rtype, Name, Owner, RData, Response};

use crate::index::records::{AddrRec, SliceRec, SvcEntry};
use crate::index::snapshot::NsAddr;
use crate::lookup::{EpFilter, Found};

/// Which address family a query wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    V4,
    V6,
}

impl Family {
    #[inline]
    pub(crate) fn of(self, ip: &IpAddr) -> bool {
        matches!(
            (self, ip),
            (Family::V4, IpAddr::V4(_)) | (Family::V6, IpAddr::V6(_))
        )
    }
}

/// Build a name from wire label runs followed by `zone`.
pub(crate) struct NameBuf {
    buf: [u8; 256],
    len: usize,
    ok: bool,
}

impl NameBuf {
    pub(crate) fn new() -> NameBuf {
        NameBuf {
            buf: [0; 256],
            len: 0,
            ok: true,
        }
    }

    /// Append one label (raw bytes).
    pub(crate) fn label(mut self, l: &[u8]) -> NameBuf {
        if l.is_empty() || l.len() > 63 || self.len + 1 + l.len() > 255 {
            self.ok = false;
            return self;
        }
        self.buf[self.len] = l.len() as u8;
        self.buf[self.len + 1..self.len + 1 + l.len()].copy_from_slice(l);
        self.len += 1 + l.len();
        self
    }

    /// Append wire labels (length-prefixed, no root).
    pub(crate) fn wire(mut self, w: &[u8]) -> NameBuf {
        if self.len + w.len() > 255 {
            self.ok = false;
            return self;
        }
        self.buf[self.len..self.len + w.len()].copy_from_slice(w);
        self.len += w.len();
        self
    }

    /// Finish with a zone.
    pub(crate) fn zone(self, zone: &Name) -> Option<Name> {
        let z = zone.wire();
        if !self.ok || self.len + z.len() > 255 {
            return None;
        }
        let mut buf = self.buf;
        buf[self.len..self.len + z.len()].copy_from_slice(z);
        Name::from_wire(&buf[..self.len + z.len()]).ok()
    }
}

const SVC: &[u8] = b"\x03svc";
const POD: &[u8] = b"\x03pod";

/// Where address records go.
pub(crate) trait Sink {
    fn addr(&mut self, ip: IpAddr);
}

/// Into the answer section, owned by the question name.
pub(crate) struct RespSink<'r> {
    pub(crate) resp: &'r mut Response,
    pub(crate) ttl: u32,
    pub(crate) n: usize,
}

impl Sink for RespSink<'_> {
    fn addr(&mut self, ip: IpAddr) {
        if self.resp.answer(Owner::Question, self.ttl, &rdata(ip)) {
            self.n += 1;
        }
    }
}

/// Into a list, owned by `owner` (the CNAME-chasing path).
pub(crate) struct VecSink<'v> {
    pub(crate) owner: Name,
    pub(crate) ttl: u32,
    pub(crate) out: &'v mut Vec<Record>,
}

impl Sink for VecSink<'_> {
    fn addr(&mut self, ip: IpAddr) {
        self.out.push(addr_record(self.owner, self.ttl, ip));
    }
}

pub(crate) fn rdata<'a>(ip: IpAddr) -> RData<'a> {
    match ip {
        IpAddr::V4(v4) => RData::A(v4),
        IpAddr::V6(v6) => RData::Aaaa(v6),
    }
}

pub(crate) fn addr_record(owner: Name, ttl: u32, ip: IpAddr) -> Record {
    let (t, data) = match ip {
        IpAddr::V4(v4) => (rtype::A, RecordData::A(v4)),
        IpAddr::V6(v6) => (rtype::AAAA, RecordData::Aaaa(v6)),
    };
    Record {
        name: owner,
        ttl,
        class: class::IN,
        rtype: t,
        data,
    }
}

/// Was an earlier address of the entry (before flat index `k`) already selected with the
/// same IP? Only called for addresses the index flagged as repeating an earlier IP.
fn ip_seen(entry: &SvcEntry, f: &EpFilter<'_>, k: usize, ip: IpAddr, need_port: bool) -> bool {
    let mut idx = 0usize;
    for s in entry.slices.iter() {
        let ok = slice_selected(f, s, need_port);
        for a in f.addrs(s) {
            if idx >= k {
                return false;
            }
            idx += 1;
            if ok && a.ip == Some(ip) && f.addr(s, &a) {
                return true;
            }
        }
    }
    false
}

/// Does the slice have a selected port (for SRV: a selected port other than -1)?
fn slice_selected(f: &EpFilter<'_>, s: &SliceRec, srv: bool) -> bool {
    f.ports(s).any(|p| !srv || p.port != -1)
}

/// A/AAAA records of `found` (everything but ExternalName, which the caller chases).
pub(crate) fn addresses(found: &Found<'_>, ns: &[NsAddr], family: Family, sink: &mut dyn Sink) {
    match *found {
        Found::Cluster { svc, .. } => {
            for (i, ip) in svc.cluster_ips.iter().enumerate() {
                if family.of(ip) && !(svc.ip_dups && svc.cluster_ips[..i].contains(ip)) {
                    sink.addr(*ip);
                }
            }
        }
        Found::Endpoints { entry, filter, .. } => {
            let mut k = 0usize;
            for s in entry.slices.iter() {
                let selected = slice_selected(&filter, s, false);
                for a in filter.addrs(s) {
                    let here = k;
                    k += 1;
                    if !selected || !filter.addr(s, &a) {
                        continue;
                    }
                    let Some(ip) = a.ip.filter(|ip| family.of(ip)) else {
                        continue;
                    };
                    if entry.ip_repeats(here) && ip_seen(entry, &filter, here, ip, false) {
                        continue;
                    }
                    sink.addr(ip);
                }
            }
        }
        Found::Pod { ip, .. } => {
            if family.of(&ip) {
                sink.addr(ip);
            }
        }
        Found::Nameservers => {
            for (i, a) in ns.iter().enumerate() {
                if family.of(&a.ip) && !ns[..i].iter().any(|b| b.ip == a.ip) {
                    sink.addr(a.ip);
                }
            }
        }
        Found::Empty | Found::External { .. } => {}
    }
}

/// CoreDNS's SRV weight for `n` results of equal priority: floor((100 / (100·n)) · 100),
/// at least 1.
pub(crate) fn srv_weight(n: usize) -> u16 {
    let w = (100.0 / (100.0 * n.max(1) as f64)) * 100.0;
    let w = w.floor();
    if w < 1.0 {
        1
    } else {
        w as u16
    }
}

/// Target of an endpoint result: `<host>[.<cluster>].<svc>.<ns>.svc.<zone>`.
fn endpoint_target(
    entry: &SvcEntry,
    s: &SliceRec,
    a: &AddrRec<'_>,
    mc: bool,
    zone: &Name,
) -> Option<Name> {
    let mut b = NameBuf::new().label(&a.host);
    let cluster = s.cluster();
    if mc && !cluster.is_empty() {
        b = b.label(cluster);
    }
    b.wire(&entry.key).wire(SVC).zone(zone)
}

/// Was `(host, port)` already answered by an earlier address with the same label?
fn srv_seen(entry: &SvcEntry, f: &EpFilter<'_>, k: usize, host: &[u8], port: i32) -> bool {
    let mut idx = 0usize;
    for s in entry.slices.iter() {
        let has_port = f.ports(s).any(|p| p.port == port);
        for a in f.addrs(s) {
            if idx >= k {
                return false;
            }
            idx += 1;
            if has_port && *a.host == *host && f.addr(s, &a) {
                return true;
            }
        }
    }
    false
}

/// Was `(host, ip)` already given as glue by an earlier address?
fn glue_seen(entry: &SvcEntry, f: &EpFilter<'_>, k: usize, host: &[u8], ip: IpAddr) -> bool {
    let mut idx = 0usize;
    for s in entry.slices.iter() {
        let ok = slice_selected(f, s, true);
        for a in f.addrs(s) {
            if idx >= k {
                return false;
            }
            idx += 1;
            if ok && *a.host == *host && a.ip == Some(ip) && f.addr(s, &a) {
                return true;
            }
        }
    }
    false
}

/// SRV records (answer) then their address glue (additional). Returns the answer count.
pub(crate) fn srv(found: &Found<'_>, zone: &Name, ttl: u32, resp: &mut Response) -> usize {
    let weight = srv_weight(found.count(0));
    let mut n = 0usize;
    let mut srv_rec = |resp: &mut Response, port: i32, target: &Name| {
        let rd = RData::Srv {
            priority: 0,
            weight,
            port: port as u16,
            target,
        };
        if resp.answer(Owner::Question, ttl, &rd) {
            n += 1;
        }
    };
    match *found {
        Found::Cluster {
            entry,
            svc,
            port,
            proto,
        } => {
            let Some(target) = NameBuf::new().wire(&entry.key).wire(SVC).zone(zone) else {
                return 0;
            };
            let mut any = false;
            for (i, p) in svc.ports.iter().enumerate() {
                if !p.matches(port, proto) || p.port == -1 {
                    continue;
                }
                any = true;
                let dup = svc.ports[..i]
                    .iter()
                    .any(|q| q.port == p.port && q.matches(port, proto));
                if !dup && !svc.cluster_ips.is_empty() {
                    srv_rec(resp, p.port, &target);
                }
            }
            if any {
                for (i, ip) in svc.cluster_ips.iter().enumerate() {
                    if !svc.cluster_ips[..i].contains(ip) {
                        resp.additional(Owner::Name(&target), ttl, &rdata(*ip));
                    }
                }
            }
        }
        Found::Endpoints { entry, filter, .. } => {
            let mc = filter.mc;
            let mut k = 0usize;
            for s in entry.slices.iter() {
                // Read once per slice (finding the ports means reading past the endpoints).
                let ports = s.ports();
                for a in filter.addrs(s) {
                    let here = k;
                    k += 1;
                    if !filter.addr(s, &a) {
                        continue;
                    }
                    let mut target = None;
                    for (pi, p) in ports.clone().enumerate() {
                        if p.port == -1 || !p.matches(filter.port, filter.proto) {
                            continue;
                        }
                        let same_addr = ports
                            .clone()
                            .take(pi)
                            .any(|q| q.port == p.port && q.matches(filter.port, filter.proto));
                        if same_addr
                            || (entry.host_repeats(here)
                                && srv_seen(entry, &filter, here, &a.host, p.port))
                        {
                            continue;
                        }
                        if target.is_none() {
                            target = endpoint_target(entry, s, &a, mc, zone);
                        }
                        if let Some(t) = &target {
                            srv_rec(resp, p.port, t);
                        }
                    }
                }
            }
            // Glue, in result order, once per (target, address).
            let mut k = 0usize;
            for s in entry.slices.iter() {
                let selected = slice_selected(&filter, s, true);
                for a in filter.addrs(s) {
                    let here = k;
                    k += 1;
                    if !selected || !filter.addr(s, &a) {
                        continue;
                    }
                    let Some(ip) = a.ip else { continue };
                    if entry.host_repeats(here) && glue_seen(entry, &filter, here, &a.host, ip) {
                        continue;
                    }
                    if let Some(t) = endpoint_target(entry, s, &a, mc, zone) {
                        resp.additional(Owner::Name(&t), ttl, &rdata(ip));
                    }
                }
            }
        }
        Found::Pod { ip, key } => {
            // Pods have port 0, so an SRV query on a pod name answers with port 0.
            if let Some(t) = NameBuf::new().wire(key).wire(POD).zone(zone) {
                srv_rec(resp, 0, &t);
                resp.additional(Owner::Name(&t), ttl, &rdata(ip));
            }
        }
        Found::Empty | Found::External { .. } | Found::Nameservers => {}
    }
    n
}

/// NS records at the apex (one per distinct nameserver name) and their addresses.
pub(crate) fn ns(addrs: &[NsAddr], zone: &Name, ttl: u32, resp: &mut Response) -> usize {
    let mut n = 0;
    for (i, a) in addrs.iter().enumerate() {
        if addrs[..i].iter().any(|b| b.rel == a.rel) {
            continue;
        }
        if let Some(t) = NameBuf::new().wire(&a.rel).zone(zone) {
            if resp.answer(Owner::Question, ttl, &RData::Ns(&t)) {
                n += 1;
            }
        }
    }
    if n > 0 {
        for a in addrs {
            if let Some(t) = NameBuf::new().wire(&a.rel).zone(zone) {
                resp.additional(Owner::Name(&t), ttl, &rdata(a.ip));
            }
        }
    }
    n
}

/// The zone's SOA (spec §7.6), in the answer or the authority section.
pub(crate) fn soa(zone: &Name, ttl: u32, serial: u32, resp: &mut Response, answer: bool) -> bool {
    let (Some(mname), Some(rname)) = (
        NameBuf::new().label(b"ns").label(b"dns").zone(zone),
        NameBuf::new().label(b"hostmaster").zone(zone),
    ) else {
        return false;
    };
    let rd = RData::Soa {
        mname: &mname,
        rname: &rname,
        serial,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: ttl,
    };
    let owner = Owner::Name(zone);
    let rttl = ttl.min(300);
    if answer {
        resp.answer(owner, rttl, &rd)
    } else {
        resp.authority(owner, rttl, &rd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights() {
        assert_eq!(srv_weight(1), 100);
        assert_eq!(srv_weight(2), 50);
        assert_eq!(srv_weight(3), 33);
        assert_eq!(srv_weight(4), 25);
        assert_eq!(srv_weight(6), 16);
        assert_eq!(srv_weight(7), 14);
        assert_eq!(srv_weight(101), 1);
        assert_eq!(srv_weight(1000), 1);
    }

    #[test]
    fn names() {
        let zone = Name::from_text("Cluster.Local.").unwrap();
        let n = NameBuf::new()
            .label(b"web-0")
            .wire(b"\x03web\x02ns")
            .wire(SVC)
            .zone(&zone)
            .unwrap();
        assert_eq!(n.to_string(), "web-0.web.ns.svc.Cluster.Local.");
        assert!(NameBuf::new().label(b"").zone(&zone).is_none());
        assert!(NameBuf::new().label(&[b'a'; 64]).zone(&zone).is_none());
    }
}
