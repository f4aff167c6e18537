//! The plugin as *transfer* and *autopath* use it: zone transfers (spec §10) and pod search
//! paths (spec §15), through chains set up from Corefiles on the standard cluster.

use std::sync::Arc;

use signpost_plugin::testing::{request_with, run, setup, Case, NxDomain};
use signpost_plugin::{Chain, CorefileError, Directive, OwnedRequest, PluginDef, SetupContext};
use signpost_plugin::{Outcome, Transport};
use signpost_wire::{rcode, rtype, Name, Response};

use super::{pod, set_world, svc, texts, world, EpWith, With, World, SOA};

/// Ends a chain with NXDOMAIN (what *forward* would say about names outside the cluster).
const TAIL: PluginDef = PluginDef {
    name: "tail",
    setup: tail,
};

fn tail(ctx: &mut SetupContext<'_>, _: &[Directive]) -> Result<(), CorefileError> {
    ctx.add_plugin(Arc::new(NxDomain));
    Ok(())
}

const DEFS: [PluginDef; 4] = [
    signpost_autopath::PLUGIN,
    signpost_transfer::PLUGIN,
    crate::testing::PLUGIN,
    TAIL,
];

fn chain(world: World, block: &str) -> Arc<Chain> {
    set_world(world);
    setup(&DEFS, block).unwrap().0
}

fn from(c: &Arc<Chain>, req: &OwnedRequest) -> (Outcome, Response) {
    run(c, req).expect("sync path")
}

fn axfr(name: &str) -> OwnedRequest {
    request_with(name, rtype::AXFR, Transport::Tcp, "10.0.0.99:5353")
}

const XFR_BLOCK: &str = "cluster.local clusterset.local {\n transfer {\n  to *\n }\n kubernetes cluster.local clusterset.local {\n  multicluster clusterset.local\n }\n tail\n}";

fn with_ns(mut w: World) -> World {
    w.local_ips = vec!["10.0.0.10".parse().unwrap()];
    w
}

