//! Options: pods, namespaces, namespace_labels, labels, ignore empty_service, noendpoints,
//! endpoint_pod_names, fallthrough, sync state, zonal, multicluster.

use std::sync::Arc;

use signpost_k8s_model::Event;
use signpost_plugin::testing::{Case, NxDomain};
use signpost_wire::{rcode, rtype};

use super::matrix::{ans, nodata, nx};
use super::{
    config, ep, headless, import, mcs_slice, namespace, namespace_labeled, pod, port, slice, svc,
    world, EpWith, Harness, With, World, SOA,
};
use crate::handler::Kubernetes;
use crate::index::{Index, IndexOptions};
use crate::testing::listing;

#[test]
fn pods_disabled() {
    let h = Harness::new("kubernetes cluster.local", &world());
    h.check(&[
        nx("1-2-3-4.testns.pod.cluster.local.", rtype::A),
        nx("testns.pod.cluster.local.", rtype::A),
        nodata("pod.cluster.local.", rtype::A),
    ]);
}

#[test]
fn pods_insecure() {
    let h = Harness::new("kubernetes cluster.local {\n pods insecure\n}", &world());
    h.check(&[
        ans(
            "1-2-3-4.testns.pod.cluster.local.",
            rtype::A,
            vec!["1-2-3-4.testns.pod.cluster.local. 5 IN A 1.2.3.4"],
        ),
        nodata("1-2-3-4.testns.pod.cluster.local.", rtype::AAAA),
        nodata("1-2-3-4.testns.pod.cluster.local.", rtype::TXT),
        ans(
            "fd00--1.testns.pod.cluster.local.",
            rtype::AAAA,
            vec!["fd00--1.testns.pod.cluster.local. 5 IN AAAA fd00::1"],
        ),
        // Extra left labels are ignored (QUIRK, kept).
        ans(
            "foo.1-2-3-4.testns.pod.cluster.local.",
            rtype::A,
            vec!["foo.1-2-3-4.testns.pod.cluster.local. 5 IN A 1.2.3.4"],
        ),
        // Pods have port 0 (QUIRK, kept).
        Case {
            qname: "1-2-3-4.testns.pod.cluster.local.",
            qtype: rtype::SRV,
            rcode: rcode::NOERROR,
            answer: vec!["1-2-3-4.testns.pod.cluster.local. 5 IN SRV 0 100 0 1-2-3-4.testns.pod.cluster.local."],
            extra: vec!["1-2-3-4.testns.pod.cluster.local. 5 IN A 1.2.3.4"],
            ..Case::default()
        },
        nodata("testns.pod.cluster.local.", rtype::A),
        nx("1-2-3-4.nons.pod.cluster.local.", rtype::A),
        nx("1-2-3.testns.pod.cluster.local.", rtype::A),
        nx("notanip.testns.pod.cluster.local.", rtype::A),
        // An IPv6 address with exactly three dashes and no `--` reads as IPv4 (QUIRK, kept).
        nx("fd00-0-0-1.testns.pod.cluster.local.", rtype::AAAA),
    ]);
}

#[test]
fn pods_verified() {
    let mut w = world();
    w.pods.push(pod("testns", "web-1", "10.244.0.5"));
    let mut gone = pod("testns", "old", "10.244.0.6");
    gone.deleting = true;
    w.pods.push(gone);
    let mut done = pod("testns", "job", "10.244.0.7");
    done.phase = "Succeeded".into();
    w.pods.push(done);
    let h = Harness::new("kubernetes cluster.local {\n pods verified\n}", &w);
    h.check(&[
        ans(
            "10-244-0-5.testns.pod.cluster.local.",
            rtype::A,
            vec!["10-244-0-5.testns.pod.cluster.local. 5 IN A 10.244.0.5"],
        ),
        nx("10-244-0-5.kube-system.pod.cluster.local.", rtype::A),
        nx("10-244-0-6.testns.pod.cluster.local.", rtype::A),
        nx("10-244-0-7.testns.pod.cluster.local.", rtype::A),
        nx("10-244-0-9.testns.pod.cluster.local.", rtype::A),
        nodata("testns.pod.cluster.local.", rtype::A),
    ]);
    // An update marking the pod terminating is ignored; the delete removes it.
    let mut terminating = pod("testns", "web-1", "10.244.0.5");
    terminating.deleting = true;
    let pods = h.index.pods();
    pods.on_event(&Event::Apply(Arc::new(terminating.clone())));
    h.check(&[ans(
        "10-244-0-5.testns.pod.cluster.local.",
        rtype::A,
        vec!["10-244-0-5.testns.pod.cluster.local. 5 IN A 10.244.0.5"],
    )]);
    pods.on_event(&Event::Delete(Arc::new(terminating)));
    h.check(&[nx("10-244-0-5.testns.pod.cluster.local.", rtype::A)]);
}

