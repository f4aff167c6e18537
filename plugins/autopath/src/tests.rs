//! Autopath through a chain with a search-path provider and a zone made up for the tests.

use std::sync::Arc;

use signpost_plugin::testing::{request, request_with, run, run_async, setup, Case};
use signpost_plugin::{
    BoxFuture, Chain, Control, CorefileError, Directive, Next, Plugin, PluginDef, Request, Runtime,
    SetupContext, Step, Transport,
};
use signpost_wire::text::{message_sections, Record};
use signpost_wire::{rcode, rtype, Name, Response, Section, HEADER_LEN};

use crate::setup::{parse, Config};
use crate::{AutoPather, Pathers, PLUGIN};

/// The test client (a pod in `ns1`).
const POD: &str = "10.240.0.1:40212";

/// Search path of the pod: `ns1.svc.cluster.local svc.cluster.local cluster.local
/// example.com` and the name as asked.
struct FakePath;

impl AutoPather for FakePath {
    fn search_path(&self, req: &Request<'_>, path: &mut Vec<Name>) -> bool {
        if req.client.to_string() != POD {
            return false;
        }
        for d in [
            "ns1.svc.cluster.local.",
            "svc.cluster.local.",
            "cluster.local.",
            "example.com.",
            ".",
        ] {
            path.push(Name::from_text(d).unwrap());
        }
        true
    }
}

/// A zone: a few names with data, NXDOMAIN with an SOA for everything else, and names that
/// fail, refuse, or need the async path.
struct FakeDns;

const SOA: &str =
    "cluster.local.	5	IN	SOA	ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5";

fn data(qname: &str) -> Option<Vec<&'static str>> {
    Some(match qname {
        "web.cluster.local." => vec!["web.cluster.local.	5	IN	A	10.0.0.1"],
        "hit.ns1.svc.cluster.local." => vec!["hit.ns1.svc.cluster.local.	5	IN	A	10.0.0.2"],
        "ext.ns1.svc.cluster.local." => vec![
            "ext.ns1.svc.cluster.local.	5	IN	CNAME	ext.example.com.",
            "ext.example.com.	300	IN	A	192.0.2.1",
        ],
        "slow.example.com." => vec!["slow.example.com.	60	IN	A	192.0.2.2"],
        "nodata.svc.cluster.local." => vec![],
        _ => return None,
    })
}

impl FakeDns {
    fn answer(&self, req: &Request<'_>, resp: &mut Response, sync: bool) -> Step {
        let name = req.qname().to_string();
        let first = name.split('.').next().unwrap_or("");
        match first {
            "boom" => return Step::Error(rcode::SERVFAIL, Some("boom".into())),
            "quiet" => return Step::Error(rcode::REFUSED, None),
            "slow" if sync && name.ends_with(".example.com.") => return Step::Async,
            _ => {}
        }
        resp.start(&req.query, rcode::NOERROR);
        resp.set_authoritative(true);
        match data(&name) {
            Some(recs) => {
                for r in &recs {
                    let rec: Record = r.parse().unwrap();
                    rec.write(resp, Section::Answer);
                }
                if recs.is_empty() {
                    SOA.parse::<Record>()
                        .unwrap()
                        .write(resp, Section::Authority);
                }
            }
            None => {
                resp.set_rcode(rcode::NXDOMAIN);
                SOA.parse::<Record>()
                    .unwrap()
                    .write(resp, Section::Authority);
            }
        }
        Step::Answered
    }
}

