//! What each kind of object contributes: (key, records) pairs, built when objects change so
//! that answering is only lookups (spec §3, with the bug fixes of §9 listed in the README).

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use signpost_k8s_model::{
    DnsEndpoint, EndpointSlice, Gateway, Ingress, LoadBalancerIngress, Node, ObjectKey, ParentRef,
    Route, Service, ServiceType,
};
use signpost_wire::Name;

use crate::keys::key;

/// The records one kind holds for one key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Data {
    pub(crate) v4: Vec<Ipv4Addr>,
    pub(crate) v6: Vec<Ipv6Addr>,
    pub(crate) txt: Vec<String>,
    /// Load-balancer or Gateway host names (and DNSEndpoint CNAME targets): answered as a
    /// CNAME when the key has no address.
    pub(crate) cname: Option<Name>,
}

impl Data {
    pub(crate) fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty() && self.txt.is_empty() && self.cname.is_none()
    }

    pub(crate) fn add_ip(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(a) if !self.v4.contains(&a) => self.v4.push(a),
            IpAddr::V6(a) if !self.v6.contains(&a) => self.v6.push(a),
            _ => {}
        }
    }

    /// Adds an address as text (skipped when it does not parse).
    fn add_text(&mut self, ip: &str) {
        if let Ok(ip) = ip.trim().parse::<IpAddr>() {
            self.add_ip(ip);
        }
    }

    fn add_cname(&mut self, host: &str) {
        if self.cname.is_none() {
            self.cname = key(host);
        }
    }

    pub(crate) fn merge(&mut self, other: &Data) {
        for a in &other.v4 {
            self.add_ip(IpAddr::V4(*a));
        }
        for a in &other.v6 {
            self.add_ip(IpAddr::V6(*a));
        }
        for t in &other.txt {
            if !self.txt.contains(t) {
                self.txt.push(t.clone());
            }
        }
        if self.cname.is_none() {
            self.cname = other.cname;
        }
    }
}

/// EndpointSlices by (namespace, Service name).
pub(crate) type SlicesByService = BTreeMap<(Arc<str>, Arc<str>), Vec<Arc<EndpointSlice>>>;

/// One kind's records by key.
pub(crate) type KindMap = HashMap<Name, Data>;

fn put(map: &mut KindMap, host: &str, data: &Data) {
    if data.is_empty() {
        return;
    }
    if let Some(k) = key(host) {
        map.entry(k).or_default().merge(data);
    }
}

fn load_balancer(lb: &[LoadBalancerIngress]) -> Data {
    let mut d = Data::default();
    for i in lb {
        if !i.ip.is_empty() {
            d.add_text(&i.ip);
        } else if !i.hostname.is_empty() {
            d.add_cname(&i.hostname);
        }
    }
    d
}

/// Ingresses: `spec.rules[].host` → `status.loadBalancer.ingress`.
pub(crate) fn ingresses<'a>(
    objects: impl Iterator<Item = &'a Arc<Ingress>>,
    classes: Option<&[String]>,
) -> KindMap {
    let mut map = KindMap::new();
    for ing in objects {
        if ing.ignored {
            continue;
        }
        if let Some(classes) = classes {
            // Upstream dereferences a missing class and fails the query; no class = no match.
            let Some(class) = &ing.class else { continue };
            if !classes.iter().any(|c| **c == **class) {
                continue;
            }
        }
        let data = load_balancer(&ing.load_balancer);
        for h in &ing.hosts {
            put(&mut map, h, &data);
        }
    }
    map
}

const HOSTNAME_ANNOTATIONS: [&str; 2] = [
    "coredns.io/hostname",
    "external-dns.alpha.kubernetes.io/hostname",
];
const RESOLVE_ENDPOINTS: &str = "k8s-gateway.dns/resolve-endpoints";

/// A host name of a Service annotation: RFC 1123 labels, one optional leading `*.`.
fn valid_annotation_host(h: &str) -> bool {
    let rest = h.strip_prefix("*.").unwrap_or(h);
    if rest.is_empty() || h.len() > 253 {
        return false;
    }
    rest.split('.').all(|l| {
        let b = l.as_bytes();
        !b.is_empty()
            && b.len() <= 63
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    })
}

/// The names a Service is served under: its annotation's hosts, or `name.namespace`. None
/// when the annotation exists but holds no valid host (upstream then drops the Service).
pub(crate) fn service_hosts(svc: &Service) -> Option<Vec<String>> {
    let annotation = HOSTNAME_ANNOTATIONS
        .iter()
        .find_map(|a| svc.annotations.get(a));
    match annotation {
        Some(v) => {
            let v: String = v.to_lowercase().chars().filter(|c| *c != ' ').collect();
            let hosts: Vec<String> = v
                .split(',')
                .filter(|h| valid_annotation_host(h))
                .map(String::from)
                .collect();
            (!hosts.is_empty()).then_some(hosts)
        }
        None => Some(vec![format!("{}.{}", svc.key.name, svc.key.namespace)]),
    }
}