#[test]
fn transfers_the_cluster_zone() {
    let c = chain(with_ns(world()), XFR_BLOCK);
    let (o, resp) = from(&c, &axfr("cluster.local."));
    assert_eq!(o.plugin, "transfer");
    Case {
        qname: "cluster.local.",
        qtype: rtype::AXFR,
        rcode: rcode::NOERROR,
        answer: vec![
            SOA,
            "cluster.local.	5	IN	NS	ns.dns.cluster.local.",
            "ns.dns.cluster.local.	0	IN	A	10.0.0.10",
            "dual.testns.svc.cluster.local.	5	IN	A	10.0.0.3",
            "dual.testns.svc.cluster.local.	5	IN	AAAA	10::3",
            "dual.testns.svc.cluster.local.	5	IN	SRV	0 100 80 dual.testns.svc.cluster.local.",
            "_http._tcp.dual.testns.svc.cluster.local.	5	IN	SRV	0 100 80 dual.testns.svc.cluster.local.",
            "external.testns.svc.cluster.local.	5	IN	CNAME	ext.interwebs.test.",
            "external-loop.testns.svc.cluster.local.	5	IN	CNAME	external-loop2.testns.svc.cluster.local.",
            "external-loop2.testns.svc.cluster.local.	5	IN	CNAME	external-loop.testns.svc.cluster.local.",
            "external-to-service.testns.svc.cluster.local.	5	IN	CNAME	svc1.testns.svc.cluster.local.",
            "hdls1.testns.svc.cluster.local.	5	IN	A	172.0.0.2",
            "dup-name.hdls1.testns.svc.cluster.local.	5	IN	A	172.0.0.2",
            "_http._tcp.hdls1.testns.svc.cluster.local.	5	IN	SRV	0 25 80 dup-name.hdls1.testns.svc.cluster.local.",
            "hdls1.testns.svc.cluster.local.	5	IN	A	172.0.0.3",
            "dup-name.hdls1.testns.svc.cluster.local.	5	IN	A	172.0.0.3",
            "_http._tcp.hdls1.testns.svc.cluster.local.	5	IN	SRV	0 25 80 dup-name.hdls1.testns.svc.cluster.local.",
            "hdls1.testns.svc.cluster.local.	5	IN	A	172.0.0.4",
            "172-0-0-4.hdls1.testns.svc.cluster.local.	5	IN	A	172.0.0.4",
            "_http._tcp.hdls1.testns.svc.cluster.local.	5	IN	SRV	0 25 80 172-0-0-4.hdls1.testns.svc.cluster.local.",
            "hdls1.testns.svc.cluster.local.	5	IN	A	172.0.0.5",
            "172-0-0-5.hdls1.testns.svc.cluster.local.	5	IN	A	172.0.0.5",
            "_http._tcp.hdls1.testns.svc.cluster.local.	5	IN	SRV	0 25 80 172-0-0-5.hdls1.testns.svc.cluster.local.",
            "hdls1.testns.svc.cluster.local.	5	IN	AAAA	5678:abcd::1",
            "5678-abcd--1.hdls1.testns.svc.cluster.local.	5	IN	AAAA	5678:abcd::1",
            "_http._tcp.hdls1.testns.svc.cluster.local.	5	IN	SRV	0 50 80 5678-abcd--1.hdls1.testns.svc.cluster.local.",
            "hdls1.testns.svc.cluster.local.	5	IN	AAAA	5678:abcd::2",
            "5678-abcd--2.hdls1.testns.svc.cluster.local.	5	IN	AAAA	5678:abcd::2",
            "_http._tcp.hdls1.testns.svc.cluster.local.	5	IN	SRV	0 50 80 5678-abcd--2.hdls1.testns.svc.cluster.local.",
            "hdlsprtls.testns.svc.cluster.local.	5	IN	A	172.0.0.20",
            "172-0-0-20.hdlsprtls.testns.svc.cluster.local.	5	IN	A	172.0.0.20",
            "multiport.testns.svc.cluster.local.	5	IN	A	10.0.0.4",
            "multiport.testns.svc.cluster.local.	5	IN	SRV	0 100 53 multiport.testns.svc.cluster.local.",
            "_dns._udp.multiport.testns.svc.cluster.local.	5	IN	SRV	0 100 53 multiport.testns.svc.cluster.local.",
            "multiport.testns.svc.cluster.local.	5	IN	SRV	0 100 53 multiport.testns.svc.cluster.local.",
            "_dns-tcp._tcp.multiport.testns.svc.cluster.local.	5	IN	SRV	0 100 53 multiport.testns.svc.cluster.local.",
            "multiport.testns.svc.cluster.local.	5	IN	SRV	0 100 8080 multiport.testns.svc.cluster.local.",
            "svc1.testns.svc.cluster.local.	5	IN	A	10.0.0.1",
            "svc1.testns.svc.cluster.local.	5	IN	SRV	0 100 80 svc1.testns.svc.cluster.local.",
            "_http._tcp.svc1.testns.svc.cluster.local.	5	IN	SRV	0 100 80 svc1.testns.svc.cluster.local.",
            "svc6.testns.svc.cluster.local.	5	IN	AAAA	1234:abcd::1",
            "svc6.testns.svc.cluster.local.	5	IN	SRV	0 100 80 svc6.testns.svc.cluster.local.",
            "_http._tcp.svc6.testns.svc.cluster.local.	5	IN	SRV	0 100 80 svc6.testns.svc.cluster.local.",
            "svcempty.testns.svc.cluster.local.	5	IN	A	10.0.0.2",
            "svcempty.testns.svc.cluster.local.	5	IN	SRV	0 100 80 svcempty.testns.svc.cluster.local.",
            "_http._tcp.svcempty.testns.svc.cluster.local.	5	IN	SRV	0 100 80 svcempty.testns.svc.cluster.local.",
            SOA,
        ],
        ..Case::default()
    }
    .check(&resp)
    .unwrap();
    assert!(resp.authoritative());
}

