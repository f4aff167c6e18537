//! Serving AXFR and IXFR: which zone, who may have it, which provider holds it.

use signpost_plugin::{Next, Plugin, Request, Step, Transport};
use signpost_wire::text::{Record, RecordData};
use signpost_wire::{rcode, records, rtype, Response, Section};

use crate::setup::{unmap, Peer, Xfr};
use crate::stream::{deliver, Packer};
use crate::{Providers, TransferError};

/// The `transfer` plugin of one server block.
pub(crate) struct Transfer {
    xfrs: Vec<Xfr>,
    providers: Providers,
}

impl Transfer {
    pub(crate) fn new(xfrs: Vec<Xfr>, providers: Providers) -> Transfer {
        Transfer { xfrs, providers }
    }

    /// The directive whose zones match the name most closely (the first one on a tie, as
    /// CoreDNS's `longestMatch` picks it).
    fn longest_match(&self, name: &signpost_wire::Name) -> Option<&Xfr> {
        let mut best: Option<(&Xfr, usize)> = None;
        for x in &self.xfrs {
            if let Some(z) = x.zones.matches(name) {
                if best.is_none_or(|(_, len)| z.len() > len) {
                    best = Some((x, z.len()));
                }
            }
        }
        best.map(|(x, _)| x)
    }
}

impl Xfr {
    /// CoreDNS's `allowed`: `*`, or the client's address among the `to` addresses.
    fn allows(&self, req: &Request<'_>) -> bool {
        let client = unmap(req.client.ip());
        self.to.iter().any(|p| match p {
            Peer::Any => true,
            Peer::Ip(ip) => *ip == client,
        })
    }
}

/// The serial of an IXFR's authority SOA; `None` unless the authority section holds exactly
/// one record and it is an SOA.
fn ixfr_serial(packet: &[u8]) -> Option<u32> {
    let mut authority = records(packet)
        .filter_map(Result::ok)
        .filter(|r| r.section == Section::Authority);
    let soa = authority.next()?;
    if authority.next().is_some() || soa.rtype != rtype::SOA {
        return None;
    }
    match Record::from_wire(packet, &soa).ok()?.data {
        RecordData::Soa(_, _, serial, ..) => Some(serial),
        _ => None,
    }
}

impl Plugin for Transfer {
    fn name(&self) -> &'static str {
        crate::setup::NAME
    }

    fn serve(&self, req: &Request<'_>, resp: &mut Response, _next: Next<'_>) -> Step {
        let qtype = req.qtype();
        if qtype != rtype::AXFR && qtype != rtype::IXFR {
            return Step::Next;
        }
        if req.transport != Transport::Tcp {
            return Step::Error(rcode::REFUSED, None);
        }
        let zone = req.qname();
        let Some(xfr) = self.longest_match(zone) else {
            return Step::Next;
        };
        if !xfr.allows(req) {
            // Written here (not returned as an error) so that logging sees it, as in CoreDNS.
            resp.start(&req.query, rcode::REFUSED);
            return Step::Answered;
        }
        let serial = if qtype == rtype::IXFR {
            match ixfr_serial(req.query.packet) {
                Some(s) => s,
                None => return Step::Error(rcode::SERVFAIL, None),
            }
        } else {
            0
        };

        let mut packer = Packer::new(&req.query);
        let mut served = false;
        for provider in self.providers.all() {
            match provider.transfer(zone, serial, &mut |rec| packer.push(rec)) {
                Ok(()) => {
                    served = true;
                    break;
                }
                Err(TransferError::NotAuthoritative) => continue,
                Err(TransferError::Failed(why)) => return Step::Error(rcode::SERVFAIL, Some(why)),
            }
        }
        if !served {
            return Step::Next;
        }
        deliver(packer, req, resp)
    }
}
