use super::*;
use crate::wire::Wire;
use serde_json::json;

/// A fixture converted both from the full object and from what a watch keeps of it (the two
/// must agree, or the watch would drop a field the conversion needs).
fn load<T: Watchable>(text: &str) -> T {
    let full: Value = serde_json::from_str(text).unwrap();
    let direct = T::from_json(&full).unwrap();
    let wire: Wire<T> = serde_json::from_str(text).unwrap();
    let slim = T::from_json(&wire.object).unwrap();
    assert_eq!(direct, slim, "slim wire object converts differently");
    direct
}

fn s(v: &str) -> Arc<str> {
    Arc::from(v)
}

fn port(name: &str, protocol: &str, port: i32) -> Port {
    Port {
        name: s(name),
        protocol: s(protocol),
        port,
    }
}

fn key(ns: &str, name: &str) -> ObjectKey {
    ObjectKey {
        namespace: s(ns),
        name: s(name),
    }
}

#[test]
fn service_with_cluster_ips() {
    let svc: Service = load(include_str!("../testdata/service-clusterip.json"));
    assert_eq!(svc.key, key("shop", "web"));
    assert_eq!(svc.service_type, ServiceType::ClusterIp);
    assert_eq!(
        svc.cluster_ips,
        vec![s("10.96.0.100"), s("fd00:10:96::100")]
    );
    assert!(!svc.is_headless());
    assert_eq!(
        svc.ports,
        vec![port("http", "TCP", 80), port("dns", "UDP", 53)]
    );
    assert_eq!(&*svc.external_name, "");
    assert!(svc.external_ips.is_empty());
    assert!(svc.load_balancer.is_empty());
    assert_eq!(svc.labels.len(), 2);
    assert_eq!(svc.labels.get("tier").map(|v| &**v), Some("front"));
    // Only the DNS annotations are kept.
    assert_eq!(
        svc.annotations.iter().collect::<Vec<_>>(),
        vec![(&s("coredns.io/hostname"), &s("www.example.org"))]
    );
}

#[test]
fn service_without_cluster_ips_falls_back_and_gets_port_numbers_only() {
    let svc: Service = load(include_str!("../testdata/service-clusterip-legacy.json"));
    assert_eq!(svc.cluster_ips, vec![s("10.96.0.7")]);
    assert_eq!(svc.ports, vec![port("", "", 8080)]);
    assert_eq!(svc.service_type, ServiceType::ClusterIp);
}

#[test]
fn headless_service_gets_sentinel_port() {
    let svc: Service = load(include_str!("../testdata/service-headless.json"));
    assert!(svc.is_headless());
    assert_eq!(svc.cluster_ips, vec![s("None")]);
    assert_eq!(svc.ports, vec![port("", "", -1)]);
}

#[test]
fn external_name_service() {
    let svc: Service = load(include_str!("../testdata/service-externalname.json"));
    assert_eq!(svc.service_type, ServiceType::ExternalName);
    assert_eq!(&*svc.external_name, "db.example.net");
    // No clusterIP at all: one empty entry, as CoreDNS keeps it.
    assert_eq!(svc.cluster_ips, vec![s("")]);
    assert_eq!(svc.ports, vec![port("pg", "TCP", 5432)]);
}

#[test]
fn load_balancer_ingress_and_external_ips() {
    let svc: Service = load(include_str!("../testdata/service-loadbalancer.json"));
    assert_eq!(svc.service_type, ServiceType::LoadBalancer);
    assert_eq!(svc.external_ips, vec![s("192.0.2.10")]);
    assert_eq!(
        svc.load_balancer,
        vec![
            LoadBalancerIngress {
                ip: s("198.51.100.7"),
                hostname: s("")
            },
            LoadBalancerIngress {
                ip: s(""),
                hostname: s("lb-1234.elb.example.com")
            },
            LoadBalancerIngress {
                ip: s("198.51.100.8"),
                hostname: s("")
            },
        ]
    );
    assert_eq!(svc.annotations.len(), 2);
    assert!(!svc.annotations.contains_key("other"));
}

#[test]
fn node_port_type() {
    let svc = Service::from_json(&json!({
        "metadata": {"name": "np", "namespace": "a"},
        "spec": {"type": "NodePort", "clusterIP": "10.0.0.9", "clusterIPs": []}
    }))
    .unwrap();
    assert_eq!(svc.service_type, ServiceType::NodePort);
    // An empty clusterIPs list falls back to clusterIP.
    assert_eq!(svc.cluster_ips, vec![s("10.0.0.9")]);
}

#[test]
fn endpoint_slice_conditions_ports_and_target_refs() {
    let sl: EndpointSlice = load(include_str!("../testdata/endpointslice.json"));
    assert_eq!(sl.key, key("shop", "web-abc12"));
    assert_eq!(&*sl.service_name, "web");
    assert_eq!(&*sl.source_cluster, "");
    assert_eq!(&*sl.address_type, "IPv4");
    assert_eq!(sl.endpoints.len(), 3);

    let e0 = &sl.endpoints[0];
    assert_eq!(e0.addresses, vec![s("10.244.1.5")]);
    assert_eq!(e0.ready, Some(true));
    assert!(e0.is_ready());
    assert_eq!(&*e0.hostname, "web-0");
    assert_eq!(&*e0.node_name, "node-a");
    assert_eq!(&*e0.zone, "zone-1");
    assert_eq!(&*e0.target_ref_name, "web-0");
    assert_eq!(&*e0.target_ref_kind, "Pod");

    // Unset ready counts as ready; several addresses stay together.
    let e1 = &sl.endpoints[1];
    assert_eq!(e1.ready, None);
    assert!(e1.is_ready());
    assert_eq!(e1.addresses, vec![s("10.244.2.6"), s("10.244.2.7")]);
    assert_eq!(&*e1.hostname, "");
    assert_eq!(&*e1.target_ref_name, "web-1");

    // Not-ready endpoints are kept (the index decides), marked as such.
    let e2 = &sl.endpoints[2];
    assert_eq!(e2.ready, Some(false));
    assert!(!e2.is_ready());
    assert_eq!(&*e2.target_ref_name, "");
    assert_eq!(&*e2.target_ref_kind, "");

    // A slice port without a number is the -1 sentinel.
    assert_eq!(
        sl.ports,
        vec![port("http", "TCP", 8080), port("", "UDP", -1)]
    );
}

