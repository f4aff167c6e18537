//! The handler: passes every query on and reorders the answer on its way back.

use signpost_plugin::{Next, Outcome, Plugin, Request, Step};
use signpost_wire::{rcode, rtype, Response};

use crate::cidr::Cidr;
use crate::rewrite;

/// Shuffles A, AAAA and MX records of every successful response.
#[derive(Debug, Default, Clone)]
pub struct LoadBalance {
    prefer: Vec<Cidr>,
}

impl LoadBalance {
    pub(crate) fn new(prefer: Vec<Cidr>) -> LoadBalance {
        LoadBalance { prefer }
    }
}

impl Plugin for LoadBalance {
    fn name(&self) -> &'static str {
        "loadbalance"
    }

    fn serve(&self, _req: &Request<'_>, _resp: &mut Response, _next: Next<'_>) -> Step {
        Step::Next
    }

    /// Like CoreDNS's response writer: only NOERROR responses are touched, and zone transfers
    /// never are.
    fn after(&self, req: &Request<'_>, resp: &mut Response, _outcome: &Outcome, _here: bool) {
        if resp.rcode() != rcode::NOERROR || matches!(req.qtype(), rtype::AXFR | rtype::IXFR) {
            return;
        }
        rewrite::balance(&req.query, resp, &self.prefer);
    }
}
