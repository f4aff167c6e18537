//! The query pipeline (spec §3): zone match, dispatch by type, and the mapping of name
//! errors to fallthrough, SERVFAIL (not yet synced) or NXDOMAIN, with the SOA in authority.
//!
//! Everything answered from the index is written on the sync path without allocating. The
//! one exception is an ExternalName whose target lies outside the zone: CoreDNS resolves it
//! by sending the target through the server again; here the target goes through this plugin
//! and the rest of the chain (normally `forward`), on the async path when that needs I/O.

use std::net::IpAddr;
use std::sync::Arc;

use signpost_plugin::subquery::{self, Upstream};
use signpost_plugin::{BoxFuture, Fallthrough, Next, Plugin, Request, Step};
use signpost_wire::text::{Record, RecordData};
use signpost_wire::{class, rcode, rtype, Name, Owner, RData, Response, Section, HEADER_LEN};

use crate::answer::{self, Family, RespSink, VecSink};
use crate::config::KubernetesConfig;
use crate::index::{Index, SerialKind};
use crate::lookup::{records as lookup_records, Ctx, Found, NameError, Settings};
use crate::qname::Labels;
use crate::reverse;

/// `ns.dns` as wire labels.
const NS_DNS: &[u8] = b"\x02ns\x03dns";
/// The TXT answer of `dns-version.<zone>` (schema of the Kubernetes DNS specification).
const SCHEMA_VERSION: &str = "1.1.0";
/// The TXT strings of that answer, made once (answers do not allocate).
static VERSION_TXT: std::sync::LazyLock<[String; 1]> =
    std::sync::LazyLock::new(|| [SCHEMA_VERSION.to_string()]);
/// TTL of the dns-version TXT record.
const VERSION_TTL: u32 = 28800;
/// Longest CNAME chain followed (CoreDNS's `maxCnameChainLength`).
const MAX_CHAIN: usize = 10;

/// One served zone.
#[derive(Debug, Clone)]
struct ZoneInfo {
    name: Name,
    /// Served from ServiceImports.
    mc: bool,
}

/// What the pipeline decided.
enum Reply {
    Done,
    Next,
    Refused,
}

/// The `kubernetes` plugin instance of one stanza.
pub struct Kubernetes {
    name: &'static str,
    zones: Vec<ZoneInfo>,
    settings: Settings,
    ttl: u32,
    fall: Fallthrough,
    index: Arc<Index>,
}

impl std::fmt::Debug for Kubernetes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kubernetes")
            .field("zones", &self.zones)
            .field("index", &self.index)
            .finish()
    }
}

impl Kubernetes {
    /// A plugin answering from `index` as `config` says.
    pub fn new(config: &KubernetesConfig, index: Arc<Index>) -> Kubernetes {
        Kubernetes::named("kubernetes", config, index)
    }

    /// The same under another directive name (kubernetai).
    pub fn named(name: &'static str, config: &KubernetesConfig, index: Arc<Index>) -> Kubernetes {
        let zones = config
            .zones
            .iter()
            .map(|z| ZoneInfo {
                name: *z,
                mc: config.multicluster.iter().any(|m| z.is_subdomain_of(m)),
            })
            .collect();
        Kubernetes {
            name,
            zones,
            settings: Settings {
                pods: config.pods,
                namespaces: config
                    .namespaces
                    .iter()
                    .map(|n| n.as_bytes().into())
                    .collect(),
                ignore_empty: config.ignore_empty_service,
                zonal: config.zonal,
            },
            ttl: config.ttl,
            fall: config.fallthrough.clone(),
            index,
        }
    }

    /// The index answers come from.
    pub fn index(&self) -> &Arc<Index> {
        &self.index
    }

    fn match_zone(&self, qname: &Name) -> Option<&ZoneInfo> {
        self.zones
            .iter()
            .filter(|z| qname.is_subdomain_of(&z.name))
            .max_by_key(|z| z.name.len())
    }

