//! What a name is, according to the index (CoreDNS's `Records`, `findServices`,
//! `findPods`): either a name error, or a [`Found`] that knows how to enumerate its results.
//! Nothing here allocates; results are walked in place by the answer writers.

use std::net::IpAddr;

use crate::config::PodMode;
use crate::index::records::{parse_ip, AddrRec, PortRef, SliceRec, SvcData, SvcEntry, SvcKind};
use crate::index::Snapshot;
use crate::qname::{self, wire_eq_dotted, Kind, Labels, Request};

/// A name error: NXDOMAIN (or fallthrough, or SERVFAIL before sync).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NameError;

/// The query-time settings of a stanza.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) pods: PodMode,
    /// `namespaces` (exact names; empty = all).
    pub(crate) namespaces: Vec<Box<[u8]>>,
    pub(crate) ignore_empty: bool,
    pub(crate) zonal: bool,
}

/// Where a lookup runs.
pub(crate) struct Ctx<'a> {
    pub(crate) snap: &'a Snapshot,
    pub(crate) set: &'a Settings,
    /// The zone is a multicluster zone.
    pub(crate) mc: bool,
}

impl Ctx<'_> {
    /// Listed in `namespaces` (or no list).
    pub(crate) fn configured(&self, ns: &[u8]) -> bool {
        self.set.namespaces.is_empty() || self.set.namespaces.iter().any(|n| &**n == ns)
    }

    /// CoreDNS's `namespaceExposed`: configured and present in the namespace cache.
    pub(crate) fn exposed(&self, ns: &[u8]) -> bool {
        self.configured(ns) && self.snap.namespaces.contains(ns)
    }
}

/// Which endpoints of an entry a request selects.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EpFilter<'a> {
    pub(crate) endpoint: &'a [u8],
    pub(crate) cluster: &'a [u8],
    pub(crate) port: &'a [u8],
    pub(crate) proto: &'a [u8],
    pub(crate) topo: Option<&'a [u8]>,
    pub(crate) mc: bool,
    /// `endpoint_pod_names` (how endpoint labels are made).
    pub(crate) pod_names: bool,
}

impl<'a> EpFilter<'a> {
    /// Does the address pass the endpoint label, cluster and zone parts?
    #[inline]
    pub(crate) fn addr(&self, slice: &SliceRec, a: &AddrRec<'_>) -> bool {
        if a.ip.is_none() {
            return false;
        }
        if let Some(topo) = self.topo {
            if !wire_eq_dotted(topo, a.zone().as_bytes()) {
                return false;
            }
        }
        if !self.endpoint.is_empty() {
            if self.mc && !slice.cluster().eq_ignore_ascii_case(self.cluster) {
                return false;
            }
            if !a.host.eq_ignore_ascii_case(self.endpoint) {
                return false;
            }
        }
        true
    }

    /// The slice ports the request selects.
    #[inline]
    pub(crate) fn ports<'s>(&self, slice: &'s SliceRec) -> impl Iterator<Item = PortRef<'s>> + 's
    where
        'a: 's,
    {
        let (port, proto) = (self.port, self.proto);
        slice.ports().filter(move |p| p.matches(port, proto))
    }

    /// The slice's ready addresses, labelled as this stanza labels them.
    #[inline]
    pub(crate) fn addrs<'s>(&self, slice: &'s SliceRec) -> crate::index::records::Addrs<'s> {
        slice.addrs(self.pod_names)
    }

    /// Number of results: passing addresses × selected ports, over all slices.
    pub(crate) fn count(&self, entry: &SvcEntry) -> usize {
        entry
            .slices
            .iter()
            .map(|s| {
                let ports = self.ports(s).count();
                if ports == 0 {
                    return 0;
                }
                self.addrs(s).filter(|a| self.addr(s, a)).count() * ports
            })
            .sum()
    }
}

/// A name that exists.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Found<'a> {
    /// No records: apex, `svc`, `pod`, a namespace, a ClusterIP Service without cluster IPs.
    Empty,
    /// A Service's cluster IPs, for each selected port (at least one is).
    Cluster {
        entry: &'a SvcEntry,
        svc: &'a SvcData,
        port: &'a [u8],
        proto: &'a [u8],
    },
    /// Endpoint addresses (headless Services, endpoint names, zonal names).
    Endpoints {
        entry: &'a SvcEntry,
        filter: EpFilter<'a>,
        /// Number of results (0 only for an empty zonal selection).
        count: usize,
        /// A zonal name (exists even when the zone selects nothing).
        zonal: bool,
    },
    /// An ExternalName Service: a CNAME to this wire name.
    External { target: &'a [u8] },
    /// A pod: its IP, and `<podname><ns>` as wire labels (the SRV target).
    Pod { ip: IpAddr, key: &'a [u8] },
    /// `ns.dns.<zone>`: the nameserver addresses.
    Nameservers,
}

impl Found<'_> {
    /// Number of results CoreDNS would have (what SRV weights divide by; 0 = none).
    pub(crate) fn count(&self, nameservers: usize) -> usize {
        match *self {
            Found::Empty => 0,
            Found::Cluster {
                svc, port, proto, ..
            } => {
                svc.ports.iter().filter(|p| p.matches(port, proto)).count() * svc.cluster_ips.len()
            }
            Found::Endpoints { count, .. } => count,
            Found::External { .. } | Found::Pod { .. } => 1,
            Found::Nameservers => nameservers,
        }
    }
}

