//! Unit tests: parsing, the query path across stanzas (indexes filled from test worlds, no
//! watches), readiness per cluster, transfer and autopath across stanzas.

use std::net::Ipv4Addr;
use std::sync::{Arc, OnceLock};

use signpost_autopath::Pathers;
use signpost_corefile::{parse_key, Directive};
use signpost_kubernetes::testing::{
    ep, external, fed_index, headless, namespace, pod, slice, svc, EpWith, World,
};
use signpost_kubernetes::{Index, IndexOptions, WatchPlan};
use signpost_plugin::testing::{request, request_with, run};
use signpost_plugin::{
    BlockInfo, Chain, ConfigParts, Next, Plugin, Request, SetupContext, Step, Transport,
};
use signpost_transfer::{Providers, TransferError};
use signpost_wire::text::message_sections;
use signpost_wire::{rcode, rtype, Name, Owner, RData, Response};

use crate::setup::{build, parse, Stanza};

/// The plugin after kubernetai in the test chains: answers every name with A 192.0.2.99.
struct Tail;

impl Plugin for Tail {
    fn name(&self) -> &'static str {
        "tail"
    }
    fn serve(&self, req: &Request<'_>, resp: &mut Response, _: Next<'_>) -> Step {
        resp.start(&req.query, rcode::NOERROR);
        resp.answer(Owner::Question, 1, &RData::A(Ipv4Addr::new(192, 0, 2, 99)));
        Step::Answered
    }
}

/// A block set up from `corefile` (one server block), stanza `i` fed from `worlds[i]`
/// (`None`: a cluster that never listed anything).
struct Built {
    chain: Arc<Chain>,
    parts: ConfigParts,
    providers: Providers,
    pathers: Pathers,
}

fn directives(corefile: &str) -> (Vec<Directive>, BlockInfo) {
    let blocks = signpost_corefile::parse("Corefile", corefile).expect("corefile");
    let block = blocks.into_iter().next().expect("one block");
    let mut keys = Vec::new();
    for k in &block.keys {
        keys.extend(parse_key(&k.text, 53).expect("key"));
    }
    let mut zones: Vec<Name> = Vec::new();
    for k in &keys {
        let z = Name::from_text(&k.zone).expect("zone");
        if !zones.contains(&z) {
            zones.push(z);
        }
    }
    let ds = block
        .directives
        .iter()
        .filter(|d| d.name() == "kubernetai")
        .cloned()
        .collect();
    (
        ds,
        BlockInfo {
            keys,
            zones,
            index: 0,
        },
    )
}

fn built(corefile: &str, worlds: &[Option<World>]) -> Built {
    let (ds, info) = directives(corefile);
    let configs = parse(&ds, &info.zones).expect("parses");
    assert_eq!(configs.len(), worlds.len(), "one world per stanza");
    let stanzas: Vec<Stanza> = configs
        .into_iter()
        .zip(worlds)
        .map(|(config, world)| {
            let opts = IndexOptions::from_config(&config);
            let index = match world {
                Some(w) => fed_index(opts, w),
                None => Index::new(opts),
            };
            Stanza {
                plan: WatchPlan::new(&config, None),
                index,
                config,
            }
        })
        .collect();
    for (s, w) in stanzas.iter().zip(worlds) {
        if let Some(w) = w {
            s.index.set_local_ips(w.local_ips.clone());
        }
    }
    let mut parts = ConfigParts::default();
    let mut ctx = SetupContext::new(&info, &mut parts);
    let resolv = Arc::new(OnceLock::new());
    let _ = resolv.set(vec![Name::from_text("example.net.").unwrap()]);
    build(&mut ctx, &stanzas, resolv);
    let providers = ctx.block_state::<Providers>().clone();
    let pathers = ctx.block_state::<Pathers>().clone();
    let (mut plugins, _) = ctx.finish();
    plugins.push(Arc::new(Tail));
    Built {
        chain: Chain::new(plugins),
        parts,
        providers,
        pathers,
    }
}

/// (rcode, answer, authority) as zone-file text; the plugin that answered.
fn ask(b: &Built, qname: &str, qtype: u16) -> (u16, Vec<String>, Vec<String>, &'static str) {
    let req = request(qname, qtype);
    let (outcome, resp) = run(&b.chain, &req).expect("sync path");
    let s = message_sections(resp.bytes()).expect("valid reply");
    let text = |v: &[signpost_wire::text::Record]| v.iter().map(|r| r.to_string()).collect();
    (resp.rcode(), text(&s[0]), text(&s[1]), outcome.plugin)
}

