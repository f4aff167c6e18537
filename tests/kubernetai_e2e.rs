//! End to end: the real binary with `kubernetai` stanzas against two and three fake API
//! servers at once, queried over UDP on loopback.
//!
//! Every wait is a bounded poll with short sleeps; the only timing assertion is a generous
//! upper bound on the start with unreachable clusters.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use signpost_fakeapi::{lists_and_watches, FakeApi, Options};
use signpost_testkit::{free_port, http_get, query_packet, Answer, Signpost, TempDir};
use signpost_wire::{rcode, rtype};

const BIN: &str = env!("CARGO_BIN_EXE_signpost");

/// How long a change in the API may take to show in answers (generous: a loaded machine).
const FOLLOW: Duration = Duration::from_secs(15);
/// After faults the watches retry with backoff (0.8 s doubling), so allow more.
const RECOVER: Duration = Duration::from_secs(45);

// ---------------------------------------------------------------------------------------------
// Objects

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// A Service; `cluster_ip` "None" makes it headless.
fn service(ns: &str, name: &str, cluster_ip: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"type": "ClusterIP", "clusterIP": cluster_ip, "clusterIPs": [cluster_ip],
                 "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}
    })
}

/// An IPv4 EndpointSlice of `svc` with endpoints (ip, ready).
fn slice(ns: &str, name: &str, svc: &str, eps: &[(&str, bool)]) -> Value {
    let endpoints: Vec<Value> = eps
        .iter()
        .map(|(ip, ready)| json!({"addresses": [ip], "conditions": {"ready": ready}}))
        .collect();
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": name, "namespace": ns, "labels": {"kubernetes.io/service-name": svc}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": endpoints
    })
}

fn pod(ns: &str, name: &str, ip: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}
    })
}

/// Cluster A ("local"): `web` is a ClusterIP Service with no ready endpoint, `only-a` exists
/// only here, `both` in both clusters (those two with a ready endpoint each: with `ignore
/// empty_service` a Service without any counts as absent).
fn cluster_a() -> FakeApi {
    let api = FakeApi::start_blocking(Options::default());
    api.apply(namespace("ns"));
    api.apply(service("ns", "web", "10.96.0.10"));
    api.apply(slice("ns", "web-1", "web", &[("10.1.0.5", false)]));
    api.apply(service("ns", "only-a", "10.96.1.1"));
    api.apply(slice("ns", "only-a-1", "only-a", &[("10.1.1.1", true)]));
    api.apply(service("ns", "both", "10.96.2.1"));
    api.apply(slice("ns", "both-1", "both", &[("10.1.2.1", true)]));
    api
}

/// Cluster B ("remote"): `web` is headless with two ready endpoints, `only-b` exists only
/// here, `both` in both clusters.
fn cluster_b() -> FakeApi {
    let api = FakeApi::start_blocking(Options::default());
    api.apply(namespace("ns"));
    api.apply(service("ns", "web", "None"));
    api.apply(slice(
        "ns",
        "web-1",
        "web",
        &[("10.2.0.5", true), ("10.2.0.6", true)],
    ));
    api.apply(service("ns", "only-b", "10.97.1.1"));
    api.apply(service("ns", "both", "10.97.2.1"));
    api
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// Start signpost with the Corefile `make(ready_port, metrics_port)` returns (`{PORT}` for
/// the DNS port), trying new ports when one was taken meanwhile.
fn start(make: impl Fn(u16, u16) -> String) -> (Signpost, SocketAddr, SocketAddr) {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (rp, mp) = (free_port(), free_port());
        let corefile = make(rp, mp);
        let dir = TempDir::new("kubernetai");
        match Signpost::try_start_with_env(BIN, dir, free_port(), &corefile, &[], &[]) {
            Ok(s) => return (s, ([127, 0, 0, 1], rp).into(), ([127, 0, 0, 1], mp).into()),
            Err(e) if e.contains("Address already in use") && attempt < 5 => {
                eprintln!("port taken, trying other ports: {e}");
            }
            Err(e) => panic!("{e}"),
        }
    }
}

