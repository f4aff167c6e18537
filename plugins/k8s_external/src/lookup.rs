//! What a name under an external zone stands for (CoreDNS's `Kubernetes.External`):
//! `<svc>.<ns>.<zone>`, `<endpoint>.<svc>.<ns>.<zone>`, `_<port>._<proto>.<svc>.<ns>.<zone>`
//! (no `svc` label), read against the kubernetes plugin's index.
//!
//! A Service yields one result per external address and matching Service port; with
//! `headless`, a Service without external addresses that is headless (or any such Service
//! asked with an endpoint label) yields one per ready endpoint address and matching slice
//! port instead. Results are walked in place (twice when SRV weights need their count);
//! nothing is collected.

use std::net::IpAddr;

use signpost_kubernetes::{EndpointHost, ExternalSource, IndexView, PortView, ServiceView};

/// Where a result points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Host<'a> {
    /// An address: A/AAAA records.
    Ip(IpAddr),
    /// A load-balancer hostname: a CNAME to it.
    Name(&'a str),
}

/// One result: where, which port, and (for endpoints) the endpoint's label.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit<'a> {
    pub(crate) host: Host<'a>,
    pub(crate) port: i32,
    pub(crate) label: Option<EndpointHost<'a>>,
}

/// The parts of a name below the zone.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Parts<'a> {
    pub(crate) namespace: &'a [u8],
    pub(crate) service: &'a [u8],
    pub(crate) endpoint: &'a [u8],
    pub(crate) port: &'a [u8],
    pub(crate) protocol: &'a [u8],
}

/// What the name is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Found<'a> {
    /// NXDOMAIN.
    NameError,
    /// Exists without records (a namespace, or a Service asked for a type it has none of).
    Empty,
    /// Some results.
    Hits(Hits<'a>),
}

/// The results of one Service.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hits<'a> {
    pub(crate) svc: ServiceView<'a>,
    endpoints: bool,
    parts: Parts<'a>,
}

fn strip_underscore(s: &[u8]) -> &[u8] {
    s.strip_prefix(b"_").unwrap_or(s)
}

/// Split the labels below the zone (leftmost first) into the name's parts; `None` when
/// there are too many.
pub(crate) fn parts<'a>(labels: &[&'a [u8]]) -> Option<Parts<'a>> {
    let mut p = Parts::default();
    let n = labels.len();
    p.namespace = labels[n - 1];
    if n == 1 {
        return Some(p);
    }
    p.service = labels[n - 2];
    match n {
        2 => {}
        3 => p.endpoint = strip_underscore(labels[0]),
        4 => {
            p.port = strip_underscore(labels[0]);
            p.protocol = strip_underscore(labels[1]);
        }
        _ => return None,
    }
    Some(p)
}

/// Look a name (its labels below the zone, lower case, leftmost first; at least one) up.
pub(crate) fn lookup<'a>(
    source: &ExternalSource,
    view: &'a IndexView,
    labels: &[&'a [u8]],
    headless: bool,
) -> Found<'a> {
    let namespace = labels[labels.len() - 1];
    if !source.exposed(view, namespace) {
        return Found::NameError;
    }
    if labels.len() == 1 {
        return Found::Empty;
    }
    let Some(parts) = parts(labels) else {
        return Found::NameError;
    };
    let Some(svc) = view.service(parts.service, parts.namespace) else {
        return Found::NameError;
    };
    let endpoints = headless
        && svc.externals().next().is_none()
        && (svc.is_headless() || !parts.endpoint.is_empty());
    let hits = Hits {
        svc,
        endpoints,
        parts,
    };
    if hits.iter().next().is_some() {
        Found::Hits(hits)
    } else {
        Found::NameError
    }
}

impl<'a> Hits<'a> {
    fn port_ok(&self, p: &PortView<'_>) -> bool {
        p.matches(self.parts.port, self.parts.protocol)
    }

    /// Every result, in CoreDNS's order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Hit<'a>> + 'a {
        let me = *self;
        let svc = self.svc;
        let external = (!self.endpoints).then(move || {
            svc.externals().flat_map(move |e| {
                let host = match e.ip() {
                    Some(ip) => Host::Ip(ip),
                    None => Host::Name(e.text()),
                };
                svc.ports()
                    .filter(move |p| me.port_ok(p))
                    .map(move |p| Hit {
                        host,
                        port: p.port(),
                        label: None,
                    })
            })
        });
        let endpoint = self.endpoints.then(move || {
            let wanted = me.parts.endpoint;
            svc.slices().flat_map(move |s| {
                s.addresses()
                    .filter(move |a| {
                        a.ip().is_some()
                            && (wanted.is_empty() || a.host().eq_ignore_ascii_case(wanted))
                    })
                    .flat_map(move |a| {
                        s.ports().filter(move |p| me.port_ok(p)).map(move |p| Hit {
                            host: Host::Ip(a.ip().unwrap_or(IpAddr::from([0, 0, 0, 0]))),
                            port: p.port(),
                            label: Some(a.host()),
                        })
                    })
            })
        });
        external
            .into_iter()
            .flatten()
            .chain(endpoint.into_iter().flatten())
    }
}