#[test]
fn namespaces_option() {
    let mut w = world();
    w.services
        .push(svc("kube-system", "other", &["10.0.9.9"]).port("http", "TCP", 80));
    let h = Harness::new(
        "kubernetes cluster.local in-addr.arpa {\n namespaces testns\n}",
        &w,
    );
    h.check(&[
        ans(
            "svc1.testns.svc.cluster.local.",
            rtype::A,
            vec!["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"],
        ),
        nx("other.kube-system.svc.cluster.local.", rtype::A),
        nx("kube-system.svc.cluster.local.", rtype::A),
        nodata("testns.svc.cluster.local.", rtype::A),
        // Reverse lookups are filtered by `namespaces`.
        Case {
            qname: "9.9.0.10.in-addr.arpa.",
            qtype: rtype::PTR,
            rcode: rcode::NXDOMAIN,
            ns: vec!["in-addr.arpa. 5 IN SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. 1499347823 7200 1800 86400 5"],
            ..Case::default()
        },
    ]);
}

#[test]
fn namespace_labels_option() {
    let mut w = world();
    w.namespaces = vec![
        namespace_labeled("testns", "dns", "on"),
        namespace("kube-system"),
    ];
    w.services
        .push(svc("kube-system", "other", &["10.0.9.9"]).port("http", "TCP", 80));
    let h = Harness::new(
        "kubernetes cluster.local in-addr.arpa {\n namespace_labels dns=on\n}",
        &w,
    );
    h.check(&[
        ans(
            "svc1.testns.svc.cluster.local.",
            rtype::A,
            vec!["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"],
        ),
        nx("other.kube-system.svc.cluster.local.", rtype::A),
        // Reverse lookups are not filtered by namespace_labels (QUIRK, kept).
        Case {
            qname: "9.9.0.10.in-addr.arpa.",
            qtype: rtype::PTR,
            rcode: rcode::NOERROR,
            answer: vec!["9.9.0.10.in-addr.arpa. 5 IN PTR other.kube-system.svc.cluster.local."],
            ..Case::default()
        },
    ]);
}

#[test]
fn labels_option() {
    let mut w = World::default();
    w.namespaces.push(namespace("ns"));
    w.services.push(
        svc("ns", "prod", &["10.1.0.1"])
            .port("p", "TCP", 1)
            .label("env", "prod"),
    );
    w.services.push(
        svc("ns", "dev", &["10.1.0.2"])
            .port("p", "TCP", 1)
            .label("env", "dev"),
    );
    w.services.push(
        headless("ns", "hprod")
            .port("p", "TCP", 1)
            .label("env", "prod"),
    );
    w.slices.push(
        slice("ns", "hprod-a", "hprod", vec![ep(&["10.2.0.1"])])
            .port("p", "TCP", 1)
            .label("env", "prod"),
    );
    w.slices
        .push(slice("ns", "hprod-b", "hprod", vec![ep(&["10.2.0.2"])]).port("p", "TCP", 1));
    let h = Harness::new(
        "kubernetes cluster.local {\n labels env in (prod, staging)\n}",
        &w,
    );
    h.check(&[
        ans(
            "prod.ns.svc.cluster.local.",
            rtype::A,
            vec!["prod.ns.svc.cluster.local. 5 IN A 10.1.0.1"],
        ),
        nx("dev.ns.svc.cluster.local.", rtype::A),
        ans(
            "hprod.ns.svc.cluster.local.",
            rtype::A,
            vec!["hprod.ns.svc.cluster.local. 5 IN A 10.2.0.1"],
        ),
    ]);
    // A label change that stops matching removes the object.
    h.index.services().on_event(&Event::Apply(Arc::new(
        svc("ns", "prod", &["10.1.0.1"])
            .port("p", "TCP", 1)
            .label("env", "test"),
    )));
    h.check(&[nx("prod.ns.svc.cluster.local.", rtype::A)]);
}