fn rr(owner: &str, ttl: u32, t: &str, data: &str) -> String {
    format!("{owner}\t{ttl}\tIN\t{t}\t{data}")
}

/// The TTL of the SOA in an authority section.
fn soa_ttl(ns: &[String]) -> u32 {
    assert_eq!(ns.len(), 1, "{ns:?}");
    assert!(ns[0].contains("\tSOA\t"), "{ns:?}");
    ns[0].split('\t').nth(1).unwrap().parse().unwrap()
}

/// The worlds of upstream's CI address test: `test-1/svc-1-a` and `default/kubernetes`.
fn ci_world(svc_ip: &str) -> World {
    World {
        namespaces: vec![namespace("test-1"), namespace("default")],
        services: vec![
            svc("test-1", "svc-1-a", &[svc_ip]),
            svc("default", "kubernetes", &["10.96.0.1"]),
        ],
        ..World::default()
    }
}

const CI: &str = "
.:53 {
    kubernetai cluster.local 10.in-addr.arpa {
        endpoint http://a.example:8080
        namespaces test-1
        ttl 10
        fallthrough
    }
    kubernetai cluster.local 10.in-addr.arpa {
        endpoint http://a.example:8080
        ttl 20
    }
    kubernetai conglomeration.local {
        endpoint http://c.example:8080
        ttl 30
    }
    tail
}";

#[test]
fn stanzas_in_corefile_order_as_upstream_ci() {
    let a = ci_world("10.96.0.100");
    let c = ci_world("10.96.0.130");
    let b = built(CI, &[Some(a.clone()), Some(a), Some(c)]);
    // Zone mismatch passes through stanzas 1 and 2 to the third.
    let n = "svc-1-a.test-1.svc.conglomeration.local.";
    let (rc, ans, _, by) = ask(&b, n, rtype::A);
    assert_eq!(
        (rc, ans, by),
        (
            rcode::NOERROR,
            vec![rr(n, 30, "A", "10.96.0.130")],
            "kubernetai"
        )
    );
    // The first stanza answers what it has.
    let n = "svc-1-a.test-1.svc.cluster.local.";
    assert_eq!(ask(&b, n, rtype::A).1, [rr(n, 10, "A", "10.96.0.100")]);
    // Namespace not exposed in the first stanza: a name error, its fallthrough, the second.
    let n = "kubernetes.default.svc.cluster.local.";
    assert_eq!(ask(&b, n, rtype::A).1, [rr(n, 20, "A", "10.96.0.1")]);
    // PTR the same way.
    let n = "100.0.96.10.in-addr.arpa.";
    assert_eq!(
        ask(&b, n, rtype::PTR).1,
        [rr(n, 10, "PTR", "svc-1-a.test-1.svc.cluster.local.")]
    );
    let n = "1.0.96.10.in-addr.arpa.";
    assert_eq!(
        ask(&b, n, rtype::PTR).1,
        [rr(n, 20, "PTR", "kubernetes.default.svc.cluster.local.")]
    );
    // Missing everywhere: the second stanza (no fallthrough) says NXDOMAIN with its SOA.
    let (rc, ans, ns, _) = ask(&b, "missing.test-1.svc.cluster.local.", rtype::A);
    assert_eq!((rc, ans.len(), soa_ttl(&ns)), (rcode::NXDOMAIN, 0, 20));
    // NODATA never passes on: AAAA of an IPv4 Service is the first stanza's.
    let (rc, ans, ns, _) = ask(&b, "svc-1-a.test-1.svc.cluster.local.", rtype::AAAA);
    assert_eq!((rc, ans.len(), soa_ttl(&ns)), (rcode::NOERROR, 0, 10));
    // Outside every stanza's zones: the next plugin.
    let (rc, ans, _, by) = ask(&b, "www.example.org.", rtype::A);
    assert_eq!((rc, ans.len(), by), (rcode::NOERROR, 1, "tail"));
    // A reverse name outside 10/8 matches no stanza either.
    assert_eq!(ask(&b, "1.2.0.192.in-addr.arpa.", rtype::PTR).3, "tail");
}

#[test]
fn last_stanza_falls_through_to_the_next_plugin() {
    let corefile = "
cluster.local {
    kubernetai {
        endpoint http://a.example
        fallthrough
    }
    kubernetai {
        endpoint http://b.example
        fallthrough
    }
    tail
}";
    let b = built(
        corefile,
        &[Some(ci_world("10.96.0.100")), Some(World::default())],
    );
    let (rc, ans, _, by) = ask(&b, "nowhere.test-1.svc.cluster.local.", rtype::A);
    assert_eq!((rc, ans.len(), by), (rcode::NOERROR, 1, "tail"));
}