/// Services of type LoadBalancer (or opted in with `k8s-gateway.dns/resolve-endpoints`).
/// `slices` are the EndpointSlices by (namespace, service name).
pub(crate) fn services<'a>(
    objects: impl Iterator<Item = &'a Arc<Service>>,
    slices: &SlicesByService,
) -> KindMap {
    let mut map = KindMap::new();
    for svc in objects {
        if svc
            .labels
            .get(signpost_k8s_model::IGNORE_LABEL)
            .map(|v| &**v)
            == Some("true")
        {
            continue;
        }
        let endpoints = svc.annotations.get(RESOLVE_ENDPOINTS).map(|v| &**v) == Some("true");
        if !endpoints && svc.service_type != ServiceType::LoadBalancer {
            continue;
        }
        let Some(hosts) = service_hosts(svc) else {
            continue;
        };
        let mut data = Data::default();
        if endpoints {
            let k = (svc.key.namespace.clone(), svc.key.name.clone());
            for slice in slices.get(&k).into_iter().flatten() {
                for ep in slice.endpoints.iter().filter(|e| e.is_ready()) {
                    for a in &ep.addresses {
                        data.add_text(a);
                    }
                }
            }
        } else if !svc.external_ips.is_empty() {
            for ip in &svc.external_ips {
                data.add_text(ip);
            }
        } else {
            data = load_balancer(&svc.load_balancer);
        }
        for h in &hosts {
            put(&mut map, h, &data);
        }
    }
    map
}

/// The Gateway a parent reference names, if it names one (group and kind default to the
/// Gateway API's `Gateway`; the namespace to the route's own).
fn parent_key(route: &Route, p: &ParentRef) -> Option<ObjectKey> {
    let group_ok = p
        .group
        .as_deref()
        .is_none_or(|g| g == "gateway.networking.k8s.io");
    let kind_ok = p.kind.as_deref().is_none_or(|k| k == "Gateway");
    (group_ok && kind_ok).then(|| ObjectKey {
        namespace: p
            .namespace
            .clone()
            .unwrap_or_else(|| route.key.namespace.clone()),
        name: p.name.clone(),
    })
}

fn gateway_data(gw: &Gateway, d: &mut Data) {
    for a in &gw.addresses {
        match &*a.kind {
            "" | "IPAddress" => d.add_text(&a.value),
            "Hostname" => d.add_cname(&a.value),
            _ => {}
        }
    }
}

/// Routes: `spec.hostnames[]` → the `status.addresses` of their parent Gateways.
pub(crate) fn routes<'a>(
    objects: impl Iterator<Item = &'a Route>,
    gateways: &BTreeMap<ObjectKey, Arc<Gateway>>,
    classes: Option<&[String]>,
) -> KindMap {
    let mut map = KindMap::new();
    for route in objects {
        if route.ignored || route.hostnames.is_empty() {
            continue;
        }
        let mut data = Data::default();
        for p in &route.parents {
            let Some(gw) = parent_key(route, p).and_then(|k| gateways.get(&k)) else {
                continue;
            };
            if classes.is_some_and(|c| !c.iter().any(|c| **c == *gw.class)) {
                continue;
            }
            gateway_data(gw, &mut data);
        }
        for h in &route.hostnames {
            put(&mut map, h, &data);
        }
    }
    map
}

/// DNSEndpoints: each endpoint's records under its own `dnsName` only.
pub(crate) fn dns_endpoints<'a>(objects: impl Iterator<Item = &'a Arc<DnsEndpoint>>) -> KindMap {
    let mut map = KindMap::new();
    for de in objects {
        if de.ignored {
            continue;
        }
        for ep in &de.endpoints {
            let mut d = Data::default();
            for t in &ep.targets {
                match &*ep.record_type {
                    "A" => match t.trim().parse::<Ipv4Addr>() {
                        Ok(a) => d.add_ip(IpAddr::V4(a)),
                        Err(_) => continue,
                    },
                    "AAAA" => match t.trim().parse::<Ipv6Addr>() {
                        Ok(a) => d.add_ip(IpAddr::V6(a)),
                        Err(_) => continue,
                    },
                    "TXT" if !d.txt.iter().any(|x| **x == **t) => d.txt.push(t.to_string()),
                    "CNAME" => d.add_cname(t),
                    _ => {}
                }
            }
            put(&mut map, &ep.dns_name, &d);
        }
    }
    map
}

/// Nodes: their `Hostname` addresses → their addresses of `address_type`.
pub(crate) fn nodes<'a>(
    objects: impl Iterator<Item = &'a Arc<Node>>,
    address_type: &str,
) -> KindMap {
    let mut map = KindMap::new();
    for node in objects {
        if node.ignored {
            continue;
        }
        let mut d = Data::default();
        for a in node.addresses.iter().filter(|a| &*a.kind == address_type) {
            d.add_text(&a.address);
        }
        for h in node.addresses.iter().filter(|a| &*a.kind == "Hostname") {
            put(&mut map, &h.address, &d);
        }
    }
    map
}
