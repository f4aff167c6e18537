//! Record types: SRV (weights, de-duplication, glue), CNAME chasing, PTR, SOA, NS, and the
//! client's case in answers.

use std::sync::Arc;

use signpost_plugin::testing::Case;
use signpost_plugin::{BoxFuture, Next, Plugin, Request, Step};
use signpost_wire::{rcode, rtype, Owner, RData, Response};

use super::matrix::{ans, nodata, nx};
use super::{ep, headless, slice, svc, texts, world, EpWith, Harness, With, World};

fn harness() -> Harness {
    Harness::new("kubernetes cluster.local", &world())
}

fn srv(qname: &'static str, answer: Vec<&'static str>, extra: Vec<&'static str>) -> Case {
    Case {
        qname,
        qtype: rtype::SRV,
        rcode: rcode::NOERROR,
        answer,
        extra,
        ..Case::default()
    }
}

#[test]
fn srv_cluster_ip() {
    harness().check(&[
        srv(
            "svc1.testns.svc.cluster.local.",
            vec!["svc1.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc1.testns.svc.cluster.local."],
            vec!["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"],
        ),
        srv(
            "_http._tcp.svc1.testns.svc.cluster.local.",
            vec!["_http._tcp.svc1.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc1.testns.svc.cluster.local."],
            vec!["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"],
        ),
        srv(
            "svc6.testns.svc.cluster.local.",
            vec!["svc6.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc6.testns.svc.cluster.local."],
            vec!["svc6.testns.svc.cluster.local. 5 IN AAAA 1234:abcd::1"],
        ),
        // Dual-stack: two results, one SRV (same target and port) with weight 50.
        srv(
            "dual.testns.svc.cluster.local.",
            vec!["dual.testns.svc.cluster.local. 5 IN SRV 0 50 80 dual.testns.svc.cluster.local."],
            vec![
                "dual.testns.svc.cluster.local. 5 IN A 10.0.0.3",
                "dual.testns.svc.cluster.local. 5 IN AAAA 10::3",
            ],
        ),
        // Bare name: one SRV per port, unnamed ports included; 53/UDP and 53/TCP collapse.
        srv(
            "multiport.testns.svc.cluster.local.",
            vec![
                "multiport.testns.svc.cluster.local. 5 IN SRV 0 33 53 multiport.testns.svc.cluster.local.",
                "multiport.testns.svc.cluster.local. 5 IN SRV 0 33 8080 multiport.testns.svc.cluster.local.",
            ],
            vec!["multiport.testns.svc.cluster.local. 5 IN A 10.0.0.4"],
        ),
        srv(
            "_dns._udp.multiport.testns.svc.cluster.local.",
            vec!["_dns._udp.multiport.testns.svc.cluster.local. 5 IN SRV 0 100 53 multiport.testns.svc.cluster.local."],
            vec!["multiport.testns.svc.cluster.local. 5 IN A 10.0.0.4"],
        ),
        srv(
            "_dns-tcp._tcp.multiport.testns.svc.cluster.local.",
            vec!["_dns-tcp._tcp.multiport.testns.svc.cluster.local. 5 IN SRV 0 100 53 multiport.testns.svc.cluster.local."],
            vec!["multiport.testns.svc.cluster.local. 5 IN A 10.0.0.4"],
        ),
        // Protocol only.
        srv(
            "_._udp.multiport.testns.svc.cluster.local.",
            vec!["_._udp.multiport.testns.svc.cluster.local. 5 IN SRV 0 100 53 multiport.testns.svc.cluster.local."],
            vec!["multiport.testns.svc.cluster.local. 5 IN A 10.0.0.4"],
        ),
    ]);
}