    /// CoreDNS's `Services`: `ns.dns.<zone>` short-cut, else `Records`.
    fn services<'a>(
        &self,
        ctx: &Ctx<'a>,
        labels: &Labels<'a>,
        reverse_name: bool,
        default_ns: bool,
    ) -> Result<Found<'a>, NameError> {
        if default_ns {
            return Ok(Found::Nameservers);
        }
        lookup_records(ctx, labels, reverse_name)
    }

    /// The whole pipeline for one query. `upstream` resolves out-of-zone CNAME targets.
    fn answer(
        &self,
        req: &Request<'_>,
        resp: &mut Response,
        upstream: &mut dyn FnMut(&Name, u16) -> Upstream,
    ) -> Reply {
        let q = &req.query;
        let qname = &q.qname;
        let Some(zone) = self.match_zone(qname) else {
            return Reply::Next;
        };
        let Ok((orig, _)) = Name::read(q.packet, HEADER_LEN) else {
            return Reply::Next;
        };
        let rel = &qname.wire()[..qname.len() - zone.name.len()];
        let labels = Labels::new(rel);
        // The zone as the client spelled it: answers echo that case.
        let zone_q = orig.strip_labels(labels.len());
        // CoreDNS compares the lower-cased name with the zone in the client's case; the two
        // agree only when the client wrote the zone in lower case.
        let zone_lower = zone_q.wire() == zone.name.wire();
        let default_ns = rel == NS_DNS && zone_lower;
        let snap = self.index.snapshot();
        let ctx = Ctx {
            snap: &snap,
            set: &self.settings,
            mc: zone.mc,
        };
        let reverse_name = reverse::reverse_family(qname) != 0;
        let ttl = self.ttl;
        resp.start(q, rcode::NOERROR);
        resp.set_authoritative(true);

        let result: Result<usize, NameError> = match q.qtype {
            rtype::A | rtype::AAAA => {
                let family = if q.qtype == rtype::A {
                    Family::V4
                } else {
                    Family::V6
                };
                match self.services(&ctx, &labels, reverse_name, default_ns) {
                    Err(e) => Err(e),
                    Ok(Found::External { .. }) => {
                        let mut out = Vec::new();
                        let mut tc = false;
                        let mut chain = Vec::new();
                        let r = self.chase(
                            &ctx, zone, zone_lower, qname, &orig, q.qtype, &mut chain, upstream,
                            &mut out, &mut tc,
                        );
                        r.map(|()| {
                            for rec in &out {
                                rec.write(resp, Section::Answer);
                            }
                            resp.set_truncated(tc);
                            out.len()
                        })
                    }
                    Ok(found) => {
                        let mut sink = RespSink { resp, ttl, n: 0 };
                        answer::addresses(&found, &snap.ns_addrs, family, &mut sink);
                        Ok(sink.n)
                    }
                }
            }
            rtype::TXT => {
                if labels.len() == 1 && labels.get(0) == b"dns-version" {
                    resp.answer(Owner::Question, VERSION_TTL, &RData::Txt(&VERSION_TXT[..]));
                    Ok(1)
                } else {
                    match lookup_records(&ctx, &labels, reverse_name) {
                        Ok(Found::Endpoints { zonal: true, .. }) => Ok(0),
                        Ok(f) if f.count(snap.ns_addrs.len()) > 0 => Ok(0),
                        _ => Err(NameError),
                    }
                }
            }
            rtype::CNAME => match self.services(&ctx, &labels, reverse_name, default_ns) {
                Ok(Found::External { target }) => match Name::from_wire(target) {
                    Ok(t) => {
                        resp.answer(Owner::Question, ttl, &RData::Cname(&t));
                        Ok(1)
                    }
                    Err(_) => Ok(0),
                },
                other => other.map(|_| 0),
            },
            rtype::PTR => match reverse::address(qname) {
                Some(ip) => self.ptr(&ctx, ip, resp),
                None => lookup_records(&ctx, &labels, reverse_name).map(|_| 0),
            },
            rtype::SRV => self
                .services(&ctx, &labels, reverse_name, default_ns)
                .map(|found| answer::srv(&found, &zone_q, ttl, resp)),
            rtype::SOA => {
                if rel.is_empty() {
                    let serial = self.serial(zone);
                    answer::soa(&zone_q, ttl, serial, resp, true);
                    Ok(1)
                } else {
                    Ok(0)
                }
            }
            rtype::AXFR | rtype::IXFR => return Reply::Refused,
            rtype::NS if rel.is_empty() && zone_lower => {
                Ok(answer::ns(&snap.ns_addrs, &zone_q, ttl, resp))
            }
            // MX (never data here) and every other type: existence decides NODATA or
            // NXDOMAIN, as CoreDNS's "fake A lookup".
            _ => self
                .services(&ctx, &labels, reverse_name, default_ns)
                .map(|_| 0),
        };

        match result {
            Err(NameError) => {
                if self.fall.through(qname) {
                    return Reply::Next;
                }
                let rc = if self.index.is_synced() {
                    rcode::NXDOMAIN
                } else {
                    rcode::SERVFAIL
                };
                resp.start(q, rc);
                resp.set_authoritative(true);
                answer::soa(&zone_q, ttl, self.serial(zone), resp, false);
            }
            Ok(0) => {
                answer::soa(&zone_q, ttl, self.serial(zone), resp, false);
            }
            Ok(_) => {}
        }
        Reply::Done
    }

    fn serial(&self, zone: &ZoneInfo) -> u32 {
        self.index.serial(if zone.mc {
            SerialKind::Multicluster
        } else {
            SerialKind::Internal
        })
    }

    /// PTR for a full reverse name: the first exposed Service with that cluster IP, else
    /// every endpoint with that address (targets de-duplicated).
    fn ptr(&self, ctx: &Ctx<'_>, ip: IpAddr, resp: &mut Response) -> Result<usize, NameError> {
        let entry = ctx.snap.ptr.get(&ip).ok_or(NameError)?;
        // The namespace filter applies only with a `namespaces` list (not with
        // `namespace_labels`), as in CoreDNS.
        let visible = |ns: &[u8]| ctx.set.namespaces.is_empty() || ctx.exposed(ns);
        let zone = &ctx.snap.primary_zone;
        let pod_names = ctx.snap.endpoint_pod_names;
        if let Some(t) = entry.services().iter().find(|t| visible(t.namespace())) {
            return match t.name(zone, pod_names) {
                Some(name) => {
                    resp.answer(Owner::Question, self.ttl, &RData::Ptr(&name));
                    Ok(1)
                }
                None => Err(NameError),
            };
        }
        let mut n = 0;
        let endpoints = entry.endpoints();
        for (i, t) in endpoints.iter().enumerate() {
            if !visible(t.namespace()) {
                continue;
            }
            let Some(name) = t.name(zone, pod_names) else {
                continue;
            };
            let dup = endpoints[..i]
                .iter()
                .any(|e| visible(e.namespace()) && e.same_name(t, pod_names));
            if dup {
                continue;
            }
            if resp.answer(Owner::Question, self.ttl, &RData::Ptr(&name)) {
                n += 1;
            }
        }
        if n == 0 {
            Err(NameError)
        } else {
            Ok(n)
        }
    }

    /// CoreDNS's `plugin.A`/`AAAA` for a name that may be an ExternalName: follows the CNAME
    /// within the zone, or asks `upstream` outside it; appends the records to `out`.
    #[allow(clippy::too_many_arguments)]
    fn chase(
        &self,
        ctx: &Ctx<'_>,
        zone: &ZoneInfo,
        zone_lower: bool,
        name: &Name,
        owner: &Name,
        qtype: u16,
        chain: &mut Vec<Name>,
        upstream: &mut dyn FnMut(&Name, u16) -> Upstream,
        out: &mut Vec<Record>,
        tc: &mut bool,
    ) -> Result<(), NameError> {
        let name = name.lowercase();
        let rel = &name.wire()[..name.len() - zone.name.len()];
        let labels = Labels::new(rel);
        let reverse_name = reverse::reverse_family(&name) != 0;
        let found = self.services(ctx, &labels, reverse_name, rel == NS_DNS && zone_lower)?;
        let Found::External { target } = found else {
            let family = if qtype == rtype::A {
                Family::V4
            } else {
                Family::V6
            };
            let mut sink = VecSink {
                owner: *owner,
                ttl: self.ttl,
                out,
            };
            answer::addresses(&found, &ctx.snap.ns_addrs, family, &mut sink);
            return Ok(());
        };
        let Ok(target) = Name::from_wire(target) else {
            return Ok(());
        };
        // x CNAME x (or a name below x) is a loop; so is a target already in the chain.
        if target.is_subdomain_of(&name)
            || chain.len() > MAX_CHAIN
            || chain.iter().any(|t| t.wire() == target.wire())
        {
            return Ok(());
        }
        let cname = Record {
            name: *owner,
            ttl: self.ttl,
            class: class::IN,
            rtype: rtype::CNAME,
            data: RecordData::Name(target),
        };
        if target.is_subdomain_of(&zone.name) {
            let mut inner = Vec::new();
            chain.push(target);
            let r = self.chase(
                ctx, zone, zone_lower, &target, &target, qtype, chain, upstream, &mut inner, tc,
            );
            chain.pop();
            if r.is_ok() && !inner.is_empty() {
                out.push(cname);
                out.append(&mut inner);
            }
            return Ok(());
        }
        match upstream(&target, qtype) {
            Upstream::Answer(recs, truncated) => {
                *tc |= truncated;
                out.push(cname);
                out.extend(recs);
            }
            Upstream::NoMessage | Upstream::NeedAsync => {}
        }
        Ok(())
    }
}

