//! Classification tests.

use super::*;
use signpost_wire::text::Record;
use signpost_wire::{build_query, Query, Response};

fn message(qname: &str, qtype: u16, rc: u16, answer: &[&str], ns: &[&str]) -> Vec<u8> {
    let p = build_query(1, &Name::from_text(qname).unwrap(), qtype, true, None);
    let q = Query::parse(&p).unwrap();
    let mut r = Response::new();
    r.start(&q, rc);
    for a in answer {
        a.parse::<Record>().unwrap().write(&mut r, Section::Answer);
    }
    for a in ns {
        a.parse::<Record>()
            .unwrap()
            .write(&mut r, Section::Authority);
    }
    r.bytes().to_vec()
}

const SOA: &str =
    "example.org. 300 IN SOA sns.dns.icann.org. noc.dns.icann.org. 1 7200 3600 1209600 3600";

#[test]
fn types_and_cacheability() {
    struct T {
        qname: &'static str,
        qtype: u16,
        rcode: u16,
        answer: &'static [&'static str],
        ns: &'static [&'static str],
        want: Type,
        cacheable: bool,
    }
    const A: &str = "a.example.org. 60 IN A 127.0.0.1";
    let tests = [
        T {
            qname: "a.example.org.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: &[A],
            ns: &[],
            want: Type::NoError,
            cacheable: true,
        },
        T {
            qname: "a.example.org.",
            qtype: rtype::A,
            rcode: rcode::NXDOMAIN,
            answer: &[],
            ns: &[SOA],
            want: Type::NameError,
            cacheable: true,
        },
        T {
            qname: "a.example.org.",
            qtype: rtype::A,
            rcode: rcode::NXDOMAIN,
            answer: &[],
            ns: &[],
            want: Type::NameError,
            cacheable: false,
        },
        T {
            qname: "a.example.org.",
            qtype: rtype::A,
            rcode: rcode::NXDOMAIN,
            answer: &[A],
            ns: &[],
            want: Type::OtherError,
            cacheable: false,
        },
        T {
            qname: "a.example.org.",
            qtype: rtype::AAAA,
            rcode: rcode::NOERROR,
            answer: &[],
            ns: &[SOA],
            want: Type::NoData,
            cacheable: true,
        },
        T {
            qname: "a.example.org.",
            qtype: rtype::A,
            rcode: rcode::SERVFAIL,
            answer: &[],
            ns: &[],
            want: Type::ServerError,
            cacheable: true,
        },
        T {
            qname: "a.example.org.",
            qtype: rtype::A,
            rcode: rcode::NOTIMP,
            answer: &[],
            ns: &[],
            want: Type::ServerError,
            cacheable: true,
        },
        T {
            qname: "a.example.org.",
            qtype: rtype::A,
            rcode: rcode::REFUSED,
            answer: &[],
            ns: &[],
            want: Type::OtherError,
            cacheable: false,
        },
        T {
            qname: "a.example.org.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: &[],
            ns: &["example.org. 300 IN NS ns.example.org."],
            want: Type::Delegation,
            cacheable: true,
        },
        T {
            qname: "example.org.",
            qtype: rtype::AXFR,
            rcode: rcode::NOERROR,
            answer: &[],
            ns: &[],
            want: Type::Meta,
            cacheable: false,
        },
        // A CNAME chain that ends without the asked type: uncacheable without SOA,
        // NODATA with one.
        T {
            qname: "alias.example.org.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: &[
                "alias.example.org. 60 IN CNAME t.example.net.",
                "t.example.net. 60 IN AAAA ::1",
            ],
            ns: &[],
            want: Type::NoError,
            cacheable: false,
        },
        T {
            qname: "alias.example.org.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: &["alias.example.org. 60 IN CNAME t.example.net."],
            ns: &[SOA],
            want: Type::NoData,
            cacheable: true,
        },
        T {
            qname: "alias.example.org.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: &[
                "t.example.net. 60 IN A 127.0.0.1",
                "alias.example.org. 60 IN CNAME t.example.net.",
            ],
            ns: &[],
            want: Type::NoError,
            cacheable: true,
        },
        T {
            qname: "alias.example.org.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: &[
                "alias.example.org. 60 IN CNAME t1.example.net.",
                "alias.example.org. 60 IN CNAME t2.example.net.",
                "t1.example.net. 60 IN A 127.0.0.1",
            ],
            ns: &[],
            want: Type::NoError,
            cacheable: false,
        },
        T {
            qname: "alias.example.org.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: &[
                "alias.example.org. 60 IN CNAME t.example.net.",
                "t.example.net. 60 IN CNAME alias.example.org.",
                "alias.example.org. 60 IN A 127.0.0.1",
            ],
            ns: &[],
            want: Type::NoError,
            cacheable: false,
        },
        T {
            qname: "alias.example.org.",
            qtype: rtype::CNAME,
            rcode: rcode::NOERROR,
            answer: &["alias.example.org. 60 IN CNAME t.example.net."],
            ns: &[],
            want: Type::NoError,
            cacheable: true,
        },
        T {
            qname: "alias.example.org.",
            qtype: rtype::ANY,
            rcode: rcode::NOERROR,
            answer: &["alias.example.org. 60 IN CNAME t.example.net."],
            ns: &[],
            want: Type::NoError,
            cacheable: true,
        },
    ];
    for t in tests {
        let m = message(t.qname, t.qtype, t.rcode, t.answer, t.ns);
        let v = View::parse(&m, t.rcode).unwrap();
        let got = v.cache_type(false, 0);
        assert_eq!(got, t.want, "{} {:?}", t.qname, t.answer);
        assert_eq!(v.cacheable(got), t.cacheable, "{} {:?}", t.qname, t.answer);
    }
}

