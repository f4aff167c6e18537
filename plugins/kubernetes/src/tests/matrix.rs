//! The NXDOMAIN/NODATA matrix of spec §8, name by name and type by type.

use signpost_plugin::testing::Case;
use signpost_wire::{rcode, rtype};

use super::{world, Harness, SOA};

pub(crate) fn nodata(qname: &'static str, qtype: u16) -> Case {
    Case {
        qname,
        qtype,
        rcode: rcode::NOERROR,
        ns: vec![SOA],
        ..Case::default()
    }
}

pub(crate) fn nx(qname: &'static str, qtype: u16) -> Case {
    Case {
        qname,
        qtype,
        rcode: rcode::NXDOMAIN,
        ns: vec![SOA],
        ..Case::default()
    }
}

pub(crate) fn ans(qname: &'static str, qtype: u16, answer: Vec<&'static str>) -> Case {
    Case {
        qname,
        qtype,
        rcode: rcode::NOERROR,
        answer,
        ..Case::default()
    }
}

const HINFO: u16 = rtype::HINFO;

fn harness() -> Harness {
    Harness::new("kubernetes cluster.local", &world())
}

#[test]
fn apex_svc_pod_and_namespaces() {
    let mut cases = Vec::new();
    for name in [
        "cluster.local.",
        "svc.cluster.local.",
        "pod.cluster.local.",
        "testns.svc.cluster.local.",
    ] {
        for t in [
            rtype::A,
            rtype::AAAA,
            rtype::SRV,
            rtype::CNAME,
            rtype::MX,
            HINFO,
            rtype::PTR,
        ] {
            cases.push(nodata(name, t));
        }
        // QUIRK (kept): TXT is NXDOMAIN where A is NODATA.
        cases.push(nx(name, rtype::TXT));
    }
    // With pods disabled, the namespace under `pod` does not exist.
    cases.push(nx("testns.pod.cluster.local.", rtype::A));
    // An unknown (or unexposed) namespace does not exist for any type but SOA.
    for t in [
        rtype::A,
        rtype::AAAA,
        rtype::SRV,
        rtype::TXT,
        rtype::CNAME,
        rtype::MX,
        HINFO,
    ] {
        cases.push(nx("nons.svc.cluster.local.", t));
    }
    cases.push(nodata("nons.svc.cluster.local.", rtype::SOA));
    // NS on a non-apex name is the "other types" row.
    cases.push(nodata("svc.cluster.local.", rtype::NS));
    cases.push(nx("nons.svc.cluster.local.", rtype::NS));
    harness().check(&cases);
}

#[test]
fn cluster_ip_service() {
    harness().check(&[
        ans(
            "svc1.testns.svc.cluster.local.",
            rtype::A,
            vec!["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"],
        ),
        nodata("svc1.testns.svc.cluster.local.", rtype::AAAA),
        nodata("svc1.testns.svc.cluster.local.", rtype::TXT),
        nodata("svc1.testns.svc.cluster.local.", rtype::CNAME),
        nodata("svc1.testns.svc.cluster.local.", rtype::MX),
        nodata("svc1.testns.svc.cluster.local.", HINFO),
        nodata("svc1.testns.svc.cluster.local.", rtype::PTR),
        nodata("svc1.testns.svc.cluster.local.", rtype::NS),
        nodata("svc1.testns.svc.cluster.local.", rtype::SOA),
        // No endpoints: still answers (without `ignore empty_service`).
        ans(
            "svcempty.testns.svc.cluster.local.",
            rtype::A,
            vec!["svcempty.testns.svc.cluster.local. 5 IN A 10.0.0.2"],
        ),
        nx("svc0.testns.svc.cluster.local.", rtype::A),
        nx("svc0.testns.svc.cluster.local.", rtype::AAAA),
        nx("svc0.testns.svc.cluster.local.", rtype::TXT),
        nodata("svc0.testns.svc.cluster.local.", rtype::SOA),
    ]);
}

