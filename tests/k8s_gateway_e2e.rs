//! End to end: the real binary with the `k8s_gateway` plugin against the fake API server,
//! queried over UDP (and TCP for a zone transfer) on loopback.
//!
//! Every wait is a bounded poll with short sleeps; no test asserts on timing.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use signpost_fakeapi::{Access, FakeApi, Options};
use signpost_testkit::{
    free_port, http_get, query_packet, query_udp, tcp_exchange, Answer, Signpost, TempDir,
};
use signpost_wire::{rcode, rtype};

const BIN: &str = env!("CARGO_BIN_EXE_signpost");

/// How long a change in the API may take to show in answers.
const FOLLOW: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------------------------
// Objects

fn ingress(name: &str, class: Option<&str>, hosts: &[&str], lb: &[Value]) -> Value {
    let rules: Vec<Value> = hosts.iter().map(|h| json!({"host": h})).collect();
    let mut spec = json!({"rules": rules});
    if let Some(c) = class {
        spec["ingressClassName"] = json!(c);
    }
    json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "namespace": "web"},
        "spec": spec,
        "status": {"loadBalancer": {"ingress": lb}}
    })
}

fn ip(a: &str) -> Value {
    json!({"ip": a})
}

fn lb_service(ns: &str, name: &str, labels: Value, annotations: Value, lb: &[Value]) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": labels, "annotations": annotations},
        "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.9", "ports": [{"port": 53, "protocol": "UDP"}]},
        "status": {"loadBalancer": {"ingress": lb}}
    })
}

fn gateway(name: &str, class: &str, addrs: &[(&str, &str)]) -> Value {
    let addresses: Vec<Value> = addrs
        .iter()
        .map(|(t, v)| json!({"type": t, "value": v}))
        .collect();
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": name, "namespace": "infra"},
        "spec": {"gatewayClassName": class, "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
        "status": {"addresses": addresses}
    })
}

fn route(kind: &str, name: &str, hosts: &[&str], gateway: &str) -> Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": kind,
        "metadata": {"name": name, "namespace": "web"},
        "spec": {"hostnames": hosts, "parentRefs": [{"name": gateway, "namespace": "infra"}]}
    })
}

fn dns_endpoint(name: &str, endpoints: Value) -> Value {
    json!({
        "apiVersion": "externaldns.k8s.io/v1alpha1", "kind": "DNSEndpoint",
        "metadata": {"name": name, "namespace": "web"},
        "spec": {"endpoints": endpoints}
    })
}

fn node(name: &str, internal: &str, external: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
        "status": {"addresses": [
            {"type": "Hostname", "address": name},
            {"type": "InternalIP", "address": internal},
            {"type": "ExternalIP", "address": external}
        ]}
    })
}

