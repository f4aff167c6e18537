use std::collections::BTreeSet;
use std::sync::Arc;

use signpost_plugin::testing::{allocations, request, run, setup, CountingAlloc};
use signpost_plugin::{Chain, Next, Outcome, Plugin, Request, Step};
use signpost_wire::text::{message_sections, Record};
use signpost_wire::{rcode, rtype, Rcode, Response, Section};

use crate::cidr::Cidr;
use crate::{LoadBalance, PLUGIN};

/// Counts this thread's allocations, to show that a warm thread reorders without any.
#[global_allocator]
static COUNTING: CountingAlloc = CountingAlloc;

/// A backend that answers every query with fixed records (as zone-file text).
struct Fixed {
    rcode: Rcode,
    sections: [Vec<Record>; 3],
}

impl Fixed {
    fn new(rcode: Rcode, answer: &[&str], ns: &[&str], extra: &[&str]) -> Fixed {
        let parse = |v: &[&str]| v.iter().map(|t| t.parse().unwrap()).collect();
        Fixed {
            rcode,
            sections: [parse(answer), parse(ns), parse(extra)],
        }
    }
}

impl Plugin for Fixed {
    fn name(&self) -> &'static str {
        "fixed"
    }
    fn serve(&self, req: &Request<'_>, resp: &mut Response, _: Next<'_>) -> Step {
        resp.start(&req.query, self.rcode);
        for (records, section) in
            self.sections
                .iter()
                .zip([Section::Answer, Section::Authority, Section::Additional])
        {
            for r in records {
                assert!(r.write(resp, section));
            }
        }
        Step::Answered
    }
}

fn chain(prefer: &[&str], backend: Fixed) -> Arc<Chain> {
    let prefer = prefer.iter().map(|c| Cidr::parse(c).unwrap()).collect();
    Chain::new(vec![Arc::new(LoadBalance::new(prefer)), Arc::new(backend)])
}

/// The sections of one answer, as text, after the chain ran.
fn ask(chain: &Arc<Chain>, qname: &str, qtype: u16) -> [Vec<String>; 3] {
    let (_, resp) = run(chain, &request(qname, qtype)).unwrap();
    let sections = message_sections(resp.bytes()).expect("the message stays valid");
    sections.map(|s| s.iter().map(|r| r.to_string()).collect())
}