#[test]
fn srv_headless() {
    let answer = |owner: &'static str| -> Vec<&'static str> {
        match owner {
            "bare" => vec![
                "hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 dup-name.hdls1.testns.svc.cluster.local.",
                "hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 172-0-0-4.hdls1.testns.svc.cluster.local.",
                "hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 172-0-0-5.hdls1.testns.svc.cluster.local.",
                "hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 5678-abcd--1.hdls1.testns.svc.cluster.local.",
                "hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 5678-abcd--2.hdls1.testns.svc.cluster.local.",
            ],
            _ => vec![
                "_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 dup-name.hdls1.testns.svc.cluster.local.",
                "_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 172-0-0-4.hdls1.testns.svc.cluster.local.",
                "_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 172-0-0-5.hdls1.testns.svc.cluster.local.",
                "_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 5678-abcd--1.hdls1.testns.svc.cluster.local.",
                "_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 5678-abcd--2.hdls1.testns.svc.cluster.local.",
            ],
        }
    };
    let extra = vec![
        "dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2",
        "dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.3",
        "172-0-0-4.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.4",
        "172-0-0-5.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.5",
        "5678-abcd--1.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::1",
        "5678-abcd--2.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::2",
    ];
    harness().check(&[
        srv("hdls1.testns.svc.cluster.local.", answer("bare"), extra.clone()),
        srv("_http._tcp.hdls1.testns.svc.cluster.local.", answer("port"), extra),
        srv(
            "dup-name.hdls1.testns.svc.cluster.local.",
            vec!["dup-name.hdls1.testns.svc.cluster.local. 5 IN SRV 0 50 80 dup-name.hdls1.testns.svc.cluster.local."],
            vec![
                "dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2",
                "dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.3",
            ],
        ),
    ]);
}

#[test]
fn srv_dual_stack_statefulset() {
    // A pod with a hostname in both family slices: one SRV per name, both addresses as glue.
    let mut w = World::default();
    w.namespaces.push(super::namespace("ns"));
    w.services
        .push(headless("ns", "db").port("pg", "TCP", 5432));
    w.slices.push(
        slice("ns", "db-v4", "db", vec![ep(&["10.1.0.1"]).host("db-0")]).port("pg", "TCP", 5432),
    );
    w.slices.push(
        slice("ns", "db-v6", "db", vec![ep(&["fd00::1"]).host("db-0")]).port("pg", "TCP", 5432),
    );
    // The same IP listed by two slices (controller skew) is answered once.
    w.slices.push(
        slice("ns", "db-zskew", "db", vec![ep(&["10.1.0.1"]).host("db-0")]).port("pg", "TCP", 5432),
    );
    let h = Harness::new("kubernetes cluster.local", &w);
    h.check(&[
        srv(
            "_pg._tcp.db.ns.svc.cluster.local.",
            vec!["_pg._tcp.db.ns.svc.cluster.local. 5 IN SRV 0 33 5432 db-0.db.ns.svc.cluster.local."],
            vec![
                "db-0.db.ns.svc.cluster.local. 5 IN A 10.1.0.1",
                "db-0.db.ns.svc.cluster.local. 5 IN AAAA fd00::1",
            ],
        ),
        ans(
            "db.ns.svc.cluster.local.",
            rtype::A,
            vec!["db.ns.svc.cluster.local. 5 IN A 10.1.0.1"],
        ),
        ans(
            "db-0.db.ns.svc.cluster.local.",
            rtype::AAAA,
            vec!["db-0.db.ns.svc.cluster.local. 5 IN AAAA fd00::1"],
        ),
    ]);
}

/// Answers every query with `A 192.0.2.7` (TTL 60), like an upstream behind `forward`.
struct FakeUpstream;

impl Plugin for FakeUpstream {
    fn name(&self) -> &'static str {
        "fake-upstream"
    }
    fn serve(&self, req: &Request<'_>, resp: &mut Response, _: Next<'_>) -> Step {
        resp.start(&req.query, rcode::NOERROR);
        if req.query.qtype == rtype::A {
            resp.answer(Owner::Question, 60, &RData::A("192.0.2.7".parse().unwrap()));
        }
        Step::Answered
    }
}

/// The same, but only on the async path (like `forward`).
struct AsyncUpstream;

impl Plugin for AsyncUpstream {
    fn name(&self) -> &'static str {
        "async-upstream"
    }
    fn serve(&self, _: &Request<'_>, _: &mut Response, _: Next<'_>) -> Step {
        Step::Async
    }
    fn serve_async<'a>(
        &'a self,
        req: &'a Request<'a>,
        resp: &'a mut Response,
        next: Next<'a>,
    ) -> BoxFuture<'a, Step> {
        Box::pin(async move { FakeUpstream.serve(req, resp, next) })
    }
}

