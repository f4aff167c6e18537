//! Answers from the index allocate nothing once warm: A, AAAA, SRV, PTR, NXDOMAIN, NODATA,
//! endpoint and pod names, dns-version.

use std::sync::Arc;
use std::time::Instant;

use signpost_k8s_model::{
    Endpoint, EndpointSlice, Event, Labels, Namespace, ObjectKey, Port, Service, ServiceType,
};
use signpost_kubernetes::{parse_stanza, Index, IndexOptions, Kubernetes};
use signpost_plugin::testing::{CountingAlloc, NxDomain};
use signpost_plugin::{Chain, Dispenser, Request, ServerInfo, Transport};
use signpost_wire::{build_query, rcode, rtype, Name, Query, Response};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn key(ns: &str, name: &str) -> ObjectKey {
    ObjectKey {
        namespace: ns.into(),
        name: name.into(),
    }
}

fn port(name: &str, p: i32) -> Port {
    Port {
        name: name.into(),
        protocol: "TCP".into(),
        port: p,
    }
}

fn service(name: &str, ips: &[&str]) -> Service {
    Service {
        key: key("ns", name),
        service_type: ServiceType::ClusterIp,
        cluster_ips: ips.iter().map(|s| Arc::from(*s)).collect(),
        external_name: "".into(),
        ports: vec![port("http", 80)],
        external_ips: Vec::new(),
        load_balancer: Vec::new(),
        labels: Labels::new(),
        annotations: Labels::new(),
    }
}

fn endpoint(ip: &str, host: &str) -> Endpoint {
    Endpoint {
        addresses: vec![ip.into()],
        ready: Some(true),
        hostname: host.into(),
        node_name: "".into(),
        target_ref_name: "".into(),
        target_ref_kind: "".into(),
        zone: "".into(),
    }
}

fn slice(name: &str, svc: &str, eps: Vec<Endpoint>) -> EndpointSlice {
    EndpointSlice {
        key: key("ns", name),
        service_name: svc.into(),
        source_cluster: "".into(),
        address_type: "IPv4".into(),
        endpoints: eps,
        ports: vec![port("http", 80)],
        labels: Labels::new(),
    }
}

fn chain() -> Arc<Chain> {
    let text = ". {\n kubernetes cluster.local in-addr.arpa {\n  pods insecure\n }\n}";
    let blocks = signpost_corefile::parse("Corefile", text).unwrap();
    let mut d = Dispenser::new(&blocks[0].directives[0]);
    d.next();
    let cfg = parse_stanza(&mut d, &[Name::root()]).unwrap();
    let index = Index::new(IndexOptions::from_config(&cfg));
    index.namespaces().on_event(&Event::Reset(
        vec![Arc::new(Namespace {
            key: key("", "ns"),
            labels: Labels::new(),
        })]
        .into(),
    ));
    index.services().on_event(&Event::Reset(
        vec![
            Arc::new(service("web", &["10.0.0.1", "fd00::1"])),
            Arc::new(service("db", &["None"])),
        ]
        .into(),
    ));
    index.endpoint_slices().on_event(&Event::Reset(
        vec![Arc::new(slice(
            "db-1",
            "db",
            vec![
                endpoint("10.1.0.1", "db-0"),
                endpoint("10.1.0.2", "db-1"),
                endpoint("10.1.0.3", ""),
            ],
        ))]
        .into(),
    ));
    index.pods().on_event(&Event::Reset(Vec::new().into()));
    Chain::new(vec![
        Arc::new(Kubernetes::new(&cfg, index)),
        Arc::new(NxDomain),
    ])
}

fn allocations(chain: &Arc<Chain>, name: &str, qtype: u16, resp: &mut Response) -> (usize, u16) {
    let packet = build_query(7, &Name::from_text(name).unwrap(), qtype, true, Some(1232));
    let server = ServerInfo {
        addr: "dns://:53".into(),
        zone: Name::root(),
        zone_text: ".".into(),
        port: 53,
    };
    let req = Request {
        query: Query::parse(&packet).unwrap(),
        client: "10.9.0.1:5353".parse().unwrap(),
        local: "10.9.0.53:53".parse().unwrap(),
        transport: Transport::Udp,
        server: &server,
        start: Instant::now(),
    };
    // Warm up (thread-local state, buffers), then count.
    chain.start().run(&req, resp).unwrap();
    let before = signpost_plugin::testing::allocations();
    chain.start().run(&req, resp).unwrap();
    (
        signpost_plugin::testing::allocations() - before,
        resp.rcode(),
    )
}

#[test]
fn answers_from_memory_allocate_nothing() {
    let chain = chain();
    let mut resp = Response::new();
    for (name, qtype, want) in [
        ("web.ns.svc.cluster.local.", rtype::A, rcode::NOERROR),
        ("web.ns.svc.cluster.local.", rtype::AAAA, rcode::NOERROR),
        ("WEB.ns.svc.Cluster.Local.", rtype::SRV, rcode::NOERROR),
        ("db.ns.svc.cluster.local.", rtype::A, rcode::NOERROR),
        ("db.ns.svc.cluster.local.", rtype::SRV, rcode::NOERROR),
        ("db-1.db.ns.svc.cluster.local.", rtype::A, rcode::NOERROR),
        (
            "_http._tcp.db.ns.svc.cluster.local.",
            rtype::SRV,
            rcode::NOERROR,
        ),
        ("db.ns.svc.cluster.local.", rtype::AAAA, rcode::NOERROR),
        ("db.ns.svc.cluster.local.", rtype::TXT, rcode::NOERROR),
        ("ns.svc.cluster.local.", rtype::A, rcode::NOERROR),
        ("nothere.ns.svc.cluster.local.", rtype::A, rcode::NXDOMAIN),
        (
            "a.b.c.nothere.ns.svc.cluster.local.",
            rtype::A,
            rcode::NXDOMAIN,
        ),
        ("1.0.0.10.in-addr.arpa.", rtype::PTR, rcode::NOERROR),
        ("2.0.1.10.in-addr.arpa.", rtype::PTR, rcode::NOERROR),
        ("9.9.9.9.in-addr.arpa.", rtype::PTR, rcode::NXDOMAIN),
        ("1-2-3-4.ns.pod.cluster.local.", rtype::A, rcode::NOERROR),
        ("dns-version.cluster.local.", rtype::TXT, rcode::NOERROR),
        ("cluster.local.", rtype::SOA, rcode::NOERROR),
        ("web.ns.svc.cluster.local.", rtype::HINFO, rcode::NOERROR),
    ] {
        let (n, rc) = allocations(&chain, name, qtype, &mut resp);
        assert_eq!(rc, want, "{name} {qtype}");
        assert_eq!(n, 0, "{name} {qtype}: {n} allocations");
    }
}