/// A world where `web` is a ClusterIP Service whose endpoints are all not ready.
fn empty_web() -> World {
    World {
        namespaces: vec![namespace("ns")],
        services: vec![svc("ns", "web", &["10.96.0.50"])],
        slices: vec![slice(
            "ns",
            "web-1",
            "web",
            vec![ep(&["10.1.0.5"]).ready(false)],
        )],
        ..World::default()
    }
}

/// A world where `web` is headless with two ready endpoints.
fn remote_web() -> World {
    World {
        namespaces: vec![namespace("ns")],
        services: vec![
            headless("ns", "web"),
            svc("ns", "only-remote", &["10.97.0.9"]),
        ],
        slices: vec![slice(
            "ns",
            "web-1",
            "web",
            vec![ep(&["10.2.0.5"]).ready(true), ep(&["10.2.0.6"]).ready(true)],
        )],
        ..World::default()
    }
}

#[test]
fn failover_to_the_remote_cluster() {
    let failover = "
. {
    kubernetai cluster.local {
        ignore empty_service
        fallthrough
    }
    kubernetai cluster.local {
        endpoint https://remote-k8s-cluster
    }
}";
    let b = built(failover, &[Some(empty_web()), Some(remote_web())]);
    let n = "web.ns.svc.cluster.local.";
    let mut ans = ask(&b, n, rtype::A).1;
    ans.sort();
    assert_eq!(ans, [rr(n, 5, "A", "10.2.0.5"), rr(n, 5, "A", "10.2.0.6")]);
    let n = "only-remote.ns.svc.cluster.local.";
    assert_eq!(ask(&b, n, rtype::A).1, [rr(n, 5, "A", "10.97.0.9")]);

    // Without `ignore empty_service` the local ClusterIP answers.
    let b = built(
        &failover.replace("ignore empty_service", ""),
        &[Some(empty_web()), Some(remote_web())],
    );
    let n = "web.ns.svc.cluster.local.";
    assert_eq!(ask(&b, n, rtype::A).1, [rr(n, 5, "A", "10.96.0.50")]);
}

#[test]
fn unsynced_stanza_falls_through_or_fails() {
    let with_fall = "
cluster.local {
    kubernetai {
        endpoint http://down.example
        fallthrough
    }
    kubernetai {
        endpoint http://up.example
    }
}";
    let b = built(with_fall, &[None, Some(remote_web())]);
    let n = "only-remote.ns.svc.cluster.local.";
    assert_eq!(ask(&b, n, rtype::A).1, [rr(n, 5, "A", "10.97.0.9")]);
    // Readiness names the cluster that has not listed yet, and only that one.
    let not_ready: Vec<&str> = b
        .parts
        .ready
        .iter()
        .filter(|c| (c.check)().is_err())
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(not_ready, ["kubernetai(http://down.example)"]);
    assert_eq!(b.parts.ready.len(), 2);

    let b = built(
        &with_fall.replace("fallthrough", ""),
        &[None, Some(remote_web())],
    );
    let (rc, ans, ns, _) = ask(&b, n, rtype::A);
    assert_eq!((rc, ans.len(), ns.len()), (rcode::SERVFAIL, 0, 1));
}

#[test]
fn one_ready_check_per_cluster() {
    let a = ci_world("10.96.0.100");
    let b = built(CI, &[Some(a.clone()), Some(a.clone()), Some(a)]);
    let names: Vec<&str> = b.parts.ready.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "kubernetai(http://a.example:8080)",
            "kubernetai(http://c.example:8080)"
        ]
    );
    assert!(b.parts.ready.iter().all(|c| (c.check)().is_ok()));
}

fn transfer(b: &Built, zone: &str) -> Result<Vec<String>, TransferError> {
    let zone = Name::from_text(zone).unwrap();
    for p in b.providers.all() {
        let mut out = Vec::new();
        match p.transfer(&zone, 0, &mut |r| out.push(r.to_string())) {
            Err(TransferError::NotAuthoritative) => continue,
            Err(e) => return Err(e),
            Ok(()) => return Ok(out),
        }
    }
    Err(TransferError::NotAuthoritative)
}

