//! Table-driven answers through a chain (transfer, k8s_external, kubernetes on a cluster
//! built from model objects, and a stand-in for the rest of the server), transfers, and
//! parsing.

use std::sync::Arc;

use signpost_k8s_model::Service;
use signpost_kubernetes::testing::{
    ep, headless, namespace, set_world, slice, svc, with_external_ips, with_lb, with_lb_hostname,
    EpWith, With, World, PLUGIN as KUBERNETES,
};
use signpost_plugin::testing::{request, request_with, run, run_async, setup, Case};
use signpost_plugin::{
    BoxFuture, Chain, Control, CorefileError, Directive, Next, Plugin, PluginDef, Request, Runtime,
    SetupContext, Step, Transport,
};
use signpost_wire::text::{message_sections, Record};
use signpost_wire::{rcode, rtype, Name, Response, Section};

use crate::setup::{parse, Config};
use crate::PLUGIN;

/// What the rest of the server would answer for hostnames outside the cluster.
struct FakeNet;

impl FakeNet {
    fn answer(&self, req: &Request<'_>, resp: &mut Response, sync: bool) -> Step {
        let name = req.qname().to_string();
        if name == "slow.example.net." && sync {
            return Step::Async;
        }
        resp.start(&req.query, rcode::NOERROR);
        let rec = match (name.as_str(), req.qtype()) {
            ("lb.example.net.", rtype::A) => Some("lb.example.net.	60	IN	A	9.9.9.9"),
            ("slow.example.net.", rtype::A) => Some("slow.example.net.	60	IN	A	9.9.9.10"),
            ("lb.example.net." | "slow.example.net.", _) => None,
            _ => {
                resp.set_rcode(rcode::NXDOMAIN);
                None
            }
        };
        if let Some(r) = rec {
            r.parse::<Record>().unwrap().write(resp, Section::Answer);
        }
        Step::Answered
    }
}

impl Plugin for FakeNet {
    fn name(&self) -> &'static str {
        "fakenet"
    }
    fn serve(&self, req: &Request<'_>, resp: &mut Response, _: Next<'_>) -> Step {
        self.answer(req, resp, true)
    }
    fn serve_async<'a>(
        &'a self,
        req: &'a Request<'a>,
        resp: &'a mut Response,
        _: Next<'a>,
    ) -> BoxFuture<'a, Step> {
        Box::pin(async move { self.answer(req, resp, false) })
    }
}

fn fakenet(ctx: &mut SetupContext<'_>, _: &[Directive]) -> Result<(), CorefileError> {
    ctx.add_plugin(Arc::new(FakeNet));
    Ok(())
}

const DEFS: [PluginDef; 4] = [
    signpost_transfer::PLUGIN,
    PLUGIN,
    KUBERNETES,
    PluginDef {
        name: "fakenet",
        setup: fakenet,
    },
];

fn external(s: Service, ips: &[&str]) -> Service {
    with_external_ips(s, ips)
}

/// The cluster: Services with external IPs, a load balancer, headless Services.
fn world() -> World {
    let mut lb = with_lb(svc("testns", "lb", &["10.0.0.7"]), "5.6.7.8");
    lb = with_lb_hostname(lb, "lb.example.net").port("http", "TCP", 80);
    World {
        namespaces: vec![namespace("testns"), namespace("other")],
        services: vec![
            external(svc("testns", "svc1", &["10.0.0.1"]), &["1.2.3.4"]).port("http", "TCP", 80),
            external(svc("testns", "svc6", &["10.0.0.6"]), &["1:2::5"]).port("http", "TCP", 80),
            external(svc("testns", "dual", &["10.0.0.3"]), &["1.2.3.5", "1:2::6"])
                .port("http", "TCP", 80)
                .port("https", "TCP", 443),
            external(svc("other", "svc1", &["10.0.1.1"]), &["1.2.3.4"]).port("http", "TCP", 80),
            lb,
            with_lb_hostname(svc("testns", "slowlb", &["10.0.0.8"]), "slow.example.net")
                .port("http", "TCP", 80),
            svc("testns", "noext", &["10.0.0.9"]).port("http", "TCP", 80),
            headless("testns", "hdls").port("http", "TCP", 80),
            external(headless("testns", "hdlsext"), &["1.2.3.9"]).port("http", "TCP", 80),
        ],
        slices: vec![
            slice(
                "testns",
                "hdls-x",
                "hdls",
                vec![ep(&["10.10.0.1"]).host("web-0"), ep(&["10.10.0.2"])],
            )
            .port("http", "TCP", 80),
            slice("testns", "hdlsext-x", "hdlsext", vec![ep(&["10.10.0.9"])])
                .port("http", "TCP", 80),
        ],
        local_ips: vec!["192.0.2.53".parse().unwrap()],
        ..World::default()
    }
}