#[test]
fn ignore_empty_service() {
    let h = Harness::new(
        "kubernetes cluster.local {\n ignore empty_service\n}",
        &world(),
    );
    h.check(&[
        nx("svcempty.testns.svc.cluster.local.", rtype::A),
        nx("svcempty.testns.svc.cluster.local.", rtype::TXT),
        nx("svcempty.testns.svc.cluster.local.", rtype::SRV),
        ans(
            "svc1.testns.svc.cluster.local.",
            rtype::A,
            vec!["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"],
        ),
        // Headless and ExternalName are not affected.
        nodata("external.testns.svc.cluster.local.", rtype::SRV),
        ans(
            "hdlsprtls.testns.svc.cluster.local.",
            rtype::A,
            vec!["hdlsprtls.testns.svc.cluster.local. 5 IN A 172.0.0.20"],
        ),
    ]);
    // Together with noendpoints every ClusterIP service disappears (QUIRK, kept).
    let h = Harness::new(
        "kubernetes cluster.local {\n ignore empty_service\n noendpoints\n}",
        &world(),
    );
    h.check(&[nx("svc1.testns.svc.cluster.local.", rtype::A)]);
    // `ignore` without an argument is accepted and does nothing.
    let h = Harness::new("kubernetes cluster.local {\n ignore\n}", &world());
    h.check(&[ans(
        "svcempty.testns.svc.cluster.local.",
        rtype::A,
        vec!["svcempty.testns.svc.cluster.local. 5 IN A 10.0.0.2"],
    )]);
}

#[test]
fn noendpoints() {
    let cfg = config("kubernetes cluster.local in-addr.arpa {\n noendpoints\n}");
    let index = Index::new(IndexOptions::from_config(&cfg));
    index.set_clock(|| super::SERIAL);
    // No EndpointSlice watch is started: only Services and Namespaces are fed.
    let w = world();
    index
        .namespaces()
        .on_event(&Event::Reset(listing(&w.namespaces)));
    assert!(!index.is_synced());
    index
        .services()
        .on_event(&Event::Reset(listing(&w.services)));
    assert!(index.is_synced());
    let chain = signpost_plugin::Chain::new(vec![
        Arc::new(Kubernetes::new(&cfg, index)),
        Arc::new(NxDomain),
    ]);
    let check = |c: Case| {
        let req = signpost_plugin::testing::request(c.qname, c.qtype);
        let (_, resp) = signpost_plugin::testing::run(&chain, &req).unwrap();
        c.check(&resp).unwrap();
    };
    check(ans(
        "svc1.testns.svc.cluster.local.",
        rtype::A,
        vec!["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"],
    ));
    check(nx("hdls1.testns.svc.cluster.local.", rtype::A));
    check(nx("ep1a.svc1.testns.svc.cluster.local.", rtype::A));
}