#[test]
fn mcs_slice_uses_the_mcs_labels() {
    let sl: EndpointSlice = load(include_str!("../testdata/endpointslice-mcs.json"));
    assert_eq!(&*sl.service_name, "web");
    assert_eq!(&*sl.source_cluster, "east");
    assert_eq!(&*sl.address_type, "IPv6");
    assert_eq!(sl.endpoints[0].ready, None);
    assert_eq!(sl.ports, vec![port("", "", -1)]);
}

#[test]
fn slice_without_service_label() {
    let sl = EndpointSlice::from_json(&json!({
        "metadata": {"name": "orphan", "namespace": "a"},
        "addressType": "FQDN",
        "endpoints": [{"addresses": ["example.org"]}],
        "ports": []
    }))
    .unwrap();
    assert_eq!(&*sl.service_name, "");
    assert_eq!(&*sl.address_type, "FQDN");
    assert_eq!(sl.ports, vec![port("", "", -1)]);
}

#[test]
fn pod() {
    let p: Pod = load(include_str!("../testdata/pod.json"));
    assert_eq!(p.key, key("shop", "web-0"));
    assert_eq!(&*p.pod_ip, "10.244.1.5");
    assert_eq!(p.pod_ips, vec![s("10.244.1.5"), s("fd00:244::5")]);
    assert_eq!(&*p.phase, "Running");
    assert!(p.deleting);
    assert_eq!(p.labels.get("app").map(|v| &**v), Some("web"));

    let p = Pod::from_json(&json!({"metadata": {"name": "new", "namespace": "a"}})).unwrap();
    assert!(!p.deleting);
    assert_eq!(&*p.pod_ip, "");
    assert!(p.pod_ips.is_empty());
    assert_eq!(&*p.phase, "");
}

#[test]
fn namespace() {
    let n: Namespace = load(include_str!("../testdata/namespace.json"));
    assert_eq!(n.key, key("", "shop"));
    assert_eq!(n.labels.get("team").map(|v| &**v), Some("a"));
}

#[test]
fn service_import() {
    let i: ServiceImport = load(include_str!("../testdata/serviceimport.json"));
    assert_eq!(i.key, key("shop", "web"));
    assert_eq!(&*i.import_type, "ClusterSetIP");
    assert_eq!(i.ips, vec![s("10.42.0.1")]);
    assert_eq!(i.ports, vec![port("http", "TCP", 80)]);
    let h = ServiceImport::from_json(&json!({
        "metadata": {"name": "h", "namespace": "a"},
        "spec": {"type": "Headless"}
    }))
    .unwrap();
    assert_eq!(&*h.import_type, "Headless");
    assert!(h.ips.is_empty());
    assert!(h.ports.is_empty());
}

#[test]
fn bad_objects_are_errors() {
    let cases = [
        (json!({"spec": {}}), "no metadata"),
        (json!({"metadata": null}), "no metadata"),
        (json!({"metadata": {"namespace": "a"}}), "no metadata.name"),
        (json!({"metadata": {"name": ""}}), "no metadata.name"),
        (
            json!({"metadata": {"name": 7}}),
            "metadata: invalid type: integer `7`, expected a string",
        ),
        (
            json!({"metadata": {"name": "a", "labels": {"x": 1}}}),
            "metadata: invalid type: integer `1`, expected a string",
        ),
        (
            json!({"metadata": {"name": "a"}, "spec": {"clusterIPs": "10.0.0.1"}}),
            "spec: invalid type: string \"10.0.0.1\", expected a sequence",
        ),
        (
            json!({"metadata": {"name": "a"}, "spec": {"ports": [{"name": "x"}]}}),
            "spec.ports: port without a number",
        ),
        (
            json!({"metadata": {"name": "a"}, "spec": {"ports": [{"port": "80"}]}}),
            "spec: invalid type: string \"80\", expected i32",
        ),
    ];
    for (obj, want) in cases {
        assert_eq!(Service::from_json(&obj).unwrap_err(), want, "{obj}");
    }
    let err = EndpointSlice::from_json(&json!({
        "metadata": {"name": "a"}, "endpoints": [{"conditions": {"ready": "yes"}}]
    }))
    .unwrap_err();
    assert!(err.starts_with("endpoints: invalid type"), "{err}");
}

#[test]
fn kinds_and_paths() {
    assert_eq!(kind_of_path("/api/v1/services"), Some(Kind::Service));
    assert_eq!(
        kind_of_path("/apis/discovery.k8s.io/v1/endpointslices"),
        Some(Kind::EndpointSlice)
    );
    assert_eq!(kind_of_path("/api/v1/pods"), Some(Kind::Pod));
    assert_eq!(kind_of_path("/api/v1/namespaces"), Some(Kind::Namespace));
    assert_eq!(
        kind_of_path("/apis/multicluster.x-k8s.io/v1alpha1/serviceimports"),
        Some(Kind::ServiceImport)
    );
    assert_eq!(kind_of_path("/version"), None);
    assert_eq!(kind_label(Kind::EndpointSlice), "EndpointSlice");
}