#[test]
fn external_name_chasing() {
    let h = Harness::with_tail("kubernetes cluster.local", &world(), Arc::new(FakeUpstream));
    h.check(&[
        // In-zone target: resolved here, CNAME then the target's records.
        ans(
            "external-to-service.testns.svc.cluster.local.",
            rtype::A,
            vec![
                "external-to-service.testns.svc.cluster.local. 5 IN CNAME svc1.testns.svc.cluster.local.",
                "svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1",
            ],
        ),
        // In-zone target without data of the type: NODATA without CNAME (QUIRK, kept).
        nodata("external-to-service.testns.svc.cluster.local.", rtype::AAAA),
        // A loop between two ExternalNames ends in NODATA.
        nodata("external-loop.testns.svc.cluster.local.", rtype::A),
        // Out-of-zone target: through the rest of the chain; its records keep their TTL.
        ans(
            "external.testns.svc.cluster.local.",
            rtype::A,
            vec![
                "external.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test.",
                "ext.interwebs.test. 60 IN A 192.0.2.7",
            ],
        ),
        // The upstream had nothing: the CNAME alone.
        ans(
            "external.testns.svc.cluster.local.",
            rtype::AAAA,
            vec!["external.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test."],
        ),
    ]);
    // An upstream NXDOMAIN is not propagated: NOERROR with the CNAME (QUIRK, kept).
    let h = Harness::new("kubernetes cluster.local", &world());
    h.check(&[ans(
        "external.testns.svc.cluster.local.",
        rtype::A,
        vec!["external.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test."],
    )]);
}

#[test]
fn external_name_chasing_on_the_async_path() {
    let h = Harness::with_tail(
        "kubernetes cluster.local",
        &world(),
        Arc::new(AsyncUpstream),
    );
    let req = signpost_plugin::testing::request("external.testns.svc.cluster.local.", rtype::A);
    // The sync path gives up, leaving no trace.
    assert!(signpost_plugin::testing::run(&h.chain, &req).is_none());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (_, resp) = rt.block_on(signpost_plugin::testing::run_async(&h.chain, &req));
    ans(
        "external.testns.svc.cluster.local.",
        rtype::A,
        vec![
            "external.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test.",
            "ext.interwebs.test. 60 IN A 192.0.2.7",
        ],
    )
    .check(&resp)
    .unwrap();
    // Names answered from memory never need the async path.
    let req = signpost_plugin::testing::request("svc1.testns.svc.cluster.local.", rtype::A);
    assert!(signpost_plugin::testing::run(&h.chain, &req).is_some());
}

#[test]
fn external_name_into_another_zone_of_the_plugin() {
    let mut w = world();
    w.services.push(super::external(
        "testns",
        "cross",
        "svc1.testns.svc.other.zone",
    ));
    let h = Harness::new("kubernetes cluster.local other.zone", &w);
    h.check(&[ans(
        "cross.testns.svc.cluster.local.",
        rtype::A,
        vec![
            "cross.testns.svc.cluster.local. 5 IN CNAME svc1.testns.svc.other.zone.",
            "svc1.testns.svc.other.zone. 5 IN A 10.0.0.1",
        ],
    )]);
}

fn ptr(qname: &'static str, answer: Vec<&'static str>) -> Case {
    Case {
        qname,
        qtype: rtype::PTR,
        rcode: rcode::NOERROR,
        answer,
        ..Case::default()
    }
}

#[test]
fn reverse_lookups() {
    let h = Harness::new("kubernetes cluster.local in-addr.arpa ip6.arpa", &world());
    let soa_v4 = "in-addr.arpa. 5 IN SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. 1499347823 7200 1800 86400 5";
    h.check(&[
        ptr(
            "1.0.0.10.in-addr.arpa.",
            vec!["1.0.0.10.in-addr.arpa. 5 IN PTR svc1.testns.svc.cluster.local."],
        ),
        // Endpoints of headless and ClusterIP services alike.
        ptr(
            "2.0.0.172.in-addr.arpa.",
            vec!["2.0.0.172.in-addr.arpa. 5 IN PTR dup-name.hdls1.testns.svc.cluster.local."],
        ),
        ptr(
            "4.0.0.172.in-addr.arpa.",
            vec!["4.0.0.172.in-addr.arpa. 5 IN PTR 172-0-0-4.hdls1.testns.svc.cluster.local."],
        ),
        ptr(
            "1.0.0.172.in-addr.arpa.",
            vec!["1.0.0.172.in-addr.arpa. 5 IN PTR ep1a.svc1.testns.svc.cluster.local."],
        ),
        ptr(
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.4.3.2.1.ip6.arpa.",
            vec!["1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.4.3.2.1.ip6.arpa. 5 IN PTR svc6.testns.svc.cluster.local."],
        ),
        ptr(
            "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.8.7.6.5.ip6.arpa.",
            vec!["2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.8.7.6.5.ip6.arpa. 5 IN PTR 5678-abcd--2.hdls1.testns.svc.cluster.local."],
        ),
        Case {
            qname: "9.0.0.172.in-addr.arpa.",
            qtype: rtype::PTR,
            rcode: rcode::NXDOMAIN,
            ns: vec![soa_v4],
            ..Case::default()
        },
        // A partial reverse name is a name error; the zone apex exists.
        Case {
            qname: "0.0.172.in-addr.arpa.",
            qtype: rtype::PTR,
            rcode: rcode::NXDOMAIN,
            ns: vec![soa_v4],
            ..Case::default()
        },
        Case {
            qname: "in-addr.arpa.",
            qtype: rtype::PTR,
            rcode: rcode::NOERROR,
            ns: vec![soa_v4],
            ..Case::default()
        },
        // Forward grammar inside a reverse zone is a name error.
        Case {
            qname: "svc1.testns.svc.in-addr.arpa.",
            qtype: rtype::A,
            rcode: rcode::NXDOMAIN,
            ns: vec![soa_v4],
            ..Case::default()
        },
        // PTR on forward names: NODATA when the name exists.
        nodata("svc1.testns.svc.cluster.local.", rtype::PTR),
        nx("svc0.testns.svc.cluster.local.", rtype::PTR),
    ]);
}