#[test]
fn endpoint_pod_names() {
    let mut w = World::default();
    w.namespaces.push(namespace("ns"));
    w.services
        .push(headless("ns", "web").port("http", "TCP", 80));
    w.slices.push(
        slice(
            "ns",
            "web-x",
            "web",
            vec![
                ep(&["10.3.0.1"]).pod("web-7d9f-abcde"),
                ep(&["10.3.0.2"]).pod("web-7d9f-fghij").host("explicit"),
                ep(&["10.3.0.3"]).pod(&"p".repeat(64)),
            ],
        )
        .port("http", "TCP", 80),
    );
    let h = Harness::new("kubernetes cluster.local {\n endpoint_pod_names\n}", &w);
    h.check(&[
        ans(
            "web-7d9f-abcde.web.ns.svc.cluster.local.",
            rtype::A,
            vec!["web-7d9f-abcde.web.ns.svc.cluster.local. 5 IN A 10.3.0.1"],
        ),
        ans(
            "explicit.web.ns.svc.cluster.local.",
            rtype::A,
            vec!["explicit.web.ns.svc.cluster.local. 5 IN A 10.3.0.2"],
        ),
        // A pod name of 64 or more characters is not used.
        ans(
            "10-3-0-3.web.ns.svc.cluster.local.",
            rtype::A,
            vec!["10-3-0-3.web.ns.svc.cluster.local. 5 IN A 10.3.0.3"],
        ),
        nx("10-3-0-1.web.ns.svc.cluster.local.", rtype::A),
    ]);
    // Without the option, the dashed IP.
    let h = Harness::new("kubernetes cluster.local", &w);
    h.check(&[
        ans(
            "10-3-0-1.web.ns.svc.cluster.local.",
            rtype::A,
            vec!["10-3-0-1.web.ns.svc.cluster.local. 5 IN A 10.3.0.1"],
        ),
        nx("web-7d9f-abcde.web.ns.svc.cluster.local.", rtype::A),
    ]);
}

#[test]
fn fallthrough() {
    let h = Harness::new(
        "kubernetes cluster.local in-addr.arpa {\n fallthrough\n}",
        &world(),
    );
    // A name error goes to the next plugin (here: NXDOMAIN without SOA).
    let resp = h.query("svc0.testns.svc.cluster.local.", rtype::A);
    assert_eq!((resp.rcode(), resp.counts()), (rcode::NXDOMAIN, (0, 0, 0)));
    // NODATA and answers do not fall through.
    h.check(&[nodata("svc1.testns.svc.cluster.local.", rtype::AAAA)]);
    let h = Harness::new(
        "kubernetes cluster.local in-addr.arpa {\n fallthrough in-addr.arpa\n}",
        &world(),
    );
    let resp = h.query("9.9.9.9.in-addr.arpa.", rtype::PTR);
    assert_eq!(resp.counts(), (0, 0, 0));
    h.check(&[nx("svc0.testns.svc.cluster.local.", rtype::A)]);
}

#[test]
fn not_synced_name_errors_are_servfail() {
    let cfg = config("kubernetes cluster.local {\n fallthrough example.org\n}");
    let index = Index::new(IndexOptions::from_config(&cfg));
    index.set_clock(|| super::SERIAL);
    // Services arrived, endpoints not yet.
    let w = world();
    index
        .services()
        .on_event(&Event::Reset(listing(&w.services)));
    index
        .namespaces()
        .on_event(&Event::Reset(listing(&w.namespaces)));
    assert!(!index.is_synced());
    let chain = signpost_plugin::Chain::new(vec![
        Arc::new(Kubernetes::new(&cfg, Arc::clone(&index))),
        Arc::new(NxDomain),
    ]);
    let run = |name: &str, t: u16| {
        let req = signpost_plugin::testing::request(name, t);
        signpost_plugin::testing::run(&chain, &req).unwrap().1
    };
    let c = Case {
        qname: "svc0.testns.svc.cluster.local.",
        qtype: rtype::A,
        rcode: rcode::SERVFAIL,
        ns: vec![SOA],
        ..Case::default()
    };
    c.check(&run(c.qname, c.qtype)).unwrap();
    let resp = run("svc0.testns.svc.cluster.local.", rtype::A);
    assert!(resp.authoritative());
    // Answers and NODATA are served from what is there.
    ans(
        "svc1.testns.svc.cluster.local.",
        rtype::A,
        vec!["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"],
    )
    .check(&run("svc1.testns.svc.cluster.local.", rtype::A))
    .unwrap();
    nodata("svc1.testns.svc.cluster.local.", rtype::AAAA)
        .check(&run("svc1.testns.svc.cluster.local.", rtype::AAAA))
        .unwrap();
    // Synced: NXDOMAIN.
    index
        .endpoint_slices()
        .on_event(&Event::Reset(Vec::new().into()));
    assert!(index.is_synced());
    nx("svc0.testns.svc.cluster.local.", rtype::A)
        .check(&run("svc0.testns.svc.cluster.local.", rtype::A))
        .unwrap();
}

