//! The query pipeline (CoreDNS's `External.ServeDNS`): zone match, the apex and the
//! nameserver names below `<apex>.<zone>`, reverse names, then Service names.
//!
//! Everything comes from the kubernetes plugin's index without allocating, except
//! load-balancer hostnames: CoreDNS resolves them by sending them through the server again;
//! here they go through this plugin and the rest of the chain (normally *kubernetes* and
//! *forward*), on the async path when that needs network I/O.

use signpost_kubernetes::{reverse_address, ExternalSlot, ExternalSource, IndexView};
use signpost_plugin::subquery;
use signpost_plugin::{BoxFuture, Next, Plugin, Request, Step};
use signpost_wire::HEADER_LEN;
use signpost_wire::{rcode, rtype, Name, Owner, RData, Response};

use crate::answer::{ns1, rdata, Lookup, Writer};
use crate::lookup::{lookup, Found};
use crate::setup::{Config, NAME};

/// Most labels a Service name below the zone can have (`_port._proto.svc.ns`).
const MAX_LABELS: usize = 4;

/// What the pipeline decided.
enum Reply {
    Done,
    Next,
    Fail(&'static str),
}

/// The `k8s_external` plugin of one server block.
pub(crate) struct External {
    pub(crate) config: Config,
    pub(crate) slot: ExternalSlot,
}

impl External {
    pub(crate) fn new(config: Config, slot: ExternalSlot) -> External {
        External { config, slot }
    }

    /// The longest configured zone holding `name`.
    pub(crate) fn zone_of(&self, name: &Name) -> Option<&Name> {
        self.config
            .zones
            .iter()
            .filter(|z| name.is_subdomain_of(z))
            .max_by_key(|z| z.len())
    }

