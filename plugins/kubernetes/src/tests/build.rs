//! Small builders for model objects, and the standard test cluster.

use std::collections::BTreeMap;
use std::sync::Arc;

use signpost_k8s_model::{
    Endpoint, EndpointSlice, LoadBalancerIngress, Namespace, ObjectKey, Pod, Port, Service,
    ServiceImport, ServiceType,
};

use super::World;

pub(crate) fn key(ns: &str, name: &str) -> ObjectKey {
    ObjectKey {
        namespace: ns.into(),
        name: name.into(),
    }
}

pub(crate) fn port(name: &str, proto: &str, port: i32) -> Port {
    Port {
        name: name.into(),
        protocol: proto.into(),
        port,
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<Arc<str>, Arc<str>> {
    pairs
        .iter()
        .map(|(k, v)| (Arc::from(*k), Arc::from(*v)))
        .collect()
}

/// A ClusterIP Service with these IPs (no ports yet).
pub(crate) fn svc(ns: &str, name: &str, ips: &[&str]) -> Service {
    Service {
        key: key(ns, name),
        service_type: ServiceType::ClusterIp,
        cluster_ips: ips.iter().map(|s| Arc::from(*s)).collect(),
        external_name: "".into(),
        ports: Vec::new(),
        external_ips: Vec::new(),
        load_balancer: Vec::new(),
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
    }
}

/// A headless Service.
pub(crate) fn headless(ns: &str, name: &str) -> Service {
    svc(ns, name, &["None"])
}

/// An ExternalName Service.
pub(crate) fn external(ns: &str, name: &str, target: &str) -> Service {
    let mut s = svc(ns, name, &[""]);
    s.service_type = ServiceType::ExternalName;
    s.external_name = target.into();
    s
}

/// Builder-style additions.
pub(crate) trait With: Sized {
    fn port(self, name: &str, proto: &str, p: i32) -> Self;
    fn label(self, k: &str, v: &str) -> Self;
}

impl With for Service {
    fn port(mut self, name: &str, proto: &str, p: i32) -> Self {
        self.ports.push(port(name, proto, p));
        self
    }
    fn label(mut self, k: &str, v: &str) -> Self {
        self.labels.insert(k.into(), v.into());
        self
    }
}

impl With for EndpointSlice {
    fn port(mut self, name: &str, proto: &str, p: i32) -> Self {
        self.ports.push(port(name, proto, p));
        self
    }
    fn label(mut self, k: &str, v: &str) -> Self {
        self.labels.insert(k.into(), v.into());
        self
    }
}

/// Service additions.
pub(crate) fn with_lb(mut s: Service, ip: &str) -> Service {
    s.load_balancer.push(LoadBalancerIngress {
        ip: ip.into(),
        hostname: "".into(),
    });
    s
}

/// An endpoint with addresses (ready unless changed).
pub(crate) fn ep(addrs: &[&str]) -> Endpoint {
    Endpoint {
        addresses: addrs.iter().map(|s| Arc::from(*s)).collect(),
        ready: None,
        hostname: "".into(),
        node_name: "".into(),
        target_ref_name: "".into(),
        target_ref_kind: "".into(),
        zone: "".into(),
    }
}

/// Endpoint additions.
pub(crate) trait EpWith: Sized {
    fn host(self, h: &str) -> Self;
    fn pod(self, name: &str) -> Self;
    fn zone(self, z: &str) -> Self;
    fn ready(self, r: bool) -> Self;
}

impl EpWith for Endpoint {
    fn host(mut self, h: &str) -> Self {
        self.hostname = h.into();
        self
    }
    fn pod(mut self, name: &str) -> Self {
        self.target_ref_name = name.into();
        self.target_ref_kind = "Pod".into();
        self
    }
    fn zone(mut self, z: &str) -> Self {
        self.zone = z.into();
        self
    }
    fn ready(mut self, r: bool) -> Self {
        self.ready = Some(r);
        self
    }
}

/// An EndpointSlice of `service` with these endpoints (no ports yet).
pub(crate) fn slice(ns: &str, name: &str, service: &str, eps: Vec<Endpoint>) -> EndpointSlice {
    let v6 = eps
        .iter()
        .flat_map(|e| e.addresses.iter())
        .any(|a| a.contains(':'));
    EndpointSlice {
        key: key(ns, name),
        service_name: service.into(),
        source_cluster: "".into(),
        address_type: if v6 { "IPv6" } else { "IPv4" }.into(),
        endpoints: eps,
        ports: Vec::new(),
        labels: labels(&[("kubernetes.io/service-name", service)]),
    }
}

/// An MCS slice from `cluster`.
pub(crate) fn mcs_slice(
    ns: &str,
    name: &str,
    service: &str,
    cluster: &str,
    eps: Vec<Endpoint>,
) -> EndpointSlice {
    let mut s = slice(ns, name, service, eps);
    s.service_name = service.into();
    s.source_cluster = cluster.into();
    s.labels = labels(&[
        ("multicluster.kubernetes.io/service-name", service),
        ("multicluster.kubernetes.io/source-cluster", cluster),
    ]);
    s
}

pub(crate) fn namespace(name: &str) -> Namespace {
    Namespace {
        key: key("", name),
        labels: BTreeMap::new(),
    }
}

pub(crate) fn namespace_labeled(name: &str, k: &str, v: &str) -> Namespace {
    Namespace {
        key: key("", name),
        labels: labels(&[(k, v)]),
    }
}

pub(crate) fn pod(ns: &str, name: &str, ip: &str) -> Pod {
    Pod {
        key: key(ns, name),
        pod_ip: ip.into(),
        pod_ips: vec![ip.into()],
        deleting: false,
        phase: "Running".into(),
        labels: BTreeMap::new(),
    }
}

pub(crate) fn import(
    ns: &str,
    name: &str,
    kind: &str,
    ips: &[&str],
    ports: &[Port],
) -> ServiceImport {
    ServiceImport {
        key: key(ns, name),
        import_type: kind.into(),
        ips: ips.iter().map(|s| Arc::from(*s)).collect(),
        ports: ports.to_vec(),
        labels: BTreeMap::new(),
    }
}

/// The standard cluster most tests use (namespace `testns`).
pub(crate) fn world() -> World {
    World {
        namespaces: vec![namespace("testns"), namespace("kube-system")],
        services: vec![
            svc("testns", "svc1", &["10.0.0.1"]).port("http", "TCP", 80),
            svc("testns", "svcempty", &["10.0.0.2"]).port("http", "TCP", 80),
            svc("testns", "svc6", &["1234:abcd::1"]).port("http", "TCP", 80),
            svc("testns", "dual", &["10.0.0.3", "10::3"]).port("http", "TCP", 80),
            svc("testns", "multiport", &["10.0.0.4"])
                .port("dns", "UDP", 53)
                .port("dns-tcp", "TCP", 53)
                .port("", "TCP", 8080),
            headless("testns", "hdls1").port("http", "TCP", 80),
            headless("testns", "hdlsprtls"),
            headless("testns", "hdlsempty").port("http", "TCP", 80),
            external("testns", "external", "ext.interwebs.test"),
            external(
                "testns",
                "external-to-service",
                "svc1.testns.svc.cluster.local",
            ),
            external("testns", "external-ip", "1.2.3.4"),
            external(
                "testns",
                "external-loop",
                "external-loop2.testns.svc.cluster.local",
            ),
            external(
                "testns",
                "external-loop2",
                "external-loop.testns.svc.cluster.local",
            ),
        ],
        slices: vec![
            slice(
                "testns",
                "svc1-abcde",
                "svc1",
                vec![ep(&["172.0.0.1"]).host("ep1a")],
            )
            .port("http", "TCP", 80),
            slice(
                "testns",
                "hdls1-v4",
                "hdls1",
                vec![
                    ep(&["172.0.0.2"]).host("dup-name"),
                    ep(&["172.0.0.3"]).host("dup-name"),
                    ep(&["172.0.0.4"]),
                    ep(&["172.0.0.5"]),
                    ep(&["172.0.0.9"]).ready(false),
                ],
            )
            .port("http", "TCP", 80),
            slice(
                "testns",
                "hdls1-v6",
                "hdls1",
                vec![ep(&["5678:abcd::1"]), ep(&["5678:abcd::2"])],
            )
            .port("http", "TCP", 80),
            slice(
                "testns",
                "hdlsprtls-x",
                "hdlsprtls",
                vec![ep(&["172.0.0.20"])],
            ),
        ],
        ..World::default()
    }
}