#[test]
fn reverse_first_service_wins_and_endpoint_targets_dedup() {
    let mut w = World::default();
    w.namespaces.push(super::namespace("a"));
    w.services
        .push(svc("a", "one", &["10.5.0.1"]).port("p", "TCP", 1));
    w.services.push(headless("a", "two").port("p", "TCP", 1));
    w.services.push(headless("a", "three").port("p", "TCP", 1));
    // The same IP twice in one service (two slices): one PTR; in two services: two.
    w.slices
        .push(slice("a", "two-x", "two", vec![ep(&["10.6.0.1"]).host("h")]).port("p", "TCP", 1));
    w.slices
        .push(slice("a", "two-y", "two", vec![ep(&["10.6.0.1"]).host("h")]).port("p", "TCP", 1));
    w.slices
        .push(slice("a", "three-x", "three", vec![ep(&["10.6.0.1"])]).port("p", "TCP", 1));
    // An endpoint with the service's cluster IP: the Service wins.
    w.slices
        .push(slice("a", "one-x", "one", vec![ep(&["10.5.0.1"])]).port("p", "TCP", 1));
    let h = Harness::new("kubernetes cluster.local in-addr.arpa", &w);
    h.check(&[
        ptr(
            "1.0.5.10.in-addr.arpa.",
            vec!["1.0.5.10.in-addr.arpa. 5 IN PTR one.a.svc.cluster.local."],
        ),
        ptr(
            "1.0.6.10.in-addr.arpa.",
            vec![
                "1.0.6.10.in-addr.arpa. 5 IN PTR h.two.a.svc.cluster.local.",
                "1.0.6.10.in-addr.arpa. 5 IN PTR 10-6-0-1.three.a.svc.cluster.local.",
            ],
        ),
    ]);
}

#[test]
fn soa_and_ns() {
    let h = harness();
    h.check(&[ans(
        "cluster.local.",
        rtype::SOA,
        vec!["cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1499347823 7200 1800 86400 5"],
    )]);
    // Without addresses of our own: no NS data.
    h.check(&[nodata("cluster.local.", rtype::NS)]);
    h.index.set_local_ips(vec![
        "10.9.9.9".parse().unwrap(),
        "fd00::53".parse().unwrap(),
    ]);
    h.check(&[
        Case {
            qname: "cluster.local.",
            qtype: rtype::NS,
            rcode: rcode::NOERROR,
            answer: vec!["cluster.local. 5 IN NS ns.dns.cluster.local."],
            extra: vec![
                "ns.dns.cluster.local. 5 IN A 10.9.9.9",
                "ns.dns.cluster.local. 5 IN AAAA fd00::53",
            ],
            ..Case::default()
        },
        ans(
            "ns.dns.cluster.local.",
            rtype::A,
            vec!["ns.dns.cluster.local. 5 IN A 10.9.9.9"],
        ),
        ans(
            "ns.dns.cluster.local.",
            rtype::AAAA,
            vec!["ns.dns.cluster.local. 5 IN AAAA fd00::53"],
        ),
        nodata("ns.dns.cluster.local.", rtype::SRV),
        nodata("ns.dns.cluster.local.", rtype::MX),
        nodata("ns.dns.cluster.local.", rtype::CNAME),
        nx("ns.dns.cluster.local.", rtype::TXT),
    ]);
}

