//! Conversions of the external-DNS kinds (`k8s_gateway`): Ingress, Gateway, HTTPRoute,
//! GRPCRoute, TLSRoute, DNSEndpoint and Node, from API JSON to the slim model.
//!
//! Same rules as [`crate::convert`]: only the documented fields are read, and a conversion
//! fails only when the object cannot stand for anything (no name, a field of the wrong type).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use signpost_k8s_model::{
    DnsEndpoint, DnsRecord, Gateway, GatewayAddress, GrpcRoute, HttpRoute, Ingress, Kind, Node,
    NodeAddress, ObjectKey, ParentRef, Route, TlsRoute, IGNORE_LABEL,
};

use crate::convert::{arc, arcs, collection_path, field, Meta, ServiceStatus, Watchable};

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRule {
    host: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct IngressSpec {
    ingress_class_name: Option<String>,
    rules: Option<Vec<RawRule>>,
}

impl Watchable for Ingress {
    const KIND: Kind = Kind::Ingress;
    const GROUP: &'static str = "networking.k8s.io";
    const VERSION: &'static str = "v1";
    const API_VERSION: &'static str = "networking.k8s.io/v1";
    const KIND_NAME: &'static str = "Ingress";
    const PLURAL: &'static str = "ingresses";
    const NAMESPACED: bool = true;
    const FIELDS: &'static [&'static str] = &["spec", "status"];

    fn from_json(object: &Value) -> Result<Ingress, String> {
        let meta = Meta::of(object)?;
        let spec: IngressSpec = field(object, "spec")?;
        let status: ServiceStatus = field(object, "status")?;
        Ok(Ingress {
            key: meta.key(),
            class: spec.ingress_class_name.map(Arc::from),
            hosts: spec
                .rules
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| r.host.filter(|h| !h.is_empty()))
                .map(Arc::from)
                .collect(),
            load_balancer: status.load_balancer(),
            ignored: ignored(&meta),
        })
    }

    fn key(&self) -> &ObjectKey {
        &self.key
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct GatewaySpec {
    gateway_class_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawGatewayAddress {
    #[serde(rename = "type")]
    kind: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GatewayStatus {
    addresses: Option<Vec<RawGatewayAddress>>,
}

impl Watchable for Gateway {
    const KIND: Kind = Kind::Gateway;
    const GROUP: &'static str = GATEWAY_GROUP;
    const VERSION: &'static str = "v1";
    const API_VERSION: &'static str = "gateway.networking.k8s.io/v1";
    const KIND_NAME: &'static str = "Gateway";
    const PLURAL: &'static str = "gateways";
    const NAMESPACED: bool = true;
    const FIELDS: &'static [&'static str] = &["spec", "status"];

    fn from_json(object: &Value) -> Result<Gateway, String> {
        let meta = Meta::of(object)?;
        let spec: GatewaySpec = field(object, "spec")?;
        let status: GatewayStatus = field(object, "status")?;
        Ok(Gateway {
            key: meta.key(),
            class: arc(spec.gateway_class_name),
            addresses: status
                .addresses
                .unwrap_or_default()
                .into_iter()
                .map(|a| GatewayAddress {
                    kind: arc(a.kind),
                    value: arc(a.value),
                })
                .collect(),
        })
    }

    fn key(&self) -> &ObjectKey {
        &self.key
    }
}

const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawParentRef {
    group: Option<String>,
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RouteSpec {
    hostnames: Option<Vec<String>>,
    parent_refs: Option<Vec<RawParentRef>>,
}

fn route(object: &Value) -> Result<Route, String> {
    let meta = Meta::of(object)?;
    let spec: RouteSpec = field(object, "spec")?;
    Ok(Route {
        key: meta.key(),
        hostnames: arcs(spec.hostnames),
        parents: spec
            .parent_refs
            .unwrap_or_default()
            .into_iter()
            .map(|p| ParentRef {
                group: p.group.map(Arc::from),
                kind: p.kind.map(Arc::from),
                namespace: p.namespace.map(Arc::from),
                name: arc(p.name),
            })
            .collect(),
        ignored: ignored(&meta),
    })
}

/// The three route kinds differ only in where they live.
macro_rules! route_kind {
    ($ty:ident, $kind:ident, $name:literal, $plural:literal) => {
        impl Watchable for $ty {
            const KIND: Kind = Kind::$kind;
            const GROUP: &'static str = GATEWAY_GROUP;
            const VERSION: &'static str = "v1";
            const API_VERSION: &'static str = "gateway.networking.k8s.io/v1";
            const KIND_NAME: &'static str = $name;
            const PLURAL: &'static str = $plural;
            const NAMESPACED: bool = true;
            const FIELDS: &'static [&'static str] = &["spec"];

            fn from_json(object: &Value) -> Result<$ty, String> {
                route(object).map($ty)
            }

            fn key(&self) -> &ObjectKey {
                &self.0.key
            }
        }
    };
}

route_kind!(HttpRoute, HttpRoute, "HTTPRoute", "httproutes");
route_kind!(GrpcRoute, GrpcRoute, "GRPCRoute", "grpcroutes");
route_kind!(TlsRoute, TlsRoute, "TLSRoute", "tlsroutes");

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawDnsRecord {
    dns_name: Option<String>,
    record_type: Option<String>,
    targets: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DnsEndpointSpec {
    endpoints: Option<Vec<RawDnsRecord>>,
}

impl Watchable for DnsEndpoint {
    const KIND: Kind = Kind::DnsEndpoint;
    const GROUP: &'static str = "externaldns.k8s.io";
    const VERSION: &'static str = "v1alpha1";
    const API_VERSION: &'static str = "externaldns.k8s.io/v1alpha1";
    const KIND_NAME: &'static str = "DNSEndpoint";
    const PLURAL: &'static str = "dnsendpoints";
    const NAMESPACED: bool = true;
    const FIELDS: &'static [&'static str] = &["spec"];

    fn from_json(object: &Value) -> Result<DnsEndpoint, String> {
        let meta = Meta::of(object)?;
        let spec: DnsEndpointSpec = field(object, "spec")?;
        Ok(DnsEndpoint {
            key: meta.key(),
            endpoints: spec
                .endpoints
                .unwrap_or_default()
                .into_iter()
                .map(|e| DnsRecord {
                    dns_name: arc(e.dns_name),
                    record_type: arc(e.record_type),
                    targets: arcs(e.targets),
                })
                .collect(),
            ignored: ignored(&meta),
        })
    }

    fn key(&self) -> &ObjectKey {
        &self.key
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawNodeAddress {
    #[serde(rename = "type")]
    kind: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NodeStatus {
    addresses: Option<Vec<RawNodeAddress>>,
}

impl Watchable for Node {
    const KIND: Kind = Kind::Node;
    const GROUP: &'static str = "";
    const VERSION: &'static str = "v1";
    const API_VERSION: &'static str = "v1";
    const KIND_NAME: &'static str = "Node";
    const PLURAL: &'static str = "nodes";
    const NAMESPACED: bool = false;
    const FIELDS: &'static [&'static str] = &["status"];

    fn from_json(object: &Value) -> Result<Node, String> {
        let meta = Meta::of(object)?;
        let status: NodeStatus = field(object, "status")?;
        Ok(Node {
            key: ObjectKey {
                namespace: Arc::from(""),
                name: arc(meta.name.clone()),
            },
            addresses: status
                .addresses
                .unwrap_or_default()
                .into_iter()
                .map(|a| NodeAddress {
                    kind: arc(a.kind),
                    address: arc(a.address),
                })
                .collect(),
            ignored: ignored(&meta),
        })
    }

    fn key(&self) -> &ObjectKey {
        &self.key
    }
}

/// The external-DNS kind whose collection `path` addresses.
pub(crate) fn kind_of_path(path: &str) -> Option<Kind> {
    fn is<T: Watchable>(path: &str) -> bool {
        path == collection_path(T::GROUP, T::VERSION, T::PLURAL)
    }
    [
        (is::<Ingress>(path), Kind::Ingress),
        (is::<Gateway>(path), Kind::Gateway),
        (is::<HttpRoute>(path), Kind::HttpRoute),
        (is::<GrpcRoute>(path), Kind::GrpcRoute),
        (is::<TlsRoute>(path), Kind::TlsRoute),
        (is::<DnsEndpoint>(path), Kind::DnsEndpoint),
        (is::<Node>(path), Kind::Node),
    ]
    .into_iter()
    .find_map(|(hit, kind)| hit.then_some(kind))
}

/// The metric label of an external-DNS kind (None for the cluster DNS kinds).
pub(crate) fn kind_label(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Ingress => Ingress::KIND_NAME,
        Kind::Gateway => Gateway::KIND_NAME,
        Kind::HttpRoute => HttpRoute::KIND_NAME,
        Kind::GrpcRoute => GrpcRoute::KIND_NAME,
        Kind::TlsRoute => TlsRoute::KIND_NAME,
        Kind::DnsEndpoint => DnsEndpoint::KIND_NAME,
        Kind::Node => Node::KIND_NAME,
        _ => return None,
    })
}

/// The `k8s-gateway.dns/ignore: "true"` label.
fn ignored(meta: &Meta) -> bool {
    meta.label(IGNORE_LABEL) == Some("true")
}

#[cfg(test)]
#[path = "convert_gateway_tests.rs"]
mod tests;