fn zonal_world() -> World {
    let mut w = world();
    w.services
        .push(headless("testns", "z").port("http", "TCP", 80));
    w.services
        .push(headless("testns", "zempty").port("http", "TCP", 80));
    w.slices.push(
        slice(
            "testns",
            "z-x",
            "z",
            vec![
                ep(&["10.7.0.1"]).zone("us-east-1a"),
                ep(&["10.7.0.2"]).zone("US-East-1B"),
                ep(&["10.7.0.3"]),
                ep(&["10.7.0.4"]).zone("eu.west.1"),
            ],
        )
        .port("http", "TCP", 80),
    );
    w
}

#[test]
fn zonal_names() {
    let h = Harness::new("kubernetes cluster.local {\n zonal\n}", &zonal_world());
    h.check(&[
        ans(
            "us-east-1a.pin._zone.z.testns.svc.cluster.local.",
            rtype::A,
            vec!["us-east-1a.pin._zone.z.testns.svc.cluster.local. 5 IN A 10.7.0.1"],
        ),
        // Zones compare lower-cased; a zone may span labels.
        ans(
            "us-east-1b.pin._zone.z.testns.svc.cluster.local.",
            rtype::A,
            vec!["us-east-1b.pin._zone.z.testns.svc.cluster.local. 5 IN A 10.7.0.2"],
        ),
        ans(
            "eu.west.1.pin._zone.z.testns.svc.cluster.local.",
            rtype::A,
            vec!["eu.west.1.pin._zone.z.testns.svc.cluster.local. 5 IN A 10.7.0.4"],
        ),
        // A zone without endpoints: NODATA for pin (every type), all endpoints for prefer.
        nodata("us-east-1c.pin._zone.z.testns.svc.cluster.local.", rtype::A),
        nodata("us-east-1c.pin._zone.z.testns.svc.cluster.local.", rtype::TXT),
        nodata("us-east-1a.pin._zone.z.testns.svc.cluster.local.", rtype::TXT),
        ans(
            "us-east-1c.prefer._zone.z.testns.svc.cluster.local.",
            rtype::A,
            vec![
                "us-east-1c.prefer._zone.z.testns.svc.cluster.local. 5 IN A 10.7.0.1",
                "us-east-1c.prefer._zone.z.testns.svc.cluster.local. 5 IN A 10.7.0.2",
                "us-east-1c.prefer._zone.z.testns.svc.cluster.local. 5 IN A 10.7.0.3",
                "us-east-1c.prefer._zone.z.testns.svc.cluster.local. 5 IN A 10.7.0.4",
            ],
        ),
        ans(
            "us-east-1a.prefer._zone.z.testns.svc.cluster.local.",
            rtype::A,
            vec!["us-east-1a.prefer._zone.z.testns.svc.cluster.local. 5 IN A 10.7.0.1"],
        ),
        // SRV targets are the ordinary endpoint names.
        Case {
            qname: "us-east-1a.pin._zone.z.testns.svc.cluster.local.",
            qtype: rtype::SRV,
            rcode: rcode::NOERROR,
            answer: vec!["us-east-1a.pin._zone.z.testns.svc.cluster.local. 5 IN SRV 0 100 80 10-7-0-1.z.testns.svc.cluster.local."],
            extra: vec!["10-7-0-1.z.testns.svc.cluster.local. 5 IN A 10.7.0.1"],
            ..Case::default()
        },
        // A headless service without endpoints: the zonal name exists, the plain one not.
        nodata("a.pin._zone.zempty.testns.svc.cluster.local.", rtype::A),
        nx("zempty.testns.svc.cluster.local.", rtype::A),
        // Only headless services; only pin/prefer; only under svc.
        nx("a.pin._zone.svc1.testns.svc.cluster.local.", rtype::A),
        nx("a.pin._zone.external.testns.svc.cluster.local.", rtype::A),
        nx("a.pin._zone.nosvc.testns.svc.cluster.local.", rtype::A),
        nx("a.keep._zone.z.testns.svc.cluster.local.", rtype::A),
        nx("a.pin._zone.z.testns.pod.cluster.local.", rtype::A),
    ]);
    // With the option off these are just too long.
    let h = Harness::new("kubernetes cluster.local", &zonal_world());
    h.check(&[nx(
        "us-east-1a.pin._zone.z.testns.svc.cluster.local.",
        rtype::A,
    )]);
}