#[test]
fn transfers_come_from_the_first_stanza_serving_the_zone() {
    let mut a = ci_world("10.96.0.100");
    a.local_ips = vec!["192.0.2.53".parse().unwrap()];
    let mut c = ci_world("10.96.0.130");
    c.local_ips = a.local_ips.clone();
    let b = built(CI, &[Some(a.clone()), Some(a), Some(c)]);
    let axfr = transfer(&b, "cluster.local.").expect("authoritative");
    assert!(axfr.first().unwrap().contains("\tSOA\t"), "{axfr:?}");
    assert!(axfr.last().unwrap().contains("\tSOA\t"));
    // The first stanza: TTL 10, only namespace test-1; NS with the server's address.
    assert!(axfr.contains(&rr(
        "svc-1-a.test-1.svc.cluster.local.",
        10,
        "A",
        "10.96.0.100"
    )));
    assert!(
        !axfr.iter().any(|r| r.contains("kubernetes.default")),
        "{axfr:?}"
    );
    assert!(
        axfr.contains(&rr("cluster.local.", 10, "NS", "ns.dns.cluster.local.")),
        "{axfr:?}"
    );
    assert!(axfr
        .iter()
        .any(|r| r.starts_with("ns.dns.cluster.local.") && r.ends_with("192.0.2.53")));
    // The third stanza's zone comes from the third stanza.
    let axfr = transfer(&b, "conglomeration.local.").expect("authoritative");
    assert!(axfr.contains(&rr(
        "svc-1-a.test-1.svc.conglomeration.local.",
        30,
        "A",
        "10.96.0.130"
    )));
    assert_eq!(
        transfer(&b, "example.org."),
        Err(TransferError::NotAuthoritative)
    );

    // The apex NS answers with the listening address too.
    let n = "cluster.local.";
    assert_eq!(
        ask(&b, n, rtype::NS).1,
        [rr(n, 10, "NS", "ns.dns.cluster.local.")]
    );
    let n = "ns.dns.cluster.local.";
    assert_eq!(ask(&b, n, rtype::A).1, [rr(n, 10, "A", "192.0.2.53")]);
}

/// The search path `autopath @kubernetai` gets for a query from `client`.
fn search_path(b: &Built, qname: &str, client: &str) -> Option<Vec<String>> {
    let pather = b.pathers.get("kubernetai").expect("registered");
    let req = request_with(qname, rtype::A, Transport::Udp, client);
    let r = req.request().unwrap();
    let mut path = Vec::new();
    pather
        .search_path(&r, &mut path)
        .then(|| path.iter().map(Name::to_string).collect())
}

#[test]
fn autopath_across_stanzas() {
    let corefile = "
. {
    kubernetai fluster.local {
        endpoint http://f.example
        pods verified
    }
    kubernetai cluster.local in-addr.arpa {
        endpoint http://c.example
        pods verified
    }
    kubernetai other.local {
        endpoint http://o.example
    }
}";
    let mut home = World::default();
    home.pods.push(pod("test-1", "client", "172.17.0.7"));
    let b = built(
        corefile,
        &[Some(World::default()), Some(home), Some(World::default())],
    );
    let want = [
        "test-1.svc.cluster.local.",
        "svc.cluster.local.",
        "cluster.local.",
        "test-1.svc.fluster.local.",
        "svc.fluster.local.",
        "fluster.local.",
        "test-1.svc.other.local.",
        "svc.other.local.",
        "other.local.",
        "example.net.",
        ".",
    ];
    // The client pod is in the second cluster: its zone comes first, whatever the name.
    for q in [
        "svc-1-a.test-1.svc.cluster.local.",
        "svc-d.test-2.svc.fluster.local.test-1.svc.cluster.local.",
        "svc-d.test-2.svc.fluster.local.",
        "1.0.17.172.in-addr.arpa.",
    ] {
        assert_eq!(search_path(&b, q, "172.17.0.7:5353").unwrap(), want, "{q}");
    }
    // Not in any stanza's zones, or not a known pod: no autopath.
    assert_eq!(
        search_path(&b, "svc-1-a.test-1.svc.zone.local.", "172.17.0.7:5353"),
        None
    );
    assert_eq!(
        search_path(&b, "svc-1-a.test-1.svc.cluster.local.", "172.17.0.8:5353"),
        None
    );
    // IPv4-mapped client addresses are the pod's too.
    assert!(search_path(&b, "a.cluster.local.", "[::ffff:172.17.0.7]:5353").is_some());
}

#[test]
fn autopath_home_zone_is_the_one_asked_in() {
    let corefile = "
. {
    kubernetai cluster.local {
        endpoint http://c.example
        pods verified
    }
    kubernetai fluster.local {
        endpoint http://c.example
        pods verified
    }
}";
    let mut w = World::default();
    w.pods.push(pod("test-1", "client", "172.17.0.7"));
    let b = built(corefile, &[Some(w.clone()), Some(w)]);
    // Both stanzas know the pod (one cluster); the first is home. A name in the second
    // stanza's zone that is not in the first stanza's: the home zone is still the first.
    let p = search_path(&b, "x.fluster.local.", "172.17.0.7:1").unwrap();
    assert_eq!(p[0], "test-1.svc.cluster.local.");
    assert_eq!(p[3], "test-1.svc.fluster.local.");
    let p = search_path(&b, "x.cluster.local.", "172.17.0.7:1").unwrap();
    assert_eq!(
        p[..3],
        [
            "test-1.svc.cluster.local.",
            "svc.cluster.local.",
            "cluster.local."
        ]
    );
}

