//! Parsing, and transfers through a chain with a provider made up for the tests.

use std::net::Ipv4Addr;
use std::sync::Arc;

use signpost_plugin::testing::{request_with, run, setup, Case, NxDomain};
use signpost_plugin::{CorefileError, Directive, Dispenser, OwnedRequest, PluginDef, SetupContext};
use signpost_plugin::{Outcome, Transport};
use signpost_wire::text::{message_sections, Record, RecordData};
use signpost_wire::{build_query, class, rcode, rtype, Name, Query, Response};

use crate::setup::{parse, Peer};
use crate::{Providers, TransferError, Transferer, PLUGIN};

const SERIAL: u32 = 1499347823;

/// Serves `zone` with `count` A records `hN.<zone>`.
struct Fake {
    zone: Name,
    count: u32,
}

fn soa(zone: &Name) -> Record {
    Record {
        name: *zone,
        ttl: 5,
        class: class::IN,
        rtype: rtype::SOA,
        data: RecordData::Soa(
            Name::from_text("ns.dns.example.org.").unwrap(),
            Name::from_text("hostmaster.example.org.").unwrap(),
            SERIAL,
            7200,
            1800,
            86400,
            5,
        ),
    }
}

impl Transferer for Fake {
    fn transfer(
        &self,
        zone: &Name,
        serial: u32,
        emit: &mut dyn FnMut(&Record),
    ) -> Result<(), TransferError> {
        if *zone != self.zone {
            return Err(TransferError::NotAuthoritative);
        }
        if self.count == 999_999 {
            return Err(TransferError::Failed("backend down".into()));
        }
        let soa = soa(zone);
        emit(&soa);
        if serial != 0 && serial >= SERIAL {
            return Ok(());
        }
        for i in 0..self.count {
            let name = zone.prepend_label(format!("h{i}").as_bytes()).unwrap();
            emit(&Record {
                name,
                ttl: 5,
                class: class::IN,
                rtype: rtype::A,
                data: RecordData::A(Ipv4Addr::from(0x0a00_0000 + i)),
            });
        }
        emit(&soa);
        Ok(())
    }
}

/// `fakezone ZONE COUNT`: registers a [`Fake`] and ends the chain with NXDOMAIN.
fn fake_setup(ctx: &mut SetupContext<'_>, ds: &[Directive]) -> Result<(), CorefileError> {
    for d in ds {
        let mut disp = Dispenser::new(d);
        disp.next();
        let args = disp.remaining_args();
        let fake = Fake {
            zone: Name::from_text(&args[0]).unwrap(),
            count: args[1].parse().unwrap(),
        };
        ctx.block_state::<Providers>().register(Arc::new(fake));
    }
    ctx.add_plugin(Arc::new(NxDomain));
    Ok(())
}

const FAKE: PluginDef = PluginDef {
    name: "fakezone",
    setup: fake_setup,
};

fn chain(corefile: &str) -> Arc<signpost_plugin::Chain> {
    setup(&[PLUGIN, FAKE], corefile).unwrap().0
}

fn tcp(qname: &str, qtype: u16, client: &str) -> OwnedRequest {
    request_with(qname, qtype, Transport::Tcp, client)
}

/// An IXFR for `qname` carrying an authority SOA with `serial`.
fn ixfr(qname: &str, serial: Option<u32>) -> OwnedRequest {
    let mut req = tcp(qname, rtype::IXFR, "10.0.0.9:5353");
    let name = Name::from_text(qname).unwrap();
    let mut p = build_query(7, &name, rtype::IXFR, false, None);
    if let Some(serial) = serial {
        p.extend_from_slice(&[0xC0, 12]);
        p.extend_from_slice(&rtype::SOA.to_be_bytes());
        p.extend_from_slice(&class::IN.to_be_bytes());
        p.extend_from_slice(&0u32.to_be_bytes());
        p.extend_from_slice(&22u16.to_be_bytes());
        p.extend_from_slice(&[0, 0]);
        for v in [serial, 0, 0, 0, 0] {
            p.extend_from_slice(&v.to_be_bytes());
        }
        p[9] = 1;
    }
    req.packet = p;
    req
}

fn go(chain: &Arc<signpost_plugin::Chain>, req: &OwnedRequest) -> (Outcome, Response) {
    let (o, mut r) = run(chain, req).expect("sync path");
    let q = Query::parse(&req.packet).unwrap();
    r.finalize(&q, 65535);
    (o, r)
}

const SOA: &str = "example.org.	5	IN	SOA	ns.dns.example.org. hostmaster.example.org. 1499347823 7200 1800 86400 5";

const BLOCK: &str =
    "example.org {\n transfer {\n  to 10.0.0.9 [fd00::9]:5353\n }\n fakezone example.org. 2\n}";