/// Every kind, a little of each.
fn populate(api: &FakeApi) {
    api.apply(ingress(
        "shop",
        Some("nginx"),
        &["shop.example.com", "*.apps.example.com"],
        &[ip("192.0.2.10"), ip("2001:db8::10")],
    ));
    api.apply(ingress(
        "v4only",
        Some("nginx"),
        &["v4.example.com"],
        &[ip("192.0.2.11")],
    ));
    api.apply(ingress(
        "traefik",
        Some("traefik"),
        &["traefik.example.com"],
        &[ip("192.0.2.12")],
    ));
    api.apply(ingress(
        "aws",
        Some("nginx"),
        &["aws.example.com"],
        &[json!({"hostname": "lb-1.elb.example.net"})],
    ));
    api.apply(ingress(
        "both",
        Some("nginx"),
        &["both.example.com"],
        &[ip("192.0.2.13")],
    ));
    api.apply(lb_service(
        "kube-system",
        "exdns",
        json!({"app": "dns"}),
        json!({}),
        &[ip("192.0.2.53"), ip("2001:db8::53")],
    ));
    api.apply(lb_service(
        "web",
        "api",
        json!({"app": "api"}),
        json!({"coredns.io/hostname": "api.example.com,both.example.com"}),
        &[ip("192.0.2.20")],
    ));
    api.apply(lb_service(
        "web",
        "hidden",
        json!({"app": "hidden"}),
        json!({}),
        &[ip("192.0.2.21")],
    ));
    api.apply(gateway("public", "public", &[("IPAddress", "192.0.2.30")]));
    api.apply(gateway(
        "private",
        "internal",
        &[("IPAddress", "192.0.2.31")],
    ));
    api.apply(gateway(
        "named",
        "public",
        &[("Hostname", "gw.example.net")],
    ));
    api.apply(route("HTTPRoute", "http", &["http.example.com"], "public"));
    api.apply(route("GRPCRoute", "grpc", &["grpc.example.com"], "public"));
    api.apply(route("TLSRoute", "tls", &["tls.example.com"], "public"));
    api.apply(route(
        "HTTPRoute",
        "internal",
        &["internal.example.com"],
        "private",
    ));
    api.apply(route("HTTPRoute", "named", &["named.example.com"], "named"));
    api.apply(dns_endpoint(
        "txt",
        json!([
            {"dnsName": "txt.example.com", "recordType": "A", "targets": ["192.0.2.40"]},
            {"dnsName": "txt.example.com", "recordType": "TXT", "targets": ["v=spf1 -all"]},
            {"dnsName": "other.example.com", "recordType": "AAAA", "targets": ["2001:db8::41"]}
        ]),
    ));
    api.apply(node("node1", "10.1.0.1", "192.0.2.50"));
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// Starts signpost against `api` with one server block around `stanza` (`{KUBECONFIG}` is
/// replaced); returns it and its ready address once it reports ready.
fn start(api: &FakeApi, stanza: &str) -> (Signpost, SocketAddr, TempDir) {
    let files = TempDir::new("gw-e2e");
    let kubeconfig = files.path().join("kubeconfig");
    api.write_kubeconfig(&kubeconfig);
    let stanza = stanza.replace("{KUBECONFIG}", &kubeconfig.display().to_string());
    let mut attempt = 0;
    loop {
        attempt += 1;
        let ready_port = free_port();
        let corefile = format!(
            ".:{{PORT}} {{\n    bind 127.0.0.1\n    ready 127.0.0.1:{ready_port}\n    transfer {{\n        to *\n    }}\n{stanza}\n}}\n"
        );
        let dir = TempDir::new("server");
        let env = [("SIGNPOST_KUBE_RECHECK_MS", "300")];
        match Signpost::try_start_with_env(BIN, dir, free_port(), &corefile, &[], &env) {
            Ok(s) => {
                let ready: SocketAddr = ([127, 0, 0, 1], ready_port).into();
                s.wait_http(ready, "/ready", 200, None, Duration::from_secs(15));
                return (s, ready, files);
            }
            Err(e) if e.contains("Address already in use") && attempt < 5 => {}
            Err(e) => panic!("{e}"),
        }
    }
}

fn ask(s: &Signpost, name: &str, qtype: u16) -> Answer {
    query_udp(s.addr, name, qtype).unwrap_or_else(|| panic!("no answer for {name}\n{}", s.log()))
}

/// The answer section's data fields (after the type), sorted.
fn data(a: &Answer) -> Vec<String> {
    let mut v: Vec<String> = a
        .answer
        .iter()
        .map(|l| l.splitn(5, '\t').nth(4).unwrap_or("").to_string())
        .collect();
    v.sort();
    v
}

/// Asserts (rcode, sorted answer data) for each (name, type).
fn expect(s: &Signpost, cases: &[(&str, u16, u16, &[&str])]) {
    for (name, qtype, rc, want) in cases {
        let a = ask(s, name, *qtype);
        assert_eq!(a.rcode(), *rc, "{name} {qtype}: {a:?}");
        assert_eq!(data(&a), *want, "{name} {qtype}: {a:?}");
        assert!(a.authoritative(), "{name} {qtype}");
        if want.is_empty() {
            assert_eq!(a.ns.len(), 1, "{name} {qtype}: {a:?}");
            assert!(a.ns[0].contains("\tSOA\t"), "{name} {qtype}: {a:?}");
        }
    }
}

const ALL: &str = "    k8s_gateway example.com 192.0.2.0/24 {
        kubeconfig {KUBECONFIG}
        resources Ingress Service HTTPRoute GRPCRoute TLSRoute DNSEndpoint Node
        ingressClasses nginx
        gatewayClasses public
        apex exdns.kube-system
        secondary peer.kube-system
        ttl 30
    }";

