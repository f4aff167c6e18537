//! Records from results (CoreDNS's `msg_to_dns.go`), the SOA and NS of an external zone.
//!
//! Addresses get *k8s_external*'s TTL; as in CoreDNS, the CNAME to a load-balancer hostname
//! and the SRV records carry the *kubernetes* plugin's TTL instead. A hostname is followed
//! by looking it up through the rest of the chain (see the handler); its answer records are
//! appended whatever its rcode, and the CNAME stays even when the lookup gives nothing.

use std::net::IpAddr;

use signpost_kubernetes::ServiceView;
use signpost_wire::{rtype, Name, Owner, RData, Response, Section};

use crate::lookup::{Hit, Hits, Host};

pub(crate) use signpost_plugin::subquery::Upstream;

/// Resolves a name for a record type.
pub(crate) type Lookup<'l> = dyn FnMut(&Name, u16) -> Upstream + 'l;

/// TTLs and names of one query.
pub(crate) struct Writer<'w> {
    /// *k8s_external*'s `ttl`.
    pub(crate) ttl: u32,
    /// The *kubernetes* plugin's `ttl`.
    pub(crate) k8s_ttl: u32,
    /// The matched zone (targets are built in it).
    pub(crate) zone: &'w Name,
}

pub(crate) fn rdata<'a>(ip: IpAddr) -> RData<'a> {
    match ip {
        IpAddr::V4(v4) => RData::A(v4),
        IpAddr::V6(v6) => RData::Aaaa(v6),
    }
}

/// `<label>.<svc>.<ns>.<zone>` (without the label for Service results).
pub(crate) fn service_name(
    svc: &ServiceView<'_>,
    label: Option<&[u8]>,
    zone: &Name,
) -> Option<Name> {
    let mut name = zone
        .prepend_label(svc.namespace())
        .ok()?
        .prepend_label(svc.name())
        .ok()?;
    if let Some(l) = label {
        name = name.prepend_label(l).ok()?;
    }
    Some(name)
}

/// A hostname as a fully qualified name.
fn hostname(h: &str) -> Option<Name> {
    Name::from_text(h).ok()
}

fn family_of(qtype: u16, ip: &IpAddr) -> bool {
    matches!(
        (qtype, ip),
        (rtype::A, IpAddr::V4(_)) | (rtype::AAAA, IpAddr::V6(_))
    )
}

impl Writer<'_> {
    /// A or AAAA answers (`qtype`): addresses of that family once each; for a hostname a
    /// CNAME and the hostname's records. Returns the number of answer records.
    pub(crate) fn addresses(
        &self,
        hits: &Hits<'_>,
        qtype: u16,
        resp: &mut Response,
        upstream: &mut Lookup<'_>,
    ) -> usize {
        let mut n = 0;
        let mut truncated = false;
        for (i, hit) in hits.iter().enumerate() {
            match hit.host {
                Host::Name(h) => {
                    let Some(target) = hostname(h) else { continue };
                    if resp.answer(Owner::Question, self.k8s_ttl, &RData::Cname(&target)) {
                        n += 1;
                    }
                    if let Upstream::Answer(recs, tc) = upstream(&target, qtype) {
                        truncated |= tc;
                        n += recs
                            .iter()
                            .filter(|r| r.write(resp, Section::Answer))
                            .count();
                    }
                }
                Host::Ip(ip) if family_of(qtype, &ip) => {
                    let seen = hits.iter().take(i).any(|h| h.host == Host::Ip(ip));
                    if !seen && resp.answer(Owner::Question, self.ttl, &rdata(ip)) {
                        n += 1;
                    }
                }
                Host::Ip(_) => {}
            }
        }
        if truncated {
            resp.set_truncated(true);
        }
        n
    }

    /// The SRV target of a result.
    fn target(&self, svc: &ServiceView<'_>, hit: &Hit<'_>) -> Option<Name> {
        match hit.host {
            Host::Name(h) => hostname(h),
            Host::Ip(_) => service_name(svc, hit.label.as_deref(), self.zone),
        }
    }

    /// SRV answers (results with a port), then their addresses in the additional section.
    pub(crate) fn srv(
        &self,
        hits: &Hits<'_>,
        resp: &mut Response,
        upstream: &mut Lookup<'_>,
    ) -> usize {
        let weight = srv_weight(hits.iter().count());
        let svc = hits.svc;
        let targets = || {
            hits.iter()
                .filter(|h| h.port != -1)
                .filter_map(|h| Some((self.target(&svc, &h)?, h)))
        };
        let mut n = 0;
        for (i, (target, hit)) in targets().enumerate() {
            let dup = targets()
                .take(i)
                .any(|(t, h)| t.wire() == target.wire() && h.port == hit.port);
            let rd = RData::Srv {
                priority: 0,
                weight,
                port: hit.port as u16,
                target: &target,
            };
            if !dup && resp.answer(Owner::Question, self.k8s_ttl, &rd) {
                n += 1;
            }
        }
        for (i, (target, hit)) in targets().enumerate() {
            let dup = targets()
                .take(i)
                .any(|(t, h)| t.wire() == target.wire() && h.host == hit.host);
            if dup {
                continue;
            }
            match hit.host {
                Host::Name(_) => {
                    for qtype in [rtype::A, rtype::AAAA] {
                        if let Upstream::Answer(recs, _) = upstream(&target, qtype) {
                            for r in &recs {
                                r.write(resp, Section::Additional);
                            }
                        }
                    }
                }
                Host::Ip(ip) => {
                    resp.additional(Owner::Name(&target), self.ttl, &rdata(ip));
                }
            }
        }
        n
    }

    /// Write the zone's SOA (`ns1.<apex>.<zone>`, `hostmaster.<apex>.<zone>`, the external
    /// serial, refresh 7200, retry 1800, expire 86400, minimum and TTL the plugin's `ttl`)
    /// into the answer or the authority section.
    pub(crate) fn soa(&self, apex: &Name, serial: u32, resp: &mut Response, answer: bool) {
        let Ok(apex_zone) = apex.concat(self.zone) else {
            return;
        };
        let (Ok(mname), Ok(rname)) = (
            apex_zone.prepend_label(b"ns1"),
            apex_zone.prepend_label(b"hostmaster"),
        ) else {
            return;
        };
        let rd = RData::Soa {
            mname: &mname,
            rname: &rname,
            serial,
            refresh: 7200,
            retry: 1800,
            expire: 86400,
            minimum: self.ttl,
        };
        let owner = Owner::Name(self.zone);
        if answer {
            resp.answer(owner, self.ttl, &rd);
        } else {
            resp.authority(owner, self.ttl, &rd);
        }
    }
}

/// CoreDNS's SRV weight for `n` results of equal priority: floor((100 / (100·n)) · 100), at
/// least 1.
pub(crate) fn srv_weight(n: usize) -> u16 {
    let w = ((100.0 / (100.0 * n.max(1) as f64)) * 100.0).floor();
    if w < 1.0 {
        1
    } else {
        w as u16
    }
}

/// `ns1.<apex>.<name>`.
pub(crate) fn ns1(apex: &Name, name: &Name) -> Option<Name> {
    apex.concat(name).ok()?.prepend_label(b"ns1").ok()
}