fn step(reply: Reply) -> Step {
    match reply {
        Reply::Done => Step::Answered,
        Reply::Next => Step::Next,
        Reply::Refused => Step::Error(rcode::REFUSED, None),
    }
}

impl Kubernetes {
    /// [`Plugin::serve`], with out-of-zone CNAME targets asked of `via` and the plugins after
    /// it (`next`). The plugin itself is `via`; `kubernetai` passes itself, so that a target
    /// in another stanza's zones is answered by that stanza.
    pub fn serve_via(
        &self,
        via: &dyn Plugin,
        req: &Request<'_>,
        resp: &mut Response,
        next: Next<'_>,
    ) -> Step {
        match subquery::run_sync(via, req, next, |ask| self.answer(req, resp, ask)) {
            Some(reply) => step(reply),
            None => Step::Async,
        }
    }

    /// [`Plugin::serve_async`] with targets asked of `via` (see [`Kubernetes::serve_via`]).
    pub fn serve_async_via<'a>(
        &'a self,
        via: &'a dyn Plugin,
        req: &'a Request<'a>,
        resp: &'a mut Response,
        next: Next<'a>,
    ) -> BoxFuture<'a, Step> {
        Box::pin(async move {
            // Out-of-zone targets are fetched and the pipeline re-run with them (one round
            // in practice: a name has at most one such target).
            match subquery::run_async(via, req, next, |ask| self.answer(req, resp, ask)).await {
                Some(reply) => step(reply),
                None => Step::Error(
                    rcode::SERVFAIL,
                    Some("CNAME target lookups did not settle".into()),
                ),
            }
        })
    }
}

impl Plugin for Kubernetes {
    fn name(&self) -> &'static str {
        self.name
    }

    fn serve(&self, req: &Request<'_>, resp: &mut Response, next: Next<'_>) -> Step {
        self.serve_via(self, req, resp, next)
    }

    fn serve_async<'a>(
        &'a self,
        req: &'a Request<'a>,
        resp: &'a mut Response,
        next: Next<'a>,
    ) -> BoxFuture<'a, Step> {
        self.serve_async_via(self, req, resp, next)
    }
}