const NOERROR: u16 = rcode::NOERROR;
const NXDOMAIN: u16 = rcode::NXDOMAIN;

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn every_kind_answers() {
    let api = FakeApi::start_blocking(Options::default());
    populate(&api);
    let (s, _ready, _files) = start(&api, ALL);
    expect(
        &s,
        &[
            // Ingress, both families, NODATA for the missing family.
            ("shop.example.com.", rtype::A, NOERROR, &["192.0.2.10"]),
            ("shop.example.com.", rtype::AAAA, NOERROR, &["2001:db8::10"]),
            ("v4.example.com.", rtype::AAAA, NOERROR, &[]),
            ("v4.example.com.", rtype::TXT, NOERROR, &[]),
            ("v4.example.com.", rtype::MX, NOERROR, &[]),
            // One-level wildcard.
            ("x.apps.example.com.", rtype::A, NOERROR, &["192.0.2.10"]),
            ("y.x.apps.example.com.", rtype::A, NXDOMAIN, &[]),
            // Ingress class filter.
            ("traefik.example.com.", rtype::A, NXDOMAIN, &[]),
            // Load-balancer host name: a CNAME.
            (
                "aws.example.com.",
                rtype::A,
                NOERROR,
                &["lb-1.elb.example.net."],
            ),
            // Service: name.namespace under the zone, annotation hosts.
            (
                "exdns.kube-system.example.com.",
                rtype::A,
                NOERROR,
                &["192.0.2.53"],
            ),
            ("api.example.com.", rtype::A, NOERROR, &["192.0.2.20"]),
            (
                "hidden.web.example.com.",
                rtype::A,
                NOERROR,
                &["192.0.2.21"],
            ),
            // Resource order: the Ingress wins over the Service annotation.
            ("both.example.com.", rtype::A, NOERROR, &["192.0.2.13"]),
            // Routes through their Gateways; the class filter drops `private`.
            ("http.example.com.", rtype::A, NOERROR, &["192.0.2.30"]),
            ("grpc.example.com.", rtype::A, NOERROR, &["192.0.2.30"]),
            ("tls.example.com.", rtype::A, NOERROR, &["192.0.2.30"]),
            ("internal.example.com.", rtype::A, NXDOMAIN, &[]),
            (
                "named.example.com.",
                rtype::AAAA,
                NOERROR,
                &["gw.example.net."],
            ),
            // DNSEndpoint: A, TXT, no leaking between its names.
            ("txt.example.com.", rtype::A, NOERROR, &["192.0.2.40"]),
            (
                "txt.example.com.",
                rtype::TXT,
                NOERROR,
                &["\"v=spf1 -all\""],
            ),
            ("txt.example.com.", rtype::AAAA, NOERROR, &[]),
            (
                "other.example.com.",
                rtype::AAAA,
                NOERROR,
                &["2001:db8::41"],
            ),
            ("other.example.com.", rtype::A, NOERROR, &[]),
            // Node by host name, InternalIP by default.
            ("node1.example.com.", rtype::A, NOERROR, &["10.1.0.1"]),
            ("nothing.example.com.", rtype::A, NXDOMAIN, &[]),
            // Apex: NS + glue of both families, SOA; the NS host answers itself.
            (
                "example.com.",
                rtype::NS,
                NOERROR,
                &[
                    "exdns.kube-system.example.com.",
                    "peer.kube-system.example.com.",
                ],
            ),
            (
                "exdns.kube-system.example.com.",
                rtype::AAAA,
                NOERROR,
                &["2001:db8::53"],
            ),
            ("x.exdns.kube-system.example.com.", rtype::A, NXDOMAIN, &[]),
            // PTR for a served address.
            (
                "10.2.0.192.in-addr.arpa.",
                rtype::PTR,
                NOERROR,
                &["shop.example.com."],
            ),
        ],
    );
    let ns = ask(&s, "example.com.", rtype::NS);
    assert_eq!(
        {
            let mut v = ns.extra.clone();
            v.sort();
            v
        },
        [
            "exdns.kube-system.example.com.\t60\tIN\tA\t192.0.2.53",
            "exdns.kube-system.example.com.\t60\tIN\tAAAA\t2001:db8::53",
        ]
    );
    let soa = ask(&s, "example.com.", rtype::SOA);
    assert!(
        soa.answer[0].starts_with(
            "example.com.\t60\tIN\tSOA\texdns.kube-system.example.com. hostmaster.exdns.kube-system.example.com. "
        ),
        "{soa:?}"
    );
    let a = ask(&s, "shop.example.com.", rtype::A);
    assert_eq!(a.answer, ["shop.example.com.\t30\tIN\tA\t192.0.2.10"]);

    // A zone transfer over TCP.
    let mut q = query_packet("example.com.", rtype::AXFR);
    q[2] &= !0x01;
    let msgs = tcp_exchange(s.addr, &[q]).expect("transfer");
    let text: Vec<String> = msgs
        .into_iter()
        .flat_map(|m| Answer::parse(m).answer)
        .collect();
    assert!(
        text.first().is_some_and(|l| l.contains("\tSOA\t")),
        "{text:#?}"
    );
    assert!(
        text.last().is_some_and(|l| l.contains("\tSOA\t")),
        "{text:#?}"
    );
    for want in [
        "shop.example.com.\t30\tIN\tA\t192.0.2.10",
        "*.apps.example.com.\t30\tIN\tA\t192.0.2.10",
        "txt.example.com.\t30\tIN\tTXT\t\"v=spf1 -all\"",
    ] {
        assert!(text.iter().any(|l| l == want), "{want} not in {text:#?}");
    }
}