#[test]
fn parse_every_stanza_with_the_kubernetes_parser() {
    let (ds, info) = directives(CI);
    let c = parse(&ds, &info.zones).unwrap();
    assert_eq!(c.len(), 3);
    assert_eq!((c[0].ttl, c[1].ttl, c[2].ttl), (10, 20, 30));
    assert_eq!(
        c[2].zones,
        [Name::from_text("conglomeration.local.").unwrap()]
    );
    assert_eq!(
        c[0].connection.endpoint.as_deref(),
        Some("http://a.example:8080")
    );

    // Zones from the block when none are given.
    let (ds, info) = directives("a.local b.local {\n kubernetai\n}");
    let c = parse(&ds, &info.zones).unwrap();
    assert_eq!(c[0].zones.len(), 2);

    let err = |text: &str| {
        let (ds, info) = directives(text);
        parse(&ds, &info.zones).unwrap_err().to_string()
    };
    assert_eq!(
        err(". {\n kubernetai cluster.local\n kubernetai east.local {\n  ttls 3\n }\n}"),
        "plugin/kubernetai: Corefile:4 - Error during parsing: unknown property 'ttls'"
    );
    assert_eq!(
        err(". {\n kubernetai in-addr.arpa\n}"),
        "plugin/kubernetai: Corefile:2 - Error during parsing: non-reverse zone name must be used"
    );
    assert_eq!(
        err(". {\n kubernetai cluster.local {\n  ttl 4000\n }\n}"),
        "plugin/kubernetai: Corefile:3 - Error during parsing: ttl must be in range [0, 3600]: 4000"
    );
    assert_eq!(
        err(". {\n kubernetai cluster.local {\n  pods maybe\n }\n}"),
        "plugin/kubernetai: Corefile:3 - Error during parsing: wrong value for pods: maybe,  must be one of: disabled, verified, insecure"
    );
}

#[test]
fn answers_from_memory_stay_on_the_sync_path() {
    let a = ci_world("10.96.0.100");
    let b = built(CI, &[Some(a.clone()), Some(a.clone()), Some(a)]);
    for (n, t) in [
        ("svc-1-a.test-1.svc.cluster.local.", rtype::A),
        ("kubernetes.default.svc.cluster.local.", rtype::SRV),
        ("missing.svc.conglomeration.local.", rtype::A),
    ] {
        assert!(run(&b.chain, &request(n, t)).is_some(), "{n}");
    }
}

#[test]
fn external_name_targets_in_another_stanza_are_answered_there() {
    let corefile = "
. {
    kubernetai cluster.local {
        endpoint http://a.example
    }
    kubernetai remote.local {
        endpoint http://b.example
        ttl 9
    }
    tail
}";
    let local = World {
        namespaces: vec![namespace("ns")],
        services: vec![
            external("ns", "there", "only-remote.ns.svc.remote.local"),
            external("ns", "out", "www.example.org"),
            external("ns", "loop", "loop.ns.svc.remote.local"),
        ],
        ..World::default()
    };
    let mut remote = remote_web();
    remote
        .services
        .push(external("ns", "loop", "loop.ns.svc.cluster.local"));
    let b = built(corefile, &[Some(local), Some(remote)]);
    // A loop across the clusters ends (the sub-queries are bounded).
    let (rc, _, _, _) = ask(&b, "loop.ns.svc.cluster.local.", rtype::A);
    assert_eq!(rc, rcode::NOERROR);
    let n = "there.ns.svc.cluster.local.";
    assert_eq!(
        ask(&b, n, rtype::A).1,
        [
            rr(n, 5, "CNAME", "only-remote.ns.svc.remote.local."),
            rr("only-remote.ns.svc.remote.local.", 9, "A", "10.97.0.9"),
        ]
    );
    // Outside every stanza: the plugins after kubernetai.
    let n = "out.ns.svc.cluster.local.";
    assert_eq!(
        ask(&b, n, rtype::A).1,
        [
            rr(n, 5, "CNAME", "www.example.org."),
            rr("www.example.org.", 1, "A", "192.0.2.99"),
        ]
    );
}