impl Plugin for FakeDns {
    fn name(&self) -> &'static str {
        "fakedns"
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

fn fake_path(ctx: &mut SetupContext<'_>, _: &[Directive]) -> Result<(), CorefileError> {
    ctx.block_state::<Pathers>()
        .register("fakepath", Arc::new(FakePath));
    Ok(())
}

fn fake_dns(ctx: &mut SetupContext<'_>, _: &[Directive]) -> Result<(), CorefileError> {
    ctx.add_plugin(Arc::new(FakeDns));
    Ok(())
}

const DEFS: [PluginDef; 3] = [
    PLUGIN,
    PluginDef {
        name: "fakepath",
        setup: fake_path,
    },
    PluginDef {
        name: "fakedns",
        setup: fake_dns,
    },
];

fn chain(autopath: &str) -> Arc<Chain> {
    let corefile = format!(". {{\n {autopath}\n fakepath\n fakedns\n}}");
    setup(&DEFS, &corefile).unwrap().0
}

fn query(c: &Arc<Chain>, name: &str, qtype: u16) -> Response {
    run(c, &request(name, qtype)).expect("sync path").1
}

fn question(resp: &Response) -> String {
    Name::read(resp.bytes(), HEADER_LEN).unwrap().0.to_string()
}

fn texts(resp: &Response) -> Vec<String> {
    message_sections(resp.bytes()).unwrap()[0]
        .iter()
        .map(|r| r.to_string())
        .collect()
}

fn successes() -> u64 {
    signpost_metrics::registry()
        .counter_vec(
            "coredns_autopath_success_total",
            "Counter of requests that did autopath.",
            &["server"],
        )
        .with(&["dns://:53"])
        .get()
}

#[test]
fn walks_the_search_path() {
    let c = chain("autopath @fakepath");
    let nx_soa = vec![SOA];
    let before = successes();
    let cases = [
        // Found in the third domain: CNAME from the asked name, then the answer.
        Case {
            qname: "web.ns1.svc.cluster.local.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: vec![
                "web.ns1.svc.cluster.local.	5	IN	CNAME	web.cluster.local.",
                "web.cluster.local.	5	IN	A	10.0.0.1",
            ],
            ..Case::default()
        },
        // Answered at the first try: as it is.
        Case {
            qname: "hit.ns1.svc.cluster.local.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: vec!["hit.ns1.svc.cluster.local.	5	IN	A	10.0.0.2"],
            ..Case::default()
        },
        // An answer whose second record has another owner gets CoreDNS's extra CNAME.
        Case {
            qname: "ext.ns1.svc.cluster.local.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: vec![
                "ext.ns1.svc.cluster.local.	300	IN	CNAME	ext.example.com.",
                "ext.ns1.svc.cluster.local.	5	IN	CNAME	ext.example.com.",
                "ext.example.com.	300	IN	A	192.0.2.1",
            ],
            ..Case::default()
        },
        // NODATA counts as found (no answer records: no CNAME).
        Case {
            qname: "nodata.ns1.svc.cluster.local.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            ns: nx_soa.clone(),
            ..Case::default()
        },
        // Every try NXDOMAIN: the first reply.
        Case {
            qname: "nothing.ns1.svc.cluster.local.",
            qtype: rtype::A,
            rcode: rcode::NXDOMAIN,
            ns: nx_soa.clone(),
            ..Case::default()
        },
        // Not in the first search domain: untouched.
        Case {
            qname: "nothing.svc.cluster.local.",
            qtype: rtype::A,
            rcode: rcode::NXDOMAIN,
            ns: nx_soa.clone(),
            ..Case::default()
        },
    ];
    for case in &cases {
        let resp = query(&c, case.qname, case.qtype);
        case.check(&resp).unwrap();
        assert_eq!(question(&resp), case.qname);
    }
    assert!(successes() - before >= 4);
}

#[test]
fn keeps_the_clients_spelling() {
    let c = chain("autopath @fakepath");
    let resp = query(&c, "Web.NS1.svc.cluster.local.", rtype::A);
    assert_eq!(question(&resp), "Web.NS1.svc.cluster.local.");
    assert_eq!(
        texts(&resp),
        [
            "Web.NS1.svc.cluster.local.\t5\tIN\tCNAME\tweb.cluster.local.",
            "web.cluster.local.\t5\tIN\tA\t10.0.0.1"
        ]
    );
    // Every try NXDOMAIN: the first try's reply, asked with the domain in lower case.
    let resp = query(&c, "Nothing.NS1.svc.cluster.local.", rtype::A);
    assert_eq!(resp.rcode(), rcode::NXDOMAIN);
    assert_eq!(question(&resp), "Nothing.ns1.svc.cluster.local.");
}

#[test]
fn failures_and_skips() {
    let c = chain("autopath @fakepath");
    // The first search domain itself: CoreDNS's TrimZone error.
    let (o, resp) = run(&c, &request("ns1.svc.cluster.local.", rtype::A)).unwrap();
    assert_eq!(resp.rcode(), rcode::SERVFAIL);
    assert_eq!(
        o.error.as_deref(),
        Some("plugin/autopath: trimzone: overshot qname: ns1.svc.cluster.local.for zone ns1.svc.cluster.local.")
    );
    // A plugin error stops the walk.
    let (o, _) = run(&c, &request("boom.ns1.svc.cluster.local.", rtype::A)).unwrap();
    assert_eq!(o.rcode, rcode::SERVFAIL);
    assert_eq!(
        o.error.as_deref(),
        Some("plugin/autopath: plugin/fakedns: boom")
    );
    // Nothing written at the first try, NXDOMAIN after: the first try's rcode.
    let (o, resp) = run(&c, &request("quiet.ns1.svc.cluster.local.", rtype::A)).unwrap();
    assert_eq!(
        (o.rcode, o.error, resp.rcode()),
        (rcode::REFUSED, None, rcode::REFUSED)
    );
    // A client without a search path.
    let req = request_with(
        "web.ns1.svc.cluster.local.",
        rtype::A,
        Transport::Udp,
        "10.240.0.2:1",
    );
    let resp = run(&c, &req).unwrap().1;
    assert_eq!(resp.rcode(), rcode::NXDOMAIN);
    // A plugin that does not exist in the block, and names outside autopath's zones.
    let resp = query(
        &chain("autopath @nothere"),
        "web.ns1.svc.cluster.local.",
        rtype::A,
    );
    assert_eq!(resp.rcode(), rcode::NXDOMAIN);
    let resp = query(
        &chain("autopath example.org @fakepath"),
        "web.ns1.svc.cluster.local.",
        rtype::A,
    );
    assert_eq!(resp.rcode(), rcode::NXDOMAIN);
}