#[test]
fn objects_change_and_disappear() {
    let api = FakeApi::start_blocking(Options::default());
    populate(&api);
    let (s, _ready, _files) = start(&api, ALL);
    expect(
        &s,
        &[("shop.example.com.", rtype::A, NOERROR, &["192.0.2.10"])],
    );

    // A new address.
    api.apply(ingress(
        "shop",
        Some("nginx"),
        &["shop.example.com", "*.apps.example.com"],
        &[ip("192.0.2.99")],
    ));
    s.wait_for("shop.example.com.", rtype::A, FOLLOW, |a| {
        data(a) == ["192.0.2.99"]
    });
    s.wait_for("shop.example.com.", rtype::AAAA, FOLLOW, |a| {
        a.rcode() == NOERROR && a.answer.is_empty()
    });

    // The ignore label hides it.
    let mut ignored = ingress(
        "shop",
        Some("nginx"),
        &["shop.example.com"],
        &[ip("192.0.2.99")],
    );
    ignored["metadata"]["labels"] = json!({"k8s-gateway.dns/ignore": "true"});
    api.apply(ignored);
    s.wait_for("shop.example.com.", rtype::A, FOLLOW, |a| {
        a.rcode() == NXDOMAIN
    });

    // A Gateway's address changes; a route goes away.
    api.apply(gateway("public", "public", &[("IPAddress", "192.0.2.77")]));
    s.wait_for("http.example.com.", rtype::A, FOLLOW, |a| {
        data(a) == ["192.0.2.77"]
    });
    api.delete("gateway.networking.k8s.io/v1", "HTTPRoute", "web", "http");
    s.wait_for("http.example.com.", rtype::A, FOLLOW, |a| {
        a.rcode() == NXDOMAIN
    });

    // A Service loses its annotation: back to name.namespace.
    api.apply(lb_service(
        "web",
        "api",
        json!({"app": "api"}),
        json!({}),
        &[ip("192.0.2.20")],
    ));
    s.wait_for("api.example.com.", rtype::A, FOLLOW, |a| {
        a.rcode() == NXDOMAIN
    });
    s.wait_for("api.web.example.com.", rtype::A, FOLLOW, |a| {
        data(a) == ["192.0.2.20"]
    });

    // DNSEndpoint deleted.
    api.delete("externaldns.k8s.io/v1alpha1", "DNSEndpoint", "web", "txt");
    s.wait_for("txt.example.com.", rtype::TXT, FOLLOW, |a| {
        a.rcode() == NXDOMAIN
    });
}

