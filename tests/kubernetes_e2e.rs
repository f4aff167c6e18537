//! End to end: the real binary with the `kubernetes` plugin against the fake API server (and
//! against manifest files), queried over UDP and TCP on loopback.
//!
//! Every wait is a bounded poll with short sleeps; no test asserts on timing.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use signpost_fakeapi::{lists_and_watches, FakeApi, Options};
use signpost_testkit::{free_port, http_get, query_tcp, query_udp, Answer, Signpost, TempDir};
use signpost_wire::{rcode, rtype};

const BIN: &str = env!("CARGO_BIN_EXE_signpost");

/// How long a change in the API may take to show in answers (generous: a loaded CI machine).
const FOLLOW: Duration = Duration::from_secs(15);
/// After faults the watches retry with backoff (0.8 s doubling), so allow more.
const RECOVER: Duration = Duration::from_secs(45);

// ---------------------------------------------------------------------------------------------
// Objects

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// A Service; `cluster_ip` "None" makes it headless. Ports are (name, port, protocol).
fn service(ns: &str, name: &str, cluster_ip: &str, ports: &[(&str, u16, &str)]) -> Value {
    let ports: Vec<Value> = ports
        .iter()
        .map(|(n, p, proto)| json!({"name": n, "port": p, "protocol": proto}))
        .collect();
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"type": "ClusterIP", "clusterIP": cluster_ip, "clusterIPs": [cluster_ip], "ports": ports}
    })
}

fn external_name(ns: &str, name: &str, target: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"type": "ExternalName", "externalName": target}
    })
}

/// An endpoint: (ip, ready, hostname).
type Ep<'a> = (&'a str, bool, Option<&'a str>);