#[test]
fn minimal_ttl() {
    let m = message(
        "a.example.org.",
        rtype::A,
        rcode::NOERROR,
        &[
            "a.example.org. 60 IN A 127.0.0.1",
            "a.example.org. 30 IN A 127.0.0.2",
        ],
        &[],
    );
    let v = View::parse(&m, 0).unwrap();
    assert_eq!(v.minimal_ttl(Type::NoError, 3600 * SECOND), 30 * SECOND);
    assert_eq!(v.minimal_ttl(Type::NoError, 10 * SECOND), 10 * SECOND);
    assert_eq!(v.minimal_ttl(Type::Delegation, 3600 * SECOND), 5 * SECOND);
    let m = message("a.example.org.", rtype::A, rcode::NOERROR, &[], &[]);
    let v = View::parse(&m, 0).unwrap();
    assert_eq!(v.minimal_ttl(Type::NoError, 3600 * SECOND), 5 * SECOND);
    assert_eq!(
        compute_ttl(299 * SECOND, 300 * SECOND, 3600 * SECOND),
        300 * SECOND
    );
    assert_eq!(
        compute_ttl(3601 * SECOND, 300 * SECOND, 3600 * SECOND),
        3600 * SECOND
    );
    assert_eq!(compute_ttl(299 * SECOND, 0, 3600 * SECOND), 299 * SECOND);
}

#[test]
fn expired_signatures() {
    // RRSIG rdata: covered, algorithm, labels, original TTL, expiration, inception, ...
    let mut rd = vec![0, 15, 8, 2, 0, 0, 7, 8];
    rd.extend_from_slice(&1_463_801_581u32.to_be_bytes()); // 2016-05-21
    rd.extend_from_slice(&1_461_209_581u32.to_be_bytes()); // 2016-04-21
    rd.extend_from_slice(&[0x2f, 0x13, 7, b'e', b'x', 0]);
    let p = build_query(
        1,
        &Name::from_text("miek.nl.").unwrap(),
        rtype::MX,
        true,
        None,
    );
    let q = Query::parse(&p).unwrap();
    let mut r = Response::new();
    r.start(&q, rcode::NOERROR);
    "miek.nl. 60 IN MX 1 aspmx.l.google.com."
        .parse::<Record>()
        .unwrap()
        .write(&mut r, Section::Answer);
    r.answer(
        signpost_wire::Owner::Question,
        60,
        &signpost_wire::RData::Raw {
            rtype: rtype::RRSIG,
            data: &rd,
        },
    );
    let v = View::parse(r.bytes(), 0).unwrap();
    let during = 1_462_000_000;
    let after = 1_700_000_000;
    assert_eq!(v.cache_type(true, during), Type::NoError);
    assert_eq!(v.cache_type(true, after), Type::OtherError);
    assert_eq!(v.cache_type(false, after), Type::NoError);
}