#[test]
fn transfers() {
    let c = chain(BLOCK);
    let full = Case {
        qname: "example.org.",
        qtype: rtype::AXFR,
        rcode: rcode::NOERROR,
        answer: vec![
            SOA,
            "h0.example.org.	5	IN	A	10.0.0.0",
            "h1.example.org.	5	IN	A	10.0.0.1",
            SOA,
        ],
        ..Case::default()
    };
    for client in ["10.0.0.9:4000", "[fd00::9]:4000", "[::ffff:10.0.0.9]:4000"] {
        let (o, r) = go(&c, &tcp("example.org.", rtype::AXFR, client));
        assert_eq!(o.plugin, "transfer", "{client}");
        full.check(&r).unwrap();
        assert!(r.authoritative());
    }
    // IXFR: behind gets the whole zone, current gets one SOA without AA.
    let (_, r) = go(&c, &ixfr("example.org.", Some(SERIAL - 1)));
    Case {
        qtype: rtype::IXFR,
        ..full.clone()
    }
    .check(&r)
    .unwrap();
    let (_, r) = go(&c, &ixfr("example.org.", Some(SERIAL)));
    Case {
        qname: "example.org.",
        qtype: rtype::IXFR,
        rcode: rcode::NOERROR,
        answer: vec![SOA],
        ..Case::default()
    }
    .check(&r)
    .unwrap();
    assert!(!r.authoritative());
    // IXFR without the client's SOA.
    let (o, r) = go(&c, &ixfr("example.org.", None));
    assert_eq!((o.rcode, r.rcode()), (rcode::SERVFAIL, rcode::SERVFAIL));
}

#[test]
fn refusals_and_passes() {
    let c = chain(BLOCK);
    // UDP: refused by the server (nothing written by the plugin).
    let req = request_with("example.org.", rtype::AXFR, Transport::Udp, "10.0.0.9:1");
    let (o, r) = go(&c, &req);
    assert_eq!((o.rcode, o.plugin), (rcode::REFUSED, "transfer"));
    assert_eq!(r.counts(), (0, 0, 1), "only the OPT the server adds");
    // Not in `to`: refused, written by the plugin.
    let (o, r) = go(&c, &tcp("example.org.", rtype::AXFR, "10.0.0.10:1"));
    assert_eq!((o.rcode, o.error), (rcode::REFUSED, None));
    assert_eq!(r.counts(), (0, 0, 1));
    // Other types, names outside the zones, and zones nobody provides go on.
    for (name, t) in [
        ("example.org.", rtype::A),
        ("example.net.", rtype::AXFR),
        ("sub.example.org.", rtype::AXFR),
    ] {
        let (o, _) = go(&c, &tcp(name, t, "10.0.0.9:1"));
        assert_eq!(o.plugin, "test-nxdomain", "{name}");
    }
}

#[test]
fn providers_in_order_and_failures() {
    // The first provider is not authoritative, the second is; a failing one is SERVFAIL.
    let c = chain(
        "example.org example.net {\n transfer {\n  to *\n }\n fakezone example.net. 1\n fakezone example.org. 1\n}",
    );
    let (o, r) = go(&c, &tcp("example.org.", rtype::AXFR, "192.0.2.1:1"));
    assert_eq!(o.plugin, "transfer");
    assert_eq!(r.counts().0, 3);
    let c = chain("example.org {\n transfer {\n  to *\n }\n fakezone example.org. 999999\n}");
    let (o, _) = go(&c, &tcp("example.org.", rtype::AXFR, "192.0.2.1:1"));
    assert_eq!(o.rcode, rcode::SERVFAIL);
    assert_eq!(o.error.as_deref(), Some("plugin/transfer: backend down"));
}

#[test]
fn longest_zone_picks_the_peers() {
    let c = chain(
        "example.org {\n transfer {\n  to 10.0.0.1\n }\n transfer sub.example.org {\n  to 10.0.0.2\n }\n fakezone sub.example.org. 1\n}",
    );
    let (o, r) = go(&c, &tcp("sub.example.org.", rtype::AXFR, "10.0.0.2:1"));
    assert_eq!((o.rcode, r.counts().0), (rcode::NOERROR, 3));
    let (o, _) = go(&c, &tcp("sub.example.org.", rtype::AXFR, "10.0.0.1:1"));
    assert_eq!(o.rcode, rcode::REFUSED);
}

