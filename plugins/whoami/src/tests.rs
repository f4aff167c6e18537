use signpost_plugin::testing::{request_with, run, setup, Case};
use signpost_plugin::Transport;
use signpost_wire::text::message_sections;
use signpost_wire::{class, rcode, rtype};

use crate::PLUGIN;

const COREFILE: &str = "example.org {\n    whoami\n}\n";

struct Query {
    qname: &'static str,
    qtype: u16,
    transport: Transport,
    client: &'static str,
}

fn ask(q: &Query) -> signpost_wire::Response {
    let (chain, _) = setup(&[PLUGIN], COREFILE).unwrap();
    let req = request_with(q.qname, q.qtype, q.transport, q.client);
    let (outcome, resp) = run(&chain, &req).expect("whoami answers on the sync path");
    assert_eq!(outcome.plugin, "whoami");
    assert!(outcome.error.is_none());
    resp
}

#[test]
fn answers_with_client_address_port_and_transport() {
    let udp = Transport::Udp;
    let tcp = Transport::Tcp;
    let table: Vec<(Query, Case)> = vec![
        (
            Query {
                qname: "example.org.",
                qtype: rtype::A,
                transport: udp,
                client: "10.240.0.1:40212",
            },
            Case {
                qname: "example.org.",
                qtype: rtype::A,
                rcode: rcode::NOERROR,
                extra: vec![
                    "example.org. 0 IN A 10.240.0.1",
                    "_udp.example.org. 0 IN SRV 0 0 40212 .",
                ],
                ..Case::default()
            },
        ),
        (
            Query {
                qname: "example.org.",
                qtype: rtype::AAAA,
                transport: udp,
                client: "[2003::1]:53",
            },
            Case {
                qname: "example.org.",
                qtype: rtype::AAAA,
                rcode: rcode::NOERROR,
                extra: vec![
                    "example.org. 0 IN AAAA 2003::1",
                    "_udp.example.org. 0 IN SRV 0 0 53 .",
                ],
                ..Case::default()
            },
        ),
        (
            Query {
                qname: "svc.example.org.",
                qtype: rtype::MX,
                transport: tcp,
                client: "192.0.2.7:5300",
            },
            Case {
                qname: "svc.example.org.",
                qtype: rtype::MX,
                rcode: rcode::NOERROR,
                extra: vec![
                    "svc.example.org. 0 IN A 192.0.2.7",
                    "_tcp.svc.example.org. 0 IN SRV 0 0 5300 .",
                ],
                ..Case::default()
            },
        ),
        (
            // Dual-stack sockets report IPv4 clients as IPv4-mapped IPv6 addresses.
            Query {
                qname: "example.org.",
                qtype: rtype::A,
                transport: udp,
                client: "[::ffff:10.0.0.9]:1234",
            },
            Case {
                qname: "example.org.",
                qtype: rtype::A,
                rcode: rcode::NOERROR,
                extra: vec![
                    "example.org. 0 IN A 10.0.0.9",
                    "_udp.example.org. 0 IN SRV 0 0 1234 .",
                ],
                ..Case::default()
            },
        ),
        (
            Query {
                qname: ".",
                qtype: rtype::NS,
                transport: udp,
                client: "10.0.0.1:999",
            },
            Case {
                qname: ".",
                qtype: rtype::NS,
                rcode: rcode::NOERROR,
                extra: vec![". 0 IN A 10.0.0.1", "_udp. 0 IN SRV 0 0 999 ."],
                ..Case::default()
            },
        ),
    ];
    for (q, case) in &table {
        let resp = ask(q);
        case.check(&resp).unwrap();
        assert!(resp.authoritative(), "{}: AA", q.qname);
        assert_eq!(resp.counts().0, 0, "{}: empty answer", q.qname);
    }
}

#[test]
fn owner_names_keep_the_client_spelling() {
    let resp = ask(&Query {
        qname: "Example.ORG.",
        qtype: rtype::A,
        transport: Transport::Udp,
        client: "10.240.0.1:40212",
    });
    let [_, _, extra] = message_sections(resp.bytes()).unwrap();
    let owners: Vec<String> = extra.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(owners, ["Example.ORG.", "_udp.Example.ORG."]);
}

#[test]
fn records_carry_the_query_class() {
    let (chain, _) = setup(&[PLUGIN], COREFILE).unwrap();
    let mut req = request_with("example.org.", rtype::TXT, Transport::Udp, "10.1.2.3:53");
    // The class is the last field of the question (12-byte header + 13-byte name + type).
    let at = 12 + 13 + 2;
    req.packet[at..at + 2].copy_from_slice(&class::CH.to_be_bytes());
    let (_, resp) = run(&chain, &req).unwrap();
    Case {
        qname: "example.org.",
        qtype: rtype::TXT,
        rcode: rcode::NOERROR,
        extra: vec![
            "example.org. 0 CH A 10.1.2.3",
            "_udp.example.org. 0 CH SRV 0 0 53 .",
        ],
        ..Case::default()
    }
    .check(&resp)
    .unwrap();
}

#[test]
fn name_too_long_for_the_srv_owner_is_servfail() {
    // 4 labels of 62 octets: 253 octets in wire form; "_udp" needs 5 more.
    let label = "a".repeat(62);
    let name: &'static str =
        Box::leak(format!("{label}.{label}.{label}.{label}.").into_boxed_str());
    let (chain, _) = setup(&[PLUGIN], COREFILE).unwrap();
    let req = request_with(name, rtype::A, Transport::Udp, "10.0.0.1:53");
    let (outcome, resp) = run(&chain, &req).unwrap();
    assert_eq!(outcome.rcode, rcode::SERVFAIL);
    assert_eq!(resp.rcode(), rcode::SERVFAIL);
}

#[test]
fn parse() {
    let table: &[(&str, Result<(), &str>)] = &[
        ("example.org {\n    whoami\n}\n", Ok(())),
        (
            ". {\n    whoami\n    whoami ignored by coredns too\n}\n",
            Ok(()),
        ),
        (
            "example.org {\n    whoami example.org\n}\n",
            Err("plugin/whoami: Corefile:2 - Error during parsing: \
                 Wrong argument count or unexpected line ending after 'example.org'"),
        ),
        (
            "example.org {\n    whoami a b\n}\n",
            Err("plugin/whoami: Corefile:2 - Error during parsing: \
                 Wrong argument count or unexpected line ending after 'a'"),
        ),
        (
            "example.org {\n    whoami {\n    }\n}\n",
            Err("plugin/whoami: Corefile:2 - Error during parsing: \
                 Unexpected token '{', expecting argument"),
        ),
    ];
    for (corefile, want) in table {
        let got = setup(&[PLUGIN], corefile).map(|(chain, _)| {
            assert_eq!(chain.names(), ["whoami"]);
        });
        assert_eq!(
            got.map_err(|e| e.to_string()),
            want.map_err(str::to_string),
            "{corefile}"
        );
    }
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