#[test]
fn ns_from_our_own_service() {
    let mut w = world();
    w.services
        .push(svc("kube-system", "kube-dns", &["10.96.0.10"]).port("dns", "UDP", 53));
    w.slices.push(
        slice(
            "kube-system",
            "kube-dns-x",
            "kube-dns",
            vec![ep(&["10.9.9.9"])],
        )
        .port("dns", "UDP", 53),
    );
    let h = Harness::new("kubernetes cluster.local", &w);
    h.index.set_local_ips(vec!["10.9.9.9".parse().unwrap()]);
    h.check(&[
        Case {
            qname: "cluster.local.",
            qtype: rtype::NS,
            rcode: rcode::NOERROR,
            answer: vec!["cluster.local. 5 IN NS kube-dns.kube-system.svc.cluster.local."],
            extra: vec!["kube-dns.kube-system.svc.cluster.local. 5 IN A 10.96.0.10"],
            ..Case::default()
        },
        ans(
            "ns.dns.cluster.local.",
            rtype::A,
            vec!["ns.dns.cluster.local. 5 IN A 10.96.0.10"],
        ),
    ]);
    // The Service going away takes it out of the NS records (nothing else is found then).
    h.index
        .services()
        .on_event(&signpost_k8s_model::Event::Delete(Arc::new(
            svc("kube-system", "kube-dns", &["10.96.0.10"]).port("dns", "UDP", 53),
        )));
    h.check(&[nodata("cluster.local.", rtype::NS)]);
}

#[test]
fn client_case_is_kept() {
    let h = harness();
    let resp = h.query("SvC1.TeStNs.SvC.cLuStEr.LoCaL.", rtype::SRV);
    // The SRV target is never compressed, so its case is exactly what was built. (The glue
    // owner's case depends on the response's name compression, which matches suffixes
    // case-insensitively.)
    assert_eq!(
        texts(&resp)[0],
        "SvC1.TeStNs.SvC.cLuStEr.LoCaL.\t5\tIN\tSRV\t0 100 80 svc1.testns.svc.cLuStEr.LoCaL."
    );
    let resp = h.query("Svc0.TestNs.Svc.Cluster.Local.", rtype::A);
    assert_eq!(resp.rcode(), rcode::NXDOMAIN);
    assert_eq!(
        texts(&resp),
        ["Cluster.Local.\t5\tIN\tSOA\tns.dns.Cluster.Local. hostmaster.Cluster.Local. 1499347823 7200 1800 86400 5"]
    );
    // SOA works at a mixed-case apex; NS does not (QUIRK, kept).
    let resp = h.query("Cluster.Local.", rtype::SOA);
    assert_eq!(resp.counts(), (1, 0, 0));
    h.index.set_local_ips(vec!["10.9.9.9".parse().unwrap()]);
    let resp = h.query("Cluster.Local.", rtype::NS);
    assert_eq!((resp.rcode(), resp.counts()), (rcode::NOERROR, (0, 1, 0)));
    let resp = h.query("cluster.local.", rtype::NS);
    assert_eq!(resp.counts(), (1, 0, 1));
    // And `NS.DNS.Cluster.local.` is then just an invalid name.
    let resp = h.query("NS.DNS.Cluster.local.", rtype::A);
    assert_eq!(resp.rcode(), rcode::NXDOMAIN);
    let resp = h.query("NS.DNS.cluster.local.", rtype::A);
    assert_eq!(texts(&resp), ["NS.DNS.cluster.local.\t5\tIN\tA\t10.9.9.9"]);
}

#[test]
fn ttl_option() {
    let h = Harness::new("kubernetes cluster.local {\n ttl 3600\n}", &world());
    h.check(&[
        ans(
            "svc1.testns.svc.cluster.local.",
            rtype::A,
            vec!["svc1.testns.svc.cluster.local. 3600 IN A 10.0.0.1"],
        ),
        // SOA TTL is capped at 300, its minimum is the ttl.
        ans(
            "cluster.local.",
            rtype::SOA,
            vec!["cluster.local. 300 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1499347823 7200 1800 86400 3600"],
        ),
        // dns-version keeps its own TTL.
        ans(
            "dns-version.cluster.local.",
            rtype::TXT,
            vec!["dns-version.cluster.local. 28800 IN TXT \"1.1.0\""],
        ),
    ]);
    let h = Harness::new("kubernetes cluster.local {\n ttl 0\n}", &world());
    h.check(&[Case {
        qname: "svc0.testns.svc.cluster.local.",
        qtype: rtype::A,
        rcode: rcode::NXDOMAIN,
        ns: vec!["cluster.local. 0 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1499347823 7200 1800 86400 0"],
        ..Case::default()
    }]);
}