/// CoreDNS's `Records`: parse and look up a name (relative to its zone).
pub(crate) fn records<'a>(
    ctx: &Ctx<'a>,
    labels: &Labels<'a>,
    reverse_name: bool,
) -> Result<Found<'a>, NameError> {
    let r = qname::parse(labels, ctx.mc, ctx.set.zonal).map_err(|_| NameError)?;
    let Some(kind) = r.kind else {
        return Ok(Found::Empty);
    };
    if reverse_name || !ctx.exposed(r.namespace) {
        return Err(NameError);
    }
    match kind {
        Kind::Pod => find_pod(ctx, &r),
        Kind::Svc => find_service(ctx, &r),
    }
}

/// Longest pod label that can hold an IP written with dashes.
const MAX_POD_LABEL: usize = 63;

fn find_pod<'a>(ctx: &Ctx<'a>, r: &Request<'a>) -> Result<Found<'a>, NameError> {
    if ctx.set.pods == PodMode::Disabled {
        return Err(NameError);
    }
    if r.service.is_empty() {
        return Ok(Found::Empty);
    }
    let name = r.service;
    let mut buf = [0u8; MAX_POD_LABEL];
    let dashes = name.iter().filter(|&&b| b == b'-').count();
    let v4 = dashes == 3 && !name.windows(2).any(|w| w == b"--");
    for (o, &b) in buf.iter_mut().zip(name) {
        *o = match b {
            b'-' if v4 => b'.',
            b'-' => b':',
            other => other,
        };
    }
    let text = &buf[..name.len()];
    let ip = std::str::from_utf8(text)
        .ok()
        .and_then(parse_ip)
        .ok_or(NameError)?;
    match ctx.set.pods {
        PodMode::Insecure => Ok(Found::Pod { ip, key: r.key }),
        _ => {
            let found = ctx.snap.pods.get(text).is_some_and(|pods| {
                pods.iter()
                    .any(|k| k.namespace.as_bytes().eq_ignore_ascii_case(r.namespace))
            });
            if found {
                Ok(Found::Pod { ip, key: r.key })
            } else {
                Err(NameError)
            }
        }
    }
}

fn find_service<'a>(ctx: &Ctx<'a>, r: &Request<'a>) -> Result<Found<'a>, NameError> {
    if r.service.is_empty() {
        return Ok(Found::Empty);
    }
    let map = if ctx.mc {
        &ctx.snap.mc_entries
    } else {
        &ctx.snap.entries
    };
    let entry: &SvcEntry = map.get(r.key).ok_or(NameError)?;
    let svc = entry.service.as_ref().ok_or(NameError)?;
    if ctx.set.ignore_empty && svc.kind == SvcKind::ClusterIp && entry.ready_total == 0 {
        return Err(NameError);
    }
    if r.topo.is_some() && svc.kind != SvcKind::Headless {
        return Err(NameError);
    }
    match svc.kind {
        SvcKind::ExternalName => {
            if !r.endpoint.is_empty() || !r.port.is_empty() || !r.protocol.is_empty() {
                return Err(NameError);
            }
            svc.external()
                .map(|target| Found::External { target })
                .ok_or(NameError)
        }
        SvcKind::Headless => endpoints(ctx, r, entry),
        SvcKind::ClusterIp if !r.endpoint.is_empty() => endpoints(ctx, r, entry),
        SvcKind::ClusterIp => {
            if svc.ports.iter().any(|p| p.matches(r.port, r.protocol)) {
                Ok(Found::Cluster {
                    entry,
                    svc,
                    port: r.port,
                    proto: r.protocol,
                })
            } else {
                Err(NameError)
            }
        }
    }
}

fn endpoints<'a>(
    ctx: &Ctx<'a>,
    r: &Request<'a>,
    entry: &'a SvcEntry,
) -> Result<Found<'a>, NameError> {
    let mut filter = EpFilter {
        endpoint: r.endpoint,
        cluster: r.cluster,
        port: r.port,
        proto: r.protocol,
        topo: r.topo,
        mc: ctx.mc,
        pod_names: ctx.snap.endpoint_pod_names,
    };
    let mut count = filter.count(entry);
    if count == 0 && r.topo.is_some() && r.prefer {
        // `prefer` falls back to every endpoint when the zone has none.
        filter.topo = None;
        count = filter.count(entry);
    }
    if count == 0 && r.topo.is_none() {
        return Err(NameError);
    }
    Ok(Found::Endpoints {
        entry,
        filter,
        count,
        zonal: r.topo.is_some(),
    })
}
