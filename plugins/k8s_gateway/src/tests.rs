//! Unit tests: option parsing (every option, every error) and table-driven answers from an
//! index fed model objects directly.

use std::sync::Arc;

use signpost_k8s_model::{
    DnsEndpoint, DnsRecord, Event, Gateway, GatewayAddress, HttpRoute, Ingress, Labels,
    LoadBalancerIngress, Node, NodeAddress, ObjectKey, ParentRef, Route, Service, ServiceType,
};
use signpost_plugin::testing::{request, run, Case, NxDomain};
use signpost_plugin::{Chain, Directive, Plugin};
use signpost_transfer::Transferer;
use signpost_wire::{rcode, rtype, Name, Response};

use crate::config::{parse, Config, Host, Resource};
use crate::handler::K8sGateway;
use crate::index::Index;

/// Runs `c` through `chain` and checks the answer; the response is returned for more checks.
fn checked(chain: &Arc<Chain>, c: &Case) -> Response {
    let (_, resp) = run(chain, &request(c.qname, c.qtype)).unwrap();
    c.check(&resp).unwrap_or_else(|e| panic!("{e}"));
    resp
}

fn parsed(text: &str) -> Result<Config, String> {
    let blocks = signpost_corefile::parse("Corefile", text).map_err(|e| e.to_string())?;
    let ds: Vec<Directive> = blocks[0]
        .directives
        .iter()
        .filter(|d| d.name() == "k8s_gateway")
        .cloned()
        .collect();
    let zones = [Name::from_text("example.org.").unwrap()];
    parse(&ds, &zones).map_err(|e| e.with_plugin("k8s_gateway").to_string())
}

fn n(s: &str) -> Name {
    Name::from_text(s).unwrap()
}

#[test]
fn parse_options() {
    let c = parsed("example.org {\n k8s_gateway\n}").unwrap();
    assert_eq!(c.zones, [n("example.org.")]);
    assert_eq!(c.resources, [Resource::Ingress, Resource::Service]);
    assert_eq!(c.ttl, 60);
    assert_eq!(c.apex, Host::Relative(n("dns1.kube-system.")));
    assert_eq!(c.secondary, None);
    assert!(c.fall.is_off());
    assert_eq!(c.node_address_type, "InternalIP");
    let c = parsed(
        "example.org {
  k8s_gateway Example.COM 10.0.0.0/24 {
    resources HTTPRoute Ingress Bogus Ingress DNSEndpoint Node
    ingressClasses nginx public
    gatewayClasses envoy
    serviceLabelSelectors \"app = web\" \"tier in (a,b)\"
    ttl 0
    apex ns1.example.net.
    secondary dns2
    kubeconfig /k ctx
    fallthrough example.com
    nodeAddressType ExternalIP
  }
}",
    )
    .unwrap();
    assert_eq!(c.zones, [n("example.com."), n("0.0.10.in-addr.arpa.")]);
    assert_eq!(
        c.resources,
        [
            Resource::HttpRoute,
            Resource::Ingress,
            Resource::DnsEndpoint,
            Resource::Node
        ]
    );
    assert_eq!(
        c.ingress_classes,
        Some(vec!["nginx".into(), "public".into()])
    );
    assert_eq!(c.gateway_classes, Some(vec!["envoy".into()]));
    assert_eq!(c.service_selectors, ["app=web", "tier in (a,b)"]);
    assert_eq!(c.ttl, 0);
    assert_eq!(c.apex, Host::Absolute(n("ns1.example.net.")));
    assert_eq!(c.secondary, Some(Host::Relative(n("dns2."))));
    assert_eq!(
        c.connection.kubeconfig,
        Some(("/k".into(), Some("ctx".into())))
    );
    assert!(c.fall.through(&n("a.example.com.")));
    assert!(!c.fall.through(&n("a.example.org.")));
    assert_eq!(c.node_address_type, "ExternalIP");
    // Only unknown resources: nothing is watched (as upstream), no default.
    let c = parsed("example.org {\n k8s_gateway {\n  resources Foo\n }\n}").unwrap();
    assert!(c.resources.is_empty());
}