fn text(records: &[&str]) -> Vec<String> {
    records
        .iter()
        .map(|t| t.parse::<Record>().unwrap().to_string())
        .collect()
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// Runs the query many times; every run must keep each section's records, and the orders
/// seen are returned (answer section only).
fn orders(
    chain: &Arc<Chain>,
    qname: &str,
    qtype: u16,
    want: [&[&str]; 3],
) -> BTreeSet<Vec<String>> {
    let mut seen = BTreeSet::new();
    for _ in 0..400 {
        let got = ask(chain, qname, qtype);
        for (g, w) in got.iter().zip(want) {
            assert_eq!(sorted(g), sorted(&text(w)));
        }
        seen.insert(got[0].clone());
    }
    seen
}

/// Positions of the record types in a section, e.g. "CCAAM".
fn shape(section: &[String]) -> String {
    section
        .iter()
        .map(|r| match r.split('\t').nth(3) {
            Some("CNAME") => 'C',
            Some("A") | Some("AAAA") => 'A',
            Some("MX") => 'M',
            _ => 'R',
        })
        .collect()
}

#[test]
fn address_records_take_every_order() {
    let cases: &[(&[&str], usize)] = &[
        (
            &[
                "example.org. 300 IN A 10.0.0.1",
                "example.org. 300 IN A 10.0.0.2",
            ],
            2,
        ),
        (
            &[
                "example.org. 300 IN A 10.0.0.1",
                "example.org. 300 IN A 10.0.0.2",
                "example.org. 300 IN A 10.0.0.3",
            ],
            6,
        ),
        (
            &[
                "example.org. 300 IN AAAA ::1",
                "example.org. 300 IN AAAA ::2",
                "example.org. 300 IN AAAA ::3",
            ],
            6,
        ),
        // Different TTLs travel with their address.
        (
            &[
                "example.org. 300 IN A 10.0.0.1",
                "example.org. 30 IN A 10.0.0.2",
            ],
            2,
        ),
        (&["example.org. 300 IN A 10.0.0.1"], 1),
    ];
    for (answer, permutations) in cases {
        let c = chain(&[], Fixed::new(rcode::NOERROR, answer, &[], &[]));
        let seen = orders(&c, "example.org.", rtype::A, [answer, &[], &[]]);
        assert_eq!(seen.len(), *permutations, "{answer:?}");
    }
}

#[test]
fn cnames_first_then_other_types_then_addresses_then_mx() {
    // (answer, extra, answer shape, extra shape), from CoreDNS's own tests.
    let cases: &[(&[&str], &[&str], &str, &str)] = &[
        (
            &[
                "cname1.region2.skydns.test. 300 IN CNAME cname2.region2.skydns.test.",
                "cname2.region2.skydns.test. 300 IN CNAME cname3.region2.skydns.test.",
                "cname5.region2.skydns.test. 300 IN CNAME cname6.region2.skydns.test.",
                "cname6.region2.skydns.test. 300 IN CNAME endpoint.region2.skydns.test.",
                "endpoint.region2.skydns.test. 300 IN A 10.240.0.1",
                "mx.region2.skydns.test. 300 IN MX 1 mx1.region2.skydns.test.",
                "mx.region2.skydns.test. 300 IN MX 2 mx2.region2.skydns.test.",
                "mx.region2.skydns.test. 300 IN MX 3 mx3.region2.skydns.test.",
            ],
            &[],
            "CCCCAMMM",
            "",
        ),
        (
            &[
                "endpoint.region2.skydns.test. 300 IN A 10.240.0.1",
                "mx.region2.skydns.test. 300 IN MX 1 mx1.region2.skydns.test.",
                "cname.region2.skydns.test. 300 IN CNAME endpoint.region2.skydns.test.",
            ],
            &[],
            "CAM",
            "",
        ),
        (
            &[
                "mx.region2.skydns.test. 300 IN MX 1 mx1.region2.skydns.test.",
                "endpoint.region2.skydns.test. 300 IN A 10.240.0.1",
                "endpoint.region2.skydns.test. 300 IN A 10.240.0.2",
                "mx.region2.skydns.test. 300 IN MX 1 mx2.region2.skydns.test.",
                "cname2.region2.skydns.test. 300 IN CNAME cname3.region2.skydns.test.",
                "endpoint.region2.skydns.test. 300 IN A 10.240.0.3",
                "mx.region2.skydns.test. 300 IN MX 1 mx3.region2.skydns.test.",
            ],
            &[
                "endpoint.region2.skydns.test. 300 IN A 10.240.0.1",
                "endpoint.region2.skydns.test. 300 IN AAAA ::1",
                "mx.region2.skydns.test. 300 IN MX 1 mx1.region2.skydns.test.",
                "cname2.region2.skydns.test. 300 IN CNAME cname3.region2.skydns.test.",
                "mx.region2.skydns.test. 300 IN MX 1 mx2.region2.skydns.test.",
                "endpoint.region2.skydns.test. 300 IN A 10.240.0.3",
                "endpoint.region2.skydns.test. 300 IN AAAA ::2",
                "mx.region2.skydns.test. 300 IN MX 1 mx3.region2.skydns.test.",
            ],
            "CAAAMMM",
            "CAAAAMMM",
        ),
        // Other types move ahead of the address records.
        (
            &[
                "example.org. 300 IN A 10.0.0.1",
                "example.org. 300 IN TXT \"hello\"",
            ],
            &[],
            "RA",
            "",
        ),
    ];
    for (answer, extra, answer_shape, extra_shape) in cases {
        let c = chain(&[], Fixed::new(rcode::NOERROR, answer, &[], extra));
        for _ in 0..50 {
            let got = ask(&c, "region2.skydns.test.", rtype::SRV);
            assert_eq!(sorted(&got[0]), sorted(&text(answer)));
            assert_eq!(sorted(&got[2]), sorted(&text(extra)));
            assert_eq!(shape(&got[0]), *answer_shape);
            assert_eq!(shape(&got[2]), *extra_shape);
            // CNAMEs keep their order.
            let cnames = |v: &[String]| -> Vec<String> {
                v.iter()
                    .filter(|r| r.contains("\tCNAME\t"))
                    .cloned()
                    .collect()
            };
            assert_eq!(cnames(&got[0]), cnames(&text(answer)));
        }
    }
}

#[test]
fn mx_records_move_with_the_names_that_point_into_them() {
    let answer: &[&str] = &[
        "example.org. 300 IN MX 10 mail1.example.org.",
        "example.org. 300 IN MX 20 mail2.example.org.",
        "example.org. 300 IN MX 30 mail3.example.org.",
    ];
    // The owners of these are compressed to the exchange names inside the MX data.
    let extra: &[&str] = &[
        "mail1.example.org. 300 IN A 10.0.0.1",
        "mail2.example.org. 300 IN A 10.0.0.2",
        "mail3.example.org. 300 IN A 10.0.0.3",
    ];
    let c = chain(&[], Fixed::new(rcode::NOERROR, answer, &[], extra));
    let seen = orders(&c, "example.org.", rtype::MX, [answer, &[], extra]);
    assert_eq!(seen.len(), 6);
}

#[test]
fn records_pointing_at_each_other_are_written_again() {
    // The CNAME spells out "web" and the A records point at it: they move as they are.
    let answer: &[&str] = &[
        "www.example.org. 300 IN CNAME web.example.org.",
        "web.example.org. 300 IN A 10.0.0.1",
        "web.example.org. 300 IN A 10.0.0.2",
        "web.example.org. 300 IN A 10.0.0.3",
    ];
    let c = chain(&[], Fixed::new(rcode::NOERROR, answer, &[], &[]));
    let seen = orders(&c, "www.example.org.", rtype::A, [answer, &[], &[]]);
    assert_eq!(seen.len(), 6);

    // Without the CNAME, "web" is spelled out in the first A record and the others point at
    // it, so they cannot move ahead of it: the message is written again.
    let answer: &[&str] = &[
        "web.example.org. 300 IN A 10.0.0.1",
        "web.example.org. 300 IN A 10.0.0.2",
        "web.example.org. 60 IN A 10.0.0.3",
    ];
    let c = chain(&[], Fixed::new(rcode::NOERROR, answer, &[], &[]));
    let seen = orders(&c, "www.example.org.", rtype::A, [answer, &[], &[]]);
    assert_eq!(seen.len(), 6);
}

#[test]
fn authority_and_additional_are_shuffled_too() {
    let ns: &[&str] = &[
        "example.org. 300 IN NS ns1.example.org.",
        "example.org. 300 IN NS ns2.example.org.",
    ];
    let extra: &[&str] = &[
        "ns1.example.org. 300 IN A 10.0.0.1",
        "ns2.example.org. 300 IN A 10.0.0.2",
        "ns1.example.org. 300 IN AAAA ::1",
    ];
    let c = chain(&[], Fixed::new(rcode::NOERROR, &[], ns, extra));
    let mut extra_orders = BTreeSet::new();
    for _ in 0..400 {
        let got = ask(&c, "example.org.", rtype::NS);
        // NS records are neither addresses nor MX: they keep their order.
        assert_eq!(got[1], text(ns));
        assert_eq!(sorted(&got[2]), sorted(&text(extra)));
        extra_orders.insert(got[2].clone());
    }
    assert_eq!(extra_orders.len(), 6);
}

#[test]
fn errors_and_zone_transfers_are_left_alone() {
    let answer: &[&str] = &[
        "example.org. 300 IN A 10.0.0.1",
        "example.org. 300 IN A 10.0.0.2",
        "example.org. 300 IN A 10.0.0.3",
    ];
    let cases = [
        (rcode::NXDOMAIN, rtype::A),
        (rcode::SERVFAIL, rtype::A),
        (rcode::NOERROR, rtype::AXFR),
        (rcode::NOERROR, rtype::IXFR),
    ];
    for (rc, qtype) in cases {
        let c = chain(&[], Fixed::new(rc, answer, &[], &[]));
        let seen = orders(&c, "example.org.", qtype, [answer, &[], &[]]);
        assert_eq!(seen.len(), 1, "rcode {rc} qtype {qtype}");
    }
}

#[test]
fn preferred_subnets_come_first() {
    let answer: &[&str] = &[
        "example.org. 300 IN A 1.1.1.1",
        "example.org. 300 IN A 192.168.1.5",
        "example.org. 300 IN A 10.9.20.3",
        "example.org. 300 IN AAAA 2001:db8::1",
        "example.org. 300 IN A 10.9.20.4",
    ];
    let c = chain(
        &["10.9.20.0/24", "192.168.1.0/24"],
        Fixed::new(rcode::NOERROR, answer, &[], &[]),
    );
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let got = ask(&c, "example.org.", rtype::A);
        let addresses: Vec<String> = got[0]
            .iter()
            .map(|r| r.rsplit('\t').next().unwrap().to_string())
            .collect();
        let mut first_two = addresses[..2].to_vec();
        first_two.sort();
        assert_eq!(first_two, ["10.9.20.3", "10.9.20.4"]);
        assert_eq!(addresses[2], "192.168.1.5");
        seen.insert(addresses[3..].to_vec());
    }
    // The rest stays shuffled.
    assert_eq!(seen.len(), 2);

    // With prefer, the layout is CNAME, addresses, MX, the rest (CoreDNS's reorderRecords).
    let answer: &[&str] = &[
        "example.org. 300 IN TXT \"x\"",
        "example.org. 300 IN MX 1 mx.example.org.",
        "example.org. 300 IN A 10.0.0.1",
        "www.example.org. 300 IN CNAME example.org.",
    ];
    let c = chain(
        &["10.0.0.0/8"],
        Fixed::new(rcode::NOERROR, answer, &[], &[]),
    );
    assert_eq!(shape(&ask(&c, "www.example.org.", rtype::A)[0]), "CAMR");
}