#[test]
fn headless_service() {
    harness().check(&[
        ans(
            "hdls1.testns.svc.cluster.local.",
            rtype::A,
            vec![
                "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2",
                "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.3",
                "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.4",
                "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.5",
            ],
        ),
        ans(
            "hdls1.testns.svc.cluster.local.",
            rtype::AAAA,
            vec![
                "hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::1",
                "hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::2",
            ],
        ),
        nodata("hdls1.testns.svc.cluster.local.", rtype::TXT),
        nodata("hdls1.testns.svc.cluster.local.", rtype::CNAME),
        nodata("hdls1.testns.svc.cluster.local.", HINFO),
        // Portless headless: A works, SRV has nothing (port -1 is skipped).
        ans(
            "hdlsprtls.testns.svc.cluster.local.",
            rtype::A,
            vec!["hdlsprtls.testns.svc.cluster.local. 5 IN A 172.0.0.20"],
        ),
        nodata("hdlsprtls.testns.svc.cluster.local.", rtype::SRV),
        // Headless without ready endpoints does not exist, for every type (but SOA).
        nx("hdlsempty.testns.svc.cluster.local.", rtype::A),
        nx("hdlsempty.testns.svc.cluster.local.", rtype::AAAA),
        nx("hdlsempty.testns.svc.cluster.local.", rtype::SRV),
        nx("hdlsempty.testns.svc.cluster.local.", rtype::TXT),
        nx("hdlsempty.testns.svc.cluster.local.", rtype::CNAME),
        nx("hdlsempty.testns.svc.cluster.local.", HINFO),
        nodata("hdlsempty.testns.svc.cluster.local.", rtype::SOA),
    ]);
}

#[test]
fn endpoint_names() {
    harness().check(&[
        ans(
            "dup-name.hdls1.testns.svc.cluster.local.",
            rtype::A,
            vec![
                "dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2",
                "dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.3",
            ],
        ),
        ans(
            "172-0-0-4.hdls1.testns.svc.cluster.local.",
            rtype::A,
            vec!["172-0-0-4.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.4"],
        ),
        nodata("172-0-0-4.hdls1.testns.svc.cluster.local.", rtype::AAAA),
        nodata("172-0-0-4.hdls1.testns.svc.cluster.local.", rtype::TXT),
        ans(
            "5678-abcd--2.hdls1.testns.svc.cluster.local.",
            rtype::AAAA,
            vec!["5678-abcd--2.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::2"],
        ),
        // Not-ready endpoints are not served.
        nx("172-0-0-9.hdls1.testns.svc.cluster.local.", rtype::A),
        nx("bogusendpoint.hdls1.testns.svc.cluster.local.", rtype::A),
        nx("bogusendpoint.svc0.testns.svc.cluster.local.", rtype::A),
        // Endpoint names work for ClusterIP services too.
        ans(
            "ep1a.svc1.testns.svc.cluster.local.",
            rtype::A,
            vec!["ep1a.svc1.testns.svc.cluster.local. 5 IN A 172.0.0.1"],
        ),
        Case {
            qname: "ep1a.svc1.testns.svc.cluster.local.",
            qtype: rtype::SRV,
            rcode: rcode::NOERROR,
            answer: vec![
                "ep1a.svc1.testns.svc.cluster.local. 5 IN SRV 0 100 80 ep1a.svc1.testns.svc.cluster.local.",
            ],
            extra: vec!["ep1a.svc1.testns.svc.cluster.local. 5 IN A 172.0.0.1"],
            ..Case::default()
        },
        nx("bogus.svc1.testns.svc.cluster.local.", rtype::A),
    ]);
}