    fn writer<'w>(&self, source: &ExternalSource, zone: &'w Name) -> Writer<'w> {
        Writer {
            ttl: self.config.ttl,
            k8s_ttl: source.ttl(),
            zone,
        }
    }

    /// The whole pipeline for one query.
    fn answer(&self, req: &Request<'_>, resp: &mut Response, upstream: &mut Lookup<'_>) -> Reply {
        let q = &req.query;
        let qname = &q.qname;
        let Some(zone) = self.zone_of(qname) else {
            return Reply::Next;
        };
        let Some(source) = self.slot.get() else {
            return Reply::Fail("kubernetes plugin not loaded");
        };
        let w = self.writer(source, zone);
        resp.start(q, rcode::NOERROR);
        resp.set_authoritative(true);
        for z in &self.config.zones {
            if qname == z {
                self.apex(req, resp, source, &w);
                return Reply::Done;
            }
            let below_apex = self
                .config
                .apex
                .concat(z)
                .is_ok_and(|a| qname.is_subdomain_of(&a));
            if below_apex {
                self.sub_apex(req, resp, source, &w);
                return Reply::Done;
            }
        }
        let view = source.view();
        let reverse = (q.qtype == rtype::PTR)
            .then(|| reverse_address(qname))
            .flatten();
        let answered = match reverse {
            Some(ip) => self.ptr(source, &view, ip, resp),
            None => self.services(req, resp, source, &view, &w, upstream),
        };
        match answered {
            None => {
                if self.config.fall.through(qname) {
                    return Reply::Next;
                }
                resp.start(q, rcode::NXDOMAIN);
                resp.set_authoritative(true);
                w.soa(&self.config.apex, source.serial(), resp, false);
            }
            Some(0) => w.soa(&self.config.apex, source.serial(), resp, false),
            Some(_) => {}
        }
        Reply::Done
    }

    /// A Service name: `None` for NXDOMAIN, else the number of answer records.
    fn services(
        &self,
        req: &Request<'_>,
        resp: &mut Response,
        source: &ExternalSource,
        view: &IndexView,
        w: &Writer<'_>,
        upstream: &mut Lookup<'_>,
    ) -> Option<usize> {
        let qname = req.qname();
        let below = qname.label_count() - w.zone.label_count();
        if below > MAX_LABELS {
            return None;
        }
        let mut labels: [&[u8]; MAX_LABELS] = [&[]; MAX_LABELS];
        for (slot, l) in labels.iter_mut().zip(qname.labels().take(below)) {
            *slot = l;
        }
        let hits = match lookup(source, view, &labels[..below], self.config.headless) {
            Found::NameError => return None,
            Found::Empty => return Some(0),
            Found::Hits(h) => h,
        };
        Some(match req.qtype() {
            rtype::A | rtype::AAAA => w.addresses(&hits, req.qtype(), resp, upstream),
            rtype::SRV => w.srv(&hits, resp, upstream),
            _ => 0,
        })
    }

    /// PTR for an address: every Service with it among its external addresses (namespace
    /// filter only with `namespaces`), as `<svc>.<ns>.<first zone>`. `None` for none.
    fn ptr(
        &self,
        source: &ExternalSource,
        view: &IndexView,
        ip: std::net::IpAddr,
        resp: &mut Response,
    ) -> Option<usize> {
        let first_zone = self.config.zones.first()?;
        let visible = |ns: &str| !source.namespaces_listed() || source.exposed(view, ns.as_bytes());
        let owners = view.external_ip_owners(ip);
        let mut n = 0;
        for (i, k) in owners.iter().enumerate() {
            if !visible(&k.namespace) {
                continue;
            }
            let dup = owners[..i]
                .iter()
                .any(|o| visible(&o.namespace) && o.name == k.name && o.namespace == k.namespace);
            if dup {
                continue;
            }
            let target = first_zone
                .prepend_label(k.namespace.as_bytes())
                .and_then(|z| z.prepend_label(k.name.as_bytes()));
            if let Ok(t) = target {
                if resp.answer(Owner::Question, self.config.ttl, &RData::Ptr(&t)) {
                    n += 1;
                }
            }
        }
        (n > 0).then_some(n)
    }

    /// The zone apex: SOA, NS (`ns1.<apex>.<zone>` and its addresses), else NODATA.
    fn apex(
        &self,
        req: &Request<'_>,
        resp: &mut Response,
        source: &ExternalSource,
        w: &Writer<'_>,
    ) {
        let apex = &self.config.apex;
        match req.qtype() {
            rtype::SOA => w.soa(apex, source.serial(), resp, true),
            rtype::NS => {
                let Some(target) = ns1(apex, w.zone) else {
                    return;
                };
                resp.answer(Owner::Name(w.zone), self.config.ttl, &RData::Ns(&target));
                // Glue is named below the question as the client spelled it.
                let asked = Name::read(req.query.packet, HEADER_LEN).map_or(*w.zone, |(n, _)| n);
                let Some(glue) = ns1(apex, &asked) else {
                    return;
                };
                let view = source.view();
                for ip in view.external_nameservers(self.config.headless) {
                    resp.additional(Owner::Name(&glue), self.config.ttl, &rdata(*ip));
                }
            }
            _ => w.soa(apex, source.serial(), resp, false),
        }
    }

    /// Names below `<apex>.<zone>`: the apex itself is NODATA, `ns1.<apex>` has the
    /// nameserver addresses, anything else is NXDOMAIN.
    fn sub_apex(
        &self,
        req: &Request<'_>,
        resp: &mut Response,
        source: &ExternalSource,
        w: &Writer<'_>,
    ) {
        let qname = req.qname();
        let below = qname.label_count() - w.zone.label_count();
        let first = qname.labels().next().unwrap_or_default();
        let serial = source.serial();
        match below {
            1 => w.soa(&self.config.apex, serial, resp, false),
            2 if first == b"ns1" => {
                let view = source.view();
                let mut n = 0;
                for ip in view.external_nameservers(self.config.headless) {
                    let wanted = matches!(
                        (req.qtype(), ip),
                        (rtype::A, std::net::IpAddr::V4(_))
                            | (rtype::AAAA, std::net::IpAddr::V6(_))
                    );
                    if wanted && resp.answer(Owner::Question, self.config.ttl, &rdata(*ip)) {
                        n += 1;
                    }
                }
                if n == 0 {
                    w.soa(&self.config.apex, serial, resp, false);
                }
            }
            _ => {
                resp.set_rcode(rcode::NXDOMAIN);
                w.soa(&self.config.apex, serial, resp, false);
            }
        }
    }
}

fn step(reply: Reply) -> Step {
    match reply {
        Reply::Done => Step::Answered,
        Reply::Next => Step::Next,
        Reply::Fail(why) => Step::Error(rcode::SERVFAIL, Some(why.into())),
    }
}

impl Plugin for External {
    fn name(&self) -> &'static str {
        NAME
    }

    fn serve(&self, req: &Request<'_>, resp: &mut Response, next: Next<'_>) -> Step {
        match subquery::run_sync(self, req, next, |ask| self.answer(req, resp, ask)) {
            Some(reply) => step(reply),
            None => Step::Async,
        }
    }

    fn serve_async<'a>(
        &'a self,
        req: &'a Request<'a>,
        resp: &'a mut Response,
        next: Next<'a>,
    ) -> BoxFuture<'a, Step> {
        Box::pin(async move {
            // Hostname answers are fetched and the pipeline re-run with them until it needs
            // nothing new.
            match subquery::run_async(self, req, next, |ask| self.answer(req, resp, ask)).await {
                Some(reply) => step(reply),
                None => Step::Error(
                    rcode::SERVFAIL,
                    Some("hostname lookups did not settle".into()),
                ),
            }
        })
    }
}
