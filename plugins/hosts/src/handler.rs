//! Answering from the tables: A, AAAA and PTR, NODATA for other types of known names.

use std::sync::Arc;

use arc_swap::ArcSwap;
use signpost_plugin::{Fallthrough, Next, Plugin, Request, Step, Zones};
use signpost_wire::{rcode, rtype, Name, Owner, RData, Response};

use crate::hostsfile::HostsMap;
use crate::reverse;

/// What the plugin answers from: the file's tables, swapped whole on reload so readers never
/// wait, and the Corefile's inline entries, fixed for the configuration's life.
#[derive(Debug)]
pub(crate) struct Tables {
    pub(crate) file: ArcSwap<HostsMap>,
    pub(crate) inline: HostsMap,
}

/// The hosts handler.
#[derive(Debug)]
pub(crate) struct Hosts {
    pub(crate) zones: Zones,
    pub(crate) fall: Fallthrough,
    pub(crate) fall_unsupported: bool,
    pub(crate) ttl: u32,
    pub(crate) tables: Arc<Tables>,
}

impl Plugin for Hosts {
    fn name(&self) -> &'static str {
        "hosts"
    }

    fn serve(&self, req: &Request<'_>, resp: &mut Response, _next: Next<'_>) -> Step {
        let qname = req.qname();
        let qtype = req.qtype();
        // Reverse names need not be among the zones: PTR records come from the addresses.
        if qtype != rtype::PTR && self.zones.matches(qname).is_none() {
            return Step::Next;
        }
        let file = self.tables.file.load();
        let maps: [&HostsMap; 2] = [&file, &self.tables.inline];
        match qtype {
            rtype::PTR => self.ptr(req, resp, &maps),
            rtype::A => {
                let found = maps.map(|m| m.v4(qname));
                if found.iter().all(|a| a.is_empty()) && !exists(&maps, qname) {
                    return self.missing(qname);
                }
                self.start(req, resp);
                for ip in found.into_iter().flatten() {
                    if !resp.answer(Owner::Question, self.ttl, &RData::A(*ip)) {
                        break;
                    }
                }
                Step::Answered
            }
            rtype::AAAA => {
                let found = maps.map(|m| m.v6(qname));
                if found.iter().all(|a| a.is_empty()) && !exists(&maps, qname) {
                    return self.missing(qname);
                }
                self.start(req, resp);
                for ip in found.into_iter().flatten() {
                    if !resp.answer(Owner::Question, self.ttl, &RData::Aaaa(*ip)) {
                        break;
                    }
                }
                Step::Answered
            }
            _ => {
                if self.fall_unsupported && self.fall.through(qname) {
                    return Step::Next;
                }
                if !exists(&maps, qname) {
                    return self.missing(qname);
                }
                // NODATA: the name is known, the type is not served. No SOA, as in CoreDNS.
                self.start(req, resp);
                Step::Answered
            }
        }
    }
}

impl Hosts {
    fn start(&self, req: &Request<'_>, resp: &mut Response) {
        resp.start(&req.query, rcode::NOERROR);
        resp.set_authoritative(true);
    }

    /// A name with no address at all: the next plugin if fallthrough covers it, else
    /// SERVFAIL. CoreDNS answers SERVFAIL rather than NXDOMAIN because a hosts file has no
    /// SOA to put in a negative answer.
    fn missing(&self, qname: &Name) -> Step {
        if self.fall.through(qname) {
            Step::Next
        } else {
            Step::Error(rcode::SERVFAIL, None)
        }
    }

    /// PTR answers for addresses in the tables; anything else goes to the next plugin,
    /// whatever fallthrough says (as in CoreDNS).
    fn ptr(&self, req: &Request<'_>, resp: &mut Response, maps: &[&HostsMap; 2]) -> Step {
        let Some(ip) = reverse::address(req.qname()) else {
            return Step::Next;
        };
        let names = maps.map(|m| m.names_of(ip));
        if names.iter().all(|n| n.is_empty()) {
            return Step::Next;
        }
        self.start(req, resp);
        for wire in names.into_iter().flatten() {
            let Ok(target) = Name::from_wire(wire) else {
                continue;
            };
            if !resp.answer(Owner::Question, self.ttl, &RData::Ptr(&target)) {
                break;
            }
        }
        Step::Answered
    }
}

/// CoreDNS's `otherRecordsExist`: does the name have an address of either family?
fn exists(maps: &[&HostsMap; 2], qname: &Name) -> bool {
    maps.iter().any(|m| m.has(qname))
}