/// An IPv4 EndpointSlice of `svc`. Ports are (name, port, protocol).
fn slice(ns: &str, name: &str, svc: &str, ports: &[(&str, u16, &str)], eps: &[Ep<'_>]) -> Value {
    let ports: Vec<Value> = ports
        .iter()
        .map(|(n, p, proto)| json!({"name": n, "port": p, "protocol": proto}))
        .collect();
    let endpoints: Vec<Value> = eps
        .iter()
        .map(|(ip, ready, host)| {
            let mut e = json!({"addresses": [ip], "conditions": {"ready": ready}});
            if let Some(h) = host {
                e["hostname"] = json!(h);
            }
            e
        })
        .collect();
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": name, "namespace": ns, "labels": {"kubernetes.io/service-name": svc}},
        "addressType": "IPv4",
        "ports": ports,
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

const SVC_PORTS: &[(&str, u16, &str)] = &[("http", 80, "TCP"), ("dns", 53, "UDP")];
const SLICE_PORTS: &[(&str, u16, &str)] = &[("http", 8080, "TCP"), ("dns", 5353, "UDP")];
const HL_PORTS: &[(&str, u16, &str)] = &[("http", 80, "TCP")];

/// The objects of the tests: namespace `ns` with a ClusterIP Service `svc` (two named ports,
/// a slice with two ready endpoints and one not ready), a headless Service `hl` whose
/// endpoints have hostnames, and two ExternalName Services (`ext` in the zone, `extout` out).
fn populate(api: &FakeApi) {
    api.apply(namespace("ns"));
    api.apply(service("ns", "svc", "10.96.0.10", SVC_PORTS));
    api.apply(slice(
        "ns",
        "svc-abc",
        "svc",
        SLICE_PORTS,
        &[
            ("10.0.1.1", true, None),
            ("10.0.1.2", true, None),
            ("10.0.1.3", false, None),
        ],
    ));
    api.apply(service("ns", "hl", "None", &[("http", 80, "TCP")]));
    api.apply(slice(
        "ns",
        "hl-abc",
        "hl",
        HL_PORTS,
        &[
            ("10.0.2.1", true, Some("web-0")),
            ("10.0.2.2", true, Some("web-1")),
            ("10.0.2.3", false, Some("web-2")),
        ],
    ));
    let mut ds = service("ns", "ds", "10.96.0.20", HL_PORTS);
    ds["spec"]["clusterIPs"] = json!(["10.96.0.20", "fd00::20"]);
    ds["spec"]["ipFamilies"] = json!(["IPv4", "IPv6"]);
    ds["spec"]["ipFamilyPolicy"] = json!("RequireDualStack");
    api.apply(ds);
    api.apply(external_name("ns", "ext", "svc.ns.svc.cluster.local"));
    api.apply(external_name("ns", "extout", "www.example.org"));
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn fake() -> FakeApi {
    let api = FakeApi::start_blocking(Options::default());
    populate(&api);
    api
}

/// The Corefile of the brief: the cluster zone and the reverse zone on one server, `pods
/// insecure`, reverse names falling through.
fn cluster_corefile(kubeconfig: &Path, ready_port: u16) -> String {
    format!(
        "cluster.local:{{PORT}} in-addr.arpa:{{PORT}} {{
    bind 127.0.0.1
    ready 127.0.0.1:{ready_port}
    kubernetes cluster.local in-addr.arpa {{
        kubeconfig {}
        pods insecure
        fallthrough in-addr.arpa
    }}
}}
",
        kubeconfig.display()
    )
}

/// Start signpost against `api` with the cluster Corefile and wait until it reports ready
/// (it answers, unsynced, before that: see `no_answers_before_the_first_lists`); returns it,
/// its ready address, and the folder holding the kubeconfig.
fn start_against(api: &FakeApi) -> (Signpost, SocketAddr, TempDir) {
    let (s, ready, files) = launch_against(api);
    s.wait_http(ready, "/ready", 200, None, Duration::from_secs(10));
    (s, ready, files)
}

/// Start signpost against `api` with the cluster Corefile; returns as soon as it answers.
fn launch_against(api: &FakeApi) -> (Signpost, SocketAddr, TempDir) {
    let files = TempDir::new("k8s-e2e");
    let kubeconfig = files.path().join("kubeconfig");
    api.write_kubeconfig(&kubeconfig);
    let (s, ready) = start_with_ports(|ready_port| cluster_corefile(&kubeconfig, ready_port));
    (s, ready, files)
}

/// Start signpost with the Corefile `make(ready_port)` returns (`{PORT}` for the DNS port).
/// Ports from `free_port` are only free when asked (a client connection elsewhere may take
/// one the next moment), so when the process could not bind one, try again with new ports.
fn start_with_ports(make: impl Fn(u16) -> String) -> (Signpost, SocketAddr) {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let ready_port = free_port();
        let corefile = make(ready_port);
        let dir = TempDir::new("server");
        match Signpost::try_start_with_env(BIN, dir, free_port(), &corefile, &[], &[]) {
            Ok(s) => return (s, ([127, 0, 0, 1], ready_port).into()),
            Err(e) if e.contains("Address already in use") && attempt < 5 => {
                eprintln!("port taken, trying other ports: {e}");
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// Wait until the process has finished starting: it prints its banner (zones, version) when
/// the start-up hooks are done, right before it installs its signal handlers.
fn wait_started(s: &Signpost) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !s.log().lines().any(|l| l.starts_with("signpost-")) {
        assert!(Instant::now() < deadline, "no banner:\n{}", s.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

fn rr(owner: &str, ttl: u32, rtype: &str, data: &str) -> String {
    format!("{owner}\t{ttl}\tIN\t{rtype}\t{data}")
}

/// The authority section is exactly the cluster.local SOA (TTL 5, minimum 5, a real serial).
fn assert_soa(a: &Answer, zone: &str, what: &str) {
    let serial = soa_serial(a, zone, what);
    assert!(serial > 0, "{what}: serial of {:?}", a.ns);
}

/// The authority section is exactly the zone's SOA (TTL 5, minimum 5); its serial.
fn soa_serial(a: &Answer, zone: &str, what: &str) -> u64 {
    assert_eq!(a.ns.len(), 1, "{what}: authority {:?}", a.ns);
    let prefix = format!("{zone}\t5\tIN\tSOA\tns.dns.{zone} hostmaster.{zone} ");
    let soa = &a.ns[0];
    assert!(soa.starts_with(&prefix), "{what}: {soa}");
    assert!(soa.ends_with(" 7200 1800 86400 5"), "{what}: {soa}");
    soa[prefix.len()..]
        .split(' ')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{what}: serial of {soa}"))
}

fn answers_a(a: &Answer, owner: &str, ips: &[&str]) -> bool {
    a.rcode() == rcode::NOERROR
        && sorted(&a.answer)
            == sorted(
                &ips.iter()
                    .map(|ip| rr(owner, 5, "A", ip))
                    .collect::<Vec<_>>(),
            )
}

/// Assert that `a` is exactly the A records `ips` at `owner`, saying what came instead.
fn expect_a(s: &Signpost, a: &Answer, owner: &str, ips: &[&str]) {
    assert!(
        answers_a(a, owner, ips),
        "{owner}: want A {ips:?}, got rcode {} {:?}\nlog:\n{}",
        a.rcode(),
        a.answer,
        s.log()
    );
}

// ---------------------------------------------------------------------------------------------
// Records

#[test]
fn cluster_records_over_udp_and_tcp() {
    let api = fake();
    let (s, ready, _files) = start_against(&api);
    s.wait_http(ready, "/ready", 200, None, Duration::from_secs(10));

    type Ask<'a> = Box<dyn Fn(&str, u16) -> Answer + 'a>;
    let transports: [(&str, Ask<'_>); 2] = [
        (
            "udp",
            Box::new(|n, t| query_udp(s.addr, n, t).expect("UDP answer")),
        ),
        (
            "tcp",
            Box::new(|n, t| query_tcp(s.addr, n, t).expect("TCP answer")),
        ),
    ];
    for (proto, ask) in &transports {
        let what = |n: &str| format!("{proto} {n}");

        // ClusterIP Service.
        let n = "svc.ns.svc.cluster.local.";
        let a = ask(n, rtype::A);
        assert_eq!(a.rcode(), rcode::NOERROR, "{}", what(n));
        assert!(a.authoritative(), "{}", what(n));
        assert_eq!(a.answer, [rr(n, 5, "A", "10.96.0.10")], "{}", what(n));
        assert!(a.ns.is_empty() && a.extra.is_empty(), "{}: {a:?}", what(n));

        // SRV of a named port: one SRV to the Service name, its address as glue.
        let n = "_http._tcp.svc.ns.svc.cluster.local.";
        let a = ask(n, rtype::SRV);
        assert_eq!(a.rcode(), rcode::NOERROR, "{}", what(n));
        assert_eq!(
            a.answer,
            [rr(n, 5, "SRV", "0 100 80 svc.ns.svc.cluster.local.")],
            "{}",
            what(n)
        );
        assert_eq!(
            a.extra,
            [rr("svc.ns.svc.cluster.local.", 5, "A", "10.96.0.10")],
            "{}",
            what(n)
        );
        assert!(a.ns.is_empty(), "{}", what(n));

        // The bare Service name answers SRV for every port (weight 100/2), one glue record.
        let n = "svc.ns.svc.cluster.local.";
        let a = ask(n, rtype::SRV);
        assert_eq!(
            sorted(&a.answer),
            [
                rr(n, 5, "SRV", "0 50 53 svc.ns.svc.cluster.local."),
                rr(n, 5, "SRV", "0 50 80 svc.ns.svc.cluster.local."),
            ],
            "{}",
            what(n)
        );
        assert_eq!(
            a.extra,
            [rr("svc.ns.svc.cluster.local.", 5, "A", "10.96.0.10")],
            "{}",
            what(n)
        );

        // A port that does not exist: NXDOMAIN.
        let n = "_https._tcp.svc.ns.svc.cluster.local.";
        let a = ask(n, rtype::SRV);
        assert_eq!(a.rcode(), rcode::NXDOMAIN, "{}", what(n));
        assert_soa(&a, "cluster.local.", &what(n));

        // Headless: only the ready endpoints.
        let n = "hl.ns.svc.cluster.local.";
        let a = ask(n, rtype::A);
        assert_eq!(
            sorted(&a.answer),
            [rr(n, 5, "A", "10.0.2.1"), rr(n, 5, "A", "10.0.2.2")],
            "{}",
            what(n)
        );
        // Headless SRV: one per ready endpoint, targets named by hostname, glue for each.
        let n = "_http._tcp.hl.ns.svc.cluster.local.";
        let a = ask(n, rtype::SRV);
        assert_eq!(
            sorted(&a.answer),
            [
                rr(n, 5, "SRV", "0 50 80 web-0.hl.ns.svc.cluster.local."),
                rr(n, 5, "SRV", "0 50 80 web-1.hl.ns.svc.cluster.local."),
            ],
            "{}",
            what(n)
        );
        assert_eq!(
            sorted(&a.extra),
            [
                rr("web-0.hl.ns.svc.cluster.local.", 5, "A", "10.0.2.1"),
                rr("web-1.hl.ns.svc.cluster.local.", 5, "A", "10.0.2.2"),
            ],
            "{}",
            what(n)
        );

        // Endpoint names: by hostname; a not-ready endpoint does not exist.
        let n = "web-0.hl.ns.svc.cluster.local.";
        assert_eq!(
            ask(n, rtype::A).answer,
            [rr(n, 5, "A", "10.0.2.1")],
            "{}",
            what(n)
        );
        let n = "web-2.hl.ns.svc.cluster.local.";
        let a = ask(n, rtype::A);
        assert_eq!(a.rcode(), rcode::NXDOMAIN, "{}", what(n));
        assert_soa(&a, "cluster.local.", &what(n));
        // ... and by dashed IP for endpoints without one (ClusterIP Services too).
        let n = "10-0-1-2.svc.ns.svc.cluster.local.";
        assert_eq!(
            ask(n, rtype::A).answer,
            [rr(n, 5, "A", "10.0.1.2")],
            "{}",
            what(n)
        );

        // PTR of the cluster IP and of endpoint addresses (primary zone targets).
        let n = "10.0.96.10.in-addr.arpa.";
        let a = ask(n, rtype::PTR);
        assert_eq!(a.rcode(), rcode::NOERROR, "{}", what(n));
        assert!(a.authoritative(), "{}", what(n));
        assert_eq!(
            a.answer,
            [rr(n, 5, "PTR", "svc.ns.svc.cluster.local.")],
            "{}",
            what(n)
        );
        let n = "1.2.0.10.in-addr.arpa.";
        assert_eq!(
            ask(n, rtype::PTR).answer,
            [rr(n, 5, "PTR", "web-0.hl.ns.svc.cluster.local.")],
            "{}",
            what(n)
        );
        let n = "1.1.0.10.in-addr.arpa.";
        assert_eq!(
            ask(n, rtype::PTR).answer,
            [rr(n, 5, "PTR", "10-0-1-1.svc.ns.svc.cluster.local.")],
            "{}",
            what(n)
        );
        // A not-ready endpoint has no PTR: falls through to the end of the chain (SERVFAIL).
        let n = "3.1.0.10.in-addr.arpa.";
        let a = ask(n, rtype::PTR);
        assert_eq!(a.rcode(), rcode::SERVFAIL, "{}: {a:?}", what(n));
        assert!(a.answer.is_empty(), "{}", what(n));

        // ExternalName in the zone: CNAME plus the target's records; CNAME query: the CNAME.
        let n = "ext.ns.svc.cluster.local.";
        let a = ask(n, rtype::A);
        assert_eq!(
            a.answer,
            [
                rr(n, 5, "CNAME", "svc.ns.svc.cluster.local."),
                rr("svc.ns.svc.cluster.local.", 5, "A", "10.96.0.10"),
            ],
            "{}",
            what(n)
        );
        let n = "extout.ns.svc.cluster.local.";
        let a = ask(n, rtype::CNAME);
        assert_eq!(a.rcode(), rcode::NOERROR, "{}", what(n));
        assert_eq!(
            a.answer,
            [rr(n, 5, "CNAME", "www.example.org.")],
            "{}",
            what(n)
        );
        // SRV on an ExternalName Service is NODATA.
        let a = ask(n, rtype::SRV);
        assert_eq!(
            (a.rcode(), a.answer.len()),
            (rcode::NOERROR, 0),
            "{}",
            what(n)
        );
        assert_soa(&a, "cluster.local.", &what(n));

        // A missing Service: NXDOMAIN with the SOA.
        let n = "missing.ns.svc.cluster.local.";
        let a = ask(n, rtype::A);
        assert_eq!(a.rcode(), rcode::NXDOMAIN, "{}", what(n));
        assert!(a.authoritative(), "{}", what(n));
        assert!(a.answer.is_empty(), "{}", what(n));
        assert_soa(&a, "cluster.local.", &what(n));
        // ... and in a namespace that does not exist.
        let a = ask("svc.nope.svc.cluster.local.", rtype::A);
        assert_eq!(a.rcode(), rcode::NXDOMAIN, "{}", what("svc.nope"));

        // NODATA: AAAA of an IPv4-only Service.
        let n = "svc.ns.svc.cluster.local.";
        let a = ask(n, rtype::AAAA);
        assert_eq!(a.rcode(), rcode::NOERROR, "{}", what(n));
        assert!(a.answer.is_empty(), "{}", what(n));
        assert_soa(&a, "cluster.local.", &what(n));

        // Dual-stack: both families; SRV de-duplicated to one record whose weight still
        // counts both cluster IPs (CoreDNS), glue of both families.
        let n = "ds.ns.svc.cluster.local.";
        assert_eq!(
            ask(n, rtype::A).answer,
            [rr(n, 5, "A", "10.96.0.20")],
            "{}",
            what(n)
        );
        assert_eq!(
            ask(n, rtype::AAAA).answer,
            [rr(n, 5, "AAAA", "fd00::20")],
            "{}",
            what(n)
        );
        let s = "_http._tcp.ds.ns.svc.cluster.local.";
        let a = ask(s, rtype::SRV);
        assert_eq!(
            a.answer,
            [rr(s, 5, "SRV", "0 50 80 ds.ns.svc.cluster.local.")],
            "{}",
            what(s)
        );
        assert_eq!(
            sorted(&a.extra),
            [rr(n, 5, "A", "10.96.0.20"), rr(n, 5, "AAAA", "fd00::20")],
            "{}",
            what(s)
        );

        // Pods, insecure: the address from the name.
        let n = "10-0-0-5.ns.pod.cluster.local.";
        let a = ask(n, rtype::A);
        assert_eq!(a.answer, [rr(n, 5, "A", "10.0.0.5")], "{}", what(n));
        let a = ask("10-0-0-5.nope.pod.cluster.local.", rtype::A);
        assert_eq!(a.rcode(), rcode::NXDOMAIN, "{}", what("pod in missing ns"));

        // The apex: SOA in the answer; the schema version.
        let a = ask("cluster.local.", rtype::SOA);
        assert_eq!(a.answer.len(), 1, "{}", what("apex SOA"));
        assert!(
            a.answer[0].starts_with("cluster.local.\t5\tIN\tSOA\tns.dns.cluster.local. "),
            "{}",
            a.answer[0]
        );
        let n = "dns-version.cluster.local.";
        assert_eq!(
            ask(n, rtype::TXT).answer,
            [rr(n, 28800, "TXT", "\"1.1.0\"")]
        );

        // Names keep the client's spelling.
        let n = "SVC.Ns.svc.Cluster.Local.";
        assert_eq!(
            ask(n, rtype::A).answer,
            [rr(n, 5, "A", "10.96.0.10")],
            "{}",
            what(n)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Changes

#[test]
fn changes_in_the_api_follow() {
    let api = fake();
    let (s, _ready, _files) = start_against(&api);

    let n = "new.ns.svc.cluster.local.";
    assert_eq!(s.udp(n, rtype::A).rcode(), rcode::NXDOMAIN);

    // A new Service and its endpoints appear.
    api.apply(service("ns", "new", "10.96.1.1", &[("http", 80, "TCP")]));
    api.apply(slice(
        "ns",
        "new-1",
        "new",
        HL_PORTS,
        &[("10.0.3.1", true, None)],
    ));
    s.wait_for(n, rtype::A, FOLLOW, |a| answers_a(a, n, &["10.96.1.1"]));
    let e = "10-0-3-1.new.ns.svc.cluster.local.";
    s.wait_for(e, rtype::A, FOLLOW, |a| answers_a(a, e, &["10.0.3.1"]));
    let p = "1.1.96.10.in-addr.arpa.";
    let a = s.tcp(p, rtype::PTR);
    assert_eq!(a.answer, [rr(p, 5, "PTR", "new.ns.svc.cluster.local.")]);

    // A new cluster IP and new endpoints replace the old ones.
    api.apply(service("ns", "new", "10.96.1.2", &[("http", 80, "TCP")]));
    api.apply(slice(
        "ns",
        "new-1",
        "new",
        HL_PORTS,
        &[("10.0.3.2", true, None), ("10.0.3.1", false, None)],
    ));
    s.wait_for(n, rtype::A, FOLLOW, |a| answers_a(a, n, &["10.96.1.2"]));
    let e2 = "10-0-3-2.new.ns.svc.cluster.local.";
    s.wait_for(e2, rtype::A, FOLLOW, |a| answers_a(a, e2, &["10.0.3.2"]));
    s.wait_for(e, rtype::A, FOLLOW, |a| a.rcode() == rcode::NXDOMAIN);

    // Headless endpoints change: the answer is the new ready set.
    api.apply(slice(
        "ns",
        "hl-abc",
        "hl",
        HL_PORTS,
        &[
            ("10.0.2.1", false, Some("web-0")),
            ("10.0.2.2", true, Some("web-1")),
            ("10.0.2.3", true, Some("web-2")),
        ],
    ));
    let h = "hl.ns.svc.cluster.local.";
    s.wait_for(h, rtype::A, FOLLOW, |a| {
        answers_a(a, h, &["10.0.2.2", "10.0.2.3"])
    });

    // Deleted: NXDOMAIN again (the Service, then its endpoints).
    assert!(api.delete("v1", "Service", "ns", "new"));
    s.wait_for(n, rtype::A, FOLLOW, |a| a.rcode() == rcode::NXDOMAIN);
    assert!(api.delete("discovery.k8s.io/v1", "EndpointSlice", "ns", "new-1"));
    let a = s.wait_for(e2, rtype::A, FOLLOW, |a| a.rcode() == rcode::NXDOMAIN);
    assert_soa(&a, "cluster.local.", "deleted endpoint");
    let a = s.tcp(n, rtype::A);
    assert_eq!(a.rcode(), rcode::NXDOMAIN);
}

// ---------------------------------------------------------------------------------------------
// Shared watches

#[test]
fn watches_are_shared_between_server_blocks() {
    let api = fake();
    api.apply(pod("ns", "pod-a", "10.0.0.7"));
    let files = TempDir::new("k8s-shared");
    let kubeconfig = files.path().join("kubeconfig");
    api.write_kubeconfig(&kubeconfig);
    let k = kubeconfig.display();
    // Two blocks, two zones: one names the kubeconfig in the plugin, the other through the
    // block default of k8s_api. Same connection, same selectors: one watch each.
    let corefile = format!(
        "cluster.local:{{PORT}} {{
    bind 127.0.0.1
    kubernetes cluster.local {{
        kubeconfig {k}
        pods verified
    }}
}}

cluster.remote:{{PORT}} {{
    bind 127.0.0.1
    k8s_api {{
        kubeconfig {k}
    }}
    kubernetes cluster.remote {{
        pods verified
    }}
}}
"
    );
    let (s, _) = start_with_ports(|_| corefile.clone());
    for zone in ["cluster.local.", "cluster.remote."] {
        let n = format!("svc.ns.svc.{zone}");
        s.wait_for(&n, rtype::A, FOLLOW, |a| answers_a(a, &n, &["10.96.0.10"]));
        let n = format!("10-0-0-7.ns.pod.{zone}");
        assert_eq!(s.udp(&n, rtype::A).answer, [rr(&n, 5, "A", "10.0.0.7")]);
        // Verified: an address no pod has does not exist.
        let n = format!("10-0-0-8.ns.pod.{zone}");
        assert_eq!(s.udp(&n, rtype::A).rcode(), rcode::NXDOMAIN);
    }
    // A change reaches both blocks through the one watch.
    api.apply(service("ns", "svc", "10.96.0.99", SVC_PORTS));
    for zone in ["cluster.local.", "cluster.remote."] {
        let n = format!("svc.ns.svc.{zone}");
        s.wait_for(&n, rtype::A, FOLLOW, |a| answers_a(a, &n, &["10.96.0.99"]));
    }
    // Give a (wrong) second watch time to show up before counting.
    std::thread::sleep(Duration::from_millis(500));
    let requests = api.requests();
    for kind in ["services", "endpointslices", "namespaces", "pods"] {
        assert_eq!(
            lists_and_watches(&requests, kind),
            (1, 1),
            "{kind}: lists and watches; requests:\n{requests:#?}"
        );
    }
    assert_eq!(api.open_watches(), 4, "{requests:#?}");
}

// ---------------------------------------------------------------------------------------------
// Faults

#[test]
fn api_faults_keep_answers_and_changes_arrive_after() {
    let api = fake();
    let (s, _ready, _files) = start_against(&api);
    let n = "svc.ns.svc.cluster.local.";
    let set_ip = |ip: &str| {
        api.apply(service("ns", "svc", ip, SVC_PORTS));
    };
    expect_a(&s, &s.udp(n, rtype::A), n, &["10.96.0.10"]);

    // Watches cut: they reconnect and the next change arrives.
    api.faults().drop_watches();
    expect_a(&s, &s.udp(n, rtype::A), n, &["10.96.0.10"]);
    set_ip("10.96.0.11");
    s.wait_for(n, rtype::A, RECOVER, |a| answers_a(a, n, &["10.96.0.11"]));

    // Watches cut and the reconnects fail a few times (500): still answering, and the next
    // change arrives once the API answers again.
    api.faults().fail_next(3, 500);
    api.faults().drop_watches();
    for _ in 0..5 {
        expect_a(&s, &s.udp(n, rtype::A), n, &["10.96.0.11"]);
        expect_a(&s, &s.tcp(n, rtype::A), n, &["10.96.0.11"]);
        std::thread::sleep(Duration::from_millis(100));
    }
    set_ip("10.96.0.12");
    s.wait_for(n, rtype::A, RECOVER, |a| answers_a(a, n, &["10.96.0.12"]));

    // The API server goes away: the last data keeps being served, also for a change made
    // meanwhile (nobody can see it), and everything else answers as before.
    api.faults().down(true);
    set_ip("10.96.0.13");
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        let a = s.udp(n, rtype::A);
        expect_a(&s, &a, n, &["10.96.0.12"]);
        let h = "hl.ns.svc.cluster.local.";
        expect_a(&s, &s.tcp(h, rtype::A), h, &["10.0.2.1", "10.0.2.2"]);
        let m = s.udp("missing.ns.svc.cluster.local.", rtype::A);
        assert_eq!(m.rcode(), rcode::NXDOMAIN);
        std::thread::sleep(Duration::from_millis(100));
    }
    // Back: the change made while down arrives, and so do later ones.
    api.faults().down(false);
    s.wait_for(n, rtype::A, RECOVER, |a| answers_a(a, n, &["10.96.0.13"]));
    set_ip("10.96.0.14");
    s.wait_for(n, rtype::A, RECOVER, |a| answers_a(a, n, &["10.96.0.14"]));
}

// ---------------------------------------------------------------------------------------------
// kubectl

const KUBECTL: &str = "/usr/bin/kubectl";

fn kubectl(kubeconfig: &Path, cache: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .output()
        .expect("run kubectl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}\n{text}",
        out.status
    );
    text
}

#[test]
fn kubectl_changes_are_answered() {
    if !Path::new(KUBECTL).exists() {
        eprintln!("note: {KUBECTL} is missing; kubectl_changes_are_answered checks nothing");
        return;
    }
    let api = fake();
    let (s, _ready, files) = start_against(&api);
    let kubeconfig = files.path().join("kubeconfig");
    let cache = files.path().join("kubectl-cache");
    let manifest = files.write(
        "svc.yaml",
        "apiVersion: v1
kind: Service
metadata:
  name: kc
  namespace: ns
spec:
  type: ClusterIP
  clusterIP: 10.96.7.7
  clusterIPs:
  - 10.96.7.7
  ports:
  - name: http
    port: 80
    protocol: TCP
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kc-1
  namespace: ns
  labels:
    kubernetes.io/service-name: kc
addressType: IPv4
ports:
- name: http
  port: 8080
  protocol: TCP
endpoints:
- addresses:
  - 10.0.7.1
  conditions:
    ready: true
  hostname: kc-0
",
    );
    let manifest = manifest.display().to_string();
    let out = kubectl(
        &kubeconfig,
        &cache,
        &["create", "-f", &manifest, "--validate=false"],
    );
    assert!(out.contains("kc"), "{out}");

    let n = "kc.ns.svc.cluster.local.";
    s.wait_for(n, rtype::A, FOLLOW, |a| answers_a(a, n, &["10.96.7.7"]));
    let e = "kc-0.kc.ns.svc.cluster.local.";
    s.wait_for(e, rtype::A, FOLLOW, |a| answers_a(a, e, &["10.0.7.1"]));
    let srv = "_http._tcp.kc.ns.svc.cluster.local.";
    let a = s.tcp(srv, rtype::SRV);
    assert_eq!(
        a.answer,
        [rr(srv, 5, "SRV", "0 100 80 kc.ns.svc.cluster.local.")]
    );

    kubectl(&kubeconfig, &cache, &["delete", "svc", "kc", "-n", "ns"]);
    let a = s.wait_for(n, rtype::A, FOLLOW, |a| a.rcode() == rcode::NXDOMAIN);
    assert_soa(&a, "cluster.local.", "deleted by kubectl");
}

// ---------------------------------------------------------------------------------------------
// Manifests

/// What `kubectl get namespaces,svc,endpointslices -A -o yaml` prints, for one namespace with a
/// ClusterIP Service and a headless one.
fn list_yaml(cluster_ip: &str, headless_ips: &[&str]) -> String {
    let mut endpoints = String::new();
    for (i, ip) in headless_ips.iter().enumerate() {
        endpoints += &format!(
            "  - addresses:
    - {ip}
    conditions:
      ready: true
      serving: true
      terminating: false
    hostname: web-{i}
    nodeName: node-1
    targetRef:
      kind: Pod
      name: web-{i}
      namespace: ns
      uid: 00000000-0000-0000-0000-00000000000{i}
"
        );
    }
    format!(
        r#"apiVersion: v1
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    creationTimestamp: "2026-01-01T00:00:00Z"
    labels:
      kubernetes.io/metadata.name: ns
    name: ns
    resourceVersion: "10"
    uid: 6d1c6a5e-0000-0000-0000-000000000001
  spec:
    finalizers:
    - kubernetes
  status:
    phase: Active
- apiVersion: v1
  kind: Service
  metadata:
    creationTimestamp: "2026-01-01T00:00:00Z"
    labels:
      app: svc
    name: svc
    namespace: ns
    resourceVersion: "11"
    uid: 6d1c6a5e-0000-0000-0000-000000000002
  spec:
    clusterIP: {cluster_ip}
    clusterIPs:
    - {cluster_ip}
    internalTrafficPolicy: Cluster
    ipFamilies:
    - IPv4
    ipFamilyPolicy: SingleStack
    ports:
    - name: http
      port: 80
      protocol: TCP
      targetPort: 8080
    selector:
      app: svc
    sessionAffinity: None
    type: ClusterIP
  status:
    loadBalancer: {{}}
- apiVersion: v1
  kind: Service
  metadata:
    name: hl
    namespace: ns
  spec:
    clusterIP: None
    clusterIPs:
    - None
    ports:
    - name: http
      port: 80
      protocol: TCP
    type: ClusterIP
- addressType: IPv4
  apiVersion: discovery.k8s.io/v1
  endpoints:
{endpoints}  kind: EndpointSlice
  metadata:
    generateName: hl-
    labels:
      endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
      kubernetes.io/service-name: hl
    name: hl-x7k2p
    namespace: ns
  ports:
  - name: http
    port: 80
    protocol: TCP
kind: List
metadata:
  resourceVersion: ""
"#
    )
}

/// Replace a file the way editors and ConfigMap updates do (a new inode).
fn replace_file(path: &Path, content: &str) {
    let tmp = path.with_extension("tmp-new");
    std::fs::write(&tmp, content).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

#[test]
fn manifests_file_is_served_and_followed() {
    let files = TempDir::new("k8s-manifests");
    let objects = files.write(
        "objects.yaml",
        &list_yaml("10.96.0.10", &["10.0.2.1", "10.0.2.2"]),
    );
    let corefile = format!(
        "cluster.local:{{PORT}} {{
    bind 127.0.0.1
    kubernetes cluster.local {{
        manifests {}
    }}
}}
",
        objects.display()
    );
    let (s, _) = start_with_ports(|_| corefile.clone());
    let n = "svc.ns.svc.cluster.local.";
    s.wait_for(n, rtype::A, FOLLOW, |a| answers_a(a, n, &["10.96.0.10"]));
    let h = "hl.ns.svc.cluster.local.";
    expect_a(&s, &s.tcp(h, rtype::A), h, &["10.0.2.1", "10.0.2.2"]);
    let e = "web-1.hl.ns.svc.cluster.local.";
    expect_a(&s, &s.udp(e, rtype::A), e, &["10.0.2.2"]);
    let srv = "_http._tcp.svc.ns.svc.cluster.local.";
    assert_eq!(
        s.udp(srv, rtype::SRV).answer,
        [rr(srv, 5, "SRV", "0 100 80 svc.ns.svc.cluster.local.")]
    );
    assert_eq!(
        s.udp("missing.ns.svc.cluster.local.", rtype::A).rcode(),
        rcode::NXDOMAIN
    );

    // Edit the file: answers change.
    replace_file(&objects, &list_yaml("10.96.0.20", &["10.0.2.3"]));
    s.wait_for(n, rtype::A, FOLLOW, |a| answers_a(a, n, &["10.96.0.20"]));
    s.wait_for(h, rtype::A, FOLLOW, |a| answers_a(a, h, &["10.0.2.3"]));
    let a = s.udp(e, rtype::A);
    assert_eq!(a.rcode(), rcode::NXDOMAIN, "web-1 is gone: {a:?}");

    // Edited in place (same inode) too.
    std::fs::write(&objects, list_yaml("10.96.0.30", &["10.0.2.4", "10.0.2.5"])).unwrap();
    s.wait_for(n, rtype::A, FOLLOW, |a| answers_a(a, n, &["10.96.0.30"]));
    s.wait_for(h, rtype::A, FOLLOW, |a| {
        answers_a(a, h, &["10.0.2.4", "10.0.2.5"])
    });
}

// ---------------------------------------------------------------------------------------------
// Transports, start-up and reload

#[test]
fn big_answers_truncate_over_udp_and_fit_over_tcp() {
    let api = fake();
    let ips: Vec<String> = (1..=100).map(|i| format!("10.1.0.{i}")).collect();
    let eps: Vec<Ep<'_>> = ips.iter().map(|ip| (ip.as_str(), true, None)).collect();
    api.apply(service("ns", "big", "None", HL_PORTS));
    api.apply(slice("ns", "big-1", "big", HL_PORTS, &eps));
    let (s, _ready, _files) = start_against(&api);
    let n = "big.ns.svc.cluster.local.";

    let t = s.tcp(n, rtype::A);
    assert!(!t.truncated());
    let want: Vec<String> = ips.iter().map(|ip| rr(n, 5, "A", ip)).collect();
    assert_eq!(sorted(&t.answer), sorted(&want));

    // EDNS 1232 over UDP: as many records as fit, and TC so the client asks over TCP.
    let u = s.udp(n, rtype::A);
    assert!(u.truncated(), "{} records, no TC", u.answer.len());
    assert!(u.bytes.len() <= 1232, "{} bytes", u.bytes.len());
    assert!(
        !u.answer.is_empty() && u.answer.len() < 100,
        "{} records",
        u.answer.len()
    );
    assert!(u.answer.iter().all(|r| want.contains(r)));
}

#[test]
fn unsynced_start_is_servfail_then_serves_once_the_api_answers() {
    let api = fake();
    api.faults().down(true);
    let files = TempDir::new("k8s-unsynced");
    let kubeconfig = files.path().join("kubeconfig");
    api.write_kubeconfig(&kubeconfig);
    let (s, ready) = start_with_ports(|ready_port| {
        format!(
            "cluster.local:{{PORT}} {{
    bind 127.0.0.1
    ready 127.0.0.1:{ready_port}
    kubernetes cluster.local {{
        kubeconfig {}
        startup_timeout 1s
    }}
}}
",
            kubeconfig.display()
        )
    });

    // Nothing listed yet: what would be NXDOMAIN is SERVFAIL (with the SOA), not ready.
    let n = "svc.ns.svc.cluster.local.";
    let a = s.udp(n, rtype::A);
    assert_eq!(a.rcode(), rcode::SERVFAIL, "{a:?}");
    assert!(a.answer.is_empty());
    // No change seen yet: the serial is still 0, as in CoreDNS.
    assert_eq!(soa_serial(&a, "cluster.local.", "unsynced"), 0);
    let (code, _) = http_get(ready, "/ready").expect("/ready answers");
    assert_ne!(code, 200, "ready before the first lists");

    // The API comes up: the lists arrive, the server is ready and answers.
    api.faults().down(false);
    s.wait_for(n, rtype::A, RECOVER, |a| answers_a(a, n, &["10.96.0.10"]));
    s.wait_http(ready, "/ready", 200, None, Duration::from_secs(10));
    let m = s.udp("missing.ns.svc.cluster.local.", rtype::A);
    assert_eq!(m.rcode(), rcode::NXDOMAIN);
}

#[test]
fn reload_keeps_the_shared_watches() {
    let api = fake();
    let (s, _ready, _files) = start_against(&api);
    let n = "svc.ns.svc.cluster.local.";
    expect_a(&s, &s.udp(n, rtype::A), n, &["10.96.0.10"]);
    // SIGUSR1 before the handlers are installed would end the process (see
    // `sigusr1_during_the_startup_wait_does_not_kill_the_server`).
    wait_started(&s);

    // The same connection and objects, another TTL: the new configuration shares the watches.
    let text = std::fs::read_to_string(&s.corefile)
        .unwrap()
        .replace("pods insecure", "pods insecure\n        ttl 17");
    std::fs::write(&s.corefile, text).unwrap();
    s.signal(libc::SIGUSR1);
    s.wait_for(n, rtype::A, FOLLOW, |a| {
        a.answer == [rr(n, 17, "A", "10.96.0.10")]
    });

    // Changes still arrive after the reload.
    api.apply(service("ns", "svc", "10.96.0.77", SVC_PORTS));
    s.wait_for(n, rtype::A, FOLLOW, |a| {
        a.answer == [rr(n, 17, "A", "10.96.0.77")]
    });
    std::thread::sleep(Duration::from_millis(300));
    let requests = api.requests();
    for kind in ["services", "endpointslices", "namespaces"] {
        assert_eq!(
            lists_and_watches(&requests, kind),
            (1, 1),
            "{kind} after a reload; requests:\n{requests:#?}\nlog:\n{}",
            s.log()
        );
    }
    assert_eq!(api.open_watches(), 3);
}

// ---------------------------------------------------------------------------------------------
// Start-up order. CoreDNS runs the plugins' start-up functions (the kubernetes plugin's wait
// for its first lists, up to `startup_timeout`) before its listeners start, and traps signals
// from the moment the process starts.

/// A query that arrives while the kubernetes plugin still waits for its first lists must not
/// be answered from the empty index (SERVFAIL for every cluster name): CoreDNS is not
/// listening yet at that point, so the first answer a client gets is from the listed objects.
#[test]
fn no_answers_before_the_first_lists() {
    let api = fake();
    // Every API answer takes 1.5 s, so the first lists arrive no sooner than that.
    api.faults().delay(Duration::from_millis(1500));
    // Returns on the first answer the process gives, to anything.
    let (s, _ready, _files) = launch_against(&api);
    let n = "svc.ns.svc.cluster.local.";
    let a = s.udp(n, rtype::A);
    assert_eq!(
        (a.rcode(), a.answer.clone()),
        (rcode::NOERROR, vec![rr(n, 5, "A", "10.96.0.10")]),
        "the first answer came from the index before its first lists\nlog:\n{}",
        s.log()
    );
}

/// The process that kills its child on drop.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// SIGUSR1 (reload) during the start-up wait must not end the process: the default action of
/// an untrapped SIGUSR1 is to terminate it.
#[test]
fn sigusr1_during_the_startup_wait_does_not_kill_the_server() {
    let api = fake();
    api.faults().delay(Duration::from_millis(2500));
    let files = TempDir::new("k8s-usr1");
    let kubeconfig = files.path().join("kubeconfig");
    api.write_kubeconfig(&kubeconfig);
    let port = free_port();
    let corefile = files.write(
        "Corefile",
        &cluster_corefile(&kubeconfig, free_port()).replace("{PORT}", &port.to_string()),
    );
    let log = files.path().join("log");
    let out = std::fs::File::create(&log).unwrap();
    let mut child = Child(
        std::process::Command::new(BIN)
            .arg("-conf")
            .arg(&corefile)
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    // The kubernetes plugin says so every 500 ms while its start-up hook waits.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !read_log().contains("waiting for Kubernetes API before starting server") {
        assert!(
            child.0.try_wait().unwrap().is_none() && Instant::now() < deadline,
            "never in the start-up wait:\n{}",
            read_log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.0.id() as i32, libc::SIGUSR1) };
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let n = "svc.ns.svc.cluster.local.";
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!(
                "SIGUSR1 during the start-up wait ended the process ({status})\nlog:\n{}",
                read_log()
            );
        }
        if query_udp(addr, n, rtype::A).is_some_and(|a| answers_a(&a, n, &["10.96.0.10"])) {
            break;
        }
        assert!(Instant::now() < deadline, "no answer:\n{}", read_log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A reload whose new configuration needs new watches (another label selector) must keep
/// answering from the running configuration until the new one has its first lists: CoreDNS
/// runs the new instance's start-up functions (the wait) while the old instance still serves.
#[test]
fn reload_serves_the_old_configuration_until_the_new_one_has_its_lists() {
    let api = fake();
    let (s, _ready, _files) = start_against(&api);
    let n = "svc.ns.svc.cluster.local.";
    expect_a(&s, &s.udp(n, rtype::A), n, &["10.96.0.10"]);
    wait_started(&s);

    // New watches (label selector `!nope` matches every object), whose lists take 1.5 s.
    api.faults().delay(Duration::from_millis(1500));
    let text = std::fs::read_to_string(&s.corefile).unwrap().replace(
        "pods insecure",
        "pods insecure\n        labels !nope\n        ttl 17",
    );
    std::fs::write(&s.corefile, text).unwrap();
    s.signal(libc::SIGUSR1);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let a = s.udp(n, rtype::A);
        assert_eq!(
            a.rcode(),
            rcode::NOERROR,
            "answered from the new configuration before its lists: {a:?}\nlog:\n{}",
            s.log()
        );
        if a.answer == [rr(n, 17, "A", "10.96.0.10")] {
            break;
        }
        expect_a(&s, &a, n, &["10.96.0.10"]);
        assert!(Instant::now() < deadline, "reload never done:\n{}", s.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}