fn rr(owner: &str, ttl: u32, rtype: &str, data: &str) -> String {
    format!("{owner}\t{ttl}\tIN\t{rtype}\t{data}")
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Exactly these A records at `name`, TTL `ttl`.
fn is_a(a: &Answer, name: &str, ttl: u32, ips: &[&str]) -> bool {
    a.rcode() == rcode::NOERROR
        && sorted(a.answer.clone()) == sorted(ips.iter().map(|ip| rr(name, ttl, "A", ip)).collect())
}

/// Assert `name` answers exactly these A records now.
fn expect_a(s: &Signpost, name: &str, ttl: u32, ips: &[&str]) {
    let a = s.udp(name, rtype::A);
    assert!(
        is_a(&a, name, ttl, ips),
        "{name}: want A {ips:?}, got rcode {} {:?}\nlog:\n{}",
        a.rcode(),
        a.answer,
        s.log()
    );
}

/// The value of the metric line `name{labels}` (labels as printed), if present.
fn metric(metrics: SocketAddr, name: &str, labels: &str) -> Option<f64> {
    let (_, body) = http_get(metrics, "/metrics").ok()?;
    let prefix = format!("{name}{{{labels}}} ");
    body.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

/// The ```corefile blocks of the plugin README.
fn readme_examples() -> Vec<String> {
    let text = include_str!("../plugins/kubernetai/README.md");
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim_start().starts_with("```corefile") => current = Some(String::new()),
            Some(block) if line.trim_start().starts_with("```") => {
                out.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    out
}

/// A README example made runnable here: on loopback at `{PORT}`, with the fake API servers'
/// URLs for the example's ones, and a `ready` endpoint.
fn localize(example: &str, urls: &[(&str, String)]) -> impl Fn(u16, u16) -> String {
    let mut text = example.replacen(
        ". {",
        ".:{PORT} {\n    bind 127.0.0.1\n    ready 127.0.0.1:{READY}",
        1,
    );
    for (from, to) in urls {
        assert!(text.contains(from), "{from} not in the example:\n{example}");
        text = text.replace(from, to);
    }
    move |rp, _| text.replace("{READY}", &rp.to_string())
}

// ---------------------------------------------------------------------------------------------
// Tests

/// The README's three-cluster example, against three fake API servers: each zone is answered
/// by its own cluster.
#[test]
fn readme_three_clusters_each_answer_their_zone() {
    let apis: Vec<FakeApi> = (0..3)
        .map(|i| {
            let api = FakeApi::start_blocking(Options::default());
            api.apply(namespace("ns"));
            api.apply(service("ns", "web", &format!("10.96.0.{}", 10 + i)));
            api.apply(service("ns", &format!("only-{i}"), "10.96.9.9"));
            api
        })
        .collect();
    let example = &readme_examples()[0];
    let make = localize(
        example,
        &[
            ("http://192.168.99.100", apis[0].url()),
            ("http://192.168.99.101", apis[1].url()),
            ("http://192.168.99.102", apis[2].url()),
        ],
    );
    let (s, ready, _) = start(make);
    s.wait_http(ready, "/ready", 200, Some("OK"), RECOVER);
    for (i, zone) in ["cluster.local", "assemblage.local", "conglomeration.local"]
        .iter()
        .enumerate()
    {
        let n = format!("web.ns.svc.{zone}.");
        expect_a(&s, &n, 5, &[&format!("10.96.0.{}", 10 + i)]);
        // A Service of another cluster does not exist in this zone (no fallthrough).
        let other = format!("only-{}.ns.svc.{zone}.", (i + 1) % 3);
        assert_eq!(s.udp(&other, rtype::A).rcode(), rcode::NXDOMAIN, "{other}");
    }
    // Not any stanza's zone, no next plugin.
    assert_eq!(s.udp("www.example.org.", rtype::A).rcode(), rcode::SERVFAIL);
}

/// The README's local-then-remote example: a Service missing in A, or without ready
/// endpoints there, is answered from B; when A's endpoint becomes ready A answers again.
#[test]
fn readme_failover_from_local_to_remote() {
    let a = cluster_a();
    let b = cluster_b();
    let example = &readme_examples()[1];
    // The example's local stanza uses the in-cluster default; here that is the block's
    // `k8s_api` connection, cluster A.
    let example = example.replacen(
        "    kubernetai cluster.local {\n        ignore",
        &format!(
            "    k8s_api {{\n        endpoint {}\n    }}\n    kubernetai cluster.local {{\n        ignore",
            a.url()
        ),
        1,
    );
    let make = localize(&example, &[("https://remote-k8s-cluster", b.url())]);
    let (s, ready, _) = start(make);
    s.wait_http(ready, "/ready", 200, Some("OK"), RECOVER);

    expect_a(&s, "only-a.ns.svc.cluster.local.", 5, &["10.96.1.1"]);
    expect_a(&s, "both.ns.svc.cluster.local.", 5, &["10.96.2.1"]);
    // Missing in A: from B.
    expect_a(&s, "only-b.ns.svc.cluster.local.", 5, &["10.97.1.1"]);
    // Empty in A (ignore empty_service): B's endpoints.
    expect_a(
        &s,
        "web.ns.svc.cluster.local.",
        5,
        &["10.2.0.5", "10.2.0.6"],
    );
    // Missing in both: NXDOMAIN from the last stanza.
    let m = s.udp("nowhere.ns.svc.cluster.local.", rtype::A);
    assert_eq!(m.rcode(), rcode::NXDOMAIN);
    // NODATA in A never passes on (B's `web` is headless, A has the Service's port).
    let a6 = s.udp("only-a.ns.svc.cluster.local.", rtype::AAAA);
    assert_eq!((a6.rcode(), a6.answer.len()), (rcode::NOERROR, 0));

    // A's endpoint becomes ready: A answers with its ClusterIP.
    a.apply(slice("ns", "web-1", "web", &[("10.1.0.5", true)]));
    let n = "web.ns.svc.cluster.local.";
    s.wait_for(n, rtype::A, FOLLOW, |x| is_a(x, n, 5, &["10.96.0.10"]));
    // And not ready again: B again.
    a.apply(slice("ns", "web-1", "web", &[("10.1.0.5", false)]));
    s.wait_for(n, rtype::A, FOLLOW, |x| {
        is_a(x, n, 5, &["10.2.0.5", "10.2.0.6"])
    });
    // A Service deleted in A: B answers for it.
    a.delete("v1", "Service", "ns", "both");
    let n = "both.ns.svc.cluster.local.";
    s.wait_for(n, rtype::A, FOLLOW, |x| is_a(x, n, 5, &["10.97.2.1"]));
}

/// Stanzas on the same cluster share its watches: one list and one watch per kind.
#[test]
fn stanzas_on_one_cluster_share_its_watches() {
    let a = cluster_a();
    a.apply(pod("ns", "client", "10.0.0.7"));
    let example = &readme_examples()[2];
    // The README's two views of one cluster, plus a third stanza in another zone.
    let example = example.replacen(
        "}\n",
        "}\n    kubernetai east.local {\n        endpoint http://192.168.99.100:8080\n    }\n",
        2,
    );
    let make = localize(&example, &[("http://192.168.99.100:8080", a.url())]);
    let (s, ready, _) = start(make);
    s.wait_http(ready, "/ready", 200, Some("OK"), RECOVER);
    // `namespaces default` in the first stanza: ns comes from the second.
    expect_a(&s, "only-a.ns.svc.cluster.local.", 5, &["10.96.1.1"]);
    expect_a(&s, "only-a.ns.svc.east.local.", 5, &["10.96.1.1"]);
    // A change reaches every stanza through the one watch.
    a.apply(service("ns", "only-a", "10.96.1.2"));
    for zone in ["cluster.local", "east.local"] {
        let n = format!("only-a.ns.svc.{zone}.");
        s.wait_for(&n, rtype::A, FOLLOW, |x| is_a(x, &n, 5, &["10.96.1.2"]));
    }
    // Give a (wrong) second watch time to show up before counting.
    std::thread::sleep(Duration::from_millis(500));
    let requests = a.requests();
    for kind in ["services", "endpointslices", "namespaces"] {
        assert_eq!(
            lists_and_watches(&requests, kind),
            (1, 1),
            "{kind}: lists and watches; requests:\n{requests:#?}"
        );
    }
    assert_eq!(a.open_watches(), 3, "{requests:#?}");
}

/// Cluster B's API server dies mid-test: A answers exactly as before and still follows its
/// changes; B's last data keeps serving; the metrics and the log show B failing.
#[test]
fn a_dead_api_server_leaves_the_other_cluster_untouched() {
    let a = cluster_a();
    let b = cluster_b();
    let (a_url, b_url) = (a.url(), b.url());
    let make = |rp: u16, mp: u16| {
        format!(
            "cluster.local:{{PORT}} remote.local:{{PORT}} {{
    bind 127.0.0.1
    ready 127.0.0.1:{rp}
    prometheus 127.0.0.1:{mp}
    kubernetai cluster.local {{
        endpoint {a_url}
        ignore empty_service
        fallthrough
    }}
    kubernetai cluster.local remote.local {{
        endpoint {b_url}
    }}
}}
"
        )
    };
    let (s, ready, metrics) = start(make);
    s.wait_http(ready, "/ready", 200, Some("OK"), RECOVER);
    let check_a = |s: &Signpost| {
        expect_a(s, "only-a.ns.svc.cluster.local.", 5, &["10.96.1.1"]);
        expect_a(s, "both.ns.svc.cluster.local.", 5, &["10.96.2.1"]);
    };
    let check_b = |s: &Signpost| {
        expect_a(s, "only-b.ns.svc.cluster.local.", 5, &["10.97.1.1"]);
        expect_a(s, "web.ns.svc.cluster.local.", 5, &["10.2.0.5", "10.2.0.6"]);
        expect_a(s, "both.ns.svc.remote.local.", 5, &["10.97.2.1"]);
    };
    check_a(&s);
    check_b(&s);
    let state = |url: &str| {
        metric(
            metrics,
            "signpost_kube_watch_state",
            &format!("cluster=\"{url}\",kind=\"Service\""),
        )
    };
    assert_eq!(state(&a_url), Some(1.0), "A's state");
    assert_eq!(state(&b_url), Some(1.0), "B's state");

    // B's API server goes away for good.
    drop(b);
    let deadline = Instant::now() + RECOVER;
    while state(&b_url) != Some(0.0) {
        assert!(
            Instant::now() < deadline,
            "B's watch state never dropped to 0\nlog:\n{}",
            s.log()
        );
        check_a(&s);
        check_b(&s);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(state(&a_url), Some(1.0), "A's state after B died");
    assert!(
        s.log()
            .lines()
            .any(|l| l.contains(&b_url) && l.contains("failing")),
        "no log line about B failing:\n{}",
        s.log()
    );
    // Synced once, B stays ready (it serves its last data).
    s.wait_http(ready, "/ready", 200, Some("OK"), RECOVER);
    for _ in 0..10 {
        check_a(&s);
        check_b(&s);
        std::thread::sleep(Duration::from_millis(100));
    }
    // A still follows its changes.
    a.apply(service("ns", "only-a", "10.96.1.9"));
    let n = "only-a.ns.svc.cluster.local.";
    s.wait_for(n, rtype::A, FOLLOW, |x| is_a(x, n, 5, &["10.96.1.9"]));
    a.apply(service("ns", "new-a", "10.96.3.3"));
    a.apply(slice("ns", "new-a-1", "new-a", &[("10.1.3.3", true)]));
    let n = "new-a.ns.svc.cluster.local.";
    s.wait_for(n, rtype::A, FOLLOW, |x| is_a(x, n, 5, &["10.96.3.3"]));
    check_b(&s);
}

/// One cluster up and twenty unreachable at start: the server starts within about one
/// `startup_timeout` (not one per cluster), serves the reachable cluster, names the others
/// in `/ready`, falls through or fails for the unreachable stanzas, and serves a late
/// cluster once it comes up.
#[test]
fn unreachable_clusters_at_start_do_not_hold_the_others() {
    let a = cluster_a();
    let late = cluster_b();
    late.faults().down(true);
    let late_url = late.url();
    // Ports nothing listens on: connections are refused.
    let dead: Vec<String> = (0..19)
        .map(|_| format!("http://127.0.0.1:{}", free_port()))
        .collect();
    let mut stanzas = String::new();
    for (i, url) in dead.iter().enumerate() {
        stanzas.push_str(&format!(
            "    kubernetai dead{i}.local {{\n        endpoint {url}\n        startup_timeout 2s\n    }}\n"
        ));
    }
    let a_url = a.url();
    let make = |rp: u16, _| {
        format!(
            "cluster.local:{{PORT}} dead0.local:{{PORT}} {{
    bind 127.0.0.1
    ready 127.0.0.1:{rp}
    kubernetai cluster.local {{
        endpoint {late_url}
        startup_timeout 2s
        fallthrough
    }}
    kubernetai cluster.local {{
        endpoint {a_url}
        startup_timeout 2s
    }}
{stanzas}}}
"
        )
    };
    let started = Instant::now();
    let (s, ready, _) = start(make);
    let took = started.elapsed();
    // Twenty unreachable stanzas at 2 s each would be 40 s one after the other.
    assert!(
        took < Duration::from_secs(12),
        "start took {took:?}\nlog:\n{}",
        s.log()
    );
    // The late cluster's stanza falls through to A.
    expect_a(&s, "only-a.ns.svc.cluster.local.", 5, &["10.96.1.1"]);
    expect_a(&s, "web.ns.svc.cluster.local.", 5, &["10.96.0.10"]);
    // An unreachable stanza without fallthrough: SERVFAIL for names it does not know.
    let d = s.udp("web.ns.svc.dead0.local.", rtype::A);
    assert_eq!(d.rcode(), rcode::SERVFAIL, "{d:?}");
    // /ready names the clusters not synced, and only those.
    let (code, body) = http_get(ready, "/ready").expect("/ready");
    assert_eq!(code, 503);
    let mut names: Vec<&str> = body.trim().split(',').collect();
    names.sort_unstable();
    let mut want: Vec<String> = dead
        .iter()
        .chain([&late_url])
        .map(|u| format!("kubernetai({u})"))
        .collect();
    want.sort();
    assert_eq!(names, want, "{body}");

    // The late cluster comes up: it answers first now, and leaves /ready.
    late.faults().down(false);
    let n = "web.ns.svc.cluster.local.";
    s.wait_for(n, rtype::A, RECOVER, |x| {
        is_a(x, n, 5, &["10.2.0.5", "10.2.0.6"])
    });
    expect_a(&s, "only-b.ns.svc.cluster.local.", 5, &["10.97.1.1"]);
    expect_a(&s, "only-a.ns.svc.cluster.local.", 5, &["10.96.1.1"]);
    let deadline = Instant::now() + RECOVER;
    loop {
        let (_, body) = http_get(ready, "/ready").expect("/ready");
        if !body.contains(&late_url) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "late cluster still not ready: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `autopath @kubernetai`: the client pod (this test's address, 127.0.0.1) lives in cluster
/// B; a short name of cluster A's zone is found through the search path across stanzas.
#[test]
fn autopath_across_clusters() {
    let a = FakeApi::start_blocking(Options::default());
    a.apply(namespace("test-2"));
    a.apply(service("test-2", "svc-d", "10.96.0.121"));
    let b = FakeApi::start_blocking(Options::default());
    b.apply(namespace("test-1"));
    b.apply(service("test-1", "svc-1-a", "10.96.0.100"));
    b.apply(pod("test-1", "client", "127.0.0.1"));
    let (a_url, b_url) = (a.url(), b.url());
    let make = |rp: u16, _| {
        format!(
            ".:{{PORT}} {{
    bind 127.0.0.1
    ready 127.0.0.1:{rp}
    autopath @kubernetai
    kubernetai fluster.local {{
        endpoint {a_url}
        pods verified
    }}
    kubernetai cluster.local {{
        endpoint {b_url}
        pods verified
    }}
}}
"
        )
    };
    let (s, ready, _) = start(make);
    s.wait_http(ready, "/ready", 200, Some("OK"), RECOVER);
    // The pod's resolver asks `<name>.test-1.svc.cluster.local` first.
    let n = "svc-1-a.test-1.svc.cluster.local.";
    expect_a(&s, n, 5, &["10.96.0.100"]);
    let q = "svc-d.test-2.test-1.svc.cluster.local.";
    let got = s.udp(q, rtype::A);
    assert_eq!(
        got.answer,
        [
            rr(q, 5, "CNAME", "svc-d.test-2.svc.fluster.local."),
            rr("svc-d.test-2.svc.fluster.local.", 5, "A", "10.96.0.121"),
        ],
        "log:\n{}",
        s.log()
    );
}