#[test]
fn resource_order_and_selectors() {
    let api = FakeApi::start_blocking(Options::default());
    populate(&api);
    let (s, _ready, _files) = start(
        &api,
        "    k8s_gateway example.com {
        kubeconfig {KUBECONFIG}
        resources Service Ingress Node
        serviceLabelSelectors app=api \"app in (dns)\"
        nodeAddressType ExternalIP
    }",
    );
    expect(
        &s,
        &[
            // Service first now.
            ("both.example.com.", rtype::A, NOERROR, &["192.0.2.20"]),
            // Only Services the selectors match.
            ("hidden.web.example.com.", rtype::A, NXDOMAIN, &[]),
            (
                "exdns.kube-system.example.com.",
                rtype::A,
                NOERROR,
                &["192.0.2.53"],
            ),
            // No class filter: every Ingress.
            ("traefik.example.com.", rtype::A, NOERROR, &["192.0.2.12"]),
            ("node1.example.com.", rtype::A, NOERROR, &["192.0.2.50"]),
            // Kinds not in `resources` are not served.
            ("http.example.com.", rtype::A, NXDOMAIN, &[]),
        ],
    );
}

/// A cluster without the Gateway API and external-dns CRDs (or where RBAC forbids them):
/// ready at once, Ingresses answer, and the CRDs installed later are picked up.
fn missing_crds(access: Access) {
    let api = FakeApi::start_blocking(Options::default());
    let kinds = [
        ("gateway.networking.k8s.io/v1", "gateways"),
        ("gateway.networking.k8s.io/v1", "httproutes"),
        ("gateway.networking.k8s.io/v1", "grpcroutes"),
        ("gateway.networking.k8s.io/v1", "tlsroutes"),
        ("externaldns.k8s.io/v1alpha1", "dnsendpoints"),
    ];
    for (v, p) in kinds {
        api.set_served(v, p, access);
    }
    populate(&api);
    let (s, ready, _files) = start(&api, ALL);
    expect(
        &s,
        &[
            ("shop.example.com.", rtype::A, NOERROR, &["192.0.2.10"]),
            ("http.example.com.", rtype::A, NXDOMAIN, &[]),
            ("txt.example.com.", rtype::TXT, NXDOMAIN, &[]),
        ],
    );
    assert!(s.log().contains("checking again"), "{}", s.log());
    for (v, p) in kinds {
        api.set_served(v, p, Access::Served);
    }
    s.wait_for("http.example.com.", rtype::A, FOLLOW, |a| {
        data(a) == ["192.0.2.30"]
    });
    s.wait_for("txt.example.com.", rtype::TXT, FOLLOW, |a| {
        a.rcode() == NOERROR
    });
    assert_eq!(http_get(ready, "/ready").unwrap().0, 200);
    // Uninstalled again: its names go.
    api.set_served("gateway.networking.k8s.io/v1", "httproutes", access);
    s.wait_for("http.example.com.", rtype::A, FOLLOW, |a| {
        a.rcode() == NXDOMAIN
    });
    expect(
        &s,
        &[("grpc.example.com.", rtype::A, NOERROR, &["192.0.2.30"])],
    );
    assert_eq!(http_get(ready, "/ready").unwrap().0, 200);
}

#[test]
fn cluster_without_gateway_crds() {
    missing_crds(Access::NotFound);
}

#[test]
fn gateway_crds_forbidden() {
    missing_crds(Access::Forbidden);
}

/// With *kubernetes* on the same cluster, the Service and EndpointSlice watches are shared:
/// one list each (besides k8s_gateway's `limit=1` probes), and both plugins answer.
#[test]
fn shares_watches_with_kubernetes() {
    let api = FakeApi::start_blocking(Options::default());
    populate(&api);
    api.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}}));
    let (s, _ready, _files) = start(
        &api,
        "    kubernetes cluster.local {
        kubeconfig {KUBECONFIG}
    }
    k8s_gateway example.com {
        kubeconfig {KUBECONFIG}
    }",
    );
    expect(
        &s,
        &[
            ("api.example.com.", rtype::A, NOERROR, &["192.0.2.20"]),
            (
                "api.web.svc.cluster.local.",
                rtype::A,
                NOERROR,
                &["10.96.0.9"],
            ),
        ],
    );
    let full_lists = |plural: &str| {
        api.requests()
            .iter()
            .filter(|r| {
                r.is_list_of(plural)
                    && !r.query.contains("limit=1&")
                    && !r.query.ends_with("limit=1")
            })
            .count()
    };
    assert_eq!(full_lists("services"), 1, "{:#?}", api.requests());
    assert_eq!(full_lists("endpointslices"), 1, "{:#?}", api.requests());
}
