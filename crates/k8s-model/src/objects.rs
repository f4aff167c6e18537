//! Slim objects: the fields DNS reads from each kind (see the kubernetes plugin spec §1.1).

use std::sync::Arc;

use crate::strings::Labels;

/// Which kind an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// core/v1 Service.
    Service,
    /// discovery.k8s.io/v1 EndpointSlice.
    EndpointSlice,
    /// core/v1 Pod.
    Pod,
    /// core/v1 Namespace.
    Namespace,
    /// multicluster.x-k8s.io/v1alpha1 ServiceImport.
    ServiceImport,
    /// networking.k8s.io/v1 Ingress.
    Ingress,
    /// gateway.networking.k8s.io/v1 Gateway.
    Gateway,
    /// gateway.networking.k8s.io/v1 HTTPRoute.
    HttpRoute,
    /// gateway.networking.k8s.io/v1 GRPCRoute.
    GrpcRoute,
    /// gateway.networking.k8s.io/v1 TLSRoute.
    TlsRoute,
    /// externaldns.k8s.io/v1alpha1 DNSEndpoint.
    DnsEndpoint,
    /// core/v1 Node.
    Node,
}

/// Namespace and name: the identity of an object within its kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// Namespace ("" for cluster-scoped kinds).
    pub namespace: Arc<str>,
    /// Name.
    pub name: Arc<str>,
}

/// A port of a Service, ServiceImport or EndpointSlice. A Service or slice without ports
/// carries one port with `port == -1` (CoreDNS's sentinel).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Port {
    /// Port name ("" when unnamed).
    pub name: Arc<str>,
    /// Protocol as written ("TCP", "UDP", "SCTP"; "" when unset).
    pub protocol: Arc<str>,
    /// Port number, or -1.
    pub port: i32,
}

/// `spec.type` of a Service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ServiceType {
    /// ClusterIP (also the default when unset).
    #[default]
    ClusterIp,
    /// NodePort.
    NodePort,
    /// LoadBalancer.
    LoadBalancer,
    /// ExternalName.
    ExternalName,
}

/// One `status.loadBalancer.ingress[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoadBalancerIngress {
    /// `ip` ("" when absent).
    pub ip: Arc<str>,
    /// `hostname` ("" when absent).
    pub hostname: Arc<str>,
}

/// A Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Namespace and name.
    pub key: ObjectKey,
    /// `spec.type`.
    pub service_type: ServiceType,
    /// `spec.clusterIPs`, or `[spec.clusterIP]` when that list is empty (so "None" marks a
    /// headless service and "" an ExternalName one).
    pub cluster_ips: Vec<Arc<str>>,
    /// `spec.externalName`.
    pub external_name: Arc<str>,
    /// `spec.ports` (or the -1 sentinel).
    pub ports: Vec<Port>,
    /// `spec.externalIPs`.
    pub external_ips: Vec<Arc<str>>,
    /// `status.loadBalancer.ingress`.
    pub load_balancer: Vec<LoadBalancerIngress>,
    /// Labels (label selectors, k8s_gateway's filters).
    pub labels: Labels,
    /// The annotations DNS plugins read (hostname annotations); others are dropped.
    pub annotations: Labels,
}

impl Service {
    /// Headless ⇔ the first cluster IP is "None".
    pub fn is_headless(&self) -> bool {
        self.cluster_ips.first().is_some_and(|ip| &**ip == "None")
    }
}

/// One endpoint of a slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `addresses`.
    pub addresses: Vec<Arc<str>>,
    /// `conditions.ready` (None = unset, which counts as ready).
    pub ready: Option<bool>,
    /// `hostname` ("" when absent).
    pub hostname: Arc<str>,
    /// `nodeName` ("" when absent).
    pub node_name: Arc<str>,
    /// `targetRef.name` ("" when absent).
    pub target_ref_name: Arc<str>,
    /// `targetRef.kind` ("" when absent).
    pub target_ref_kind: Arc<str>,
    /// `zone` ("" when absent).
    pub zone: Arc<str>,
}

impl Endpoint {
    /// Ready when the condition is true or unset.
    pub fn is_ready(&self) -> bool {
        self.ready.unwrap_or(true)
    }
}

/// An EndpointSlice (plain or MCS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSlice {
    /// Namespace and name.
    pub key: ObjectKey,
    /// Label `kubernetes.io/service-name` (or, for MCS slices,
    /// `multicluster.kubernetes.io/service-name`); "" when absent.
    pub service_name: Arc<str>,
    /// Label `multicluster.kubernetes.io/source-cluster` ("" when absent).
    pub source_cluster: Arc<str>,
    /// `addressType` ("IPv4", "IPv6", "FQDN").
    pub address_type: Arc<str>,
    /// `endpoints`.
    pub endpoints: Vec<Endpoint>,
    /// `ports` (or the -1 sentinel).
    pub ports: Vec<Port>,
    /// Labels.
    pub labels: Labels,
}

/// A Pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    /// Namespace and name.
    pub key: ObjectKey,
    /// `status.podIP`.
    pub pod_ip: Arc<str>,
    /// `status.podIPs[].ip`.
    pub pod_ips: Vec<Arc<str>>,
    /// `metadata.deletionTimestamp` is set.
    pub deleting: bool,
    /// `status.phase`.
    pub phase: Arc<str>,
    /// Labels.
    pub labels: Labels,
}

/// A Namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// Name (key.namespace is "").
    pub key: ObjectKey,
    /// Labels.
    pub labels: Labels,
}

/// An MCS ServiceImport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceImport {
    /// Namespace and name.
    pub key: ObjectKey,
    /// `spec.type` ("ClusterSetIP" or "Headless").
    pub import_type: Arc<str>,
    /// `spec.ips`.
    pub ips: Vec<Arc<str>>,
    /// `spec.ports`.
    pub ports: Vec<Port>,
    /// Labels.
    pub labels: Labels,
}