/// An AXFR over TCP: every record of every message, until the closing SOA.
fn axfr(s: &Signpost, zone: &str) -> Vec<String> {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(s.addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let p = query_packet(zone, rtype::AXFR);
    let mut out = (p.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(&p);
    c.write_all(&out).unwrap();
    let mut records = Vec::new();
    loop {
        let mut len = [0u8; 2];
        c.read_exact(&mut len).expect("next message");
        let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
        c.read_exact(&mut msg).unwrap();
        let a = Answer::parse(msg);
        assert_eq!(a.rcode(), rcode::NOERROR, "AXFR {zone}: {a:?}");
        records.extend(a.answer);
        let soas = records.iter().filter(|r| r.contains("\tSOA\t")).count();
        if soas >= 2 || records.is_empty() {
            return records;
        }
    }
}

/// `transfer` serves every stanza's zones, each from its own cluster.
#[test]
fn zone_transfers_of_every_stanza() {
    let a = cluster_a();
    let b = cluster_b();
    let (a_url, b_url) = (a.url(), b.url());
    let make = |rp: u16, _| {
        format!(
            ".:{{PORT}} {{
    bind 127.0.0.1
    ready 127.0.0.1:{rp}
    transfer {{
        to *
    }}
    kubernetai cluster.local {{
        endpoint {a_url}
        fallthrough
    }}
    kubernetai remote.local {{
        endpoint {b_url}
        ttl 7
    }}
}}
"
        )
    };
    let (s, ready, _) = start(make);
    s.wait_http(ready, "/ready", 200, Some("OK"), RECOVER);
    let local = axfr(&s, "cluster.local.");
    assert!(
        local[0].starts_with("cluster.local.\t5\tIN\tSOA\t"),
        "{local:?}"
    );
    assert!(local
        .last()
        .unwrap()
        .starts_with("cluster.local.\t5\tIN\tSOA\t"));
    assert!(local.contains(&rr("only-a.ns.svc.cluster.local.", 5, "A", "10.96.1.1")));
    assert!(!local.iter().any(|r| r.contains("only-b")), "{local:?}");
    let remote = axfr(&s, "remote.local.");
    assert!(
        remote[0].starts_with("remote.local.\t7\tIN\tSOA\t"),
        "{remote:?}"
    );
    assert!(remote.contains(&rr("only-b.ns.svc.remote.local.", 7, "A", "10.97.1.1")));
    assert!(remote.contains(&rr("web.ns.svc.remote.local.", 7, "A", "10.2.0.5")));
    assert!(!remote.iter().any(|r| r.contains("only-a")), "{remote:?}");
}