fn mc_world() -> World {
    let mut w = world();
    w.imports.push(import(
        "testns",
        "svc1",
        "ClusterSetIP",
        &["10.100.0.1"],
        &[port("http", "TCP", 80)],
    ));
    w.imports.push(import(
        "testns",
        "hdls1",
        "Headless",
        &[],
        &[port("http", "TCP", 80)],
    ));
    w.imports.push(import(
        "testns",
        "empty",
        "ClusterSetIP",
        &["10.100.0.2"],
        &[port("http", "TCP", 80)],
    ));
    w.imports.push(import(
        "testns",
        "portless",
        "ClusterSetIP",
        &["10.100.0.3"],
        &[],
    ));
    w.mcs_slices.push(
        mcs_slice(
            "testns",
            "hdls1-c1",
            "hdls1",
            "cluster1",
            vec![ep(&["172.1.0.2"]), ep(&["172.1.0.3"]).host("web-0")],
        )
        .port("http", "TCP", 80),
    );
    w.mcs_slices.push(
        mcs_slice(
            "testns",
            "hdls1-c2",
            "hdls1",
            "cluster2",
            vec![ep(&["172.2.0.2"])],
        )
        .port("http", "TCP", 80),
    );
    w.mcs_slices.push(
        mcs_slice(
            "testns",
            "svc1-c1",
            "svc1",
            "cluster1",
            vec![ep(&["172.1.0.9"])],
        )
        .port("http", "TCP", 80),
    );
    w
}