#[test]
fn reordering_a_warm_thread_does_not_allocate() {
    // Records moved in place (the A records point into the CNAME), and a message written
    // again (the first A record spells out "web" and the others point at it).
    let answers: [&[&str]; 2] = [
        &[
            "www.example.org. 300 IN CNAME web.example.org.",
            "web.example.org. 300 IN A 10.0.0.1",
            "web.example.org. 300 IN A 10.0.0.2",
            "web.example.org. 300 IN AAAA ::1",
            "example.org. 300 IN MX 1 mx.example.org.",
            "example.org. 300 IN MX 2 mx2.example.org.",
        ],
        &[
            "web.example.org. 300 IN A 10.0.0.1",
            "web.example.org. 300 IN A 10.0.0.2",
            "web.example.org. 300 IN A 10.0.0.3",
            "example.org. 300 IN SOA ns.example.org. h.example.org. 1 2 3 4 5",
        ],
    ];
    let req = request("www.example.org.", rtype::A);
    let r = req.request().unwrap();
    let lb = LoadBalance::new(vec![Cidr::parse("10.0.0.2/32").unwrap()]);
    let outcome = Outcome {
        rcode: rcode::NOERROR,
        plugin: "fixed",
        error: None,
    };
    for answer in answers {
        let extra = ["mx.example.org. 5 IN A 10.1.1.1"];
        let backend = Fixed::new(rcode::NOERROR, answer, &[], &extra);
        let mut built = Response::new();
        backend.serve(&r, &mut built, Chain::new(vec![]).start());
        let original = built.bytes().to_vec();
        let mut resp = Response::new();
        for _ in 0..500 {
            resp.set_bytes(&original);
            lb.after(&r, &mut resp, &outcome, false);
        }
        let before = allocations();
        for _ in 0..100 {
            resp.set_bytes(&original);
            lb.after(&r, &mut resp, &outcome, false);
        }
        assert_eq!(allocations(), before, "{answer:?}");
        assert_eq!(
            sorted(
                &message_sections(resp.bytes()).unwrap()[0]
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
            ),
            sorted(&text(answer))
        );
    }
}