#[test]
fn port_and_protocol_names() {
    harness().check(&[
        // A on a `_port._proto` name gives the service's addresses, owned by that name.
        ans(
            "_http._tcp.svc1.testns.svc.cluster.local.",
            rtype::A,
            vec!["_http._tcp.svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"],
        ),
        nodata("_http._tcp.svc1.testns.svc.cluster.local.", rtype::AAAA),
        nodata("_http._tcp.svc1.testns.svc.cluster.local.", rtype::TXT),
        // Underscores are optional, and `_` alone is a wildcard.
        ans(
            "http.tcp.svc1.testns.svc.cluster.local.",
            rtype::A,
            vec!["http.tcp.svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"],
        ),
        ans(
            "_._tcp.svc1.testns.svc.cluster.local.",
            rtype::A,
            vec!["_._tcp.svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"],
        ),
        nx("_https._tcp.svc1.testns.svc.cluster.local.", rtype::A),
        nx("_http._udp.svc1.testns.svc.cluster.local.", rtype::SRV),
        // Three or more extra labels: too long.
        nx("a.b.c.svc1.testns.svc.cluster.local.", rtype::A),
        nx("a._http._tcp.svc1.testns.svc.cluster.local.", rtype::SRV),
    ]);
}

#[test]
fn names_outside_the_grammar() {
    let mut cases = vec![
        nx("foo.cluster.local.", rtype::A),
        nx("foo.cluster.local.", rtype::TXT),
        nx("svc1.testns.foo.cluster.local.", rtype::A),
        nx("ns.dns.cluster.local.", rtype::TXT),
        nx("ns.dns.cluster.local.", rtype::PTR),
        nx("dns.cluster.local.", rtype::A),
        nx("apex.dns.cluster.local.", rtype::A),
        // Wildcards are ordinary labels (removed in CoreDNS 1.9).
        nx("*.testns.svc.cluster.local.", rtype::A),
        nx("any.testns.svc.cluster.local.", rtype::A),
        // SOA on any non-apex name is NODATA (QUIRK, kept).
        nodata("foo.cluster.local.", rtype::SOA),
        nodata("a.b.c.svc1.testns.svc.cluster.local.", rtype::SOA),
    ];
    // dns-version exists only for TXT (QUIRK, kept).
    for t in [
        rtype::A,
        rtype::AAAA,
        rtype::SRV,
        rtype::CNAME,
        rtype::MX,
        HINFO,
    ] {
        cases.push(nx("dns-version.cluster.local.", t));
    }
    cases.push(ans(
        "dns-version.cluster.local.",
        rtype::TXT,
        vec!["dns-version.cluster.local. 28800 IN TXT \"1.1.0\""],
    ));
    // `ns.dns` without local addresses: no records, but it exists for address types.
    cases.push(nodata("ns.dns.cluster.local.", rtype::A));
    cases.push(nodata("ns.dns.cluster.local.", rtype::SRV));
    cases.push(nodata("ns.dns.cluster.local.", HINFO));
    harness().check(&cases);
}

#[test]
fn external_name_rows() {
    harness().check(&[
        ans(
            "external.testns.svc.cluster.local.",
            rtype::CNAME,
            vec!["external.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test."],
        ),
        nodata("external.testns.svc.cluster.local.", rtype::SRV),
        nodata("external.testns.svc.cluster.local.", rtype::TXT),
        nodata("external.testns.svc.cluster.local.", rtype::MX),
        nodata("external.testns.svc.cluster.local.", HINFO),
        nx("x.external.testns.svc.cluster.local.", rtype::A),
        nx("x.external.testns.svc.cluster.local.", rtype::CNAME),
        nx("a.b.external.testns.svc.cluster.local.", rtype::CNAME),
        nx("_http._tcp.external.testns.svc.cluster.local.", rtype::SRV),
        // An IP as externalName gives nothing at all.
        nx("external-ip.testns.svc.cluster.local.", rtype::A),
        nx("external-ip.testns.svc.cluster.local.", rtype::CNAME),
    ]);
}

#[test]
fn zone_transfers_are_refused_here() {
    let h = harness();
    for t in [rtype::AXFR, rtype::IXFR] {
        let resp = h.query("cluster.local.", t);
        assert_eq!(resp.rcode(), rcode::REFUSED);
        assert_eq!(resp.counts(), (0, 0, 0));
    }
}
