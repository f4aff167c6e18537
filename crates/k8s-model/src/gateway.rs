//! Slim objects of the external-DNS kinds (`k8s_gateway`): Ingress, Gateway API Gateways and
//! routes, external-dns DNSEndpoints, Nodes.
//!
//! Like the cluster DNS kinds they keep only what an answer needs. The label
//! `k8s-gateway.dns/ignore: "true"` is read on arrival into `ignored`, so labels are not kept.

use std::sync::Arc;

use crate::objects::{LoadBalancerIngress, ObjectKey};

/// The label that hides an object from `k8s_gateway` (value exactly `true`).
pub const IGNORE_LABEL: &str = "k8s-gateway.dns/ignore";

/// A networking.k8s.io/v1 Ingress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingress {
    /// Namespace and name.
    pub key: ObjectKey,
    /// `spec.ingressClassName` (None when unset).
    pub class: Option<Arc<str>>,
    /// `spec.rules[].host` (empty hosts dropped).
    pub hosts: Vec<Arc<str>>,
    /// `status.loadBalancer.ingress`.
    pub load_balancer: Vec<LoadBalancerIngress>,
    /// Carries the ignore label.
    pub ignored: bool,
}

/// One `status.addresses[]` entry of a Gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayAddress {
    /// `type` ("" when unset, which the API defaults to `IPAddress`).
    pub kind: Arc<str>,
    /// `value`.
    pub value: Arc<str>,
}

/// A gateway.networking.k8s.io/v1 Gateway (the parent of routes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    /// Namespace and name.
    pub key: ObjectKey,
    /// `spec.gatewayClassName`.
    pub class: Arc<str>,
    /// `status.addresses`.
    pub addresses: Vec<GatewayAddress>,
}

/// One `spec.parentRefs[]` entry of a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentRef {
    /// `group` (None when unset: the Gateway API group).
    pub group: Option<Arc<str>>,
    /// `kind` (None when unset: `Gateway`).
    pub kind: Option<Arc<str>>,
    /// `namespace` (None when unset: the route's namespace).
    pub namespace: Option<Arc<str>>,
    /// `name`.
    pub name: Arc<str>,
}

/// What DNS reads of any Gateway API route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Namespace and name.
    pub key: ObjectKey,
    /// `spec.hostnames`.
    pub hostnames: Vec<Arc<str>>,
    /// `spec.parentRefs`.
    pub parents: Vec<ParentRef>,
    /// Carries the ignore label.
    pub ignored: bool,
}

/// A gateway.networking.k8s.io/v1 HTTPRoute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRoute(pub Route);

/// A gateway.networking.k8s.io/v1 GRPCRoute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrpcRoute(pub Route);

/// A gateway.networking.k8s.io/v1 TLSRoute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsRoute(pub Route);

/// One `spec.endpoints[]` entry of a DNSEndpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// `dnsName` as written.
    pub dns_name: Arc<str>,
    /// `recordType` ("A", "AAAA", "TXT", "CNAME", ...).
    pub record_type: Arc<str>,
    /// `targets`.
    pub targets: Vec<Arc<str>>,
}

/// An externaldns.k8s.io/v1alpha1 DNSEndpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsEndpoint {
    /// Namespace and name.
    pub key: ObjectKey,
    /// `spec.endpoints`.
    pub endpoints: Vec<DnsRecord>,
    /// Carries the ignore label.
    pub ignored: bool,
}

/// One `status.addresses[]` entry of a Node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddress {
    /// `type` (`Hostname`, `InternalIP`, `ExternalIP`, ...).
    pub kind: Arc<str>,
    /// `address`.
    pub address: Arc<str>,
}

/// A core/v1 Node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Name (key.namespace is "").
    pub key: ObjectKey,
    /// `status.addresses`.
    pub addresses: Vec<NodeAddress>,
    /// Carries the ignore label.
    pub ignored: bool,
}