#[test]
fn parse() {
    let ok = |extra: &str| -> Result<(), String> {
        let corefile = format!(". {{\n    loadbalance{extra}\n}}\n");
        setup(&[PLUGIN], &corefile)
            .map(|(c, _)| assert_eq!(c.names(), ["loadbalance"]))
            .map_err(|e| e.to_string())
    };
    let err = |line: u32, msg: &str| -> Result<(), String> {
        Err(format!(
            "plugin/loadbalance: Corefile:{line} - Error during parsing: {msg}"
        ))
    };
    let table: &[(&str, Result<(), String>)] = &[
        ("", Ok(())),
        (" round_robin", Ok(())),
        (
            " round_robin {\n        prefer 10.9.20.0/24 192.168.1.0/24\n    }",
            Ok(()),
        ),
        (
            " {\n        prefer 2001:db8::/32\n        prefer\n    }",
            Ok(()),
        ),
        (" fleeb", err(2, "unknown policy: fleeb")),
        (" round_robin a", err(2, "unknown property for round_robin")),
        (
            " weighted wfile",
            err(
                2,
                "policy 'weighted' is not supported, only 'round_robin' is",
            ),
        ),
        (
            " weighted",
            err(
                2,
                "policy 'weighted' is not supported, only 'round_robin' is",
            ),
        ),
        (
            " round_robin {\n        prefer 10.0.0.0/33\n    }",
            err(
                3,
                "invalid CIDR \"10.0.0.0/33\": invalid CIDR address: 10.0.0.0/33",
            ),
        ),
        (
            " {\n        prefer 10.0.0.1\n    }",
            err(
                3,
                "invalid CIDR \"10.0.0.1\": invalid CIDR address: 10.0.0.1",
            ),
        ),
        (" {\n        susu\n    }", err(3, "unknown property 'susu'")),
        (
            " {\n        reload 10s\n    }",
            err(3, "unknown property 'reload'"),
        ),
    ];
    for (extra, want) in table {
        assert_eq!(&ok(extra), want, "loadbalance{extra}");
    }
    // Several occurrences make one handler.
    let (c, _) = setup(
        &[PLUGIN],
        ". {\n    loadbalance\n    loadbalance round_robin {\n        prefer 10.0.0.0/8\n    }\n}\n",
    )
    .unwrap();
    assert_eq!(c.names(), ["loadbalance"]);
}

/// Every Corefile example of the README sets this plugin up.
#[test]
fn readme_examples_set_up() {
    let readme = include_str!("../README.md");
    let mut found = 0;
    for part in readme.split("```corefile\n").skip(1) {
        let corefile = part.split("```").next().unwrap();
        if let Err(e) = signpost_plugin::testing::setup(&[PLUGIN], corefile) {
            panic!("{corefile}: {e}");
        }
        found += 1;
    }
    assert!(found > 0);
}
