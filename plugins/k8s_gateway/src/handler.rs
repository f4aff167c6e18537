//! The query pipeline (spec §4): zone, sync gate, apex (SOA, NS + glue), the NS host names,
//! reverse names, then the lookup in `resources` order, exact keys before wildcard keys.
//!
//! Everything is read from the index snapshot; nothing allocates on the way to an answer.

use std::sync::Arc;

use signpost_plugin::{Next, Plugin, Request, Step};
use signpost_wire::{rcode, rtype, Name, Owner, RData, Response};

use crate::config::{is_reverse, Config};
use crate::data::Data;
use crate::index::{Index, Snapshot};
use crate::keys::{exact_keys, reverse_address, wildcard_keys};
use crate::setup::NAME;

/// TTL of SOA, NS, glue and NS host records (upstream's fixed 60).
pub(crate) const FIXED_TTL: u32 = 60;
const REFRESH: u32 = 7200;
const RETRY: u32 = 1800;
const EXPIRE: u32 = 86400;
const MINIMUM: u32 = 60;

/// One configured zone with the names its SOA and NS records use.
#[derive(Debug, Clone)]
pub(crate) struct ZoneInfo {
    pub(crate) zone: Name,
    /// `<apex>.<zone>` (or the absolute apex).
    pub(crate) ns: Name,
    /// `<secondary>.<zone>`.
    pub(crate) ns2: Option<Name>,
    /// `hostmaster.<ns>`.
    pub(crate) rname: Name,
    pub(crate) reverse: bool,
}

/// The records found for a name: the winning kind's data under each of the two keys.
#[derive(Clone, Copy)]
pub(crate) struct Found<'a>([Option<&'a Data>; 2]);

impl<'a> Found<'a> {
    fn all(self) -> impl Iterator<Item = &'a Data> + Clone {
        self.0.into_iter().flatten()
    }

    fn has_address(self) -> bool {
        self.all().any(|d| !d.v4.is_empty() || !d.v6.is_empty())
    }

    fn has_txt(self) -> bool {
        self.all().any(|d| !d.txt.is_empty())
    }

    fn cname(self) -> Option<&'a Name> {
        self.all().find_map(|d| d.cname.as_ref())
    }
}

/// The `k8s_gateway` plugin of one server block.
pub(crate) struct K8sGateway {
    pub(crate) config: Config,
    pub(crate) zones: Vec<ZoneInfo>,
    pub(crate) index: Arc<Index>,
}

impl K8sGateway {
    pub(crate) fn new(config: Config, index: Arc<Index>) -> K8sGateway {
        let zones = config
            .zones
            .iter()
            .map(|z| {
                let ns = config.apex.in_zone(z).unwrap_or(*z);
                let rname = ns.prepend_label(b"hostmaster").unwrap_or(ns);
                ZoneInfo {
                    zone: *z,
                    ns,
                    ns2: config.secondary.as_ref().and_then(|h| h.in_zone(z)),
                    rname,
                    reverse: is_reverse(z),
                }
            })
            .collect();
        K8sGateway {
            config,
            zones,
            index,
        }
    }

    /// The longest configured zone holding `name`.
    pub(crate) fn zone_of(&self, name: &Name) -> Option<&ZoneInfo> {
        self.zones
            .iter()
            .filter(|z| name.is_subdomain_of(&z.zone))
            .max_by_key(|z| z.zone.len())
    }

    /// The first kind with records for the exact keys, else for the wildcard keys.
    pub(crate) fn find<'s>(snap: &'s Snapshot, qname: &Name, zone: &Name) -> Option<Found<'s>> {
        for keys in [exact_keys(qname, zone), wildcard_keys(qname, zone)] {
            for map in &snap.kinds {
                let get = |k: &Option<Name>| k.as_ref().and_then(|k| map.get(k));
                let a = get(&keys[0]);
                let b = get(&keys[1]).filter(|b| a.is_none_or(|a| !std::ptr::eq(*b, a)));
                let found = Found([a, b]);
                if found.all().any(|d| !d.is_empty()) {
                    return Some(found);
                }
            }
        }
        None
    }
}

/// Writes the zone's SOA into the answer (`answer`) or authority section.
pub(crate) fn write_soa(resp: &mut Response, z: &ZoneInfo, serial: u32, answer: bool) {
    let soa = RData::Soa {
        mname: &z.ns,
        rname: &z.rname,
        serial,
        refresh: REFRESH,
        retry: RETRY,
        expire: EXPIRE,
        minimum: MINIMUM,
    };
    if answer {
        resp.answer(Owner::Name(&z.zone), FIXED_TTL, &soa);
    } else {
        resp.authority(Owner::Name(&z.zone), FIXED_TTL, &soa);
    }
}

/// Writes the addresses of `data` of the asked family as answers; the number written.
fn write_addresses<'d>(
    resp: &mut Response,
    qtype: u16,
    ttl: u32,
    data: impl Iterator<Item = &'d Data> + Clone,
) -> usize {
    let mut n = 0;
    for (i, d) in data.clone().enumerate() {
        let earlier = || data.clone().take(i);
        if qtype == rtype::A {
            for a in &d.v4 {
                if !earlier().any(|e| e.v4.contains(a)) {
                    resp.answer(Owner::Question, ttl, &RData::A(*a));
                    n += 1;
                }
            }
        } else {
            for a in &d.v6 {
                if !earlier().any(|e| e.v6.contains(a)) {
                    resp.answer(Owner::Question, ttl, &RData::Aaaa(*a));
                    n += 1;
                }
            }
        }
    }
    n
}