#[test]
fn transfer_variants() {
    let c = chain(with_ns(world()), XFR_BLOCK);
    // IXFR at the current serial: the SOA alone (transfer's single-SOA reply).
    let mut req = axfr("cluster.local.");
    let name = Name::from_text("cluster.local.").unwrap();
    let mut p = signpost_wire::build_query(7, &name, rtype::IXFR, false, None);
    p.extend_from_slice(&[0xC0, 12, 0, 6, 0, 1, 0, 0, 0, 0, 0, 22, 0, 0]);
    p.extend_from_slice(&(super::SERIAL as u32).to_be_bytes());
    p.extend_from_slice(&[0; 16]);
    p[9] = 1;
    req.packet = p.clone();
    let (_, resp) = from(&c, &req);
    assert_eq!(texts(&resp), [SOA]);
    // An older serial: the whole zone.
    let at = p.len() - 20;
    p[at..at + 4].copy_from_slice(&1u32.to_be_bytes());
    req.packet = p;
    let (_, resp) = from(&c, &req);
    assert_eq!(resp.counts().0, 47);

    // A name below a zone is transferred with that name as the zone (CoreDNS's quirk).
    let (_, resp) = from(&c, &axfr("testns.svc.cluster.local."));
    let t = texts(&resp);
    assert_eq!(
        t[0],
        "testns.svc.cluster.local.\t5\tIN\tSOA\tns.dns.testns.svc.cluster.local. hostmaster.testns.svc.cluster.local. 1499347823 7200 1800 86400 5"
    );
    assert!(
        t.contains(&"svc1.testns.svc.testns.svc.cluster.local.\t5\tIN\tA\t10.0.0.1".to_string())
    );
    // Outside the plugin's zones: passed on.
    let c2 = chain(
        world(),
        "cluster.local example.org {\n transfer {\n  to *\n }\n kubernetes cluster.local\n tail\n}",
    );
    let (o, _) = from(&c2, &axfr("example.org."));
    assert_eq!(o.plugin, "test-nxdomain");
    // Outside transfer's zones: the kubernetes plugin alone refuses transfers.
    let c3 = chain(
        world(),
        "cluster.local {\n transfer example.org {\n  to *\n }\n kubernetes\n tail\n}",
    );
    let (o, _) = from(&c3, &axfr("cluster.local."));
    assert_eq!((o.rcode, o.plugin), (rcode::REFUSED, "kubernetes"));
}

#[test]
fn transfer_filters_and_nameservers() {
    // `namespaces` leaves other namespaces out; the Service whose endpoint is our address
    // is the nameserver.
    let mut w = world();
    w.namespaces.push(super::namespace("other"));
    w.services
        .push(svc("other", "dns", &["10.96.0.10"]).port("dns", "UDP", 53));
    w.slices.push(
        super::slice(
            "kube-system",
            "kube-dns-x",
            "kube-dns",
            vec![super::ep(&["10.0.0.10"])],
        )
        .port("dns", "UDP", 53),
    );
    w.services
        .push(svc("kube-system", "kube-dns", &["10.96.0.10"]).port("dns", "UDP", 53));
    let c = chain(
        with_ns(w),
        "cluster.local {\n transfer {\n  to *\n }\n kubernetes {\n  namespaces kube-system\n }\n tail\n}",
    );
    let (_, resp) = from(&c, &axfr("cluster.local."));
    assert_eq!(
        texts(&resp)[1..],
        [
            "cluster.local.\t5\tIN\tNS\tkube-dns.kube-system.svc.cluster.local.",
            "kube-dns.kube-system.svc.cluster.local.\t0\tIN\tA\t10.96.0.10",
            "kube-dns.kube-system.svc.cluster.local.\t5\tIN\tA\t10.96.0.10",
            "kube-dns.kube-system.svc.cluster.local.\t5\tIN\tSRV\t0 100 53 kube-dns.kube-system.svc.cluster.local.",
            "_dns._udp.kube-dns.kube-system.svc.cluster.local.\t5\tIN\tSRV\t0 100 53 kube-dns.kube-system.svc.cluster.local.",
            "cluster.local.\t5\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. 1499347823 7200 1800 86400 5",
        ]
    );
}

#[test]
fn transfers_a_multicluster_zone() {
    let mut w = world();
    w.imports = vec![
        super::import(
            "testns",
            "svc1",
            "ClusterSetIP",
            &["10.0.0.1"],
            &[super::port("http", "TCP", 80)],
        ),
        super::import("testns", "hdls1", "Headless", &[], &[]),
    ];
    w.mcs_slices = vec![super::mcs_slice(
        "testns",
        "hdls1-c1",
        "hdls1",
        "c1",
        vec![super::ep(&["172.0.0.2"]).host("web-0")],
    )
    .port("http", "TCP", 80)];
    let c = chain(w, XFR_BLOCK);
    let (_, resp) = from(&c, &axfr("clusterset.local."));
    assert_eq!(
        texts(&resp),
        [
            "clusterset.local.\t5\tIN\tSOA\tns.dns.clusterset.local. hostmaster.clusterset.local. 1499347823 7200 1800 86400 5",
            "hdls1.testns.svc.clusterset.local.\t5\tIN\tA\t172.0.0.2",
            "web-0.hdls1.testns.svc.clusterset.local.\t5\tIN\tA\t172.0.0.2",
            "_http._tcp.hdls1.testns.svc.clusterset.local.\t5\tIN\tSRV\t0 100 80 web-0.hdls1.testns.svc.clusterset.local.",
            "svc1.testns.svc.clusterset.local.\t5\tIN\tA\t10.0.0.1",
            "svc1.testns.svc.clusterset.local.\t5\tIN\tSRV\t0 100 80 svc1.testns.svc.clusterset.local.",
            "_http._tcp.svc1.testns.svc.clusterset.local.\t5\tIN\tSRV\t0 100 80 svc1.testns.svc.clusterset.local.",
            "clusterset.local.\t5\tIN\tSOA\tns.dns.clusterset.local. hostmaster.clusterset.local. 1499347823 7200 1800 86400 5",
        ]
    );
}