fn chain_for(world: World, external: &str, kubernetes: &str) -> Arc<Chain> {
    set_world(world);
    let corefile =
        format!(". {{\n transfer {{\n  to *\n }}\n {external}\n {kubernetes}\n fakenet\n}}");
    setup(&DEFS, &corefile).unwrap().0
}

fn chain(external: &str) -> Arc<Chain> {
    chain_for(
        world(),
        external,
        "kubernetes cluster.local {\n  ttl 30\n }",
    )
}

fn check(c: &Arc<Chain>, cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        let resp = run(c, &request(case.qname, case.qtype))
            .expect("sync path")
            .1;
        if let Err(e) = case.check(&resp) {
            failures.push(e);
        }
        if !resp.authoritative() {
            failures.push(format!("{} {}: not authoritative", case.qname, case.qtype));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

const SOA: &str = "example.org.	5	IN	SOA	ns1.dns.example.org. hostmaster.dns.example.org. 1499347823 7200 1800 86400 5";

fn case(qname: &'static str, qtype: u16, answer: Vec<&'static str>) -> Case {
    Case {
        qname,
        qtype,
        rcode: rcode::NOERROR,
        answer,
        ..Case::default()
    }
}

fn nodata(qname: &'static str, qtype: u16) -> Case {
    Case {
        qname,
        qtype,
        rcode: rcode::NOERROR,
        ns: vec![SOA],
        ..Case::default()
    }
}

fn nxdomain(qname: &'static str, qtype: u16) -> Case {
    Case {
        qname,
        qtype,
        rcode: rcode::NXDOMAIN,
        ns: vec![SOA],
        ..Case::default()
    }
}

#[test]
fn service_names() {
    let c = chain("k8s_external example.org");
    check(
        &c,
        &[
            case(
                "svc1.testns.example.org.",
                rtype::A,
                vec!["svc1.testns.example.org.	5	IN	A	1.2.3.4"],
            ),
            nodata("svc1.testns.example.org.", rtype::AAAA),
            case(
                "svc6.testns.example.org.",
                rtype::AAAA,
                vec!["svc6.testns.example.org.	5	IN	AAAA	1:2::5"],
            ),
            // One address per IP whatever the ports.
            case(
                "dual.testns.example.org.",
                rtype::A,
                vec!["dual.testns.example.org.	5	IN	A	1.2.3.5"],
            ),
            // SRV: the kubernetes plugin's TTL, weight over every result, addresses once.
            Case {
                extra: vec![
                    "dual.testns.example.org.	5	IN	A	1.2.3.5",
                    "dual.testns.example.org.	5	IN	AAAA	1:2::6",
                ],
                ..case(
                    "dual.testns.example.org.",
                    rtype::SRV,
                    vec![
                        "dual.testns.example.org.	30	IN	SRV	0 25 80 dual.testns.example.org.",
                        "dual.testns.example.org.	30	IN	SRV	0 25 443 dual.testns.example.org.",
                    ],
                )
            },
            Case {
                extra: vec![
                    "dual.testns.example.org.	5	IN	A	1.2.3.5",
                    "dual.testns.example.org.	5	IN	AAAA	1:2::6",
                ],
                ..case(
                    "_https._tcp.dual.testns.example.org.",
                    rtype::SRV,
                    vec!["_https._tcp.dual.testns.example.org.	30	IN	SRV	0 50 443 dual.testns.example.org."],
                )
            },
            case(
                "_https._tcp.dual.testns.example.org.",
                rtype::A,
                vec!["_https._tcp.dual.testns.example.org.	5	IN	A	1.2.3.5"],
            ),
            nxdomain("_https._tcp.svc1.testns.example.org.", rtype::A),
            // The endpoint label is ignored for Services with external IPs.
            case(
                "anything.svc1.testns.example.org.",
                rtype::A,
                vec!["anything.svc1.testns.example.org.	5	IN	A	1.2.3.4"],
            ),
            nodata("svc1.testns.example.org.", rtype::TXT),
            nodata("svc1.testns.example.org.", rtype::PTR),
            nodata("testns.example.org.", rtype::A),
            nxdomain("nons.example.org.", rtype::A),
            nxdomain("x.svc1.nons.example.org.", rtype::A),
            nxdomain("a.b.c.d.example.org.", rtype::A),
            nxdomain("a.b.c.d.e.example.org.", rtype::A),
            nxdomain("noext.testns.example.org.", rtype::A),
            nxdomain("missing.testns.example.org.", rtype::A),
            // Without `headless`, headless Services need external IPs.
            nxdomain("hdls.testns.example.org.", rtype::A),
            case(
                "hdlsext.testns.example.org.",
                rtype::A,
                vec!["hdlsext.testns.example.org.	5	IN	A	1.2.3.9"],
            ),
        ],
    );
}

#[test]
fn load_balancer_hostnames() {
    let c = chain("k8s_external example.org");
    check(
        &c,
        &[
            // The CNAME (kubernetes TTL) and the hostname's answer from the rest of the chain.
            case(
                "lb.testns.example.org.",
                rtype::A,
                vec![
                    "lb.testns.example.org.	5	IN	A	5.6.7.8",
                    "lb.testns.example.org.	30	IN	CNAME	lb.example.net.",
                    "lb.example.net.	60	IN	A	9.9.9.9",
                ],
            ),
            // No AAAA for the hostname: the CNAME stays.
            case(
                "lb.testns.example.org.",
                rtype::AAAA,
                vec!["lb.testns.example.org.	30	IN	CNAME	lb.example.net."],
            ),
            Case {
                extra: vec![
                    "lb.testns.example.org.	5	IN	A	5.6.7.8",
                    "lb.example.net.	60	IN	A	9.9.9.9",
                ],
                ..case(
                    "lb.testns.example.org.",
                    rtype::SRV,
                    vec![
                        "lb.testns.example.org.	30	IN	SRV	0 50 80 lb.testns.example.org.",
                        "lb.testns.example.org.	30	IN	SRV	0 50 80 lb.example.net.",
                    ],
                )
            },
        ],
    );
    // A hostname that needs network I/O: the async path.
    let req = request("slowlb.testns.example.org.", rtype::A);
    assert!(run(&c, &req).is_none());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (o, resp) = rt.block_on(run_async(&c, &req));
    assert_eq!(o.plugin, "k8s_external");
    case(
        "slowlb.testns.example.org.",
        rtype::A,
        vec![
            "slowlb.testns.example.org.	30	IN	CNAME	slow.example.net.",
            "slow.example.net.	60	IN	A	9.9.9.10",
        ],
    )
    .check(&resp)
    .unwrap();
}

#[test]
fn headless_services() {
    let c = chain("k8s_external example.org {\n  headless\n }");
    check(
        &c,
        &[
            case(
                "hdls.testns.example.org.",
                rtype::A,
                vec![
                    "hdls.testns.example.org.	5	IN	A	10.10.0.1",
                    "hdls.testns.example.org.	5	IN	A	10.10.0.2",
                ],
            ),
            case(
                "web-0.hdls.testns.example.org.",
                rtype::A,
                vec!["web-0.hdls.testns.example.org.	5	IN	A	10.10.0.1"],
            ),
            nxdomain("web-9.hdls.testns.example.org.", rtype::A),
            Case {
                extra: vec![
                    "web-0.hdls.testns.example.org.	5	IN	A	10.10.0.1",
                    "10-10-0-2.hdls.testns.example.org.	5	IN	A	10.10.0.2",
                ],
                ..case(
                    "hdls.testns.example.org.",
                    rtype::SRV,
                    vec![
                        "hdls.testns.example.org.	30	IN	SRV	0 50 80 web-0.hdls.testns.example.org.",
                        "hdls.testns.example.org.	30	IN	SRV	0 50 80 10-10-0-2.hdls.testns.example.org.",
                    ],
                )
            },
            // An endpoint label on a Service without external IPs reads its endpoints.
            nxdomain("noext.testns.example.org.", rtype::A),
            nxdomain("x.noext.testns.example.org.", rtype::A),
            // Headless with external IPs: the external IPs.
            case(
                "hdlsext.testns.example.org.",
                rtype::A,
                vec!["hdlsext.testns.example.org.	5	IN	A	1.2.3.9"],
            ),
        ],
    );
}

#[test]
fn apex_and_nameservers() {
    let c = chain("k8s_external example.org");
    check(
        &c,
        &[
            case("example.org.", rtype::SOA, vec![SOA]),
            Case {
                extra: vec!["ns1.dns.example.org.	5	IN	A	192.0.2.53"],
                ..case(
                    "example.org.",
                    rtype::NS,
                    vec!["example.org.	5	IN	NS	ns1.dns.example.org."],
                )
            },
            nodata("example.org.", rtype::A),
            nodata("dns.example.org.", rtype::A),
            case(
                "ns1.dns.example.org.",
                rtype::A,
                vec!["ns1.dns.example.org.	5	IN	A	192.0.2.53"],
            ),
            nodata("ns1.dns.example.org.", rtype::AAAA),
            nodata("ns1.dns.example.org.", rtype::TXT),
            nxdomain("x.dns.example.org.", rtype::A),
            nxdomain("a.ns1.dns.example.org.", rtype::A),
        ],
    );
    // The glue is named below the apex as the client spelled it.
    let resp = run(&c, &request("Example.ORG.", rtype::NS)).unwrap().1;
    let sections = message_sections(resp.bytes()).unwrap();
    assert_eq!(
        sections[0][0].to_string(),
        "example.org.\t5\tIN\tNS\tns1.dns.example.org."
    );
    assert_eq!(
        sections[2][0].to_string(),
        "ns1.dns.Example.ORG.\t5\tIN\tA\t192.0.2.53"
    );
    // Another apex label and TTL.
    let c = chain("k8s_external example.org {\n  apex ns\n  ttl 30\n }");
    let resp = run(&c, &request("example.org.", rtype::SOA)).unwrap().1;
    assert_eq!(
        message_sections(resp.bytes()).unwrap()[0][0].to_string(),
        "example.org.\t30\tIN\tSOA\tns1.ns.example.org. hostmaster.ns.example.org. 1499347823 7200 1800 86400 30"
    );
    let resp = run(&c, &request("ns1.ns.example.org.", rtype::A))
        .unwrap()
        .1;
    assert_eq!(resp.counts().0, 1);
}

#[test]
fn nameservers_from_the_dns_service() {
    // This server's address is an endpoint of a Service: its external IPs are the
    // nameserver addresses (its endpoints, with `headless` and a headless Service).
    let mut w = world();
    w.services.push(
        external(svc("testns", "coredns", &["10.0.0.10"]), &["203.0.113.10"])
            .port("dns", "UDP", 53),
    );
    w.slices.push(
        slice("testns", "coredns-x", "coredns", vec![ep(&["192.0.2.53"])]).port("dns", "UDP", 53),
    );
    let c = chain_for(
        w.clone(),
        "k8s_external example.org",
        "kubernetes cluster.local",
    );
    let resp = run(&c, &request("ns1.dns.example.org.", rtype::A))
        .unwrap()
        .1;
    assert_eq!(
        message_sections(resp.bytes()).unwrap()[0][0].to_string(),
        "ns1.dns.example.org.\t5\tIN\tA\t203.0.113.10"
    );
    w.services.pop();
    w.services
        .push(headless("testns", "coredns").port("dns", "UDP", 53));
    let c = chain_for(
        w,
        "k8s_external example.org {\n  headless\n }",
        "kubernetes cluster.local",
    );
    let resp = run(&c, &request("ns1.dns.example.org.", rtype::A))
        .unwrap()
        .1;
    assert_eq!(
        message_sections(resp.bytes()).unwrap()[0][0].to_string(),
        "ns1.dns.example.org.\t5\tIN\tA\t192.0.2.53"
    );
}

#[test]
fn reverse_names_and_fallthrough() {
    let c = chain("k8s_external example.org 1.0.0.0/8");
    let resp = run(&c, &request("4.3.2.1.in-addr.arpa.", rtype::PTR))
        .unwrap()
        .1;
    let answer: Vec<String> = message_sections(resp.bytes()).unwrap()[0]
        .iter()
        .map(|r| r.to_string())
        .collect();
    assert_eq!(
        answer,
        [
            "4.3.2.1.in-addr.arpa.\t5\tIN\tPTR\tsvc1.testns.example.org.",
            "4.3.2.1.in-addr.arpa.\t5\tIN\tPTR\tsvc1.other.example.org.",
        ]
    );
    let resp = run(&c, &request("9.9.9.1.in-addr.arpa.", rtype::PTR))
        .unwrap()
        .1;
    assert_eq!(resp.rcode(), rcode::NXDOMAIN);
    // `namespaces` filters reverse answers and names.
    let c = chain_for(
        world(),
        "k8s_external example.org 1.0.0.0/8",
        "kubernetes cluster.local {\n  namespaces other\n }",
    );
    let resp = run(&c, &request("4.3.2.1.in-addr.arpa.", rtype::PTR))
        .unwrap()
        .1;
    assert_eq!(resp.counts().0, 1);
    let resp = run(&c, &request("svc1.testns.example.org.", rtype::A))
        .unwrap()
        .1;
    assert_eq!(resp.rcode(), rcode::NXDOMAIN);
    // Fallthrough: names that do not exist go on (here to the stand-in, not authoritative).
    let c = chain("k8s_external example.org {\n  fallthrough\n }");
    let (o, resp) = run(&c, &request("missing.testns.example.org.", rtype::A)).unwrap();
    assert_eq!(o.plugin, "fakenet");
    assert!(!resp.authoritative());
    let (o, _) = run(&c, &request("testns.example.org.", rtype::A)).unwrap();
    assert_eq!(o.plugin, "k8s_external");
    // Names outside the zones are not this plugin's.
    let (o, _) = run(&c, &request("svc1.testns.example.net.", rtype::A)).unwrap();
    assert_eq!(o.plugin, "fakenet");
}

#[test]
fn keeps_the_clients_spelling() {
    let c = chain("k8s_external example.org");
    let resp = run(&c, &request("SVC1.TestNS.Example.ORG.", rtype::A))
        .unwrap()
        .1;
    assert_eq!(
        message_sections(resp.bytes()).unwrap()[0][0].to_string(),
        "SVC1.TestNS.Example.ORG.\t5\tIN\tA\t1.2.3.4"
    );
}

fn axfr(c: &Arc<Chain>, zone: &str) -> Vec<String> {
    let req = request_with(zone, rtype::AXFR, Transport::Tcp, "192.0.2.1:1");
    let resp = run(c, &req).unwrap().1;
    message_sections(resp.bytes()).unwrap()[0]
        .iter()
        .map(|r| r.to_string())
        .collect()
}

#[test]
fn transfers() {
    let mut w = world();
    w.services
        .retain(|s| &*s.key.name != "slowlb" && &*s.key.name != "lb");
    w.services.push(
        with_lb_hostname(svc("testns", "lb", &["10.0.0.7"]), "lb.example.net")
            .port("http", "TCP", 80),
    );
    let c = chain_for(
        w,
        "k8s_external example.org {\n  headless\n }",
        "kubernetes cluster.local {\n  ttl 30\n }",
    );
    let soa = "example.org.\t5\tIN\tSOA\tns1.dns.example.org. hostmaster.dns.example.org. 1499347823 7200 1800 86400 5";
    assert_eq!(
        axfr(&c, "example.org."),
        [
            soa,
            "example.org.\t5\tIN\tNS\tns1.dns.example.org.",
            "ns1.dns.example.org.\t5\tIN\tA\t192.0.2.53",
            // dual: per address and port, the bare SRV only for the first port.
            "dual.testns.example.org.\t5\tIN\tA\t1.2.3.5",
            "dual.testns.example.org.\t30\tIN\tSRV\t0 100 80 dual.testns.example.org.",
            "_http._tcp.dual.testns.example.org.\t30\tIN\tSRV\t0 100 80 dual.testns.example.org.",
            "dual.testns.example.org.\t5\tIN\tA\t1.2.3.5",
            "_https._tcp.dual.testns.example.org.\t30\tIN\tSRV\t0 100 443 dual.testns.example.org.",
            "dual.testns.example.org.\t5\tIN\tAAAA\t1:2::6",
            "dual.testns.example.org.\t5\tIN\tAAAA\t1:2::6",
            // hdls (headless, after the others), hdlsext: external IPs.
            "hdlsext.testns.example.org.\t5\tIN\tA\t1.2.3.9",
            "hdlsext.testns.example.org.\t30\tIN\tSRV\t0 100 80 hdlsext.testns.example.org.",
            "_http._tcp.hdlsext.testns.example.org.\t30\tIN\tSRV\t0 100 80 hdlsext.testns.example.org.",
            // lb: a hostname gives a CNAME twice, and a cut SRV target.
            "lb.testns.example.org.\t30\tIN\tCNAME\tlb.example.net.",
            "lb.testns.example.org.\t30\tIN\tCNAME\tlb.example.net.",
            "lb.testns.example.org.\t30\tIN\tSRV\t0 100 80 lb.example.net.",
            "_http._tcp.lb.testns.example.org.\t30\tIN\tSRV\t0 100 80 net.",
            // svc1 in both namespaces (namespaces are not filtered), svc6.
            "svc1.other.example.org.\t5\tIN\tA\t1.2.3.4",
            "svc1.other.example.org.\t30\tIN\tSRV\t0 100 80 svc1.other.example.org.",
            "_http._tcp.svc1.other.example.org.\t30\tIN\tSRV\t0 100 80 svc1.other.example.org.",
            "svc1.testns.example.org.\t5\tIN\tA\t1.2.3.4",
            "svc1.testns.example.org.\t30\tIN\tSRV\t0 100 80 svc1.testns.example.org.",
            "_http._tcp.svc1.testns.example.org.\t30\tIN\tSRV\t0 100 80 svc1.testns.example.org.",
            "svc6.testns.example.org.\t5\tIN\tAAAA\t1:2::5",
            "svc6.testns.example.org.\t30\tIN\tSRV\t0 100 80 svc6.testns.example.org.",
            "_http._tcp.svc6.testns.example.org.\t30\tIN\tSRV\t0 100 80 svc6.testns.example.org.",
            // The headless Service: addresses, SRV twice, per endpoint the same, port SRV.
            "hdls.testns.example.org.\t5\tIN\tA\t10.10.0.1",
            "hdls.testns.example.org.\t5\tIN\tA\t10.10.0.2",
            "hdls.testns.example.org.\t30\tIN\tSRV\t0 50 80 web-0.hdls.testns.example.org.",
            "hdls.testns.example.org.\t30\tIN\tSRV\t0 50 80 10-10-0-2.hdls.testns.example.org.",
            "hdls.testns.example.org.\t30\tIN\tSRV\t0 50 80 web-0.hdls.testns.example.org.",
            "hdls.testns.example.org.\t30\tIN\tSRV\t0 50 80 10-10-0-2.hdls.testns.example.org.",
            "web-0.hdls.testns.example.org.\t5\tIN\tA\t10.10.0.1",
            "web-0.hdls.testns.example.org.\t30\tIN\tSRV\t0 100 80 web-0.hdls.testns.example.org.",
            "web-0.hdls.testns.example.org.\t30\tIN\tSRV\t0 100 80 web-0.hdls.testns.example.org.",
            "10-10-0-2.hdls.testns.example.org.\t5\tIN\tA\t10.10.0.2",
            "10-10-0-2.hdls.testns.example.org.\t30\tIN\tSRV\t0 100 80 10-10-0-2.hdls.testns.example.org.",
            "10-10-0-2.hdls.testns.example.org.\t30\tIN\tSRV\t0 100 80 10-10-0-2.hdls.testns.example.org.",
            "_http._tcp.hdls.testns.example.org.\t30\tIN\tSRV\t0 50 80 web-0.hdls.testns.example.org.",
            "_http._tcp.hdls.testns.example.org.\t30\tIN\tSRV\t0 50 80 10-10-0-2.hdls.testns.example.org.",
            soa,
        ]
    );
    // Only the zone itself is transferred: a name below it is an ordinary query (NODATA
    // for a namespace, as in CoreDNS).
    let req = request_with(
        "testns.example.org.",
        rtype::AXFR,
        Transport::Tcp,
        "192.0.2.1:1",
    );
    let (o, _) = run(&c, &req).unwrap();
    assert_eq!((o.rcode, o.plugin), (rcode::NOERROR, "k8s_external"));
    // An IXFR at the current serial gets the SOA alone.
    let mut req = request_with("example.org.", rtype::IXFR, Transport::Tcp, "192.0.2.1:1");
    let zone = Name::from_text("example.org.").unwrap();
    let mut p = signpost_wire::build_query(7, &zone, rtype::IXFR, false, None);
    p.extend_from_slice(&[0xC0, 12, 0, 6, 0, 1, 0, 0, 0, 0, 0, 22, 0, 0]);
    p.extend_from_slice(&1499347823u32.to_be_bytes());
    p.extend_from_slice(&[0; 16]);
    p[9] = 1;
    req.packet = p;
    let resp = run(&c, &req).unwrap().1;
    assert_eq!(
        message_sections(resp.bytes()).unwrap()[0]
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>(),
        [soa]
    );
}

#[test]
fn needs_the_kubernetes_plugin() {
    set_world(world());
    let (c, mut parts) = setup(&DEFS, ". {\n k8s_external example.org\n fakenet\n}").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let runtime = Runtime {
        handle: rt.handle().clone(),
        control: Control::new(tx),
        corefile: None,
        listeners: Vec::new(),
    };
    let errors: Vec<String> = parts
        .startup
        .drain(..)
        .filter_map(|hook| hook(&runtime).err())
        .collect();
    assert_eq!(
        errors,
        ["plugin/k8s_external: kubernetes plugin not loaded"]
    );
    let (o, _) = run(&c, &request("svc1.testns.example.org.", rtype::A)).unwrap();
    assert_eq!(o.rcode, rcode::SERVFAIL);
}

fn parsed(text: &str) -> Result<Config, String> {
    let blocks = signpost_corefile::parse("Corefile", text).map_err(|e| e.to_string())?;
    let ds: Vec<Directive> = blocks[0]
        .directives
        .iter()
        .filter(|d| d.name() == "k8s_external")
        .cloned()
        .collect();
    let zones = [Name::from_text("example.org.").unwrap()];
    parse(&ds, &zones).map_err(|e| e.with_plugin("k8s_external").to_string())
}

#[test]
fn parse_options() {
    let n = |s: &str| Name::from_text(s).unwrap();
    let c = parsed("example.org {\n k8s_external\n}").unwrap();
    assert_eq!(c.zones, [n("example.org.")]);
    assert_eq!((c.apex, c.ttl, c.headless), (n("dns."), 5, false));
    assert!(c.fall.is_off());
    let c = parsed(
        "example.org {\n k8s_external Example.NET 10.0.0.0/24 bad..zone {\n  apex ns\n  ttl 0\n  headless\n  fallthrough example.net\n }\n}",
    )
    .unwrap();
    assert_eq!(c.zones, [n("example.net."), n("0.0.10.in-addr.arpa.")]);
    assert_eq!((c.apex, c.ttl, c.headless), (n("ns."), 0, true));
    assert!(c.fall.through(&n("a.example.net.")));
    assert!(!c.fall.through(&n("a.example.org.")));
    let c = parsed("example.org {\n k8s_external {\n  ttl 3600\n  fallthrough\n }\n}").unwrap();
    assert_eq!(c.ttl, 3600);
    assert!(c.fall.through(&n("a.example.org.")));
}

#[test]
fn parse_errors() {
    for (text, want) in [
        (
            "example.org {\n k8s_external {\n  ttl\n }\n}",
            "plugin/k8s_external: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'ttl'",
        ),
        (
            "example.org {\n k8s_external {\n  ttl x\n }\n}",
            "plugin/k8s_external: Corefile:3 - Error during parsing: strconv.Atoi: parsing \"x\": invalid syntax",
        ),
        (
            "example.org {\n k8s_external {\n  ttl 3601\n }\n}",
            "plugin/k8s_external: Corefile:3 - Error during parsing: ttl must be in range [0, 3600]: 3601",
        ),
        (
            "example.org {\n k8s_external {\n  ttl -1\n }\n}",
            "plugin/k8s_external: Corefile:3 - Error during parsing: ttl must be in range [0, 3600]: -1",
        ),
        (
            "example.org {\n k8s_external {\n  apex\n }\n}",
            "plugin/k8s_external: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'apex'",
        ),
        (
            "example.org {\n k8s_external {\n  apex a..b\n }\n}",
            "plugin/k8s_external: Corefile:3 - Error during parsing: invalid apex 'a..b'",
        ),
        (
            "example.org {\n k8s_external {\n  headless yes\n }\n}",
            "plugin/k8s_external: Corefile:3 - Error during parsing: unknown property 'yes'",
        ),
        (
            "example.org {\n k8s_external {\n  upstream\n }\n}",
            "plugin/k8s_external: Corefile:3 - Error during parsing: unknown property 'upstream'",
        ),
    ] {
        assert_eq!(parsed(text).unwrap_err(), want, "{text}");
    }
}