impl K8sGateway {
    /// Answers from found records (spec §4 step 7 with the NODATA fixes).
    fn answer_found(
        &self,
        resp: &mut Response,
        qtype: u16,
        found: Found<'_>,
        z: &ZoneInfo,
        serial: u32,
    ) {
        let ttl = self.config.ttl;
        if !found.has_address() && !found.has_txt() {
            if let Some(target) = found.cname() {
                resp.answer(Owner::Question, ttl, &RData::Cname(target));
                return;
            }
        }
        let n = match qtype {
            rtype::A | rtype::AAAA => write_addresses(resp, qtype, ttl, found.all()),
            rtype::TXT => {
                let mut n = 0;
                for (i, d) in found.all().enumerate() {
                    for t in &d.txt {
                        if found.all().take(i).any(|e| e.txt.contains(t)) {
                            continue;
                        }
                        resp.answer(Owner::Question, ttl, &RData::Txt(std::slice::from_ref(t)));
                        n += 1;
                    }
                }
                n
            }
            _ => 0,
        };
        if n == 0 {
            write_soa(resp, z, serial, false);
        }
    }

    /// The zone apex: SOA, NS with glue, and any records a wildcard or a key gives it.
    fn apex(&self, req: &Request<'_>, resp: &mut Response, z: &ZoneInfo, snap: &Snapshot) {
        match req.qtype() {
            rtype::SOA => write_soa(resp, z, snap.serial, true),
            rtype::NS => {
                resp.answer(Owner::Question, FIXED_TTL, &RData::Ns(&z.ns));
                if let Some(ns2) = &z.ns2 {
                    resp.answer(Owner::Question, FIXED_TTL, &RData::Ns(ns2));
                }
                let hosts = [Some(&z.ns), z.ns2.as_ref()];
                for (host, glue) in hosts.iter().zip(&snap.glue) {
                    let Some(host) = host else { continue };
                    // Glue only for names inside the zone.
                    if !host.is_subdomain_of(&z.zone) {
                        continue;
                    }
                    for a in &glue.v4 {
                        resp.additional(Owner::Name(host), FIXED_TTL, &RData::A(*a));
                    }
                    for a in &glue.v6 {
                        resp.additional(Owner::Name(host), FIXED_TTL, &RData::Aaaa(*a));
                    }
                }
            }
            qtype => match Self::find(snap, &req.query.qname, &z.zone) {
                Some(found) => self.answer_found(resp, qtype, found, z, snap.serial),
                None => write_soa(resp, z, snap.serial, false),
            },
        }
    }

    /// `<apex>.<zone>`: this server's own addresses.
    fn ns_host(&self, req: &Request<'_>, resp: &mut Response, z: &ZoneInfo, snap: &Snapshot) {
        let qtype = req.qtype();
        let n = match qtype {
            rtype::A | rtype::AAAA => {
                write_addresses(resp, qtype, FIXED_TTL, std::iter::once(&snap.glue[0]))
            }
            _ => 0,
        };
        if n == 0 {
            write_soa(resp, z, snap.serial, false);
        }
    }

    /// A name in a reverse zone: PTR records of served addresses.
    fn reverse(
        &self,
        req: &Request<'_>,
        resp: &mut Response,
        z: &ZoneInfo,
        snap: &Snapshot,
    ) -> Step {
        let qname = &req.query.qname;
        let names = reverse_address(qname).and_then(|ip| snap.reverse.get(&ip));
        match names {
            Some(names) if req.qtype() == rtype::PTR => {
                for n in names {
                    resp.answer(Owner::Question, self.config.ttl, &RData::Ptr(n));
                }
            }
            Some(_) => write_soa(resp, z, snap.serial, false),
            None => return self.nxdomain(req, resp, z, snap),
        }
        Step::Answered
    }

    fn nxdomain(
        &self,
        req: &Request<'_>,
        resp: &mut Response,
        z: &ZoneInfo,
        snap: &Snapshot,
    ) -> Step {
        if self.config.fall.through(&req.query.qname) {
            return Step::Next;
        }
        resp.start(&req.query, rcode::NXDOMAIN);
        resp.set_authoritative(true);
        write_soa(resp, z, snap.serial, false);
        Step::Answered
    }
}

impl Plugin for K8sGateway {
    fn name(&self) -> &'static str {
        NAME
    }

    fn serve(&self, req: &Request<'_>, resp: &mut Response, _next: Next<'_>) -> Step {
        let qname = &req.query.qname;
        let Some(z) = self.zone_of(qname) else {
            return Step::Next;
        };
        if !self.index.is_synced() {
            return Step::Error(
                rcode::SERVFAIL,
                Some(format!("plugin/{NAME}: could not sync required resources")),
            );
        }
        let snap = self.index.load();
        resp.start(&req.query, rcode::NOERROR);
        resp.set_authoritative(true);
        if *qname == z.zone {
            self.apex(req, resp, z, &snap);
            return Step::Answered;
        }
        if z.reverse {
            return self.reverse(req, resp, z, &snap);
        }
        if z.ns.is_subdomain_of(&z.zone) && qname.is_subdomain_of(&z.ns) {
            if *qname == z.ns {
                self.ns_host(req, resp, z, &snap);
                return Step::Answered;
            }
            // Nothing lives below the NS host.
            resp.start(&req.query, rcode::NXDOMAIN);
            resp.set_authoritative(true);
            write_soa(resp, z, snap.serial, false);
            return Step::Answered;
        }
        match Self::find(&snap, qname, &z.zone) {
            Some(found) => {
                self.answer_found(resp, req.qtype(), found, z, snap.serial);
                Step::Answered
            }
            None => self.nxdomain(req, resp, z, &snap),
        }
    }
}