// ---- autopath ------------------------------------------------------------------------

/// The standard cluster with the test client (10.240.0.1) as a pod in `kube-system`, and
/// 10.240.0.3 a pod in `testns`.
fn pod_world() -> World {
    let mut w = world();
    w.pods = vec![
        pod("kube-system", "client", "10.240.0.1"),
        pod("testns", "other", "10.240.0.3"),
    ];
    w.resolv_search = vec![Name::from_text("example.com.").unwrap()];
    w
}

const PATH_BLOCK: &str =
    "cluster.local {\n autopath @kubernetes\n kubernetes {\n  pods verified\n }\n tail\n}";

fn ask(c: &Arc<Chain>, name: &str, client: &str) -> Response {
    from(c, &request_with(name, rtype::A, Transport::Udp, client)).1
}

#[test]
fn search_paths_of_pods() {
    let c = chain(pod_world(), PATH_BLOCK);
    let pod = "10.240.0.1:40212";
    // In the pod's own namespace: the first try answers, as it is.
    let resp = ask(&c, "svc1.testns.svc.cluster.local.", "10.240.0.3:1");
    assert_eq!(
        texts(&resp),
        ["svc1.testns.svc.cluster.local.\t5\tIN\tA\t10.0.0.1"]
    );
    // An ExternalName to an in-zone target at the first try: CoreDNS's extra CNAME in
    // front (to the owner of the first record not owned by the asked name).
    let resp = ask(
        &c,
        "external-to-service.testns.svc.cluster.local.",
        "10.240.0.3:1",
    );
    assert_eq!(
        texts(&resp),
        [
            "external-to-service.testns.svc.cluster.local.\t5\tIN\tCNAME\tsvc1.testns.svc.cluster.local.",
            "external-to-service.testns.svc.cluster.local.\t5\tIN\tCNAME\tsvc1.testns.svc.cluster.local.",
            "svc1.testns.svc.cluster.local.\t5\tIN\tA\t10.0.0.1",
        ]
    );
    // `svc1.testns` as the resolver sends it first: found in svc.cluster.local.
    let resp = ask(&c, "svc1.testns.kube-system.svc.cluster.local.", pod);
    assert_eq!(
        texts(&resp),
        [
            "svc1.testns.kube-system.svc.cluster.local.\t5\tIN\tCNAME\tsvc1.testns.svc.cluster.local.",
            "svc1.testns.svc.cluster.local.\t5\tIN\tA\t10.0.0.1",
        ]
    );
    // Found at a later try: one CNAME from the asked name to the name that answered.
    let resp = ask(
        &c,
        "external-to-service.testns.kube-system.svc.cluster.local.",
        pod,
    );
    assert_eq!(
        texts(&resp),
        [
            "external-to-service.testns.kube-system.svc.cluster.local.\t5\tIN\tCNAME\texternal-to-service.testns.svc.cluster.local.",
            "external-to-service.testns.svc.cluster.local.\t5\tIN\tCNAME\tsvc1.testns.svc.cluster.local.",
            "svc1.testns.svc.cluster.local.\t5\tIN\tA\t10.0.0.1",
        ]
    );
    // Nothing anywhere (the resolv.conf domain and the name as asked go to the next
    // plugin): the reply to the first try.
    Case {
        qname: "nothing.kube-system.svc.cluster.local.",
        qtype: rtype::A,
        rcode: rcode::NXDOMAIN,
        ns: vec![SOA],
        ..Case::default()
    }
    .check(&ask(&c, "nothing.kube-system.svc.cluster.local.", pod))
    .unwrap();
    // Not a pod: no autopath.
    let resp = ask(
        &c,
        "svc1.testns.kube-system.svc.cluster.local.",
        "10.240.0.2:1",
    );
    assert_eq!(resp.rcode(), rcode::NXDOMAIN);
}

#[test]
fn no_search_path_without_verified_pods() {
    let c = chain(
        pod_world(),
        "cluster.local {\n autopath @kubernetes\n kubernetes {\n  pods insecure\n }\n tail\n}",
    );
    let resp = ask(
        &c,
        "svc1.testns.kube-system.svc.cluster.local.",
        "10.240.0.1:1",
    );
    assert_eq!(resp.rcode(), rcode::NXDOMAIN);
}