#[test]
fn parse_errors() {
    let e = |line: u32, msg: &str| {
        format!("plugin/k8s_gateway: Corefile:{line} - Error during parsing: {msg}")
    };
    for (body, want) in [
        (
            "resources",
            e(3, "Incorrectly formatted 'resource' parameter"),
        ),
        (
            "ingressClasses",
            e(3, "Incorrectly formatted 'ingressClasses' parameter"),
        ),
        (
            "gatewayClasses",
            e(3, "Incorrectly formatted 'gatewayClasses' parameter"),
        ),
        (
            "serviceLabelSelectors",
            e(
                3,
                "serviceLabelSelectors requires at least one argument (a label selector)",
            ),
        ),
        (
            "serviceLabelSelectors \"\"",
            e(3, "serviceLabelSelectors does not accept empty strings"),
        ),
        (
            "ttl",
            e(
                3,
                "Wrong argument count or unexpected line ending after 'ttl'",
            ),
        ),
        ("ttl x", e(3, "strconv.Atoi: parsing \"x\": invalid syntax")),
        ("ttl 3601", e(3, "ttl must be in range [0, 3600]: 3601")),
        (
            "apex",
            e(
                3,
                "Wrong argument count or unexpected line ending after 'apex'",
            ),
        ),
        ("apex a..b", e(3, "invalid apex 'a..b'")),
        (
            "secondary",
            e(
                3,
                "Wrong argument count or unexpected line ending after 'secondary'",
            ),
        ),
        (
            "kubeconfig",
            e(
                3,
                "Wrong argument count or unexpected line ending after 'kubeconfig'",
            ),
        ),
        (
            "nodeAddressType",
            e(
                3,
                "Wrong argument count or unexpected line ending after 'nodeAddressType'",
            ),
        ),
        (
            "nodeAddressType Hostname",
            e(
                3,
                "nodeAddressType must be 'InternalIP' or 'ExternalIP', got: Hostname",
            ),
        ),
        ("bogus 1", e(3, "Unknown property 'bogus'")),
    ] {
        let text = format!("example.org {{\n k8s_gateway {{\n  {body}\n }}\n}}");
        assert_eq!(parsed(&text).unwrap_err(), want, "{body}");
    }
    let err = parsed("example.org {\n k8s_gateway {\n  serviceLabelSelectors \"a in b\"\n }\n}")
        .unwrap_err();
    assert!(
        err.contains("invalid serviceLabelSelectors \"a in b\""),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Answers

fn key(ns: &str, name: &str) -> ObjectKey {
    ObjectKey {
        namespace: Arc::from(ns),
        name: Arc::from(name),
    }
}

fn lb(entries: &[&str]) -> Vec<LoadBalancerIngress> {
    entries
        .iter()
        .map(|e| {
            let ip = e.parse::<std::net::IpAddr>().is_ok();
            LoadBalancerIngress {
                ip: Arc::from(if ip { *e } else { "" }),
                hostname: Arc::from(if ip { "" } else { *e }),
            }
        })
        .collect()
}

fn ingress(name: &str, class: Option<&str>, hosts: &[&str], addrs: &[&str]) -> Arc<Ingress> {
    Arc::new(Ingress {
        key: key("ns", name),
        class: class.map(Arc::from),
        hosts: hosts.iter().map(|h| Arc::from(*h)).collect(),
        load_balancer: lb(addrs),
        ignored: false,
    })
}

fn service(name: &str, annotation: Option<&str>, addrs: &[&str]) -> Arc<Service> {
    let mut annotations = Labels::new();
    if let Some(a) = annotation {
        annotations.insert("coredns.io/hostname", a);
    }
    Arc::new(Service {
        key: key("ns", name),
        service_type: ServiceType::LoadBalancer,
        cluster_ips: vec![Arc::from("10.96.0.1")],
        external_name: Arc::from(""),
        ports: Vec::new(),
        external_ips: Vec::new(),
        load_balancer: lb(addrs),
        labels: Labels::new(),
        annotations,
    })
}

fn dns_endpoint(name: &str, records: &[(&str, &str, &[&str])]) -> Arc<DnsEndpoint> {
    Arc::new(DnsEndpoint {
        key: key("ns", name),
        endpoints: records
            .iter()
            .map(|(n, t, targets)| DnsRecord {
                dns_name: Arc::from(*n),
                record_type: Arc::from(*t),
                targets: targets.iter().map(|x| Arc::from(*x)).collect(),
            })
            .collect(),
        ignored: false,
    })
}

const COREFILE: &str = "example.com {
  k8s_gateway example.com 192.0.2.0/24 {
    resources Ingress Service HTTPRoute DNSEndpoint Node
    ingressClasses nginx
    gatewayClasses public
    apex dns1.kube-system
    secondary dns2.kube-system
  }
}";

/// A plugin over an index holding the test objects.
fn world(corefile: &str) -> (Arc<Chain>, Arc<K8sGateway>) {
    let blocks = signpost_corefile::parse("Corefile", corefile).unwrap();
    let ds: Vec<Directive> = blocks[0].directives.clone();
    let config = parse(&ds, &[n("example.com.")]).unwrap();
    let index = Index::new(&config);
    index.ingresses().on_event(&Event::Reset(
        vec![
            ingress(
                "web",
                Some("nginx"),
                &["www.example.com", "*.apps.example.com"],
                &["192.0.2.10", "2001:db8::10"],
            ),
            ingress("v4", Some("nginx"), &["v4.example.com"], &["192.0.2.11"]),
            ingress(
                "other-class",
                Some("traefik"),
                &["hidden.example.com"],
                &["192.0.2.12"],
            ),
            ingress("no-class", None, &["noclass.example.com"], &["192.0.2.13"]),
            ingress(
                "lbname",
                Some("nginx"),
                &["aws.example.com"],
                &["lb.elb.example.net"],
            ),
            ingress(
                "shadow",
                Some("nginx"),
                &["both.example.com"],
                &["192.0.2.14"],
            ),
            Arc::new(Ingress {
                ignored: true,
                ..(*ingress(
                    "ignored",
                    Some("nginx"),
                    &["ignored.example.com"],
                    &["192.0.2.15"],
                ))
                .clone()
            }),
        ]
        .into(),
    ));
    index.services(0).on_event(&Event::Reset(
        vec![
            service("self", None, &["192.0.2.53", "2001:db8::53"]),
            service(
                "annotated",
                Some("svc.example.com, *.wild.example.com"),
                &["192.0.2.20"],
            ),
            service("both", Some("both.example.com"), &["192.0.2.21"]),
            Arc::new(Service {
                key: key("kube-system", "dns1"),
                ..(*service("x", None, &["192.0.2.1", "2001:db8::1"])).clone()
            }),
            Arc::new(Service {
                key: key("kube-system", "dns2"),
                ..(*service("x", None, &["192.0.2.2"])).clone()
            }),
        ]
        .into(),
    ));
    index.slices().on_event(&Event::Reset(vec![].into()));
    index.gateways().on_event(&Event::Reset(
        vec![
            Arc::new(Gateway {
                key: key("infra", "gw"),
                class: Arc::from("public"),
                addresses: vec![GatewayAddress {
                    kind: Arc::from(""),
                    value: Arc::from("192.0.2.30"),
                }],
            }),
            Arc::new(Gateway {
                key: key("infra", "private"),
                class: Arc::from("internal"),
                addresses: vec![GatewayAddress {
                    kind: Arc::from("IPAddress"),
                    value: Arc::from("192.0.2.31"),
                }],
            }),
        ]
        .into(),
    ));
    let parent = |ns: Option<&str>, name: &str| ParentRef {
        group: None,
        kind: None,
        namespace: ns.map(Arc::from),
        name: Arc::from(name),
    };
    index.http_routes().on_event(&Event::Reset(
        vec![Arc::new(HttpRoute(Route {
            key: key("app", "r"),
            hostnames: vec![Arc::from("route.example.com")],
            parents: vec![
                parent(Some("infra"), "gw"),
                parent(Some("infra"), "private"),
            ],
            ignored: false,
        }))]
        .into(),
    ));
    index.dns_endpoints().on_event(&Event::Reset(
        vec![dns_endpoint(
            "de",
            &[
                ("txt.example.com", "A", &["192.0.2.40"]),
                ("txt.example.com", "TXT", &["hello", "world"]),
                ("other.example.com", "AAAA", &["2001:db8::41", "192.0.2.99"]),
                ("onlytxt.example.com", "TXT", &["only"]),
            ],
        )]
        .into(),
    ));
    index.nodes().on_event(&Event::Reset(
        vec![Arc::new(Node {
            key: key("", "node1"),
            addresses: vec![
                NodeAddress {
                    kind: Arc::from("Hostname"),
                    address: Arc::from("node1"),
                },
                NodeAddress {
                    kind: Arc::from("InternalIP"),
                    address: Arc::from("10.1.0.1"),
                },
            ],
            ignored: false,
        })]
        .into(),
    ));
    index.slots_done();
    assert!(index.is_synced());
    let plugin = Arc::new(K8sGateway::new(config, index));
    let chain = Chain::new(vec![plugin.clone() as Arc<dyn Plugin>, Arc::new(NxDomain)]);
    (chain, plugin)
}

const SOA: &str =
    "example.com. 60 IN SOA dns1.kube-system.example.com. hostmaster.dns1.kube-system.example.com.";

fn soa_prefix(rr: &str) -> bool {
    rr.starts_with(SOA)
}

#[test]
fn answers() {
    let (chain, _) = world(COREFILE);
    let cases = [
        Case {
            qname: "www.example.com.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: vec!["www.example.com. 60 IN A 192.0.2.10"],
            ..Case::default()
        },
        Case {
            qname: "WWW.example.com.",
            qtype: rtype::AAAA,
            rcode: rcode::NOERROR,
            answer: vec!["www.example.com. 60 IN AAAA 2001:db8::10"],
            ..Case::default()
        },
        // Wildcard, one level only.
        Case {
            qname: "x.apps.example.com.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: vec!["x.apps.example.com. 60 IN A 192.0.2.10"],
            ..Case::default()
        },
        // Relative key `self.ns` under the zone; Service annotations with wildcard.
        Case {
            qname: "self.ns.example.com.",
            qtype: rtype::AAAA,
            rcode: rcode::NOERROR,
            answer: vec!["self.ns.example.com. 60 IN AAAA 2001:db8::53"],
            ..Case::default()
        },
        Case {
            qname: "svc.example.com.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: vec!["svc.example.com. 60 IN A 192.0.2.20"],
            ..Case::default()
        },
        Case {
            qname: "a.wild.example.com.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: vec!["a.wild.example.com. 60 IN A 192.0.2.20"],
            ..Case::default()
        },
        // Resource order: Ingress before Service.
        Case {
            qname: "both.example.com.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: vec!["both.example.com. 60 IN A 192.0.2.14"],
            ..Case::default()
        },
        // Gateway class filter: only the public Gateway's address.
        Case {
            qname: "route.example.com.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: vec!["route.example.com. 60 IN A 192.0.2.30"],
            ..Case::default()
        },
        Case {
            qname: "txt.example.com.",
            qtype: rtype::TXT,
            rcode: rcode::NOERROR,
            answer: vec![
                "txt.example.com. 60 IN TXT \"hello\"",
                "txt.example.com. 60 IN TXT \"world\"",
            ],
            ..Case::default()
        },
        Case {
            qname: "txt.example.com.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: vec!["txt.example.com. 60 IN A 192.0.2.40"],
            ..Case::default()
        },
        // No leaking between the names of one DNSEndpoint, and no IPv4 from an AAAA record.
        Case {
            qname: "other.example.com.",
            qtype: rtype::AAAA,
            rcode: rcode::NOERROR,
            answer: vec!["other.example.com. 60 IN AAAA 2001:db8::41"],
            ..Case::default()
        },
        Case {
            qname: "node1.example.com.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: vec!["node1.example.com. 60 IN A 10.1.0.1"],
            ..Case::default()
        },
        Case {
            qname: "aws.example.com.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: vec!["aws.example.com. 60 IN CNAME lb.elb.example.net."],
            ..Case::default()
        },
        Case {
            qname: "example.com.",
            qtype: rtype::NS,
            rcode: rcode::NOERROR,
            answer: vec![
                "example.com. 60 IN NS dns1.kube-system.example.com.",
                "example.com. 60 IN NS dns2.kube-system.example.com.",
            ],
            extra: vec![
                "dns1.kube-system.example.com. 60 IN A 192.0.2.1",
                "dns1.kube-system.example.com. 60 IN AAAA 2001:db8::1",
                "dns2.kube-system.example.com. 60 IN A 192.0.2.2",
            ],
            ..Case::default()
        },
        Case {
            qname: "dns1.kube-system.example.com.",
            qtype: rtype::AAAA,
            rcode: rcode::NOERROR,
            answer: vec!["dns1.kube-system.example.com. 60 IN AAAA 2001:db8::1"],
            ..Case::default()
        },
        Case {
            qname: "10.2.0.192.in-addr.arpa.",
            qtype: rtype::PTR,
            rcode: rcode::NOERROR,
            answer: vec!["10.2.0.192.in-addr.arpa. 60 IN PTR www.example.com."],
            ..Case::default()
        },
    ];
    for c in &cases {
        let resp = checked(&chain, c);
        assert!(resp.authoritative(), "{}", c.qname);
    }
}

/// Negative answers: (name, type, rcode); each carries the SOA in the authority section.
#[test]
fn negative_answers() {
    let (chain, _) = world(COREFILE);
    for (name, qtype, want) in [
        ("v4.example.com.", rtype::AAAA, rcode::NOERROR),
        ("v4.example.com.", rtype::TXT, rcode::NOERROR),
        ("onlytxt.example.com.", rtype::A, rcode::NOERROR),
        ("v4.example.com.", rtype::MX, rcode::NOERROR),
        ("v4.example.com.", rtype::SOA, rcode::NOERROR),
        ("example.com.", rtype::A, rcode::NOERROR),
        ("nothing.example.com.", rtype::A, rcode::NXDOMAIN),
        ("nothing.example.com.", rtype::MX, rcode::NXDOMAIN),
        ("hidden.example.com.", rtype::A, rcode::NXDOMAIN),
        ("noclass.example.com.", rtype::A, rcode::NXDOMAIN),
        ("ignored.example.com.", rtype::A, rcode::NXDOMAIN),
        ("y.x.apps.example.com.", rtype::A, rcode::NXDOMAIN),
        ("a.dns1.kube-system.example.com.", rtype::A, rcode::NXDOMAIN),
    ] {
        let (_, resp) = run(&chain, &request(name, qtype)).unwrap();
        let a = signpost_testkit_lite::sections(&resp);
        assert_eq!(resp.rcode(), want, "{name} {qtype}");
        assert!(a[0].is_empty(), "{name} {qtype}: {:?}", a[0]);
        assert_eq!(a[1].len(), 1, "{name} {qtype}: {:?}", a[1]);
        assert!(soa_prefix(&a[1][0]), "{name} {qtype}: {}", a[1][0]);
    }
    let (_, resp) = run(&chain, &request("99.2.0.192.in-addr.arpa.", rtype::PTR)).unwrap();
    assert_eq!(resp.rcode(), rcode::NXDOMAIN);
    let a = signpost_testkit_lite::sections(&resp);
    assert!(
        a[1][0].starts_with("2.0.192.in-addr.arpa. 60 IN SOA "),
        "{:?}",
        a[1]
    );
    // SOA at the apex is an answer.
    let (_, resp) = run(&chain, &request("example.com.", rtype::SOA)).unwrap();
    let a = signpost_testkit_lite::sections(&resp);
    assert!(soa_prefix(&a[0][0]), "{:?}", a[0]);
}

#[test]
fn fallthrough_and_out_of_zone() {
    let (chain, _) = world(
        "example.com {\n k8s_gateway example.com {\n  resources Ingress\n  fallthrough\n }\n}",
    );
    let (o, _) = run(&chain, &request("nothing.example.com.", rtype::A)).unwrap();
    assert_eq!(o.plugin, "test-nxdomain");
    let (o, _) = run(&chain, &request("www.example.org.", rtype::A)).unwrap();
    assert_eq!(o.plugin, "test-nxdomain");
    let (o, _) = run(&chain, &request("www.example.com.", rtype::A)).unwrap();
    assert_eq!(o.plugin, "k8s_gateway");
}

#[test]
fn unsynced_is_servfail() {
    let blocks = signpost_corefile::parse("Corefile", COREFILE).unwrap();
    let config = parse(&blocks[0].directives, &[n("example.com.")]).unwrap();
    let index = Index::new(&config);
    let _sub = index.ingresses();
    let plugin = Arc::new(K8sGateway::new(config, index));
    let chain = Chain::new(vec![plugin as Arc<dyn Plugin>]);
    let (o, _) = run(&chain, &request("www.example.com.", rtype::A)).unwrap();
    assert_eq!(o.rcode, rcode::SERVFAIL);
}

#[test]
fn transfer() {
    let (_, plugin) = world(COREFILE);
    let mut got = Vec::new();
    plugin
        .transfer(&n("example.com."), 0, &mut |r| got.push(r.to_string()))
        .unwrap();
    assert!(got[0].contains("SOA") && got.last().unwrap().contains("SOA"));
    for want in [
        "example.com.\t60\tIN\tNS\tdns1.kube-system.example.com.",
        "dns1.kube-system.example.com.\t60\tIN\tAAAA\t2001:db8::1",
        "www.example.com.\t60\tIN\tA\t192.0.2.10",
        "*.apps.example.com.\t60\tIN\tA\t192.0.2.10",
        "self.ns.example.com.\t60\tIN\tA\t192.0.2.53",
        "txt.example.com.\t60\tIN\tTXT\t\"hello\"",
        "aws.example.com.\t60\tIN\tCNAME\tlb.elb.example.net.",
        "both.example.com.\t60\tIN\tA\t192.0.2.14",
    ] {
        assert!(got.iter().any(|g| g == want), "{want} not in {got:#?}");
    }
    assert!(
        !got.iter().any(|g| g.contains("192.0.2.21")),
        "shadowed Service sent"
    );
    let mut ptr = Vec::new();
    plugin
        .transfer(&n("2.0.192.in-addr.arpa."), 0, &mut |r| {
            ptr.push(r.to_string())
        })
        .unwrap();
    assert!(
        ptr.iter()
            .any(|g| g == "10.2.0.192.in-addr.arpa.\t60\tIN\tPTR\twww.example.com."),
        "{ptr:#?}"
    );
    assert_eq!(
        plugin.transfer(&n("example.org."), 0, &mut |_| {}),
        Err(signpost_transfer::TransferError::NotAuthoritative)
    );
    // IXFR from the current serial: the SOA alone.
    let serial = plugin.index.load().serial;
    let mut one = 0;
    plugin
        .transfer(&n("example.com."), serial, &mut |_| one += 1)
        .unwrap();
    assert_eq!(one, 1);
}

/// Sections of a response as text.
mod signpost_testkit_lite {
    use signpost_wire::text::message_sections;
    use signpost_wire::Response;

    pub(super) fn sections(resp: &Response) -> Vec<Vec<String>> {
        message_sections(resp.bytes())
            .unwrap()
            .iter()
            .map(|s| s.iter().map(|r| r.to_string().replace('\t', " ")).collect())
            .collect()
    }
}

#[global_allocator]
static GLOBAL: signpost_plugin::testing::CountingAlloc = signpost_plugin::testing::CountingAlloc;

/// The sync path answers from memory without allocating, whatever the answer.
#[test]
fn answers_do_not_allocate() {
    let (_, plugin) = world(COREFILE);
    let empty = Chain::new(Vec::new());
    for (name, qtype) in [
        ("www.example.com.", rtype::A),
        ("www.example.com.", rtype::AAAA),
        ("v4.example.com.", rtype::AAAA),
        ("x.apps.example.com.", rtype::A),
        ("self.ns.example.com.", rtype::A),
        ("txt.example.com.", rtype::TXT),
        ("aws.example.com.", rtype::A),
        ("nothing.example.com.", rtype::A),
        ("example.com.", rtype::NS),
        ("example.com.", rtype::SOA),
        ("dns1.kube-system.example.com.", rtype::A),
        ("10.2.0.192.in-addr.arpa.", rtype::PTR),
    ] {
        let owned = request(name, qtype);
        let r = owned.request().unwrap();
        let mut resp = signpost_wire::Response::new();
        plugin.serve(&r, &mut resp, empty.start());
        let before = signpost_plugin::testing::allocations();
        plugin.serve(&r, &mut resp, empty.start());
        let after = signpost_plugin::testing::allocations();
        assert_eq!(after - before, 0, "{name} {qtype} allocated");
    }
}

/// An apex of any label count works (upstream: only two labels), glue included.
#[test]
fn one_label_apex() {
    let (chain, _) =
        world("example.com {\n k8s_gateway example.com {\n  resources Node\n  apex node1\n }\n}");
    let cases = [
        Case {
            qname: "example.com.",
            qtype: rtype::NS,
            rcode: rcode::NOERROR,
            answer: vec!["example.com. 60 IN NS node1.example.com."],
            extra: vec!["node1.example.com. 60 IN A 10.1.0.1"],
            ..Case::default()
        },
        Case {
            qname: "node1.example.com.",
            qtype: rtype::A,
            rcode: rcode::NOERROR,
            answer: vec!["node1.example.com. 60 IN A 10.1.0.1"],
            ..Case::default()
        },
    ];
    for c in &cases {
        checked(&chain, c);
    }
}