#[test]
fn large_zones() {
    // About 2000 records fit one message; every record is there, in order.
    let c = chain("example.org {\n transfer {\n  to *\n }\n fakezone example.org. 2000\n}");
    let (o, r) = go(&c, &tcp("example.org.", rtype::AXFR, "192.0.2.1:1"));
    assert_eq!(o.rcode, rcode::NOERROR);
    assert!(r.bytes().len() <= 65535);
    let answer = &message_sections(r.bytes()).unwrap()[0];
    assert_eq!(answer.len(), 2002);
    assert_eq!(answer[0].rtype, rtype::SOA);
    assert_eq!(answer[2001].rtype, rtype::SOA);
    // Past one message: the rest follow on the same connection, SOA last.
    let c = chain("example.org {\n transfer {\n  to *\n }\n fakezone example.org. 5000\n}");
    let (o, r) = go(&c, &tcp("example.org.", rtype::AXFR, "192.0.2.1:1"));
    assert_eq!(o.rcode, rcode::NOERROR);
    assert_eq!(r.follow_ups().len(), 1);
    let first = &message_sections(r.bytes()).unwrap()[0];
    let second = &message_sections(&r.follow_ups()[0]).unwrap()[0];
    assert_eq!(first.len() + second.len(), 5002);
    assert_eq!(first[0].rtype, rtype::SOA);
    assert_eq!(second[second.len() - 1].rtype, rtype::SOA);
    assert_eq!(&r.follow_ups()[0][..2], &r.bytes()[..2], "same ID");
}

#[test]
fn packing_splits_messages() {
    let name = Name::from_text("example.org.").unwrap();
    let p = build_query(1, &name, rtype::AXFR, false, None);
    let q = Query::parse(&p).unwrap();
    let mut packer = crate::stream::Packer::new(&q);
    let fake = Fake {
        zone: name,
        count: 10_000,
    };
    fake.transfer(&name, 0, &mut |r| packer.push(r)).unwrap();
    let (n, sizes) = packer.shape();
    assert_eq!(n, 10_002);
    assert!(sizes.len() >= 3, "{sizes:?}");
    assert!(sizes.iter().all(|&s| s <= 63_000 + 800), "{sizes:?}");
}

fn parsed(text: &str) -> Result<Vec<crate::setup::Xfr>, String> {
    let blocks = signpost_corefile::parse("Corefile", text).map_err(|e| e.to_string())?;
    let ds: Vec<Directive> = blocks[0]
        .directives
        .iter()
        .filter(|d| d.name() == "transfer")
        .cloned()
        .collect();
    let zones = [Name::from_text("example.org.").unwrap()];
    parse(&ds, &zones).map_err(|e| e.with_plugin("transfer").to_string())
}

#[test]
fn parse_options() {
    let x = parsed("example.org {\n transfer {\n  to * 10.0.0.1 fe80::1%eth0 [::1]:53\n  to 10.0.0.2:5300\n  source 10.0.0.53\n }\n}")
        .unwrap();
    assert_eq!(x.len(), 1);
    assert_eq!(
        x[0].zones.names(),
        &[Name::from_text("example.org.").unwrap()]
    );
    let ip = |s: &str| Peer::Ip(s.parse().unwrap());
    assert_eq!(
        x[0].to,
        vec![
            Peer::Any,
            ip("10.0.0.1"),
            ip("fe80::1"),
            ip("::1"),
            ip("10.0.0.2")
        ]
    );
    assert_eq!(x[0].source, "10.0.0.53".parse().ok());
    // Zones from the arguments (CIDRs expand, invalid ones are dropped), several directives.
    let x = parsed(
        "example.org {\n transfer Example.NET 10.0.0.0/24 bad..name {\n  to *\n }\n transfer {\n  to *\n }\n}",
    )
    .unwrap();
    let names: Vec<String> = x[0].zones.names().iter().map(Name::to_string).collect();
    assert_eq!(names, ["example.net.", "0.0.10.in-addr.arpa."]);
    assert_eq!(x[1].zones.names().len(), 1);
}

#[test]
fn parse_errors() {
    for (text, want) in [
        (
            "example.org {\n transfer\n}",
            "plugin/transfer: Corefile:2 - Error during parsing: 'to' is required",
        ),
        (
            "example.org {\n transfer {\n  to\n }\n}",
            "plugin/transfer: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'to'",
        ),
        (
            "example.org {\n transfer {\n  to example.com\n }\n}",
            "plugin/transfer: Corefile:3 - Error during parsing: must specify an IP address: `example.com'",
        ),
        (
            "example.org {\n transfer {\n  to host:53\n }\n}",
            "plugin/transfer: Corefile:3 - Error during parsing: must specify an IP address: `host'",
        ),
        (
            "example.org {\n transfer {\n  to *\n  source\n }\n}",
            "plugin/transfer: Corefile:4 - Error during parsing: Wrong argument count or unexpected line ending after 'source'",
        ),
        (
            "example.org {\n transfer {\n  to *\n  source 1.2.3.4\n  source 1.2.3.5\n }\n}",
            "plugin/transfer: Corefile:5 - Error during parsing: source already specified",
        ),
        (
            "example.org {\n transfer {\n  to *\n  source nowhere\n }\n}",
            "plugin/transfer: Corefile:4 - Error during parsing: invalid source address \"nowhere\"",
        ),
        (
            "example.org {\n transfer {\n  to *\n  from 1.2.3.4\n }\n}",
            "plugin/transfer: Corefile:4 - Error during parsing: unknown property \"from\"",
        ),
    ] {
        assert_eq!(parsed(text).unwrap_err(), want, "{text}");
    }
}