#[test]
fn async_tries() {
    let c = chain("autopath @fakepath");
    let req = request("slow.ns1.svc.cluster.local.", rtype::A);
    assert!(run(&c, &req).is_none(), "a try needs the async path");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (o, resp) = rt.block_on(run_async(&c, &req));
    assert_eq!(o.plugin, "autopath");
    Case {
        qname: "slow.ns1.svc.cluster.local.",
        qtype: rtype::A,
        rcode: rcode::NOERROR,
        answer: vec![
            "slow.ns1.svc.cluster.local.	60	IN	CNAME	slow.example.com.",
            "slow.example.com.	60	IN	A	192.0.2.2",
        ],
        ..Case::default()
    }
    .check(&resp)
    .unwrap();
    // The async path also answers names found without I/O.
    let (_, resp) = rt.block_on(run_async(
        &c,
        &request("web.ns1.svc.cluster.local.", rtype::A),
    ));
    assert_eq!(resp.counts().0, 2);
}

fn start(corefile: &str) -> Result<Arc<Chain>, String> {
    let (chain, mut parts) = setup(&DEFS, corefile).unwrap();
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
    for hook in parts.startup.drain(..) {
        hook(&runtime)?;
    }
    Ok(chain)
}

#[test]
fn search_path_from_a_file() {
    let path = std::env::temp_dir().join(format!("signpost-autopath-{}.conf", std::process::id()));
    std::fs::write(
        &path,
        "nameserver 10.0.0.10\nsearch ns1.svc.cluster.local svc.cluster.local cluster.local\n",
    )
    .unwrap();
    let c = start(&format!(". {{\n autopath {}\n fakedns\n}}", path.display())).unwrap();
    // Any client: the file's search path is everyone's.
    let req = request_with(
        "web.ns1.svc.cluster.local.",
        rtype::A,
        Transport::Udp,
        "192.0.2.9:1",
    );
    let resp = run(&c, &req).unwrap().1;
    assert_eq!(resp.counts().0, 2);
    // Before start-up (no file read yet) nothing happens.
    let c = chain(&format!("autopath {}", path.display()));
    assert_eq!(
        query(&c, "web.ns1.svc.cluster.local.", rtype::A).rcode(),
        rcode::NXDOMAIN
    );
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        start(". {\n autopath /nonexistent/resolv.conf\n fakedns\n}").unwrap_err(),
        "plugin/autopath: failed to parse \"/nonexistent/resolv.conf\": open /nonexistent/resolv.conf: no such file or directory"
    );
}

fn parsed(text: &str) -> Result<Config, String> {
    let blocks = signpost_corefile::parse("Corefile", text).map_err(|e| e.to_string())?;
    let ds: Vec<Directive> = blocks[0]
        .directives
        .iter()
        .filter(|d| d.name() == "autopath")
        .cloned()
        .collect();
    let zones = [Name::from_text("cluster.local.").unwrap()];
    parse(&ds, &zones).map_err(|e| e.with_plugin("autopath").to_string())
}

#[test]
fn parse_options() {
    let n = |s: &str| Name::from_text(s).unwrap();
    let c = parsed("cluster.local {\n autopath @kubernetes\n}").unwrap();
    assert_eq!(c.plugin.as_deref(), Some("kubernetes"));
    assert_eq!(c.file, None);
    assert_eq!(c.zones.names(), &[n("cluster.local.")]);
    let c = parsed("cluster.local {\n autopath Example.ORG 10.0.0.0/24 ./resolv.conf\n}").unwrap();
    assert_eq!(c.file.as_deref(), Some("./resolv.conf"));
    assert_eq!(c.plugin, None);
    assert_eq!(
        c.zones.names(),
        &[n("example.org."), n("0.0.10.in-addr.arpa.")]
    );
    // A later directive replaces zones and file; `@plugin` stays.
    let c =
        parsed("cluster.local {\n autopath example.org @kubernetes\n autopath /etc/resolv.conf\n}")
            .unwrap();
    assert_eq!(c.plugin.as_deref(), Some("kubernetes"));
    assert_eq!(c.file.as_deref(), Some("/etc/resolv.conf"));
    assert_eq!(c.zones.names(), &[n("cluster.local.")]);
    assert_eq!(
        parsed("cluster.local {\n autopath\n}").unwrap_err(),
        "plugin/autopath: Corefile:2 - Error during parsing: no resolv-conf specified"
    );
}