/// Wait until the process has finished starting (it prints its banner when the start-up
/// hooks are done, right before it installs its signal handlers).
fn wait_started(s: &Signpost) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !s.log().lines().any(|l| l.starts_with("signpost-")) {
        assert!(Instant::now() < deadline, "no banner:\n{}", s.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
}

/// A reload that keeps the clusters keeps their watches (and their data) too.
#[test]
fn reload_keeps_the_watches_of_every_cluster() {
    let a = cluster_a();
    let b = cluster_b();
    let (a_url, b_url) = (a.url(), b.url());
    let make = |rp: u16, _| {
        format!(
            "cluster.local:{{PORT}} {{
    bind 127.0.0.1
    ready 127.0.0.1:{rp}
    kubernetai {{
        endpoint {a_url}
        fallthrough
    }}
    kubernetai {{
        endpoint {b_url}
    }}
}}
"
        )
    };
    let (s, ready, _) = start(make);
    s.wait_http(ready, "/ready", 200, Some("OK"), RECOVER);
    expect_a(&s, "only-a.ns.svc.cluster.local.", 5, &["10.96.1.1"]);
    expect_a(&s, "only-b.ns.svc.cluster.local.", 5, &["10.97.1.1"]);
    wait_started(&s);

    let text = std::fs::read_to_string(&s.corefile)
        .unwrap()
        .replace("fallthrough", "fallthrough\n        ttl 17")
        .replace(
            &format!("endpoint {b_url}"),
            &format!("endpoint {b_url}\n        ttl 18"),
        );
    std::fs::write(&s.corefile, text).unwrap();
    s.signal(libc::SIGUSR1);
    let n = "only-a.ns.svc.cluster.local.";
    s.wait_for(n, rtype::A, FOLLOW, |x| is_a(x, n, 17, &["10.96.1.1"]));
    expect_a(&s, "only-b.ns.svc.cluster.local.", 18, &["10.97.1.1"]);
    // Changes still arrive after the reload.
    b.apply(service("ns", "only-b", "10.97.1.7"));
    let n = "only-b.ns.svc.cluster.local.";
    s.wait_for(n, rtype::A, FOLLOW, |x| is_a(x, n, 18, &["10.97.1.7"]));
    std::thread::sleep(Duration::from_millis(300));
    for api in [&a, &b] {
        let requests = api.requests();
        for kind in ["services", "endpointslices", "namespaces"] {
            assert_eq!(
                lists_and_watches(&requests, kind),
                (1, 1),
                "{kind} after a reload; requests:\n{requests:#?}\nlog:\n{}",
                s.log()
            );
        }
    }
}