#[test]
fn multicluster() {
    let stanza = "kubernetes cluster.local clusterset.local {\n multicluster clusterset.local\n}";
    let h = Harness::new(stanza, &mc_world());
    let mc_soa = "clusterset.local. 5 IN SOA ns.dns.clusterset.local. hostmaster.clusterset.local. 1499347823 7200 1800 86400 5";
    h.check(&[
        ans(
            "svc1.testns.svc.clusterset.local.",
            rtype::A,
            vec!["svc1.testns.svc.clusterset.local. 5 IN A 10.100.0.1"],
        ),
        // The plain zone still serves the Service.
        ans(
            "svc1.testns.svc.cluster.local.",
            rtype::A,
            vec!["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"],
        ),
        ans(
            "hdls1.testns.svc.clusterset.local.",
            rtype::A,
            vec![
                "hdls1.testns.svc.clusterset.local. 5 IN A 172.1.0.2",
                "hdls1.testns.svc.clusterset.local. 5 IN A 172.1.0.3",
                "hdls1.testns.svc.clusterset.local. 5 IN A 172.2.0.2",
            ],
        ),
        ans(
            "web-0.cluster1.hdls1.testns.svc.clusterset.local.",
            rtype::A,
            vec!["web-0.cluster1.hdls1.testns.svc.clusterset.local. 5 IN A 172.1.0.3"],
        ),
        Case {
            qname: "web-0.cluster2.hdls1.testns.svc.clusterset.local.",
            qtype: rtype::A,
            rcode: rcode::NXDOMAIN,
            ns: vec![mc_soa],
            ..Case::default()
        },
        // One label is an endpoint without a cluster: no slice has an empty cluster id.
        Case {
            qname: "web-0.hdls1.testns.svc.clusterset.local.",
            qtype: rtype::A,
            rcode: rcode::NXDOMAIN,
            ns: vec![mc_soa],
            ..Case::default()
        },
        Case {
            qname: "_http._tcp.hdls1.testns.svc.clusterset.local.",
            qtype: rtype::SRV,
            rcode: rcode::NOERROR,
            answer: vec![
                "_http._tcp.hdls1.testns.svc.clusterset.local. 5 IN SRV 0 33 80 172-1-0-2.cluster1.hdls1.testns.svc.clusterset.local.",
                "_http._tcp.hdls1.testns.svc.clusterset.local. 5 IN SRV 0 33 80 web-0.cluster1.hdls1.testns.svc.clusterset.local.",
                "_http._tcp.hdls1.testns.svc.clusterset.local. 5 IN SRV 0 33 80 172-2-0-2.cluster2.hdls1.testns.svc.clusterset.local.",
            ],
            extra: vec![
                "172-1-0-2.cluster1.hdls1.testns.svc.clusterset.local. 5 IN A 172.1.0.2",
                "web-0.cluster1.hdls1.testns.svc.clusterset.local. 5 IN A 172.1.0.3",
                "172-2-0-2.cluster2.hdls1.testns.svc.clusterset.local. 5 IN A 172.2.0.2",
            ],
            ..Case::default()
        },
        Case {
            qname: "svc1.testns.svc.clusterset.local.",
            qtype: rtype::SRV,
            rcode: rcode::NOERROR,
            answer: vec!["svc1.testns.svc.clusterset.local. 5 IN SRV 0 100 80 svc1.testns.svc.clusterset.local."],
            extra: vec!["svc1.testns.svc.clusterset.local. 5 IN A 10.100.0.1"],
            ..Case::default()
        },
        // No ports, no answers; unknown import.
        Case {
            qname: "portless.testns.svc.clusterset.local.",
            qtype: rtype::A,
            rcode: rcode::NXDOMAIN,
            ns: vec![mc_soa],
            ..Case::default()
        },
        Case {
            qname: "svc6.testns.svc.clusterset.local.",
            qtype: rtype::A,
            rcode: rcode::NXDOMAIN,
            ns: vec![mc_soa],
            ..Case::default()
        },
        ans(
            "empty.testns.svc.clusterset.local.",
            rtype::A,
            vec!["empty.testns.svc.clusterset.local. 5 IN A 10.100.0.2"],
        ),
        ans("clusterset.local.", rtype::SOA, vec![mc_soa]),
    ]);
    // `ignore empty_service` applies to ClusterSetIP imports.
    let stanza = "kubernetes cluster.local clusterset.local {\n multicluster clusterset.local\n ignore empty_service\n}";
    let h = Harness::new(stanza, &mc_world());
    h.check(&[
        Case {
            qname: "empty.testns.svc.clusterset.local.",
            qtype: rtype::A,
            rcode: rcode::NXDOMAIN,
            ns: vec![mc_soa],
            ..Case::default()
        },
        ans(
            "svc1.testns.svc.clusterset.local.",
            rtype::A,
            vec!["svc1.testns.svc.clusterset.local. 5 IN A 10.100.0.1"],
        ),
    ]);
}

#[test]
fn multicluster_serial_moves_on_imports() {
    let stanza = "kubernetes cluster.local clusterset.local {\n multicluster clusterset.local\n}";
    let h = Harness::new(
        stanza,
        &World {
            namespaces: vec![namespace("testns")],
            ..World::default()
        },
    );
    use crate::index::SerialKind;
    assert_eq!(h.index.serial(SerialKind::Multicluster), 0);
    h.index
        .service_imports()
        .on_event(&Event::Apply(Arc::new(import(
            "testns",
            "a",
            "ClusterSetIP",
            &["10.100.0.9"],
            &[port("p", "TCP", 1)],
        ))));
    assert_eq!(
        h.index.serial(SerialKind::Multicluster),
        super::SERIAL as u32
    );
}
