use super::*;
use crate::wire::Wire;
use serde_json::json;

/// Converted both from the full object and from what a watch keeps of it.
fn load<T: Watchable>(v: Value) -> T {
    let direct = T::from_json(&v).unwrap();
    let wire: Wire<T> = serde_json::from_value(v).unwrap();
    let slim = T::from_json(&wire.object).unwrap();
    assert_eq!(direct, slim, "slim wire object converts differently");
    direct
}

fn s(v: &str) -> Arc<str> {
    Arc::from(v)
}

#[test]
fn ingress() {
    let ing: Ingress = load(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"k8s-gateway.dns/ignore": "true"},
                     "managedFields": [{"x": 1}]},
        "spec": {"ingressClassName": "nginx", "rules": [{"host": "a.example.com"}, {}, {"host": ""}],
                 "tls": [{"hosts": ["tls.example.com"]}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}, {"hostname": "lb.example.net"}]}}
    }));
    assert_eq!(&*ing.key.name, "web");
    assert_eq!(ing.class.as_deref(), Some("nginx"));
    assert_eq!(ing.hosts, vec![s("a.example.com")]);
    assert_eq!(ing.load_balancer.len(), 2);
    assert_eq!(&*ing.load_balancer[1].hostname, "lb.example.net");
    assert!(ing.ignored);
    // No spec, no status, ignore label with another value.
    let ing: Ingress = load(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "bare", "namespace": "shop", "labels": {"k8s-gateway.dns/ignore": "yes"}}
    }));
    assert_eq!((ing.class, ing.hosts.len(), ing.ignored), (None, 0, false));
}

#[test]
fn gateway_and_routes() {
    let gw: Gateway = load(json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "gw", "namespace": "infra"},
        "spec": {"gatewayClassName": "envoy", "listeners": []},
        "status": {"addresses": [{"type": "IPAddress", "value": "192.0.2.7"}, {"value": "2001:db8::7"}]}
    }));
    assert_eq!(&*gw.class, "envoy");
    assert_eq!(gw.addresses[1].kind, s(""));
    assert_eq!(gw.addresses[1].value, s("2001:db8::7"));
    let r: HttpRoute = load(json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "r", "namespace": "app"},
        "spec": {"hostnames": ["r.example.com"], "parentRefs": [{"name": "gw", "namespace": "infra"}, {"name": "local", "kind": "Gateway"}],
                 "rules": [{"backendRefs": [{"name": "svc"}]}]}
    }));
    assert_eq!(r.0.hostnames, vec![s("r.example.com")]);
    assert_eq!(r.0.parents[0].namespace.as_deref(), Some("infra"));
    assert_eq!(r.0.parents[1].namespace, None);
    assert_eq!(r.0.parents[1].kind.as_deref(), Some("Gateway"));
    let g: GrpcRoute = load(
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GRPCRoute",
        "metadata": {"name": "g", "namespace": "app"}}),
    );
    assert!(g.0.hostnames.is_empty() && g.0.parents.is_empty());
    let t: TlsRoute = load(
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "TLSRoute",
        "metadata": {"name": "t", "namespace": "app"}, "spec": {"hostnames": ["t.example.com"]}}),
    );
    assert_eq!(t.0.hostnames.len(), 1);
}

#[test]
fn dnsendpoint_and_node() {
    let d: DnsEndpoint = load(json!({
        "apiVersion": "externaldns.k8s.io/v1alpha1", "kind": "DNSEndpoint",
        "metadata": {"name": "d", "namespace": "app"},
        "spec": {"endpoints": [{"dnsName": "x.example.com", "recordType": "A", "targets": ["192.0.2.1"], "recordTTL": 30},
                               {"dnsName": "x.example.com", "recordType": "TXT", "targets": ["hello"]}]}
    }));
    assert_eq!(d.endpoints.len(), 2);
    assert_eq!(&*d.endpoints[1].record_type, "TXT");
    let n: Node = load(json!({
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "node1"},
        "status": {"addresses": [{"type": "Hostname", "address": "node1"}, {"type": "InternalIP", "address": "10.0.0.1"}]}
    }));
    assert_eq!(&*n.key.namespace, "");
    assert_eq!(n.addresses.len(), 2);
}

#[test]
fn bad_objects_fail_alone() {
    assert!(Ingress::from_json(&json!({"metadata": {"namespace": "x"}})).is_err());
    assert!(
        Ingress::from_json(&json!({"metadata": {"name": "x"}, "spec": {"rules": "no"}})).is_err()
    );
    assert!(
        Gateway::from_json(&json!({"metadata": {"name": "x"}, "status": {"addresses": 3}}))
            .is_err()
    );
}

#[test]
fn paths_and_labels() {
    assert_eq!(
        kind_of_path("/apis/networking.k8s.io/v1/ingresses"),
        Some(Kind::Ingress)
    );
    assert_eq!(
        kind_of_path("/apis/externaldns.k8s.io/v1alpha1/dnsendpoints"),
        Some(Kind::DnsEndpoint)
    );
    assert_eq!(kind_of_path("/api/v1/nodes"), Some(Kind::Node));
    assert_eq!(kind_of_path("/api/v1/services"), None);
    assert_eq!(kind_label(Kind::TlsRoute), Some("TLSRoute"));
    assert_eq!(kind_label(Kind::Service), None);
    assert_eq!(crate::convert::kind_label(Kind::GrpcRoute), "GRPCRoute");
}
