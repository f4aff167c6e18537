//! From API objects (JSON) to the slim model: the [`Watchable`] kinds and their conversions.
//!
//! Each conversion reads only the fields its model type documents, so everything else in an
//! object (managed fields, pod specs, status conditions) is dropped at once. A conversion
//! fails only when the object cannot stand for anything (no name, a field of the wrong
//! type); the caller then skips that object with a warning and keeps the watch going.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use signpost_k8s_model::{
    empty, shared, Endpoint, EndpointSlice, Kind, Labels, LoadBalancerIngress, Namespace,
    ObjectKey, Pod, Port, Service, ServiceImport, ServiceType,
};

/// Implemented (in this crate) for the model types: [`Service`], [`EndpointSlice`], [`Pod`],
/// [`Namespace`], [`ServiceImport`]. Says where the kind lives in the API and how an object
/// of it is reduced.
pub trait Watchable:
    Send + Sync + 'static + Sized + PartialEq + std::fmt::Debug + crate::packed::Pack
{
    /// The model's kind.
    const KIND: Kind;
    /// API group ("" for the core group).
    const GROUP: &'static str;
    /// API version within the group.
    const VERSION: &'static str;
    /// `apiVersion` as objects carry it (`v1`, `discovery.k8s.io/v1`).
    const API_VERSION: &'static str;
    /// `kind` as objects carry it.
    const KIND_NAME: &'static str;
    /// Resource name in URLs.
    const PLURAL: &'static str;
    /// Whether objects live in namespaces.
    const NAMESPACED: bool;
    /// Top-level fields besides `metadata` that [`Watchable::from_json`] reads; a watch
    /// keeps only these (and a slim `metadata`) of each object it receives.
    const FIELDS: &'static [&'static str];

    /// Reduces one object, as the API serves it, to the model type.
    fn from_json(object: &Value) -> Result<Self, String>;

    /// Namespace and name.
    fn key(&self) -> &ObjectKey;
}

/// The annotations any DNS plugin reads; all others are dropped on arrival.
pub(crate) const KEPT_ANNOTATIONS: &[&str] = &[
    "coredns.io/hostname",
    "external-dns.alpha.kubernetes.io/hostname",
    "k8s-gateway.dns/resolve-endpoints",
];

/// The collection path of a kind across all namespaces (what requests to it start with).
pub(crate) fn collection_path(group: &str, version: &str, plural: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}/{plural}")
    } else {
        format!("/apis/{group}/{version}/{plural}")
    }
}

/// The kind whose collection `path` addresses (for request accounting).
pub(crate) fn kind_of_path(path: &str) -> Option<Kind> {
    fn is<T: Watchable>(path: &str) -> bool {
        path == collection_path(T::GROUP, T::VERSION, T::PLURAL)
    }
    if is::<Service>(path) {
        Some(Kind::Service)
    } else if is::<EndpointSlice>(path) {
        Some(Kind::EndpointSlice)
    } else if is::<Pod>(path) {
        Some(Kind::Pod)
    } else if is::<Namespace>(path) {
        Some(Kind::Namespace)
    } else if is::<ServiceImport>(path) {
        Some(Kind::ServiceImport)
    } else {
        crate::convert_gateway::kind_of_path(path)
    }
}

/// The metric label of a kind.
pub(crate) fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::Service => Service::KIND_NAME,
        Kind::EndpointSlice => EndpointSlice::KIND_NAME,
        Kind::Pod => Pod::KIND_NAME,
        Kind::Namespace => Namespace::KIND_NAME,
        Kind::ServiceImport => ServiceImport::KIND_NAME,
        other => crate::convert_gateway::kind_label(other).unwrap_or(""),
    }
}

pub(crate) fn parse<'a, T: Deserialize<'a>>(v: &'a Value) -> Result<T, String> {
    T::deserialize(v).map_err(|e| e.to_string())
}

/// A text most objects have their own value of (names, IPs); empty is shared.
pub(crate) fn arc(s: Option<String>) -> Arc<str> {
    match s {
        Some(s) if !s.is_empty() => Arc::from(s),
        _ => empty(),
    }
}

/// A text many objects repeat (namespaces, protocols, node names): one shared copy.
pub(crate) fn common(s: Option<String>) -> Arc<str> {
    s.as_deref().map_or_else(empty, shared)
}

pub(crate) fn arcs(v: Option<Vec<String>>) -> Vec<Arc<str>> {
    v.unwrap_or_default()
        .into_iter()
        .map(|s| arc(Some(s)))
        .collect()
}

fn labels(m: Option<BTreeMap<String, String>>) -> Labels {
    m.unwrap_or_default().into_iter().collect()
}

/// The sentinel port of a Service or slice without ports.
fn sentinel() -> Vec<Port> {
    vec![Port {
        name: empty(),
        protocol: empty(),
        port: -1,
    }]
}

/// `metadata` as conversions need it.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Meta {
    pub(crate) name: Option<String>,
    namespace: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    annotations: Option<BTreeMap<String, String>>,
    deletion_timestamp: Option<serde::de::IgnoredAny>,
}

impl Meta {
    pub(crate) fn of(object: &Value) -> Result<Meta, String> {
        let meta: Meta = match object.get("metadata") {
            Some(m) if !m.is_null() => parse(m).map_err(|e| format!("metadata: {e}"))?,
            _ => return Err("no metadata".into()),
        };
        if meta.name.as_deref().unwrap_or("").is_empty() {
            return Err("no metadata.name".into());
        }
        Ok(meta)
    }

    pub(crate) fn key(&self) -> ObjectKey {
        ObjectKey {
            namespace: common(self.namespace.clone()),
            name: arc(self.name.clone()),
        }
    }

    /// The value of one label.
    pub(crate) fn label(&self, key: &str) -> Option<&str> {
        self.labels.as_ref()?.get(key).map(String::as_str)
    }

    /// The key with the name shared too: a Service's name recurs in its slices' labels
    /// and often in its own `app` label.
    fn shared_key(&self) -> ObjectKey {
        ObjectKey {
            namespace: common(self.namespace.clone()),
            name: common(self.name.clone()),
        }
    }
}

/// Reads one top-level field (absent or null gives the default).
pub(crate) fn field<'a, T: Deserialize<'a> + Default>(
    object: &'a Value,
    name: &str,
) -> Result<T, String> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => parse(v).map_err(|e| format!("{name}: {e}")),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPort {
    name: Option<String>,
    protocol: Option<String>,
    port: Option<i32>,
}

impl RawPort {
    /// A port; a missing number becomes -1 when `optional` (slices), else is an error.
    fn convert(self, optional: bool) -> Result<Port, String> {
        let port = match self.port {
            Some(p) => p,
            None if optional => -1,
            None => return Err("port without a number".into()),
        };
        Ok(Port {
            name: common(self.name),
            protocol: common(self.protocol),
            port,
        })
    }
}

fn ports(raw: Option<Vec<RawPort>>, optional: bool) -> Result<Vec<Port>, String> {
    raw.unwrap_or_default()
        .into_iter()
        .map(|p| p.convert(optional))
        .collect()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ServiceSpec {
    #[serde(rename = "type")]
    service_type: Option<String>,
    #[serde(rename = "clusterIP")]
    cluster_ip: Option<String>,
    #[serde(rename = "clusterIPs")]
    cluster_ips: Option<Vec<String>>,
    external_name: Option<String>,
    ports: Option<Vec<RawPort>>,
    #[serde(rename = "externalIPs")]
    external_ips: Option<Vec<String>>,
}

/// A `status` with a `loadBalancer` (Services, Ingresses).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ServiceStatus {
    load_balancer: Option<LoadBalancerStatus>,
}

impl ServiceStatus {
    /// `status.loadBalancer.ingress`.
    pub(crate) fn load_balancer(self) -> Vec<LoadBalancerIngress> {
        self.load_balancer
            .and_then(|lb| lb.ingress)
            .unwrap_or_default()
            .into_iter()
            .map(|i| LoadBalancerIngress {
                ip: arc(i.ip),
                hostname: arc(i.hostname),
            })
            .collect()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoadBalancerStatus {
    ingress: Option<Vec<RawIngress>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawIngress {
    ip: Option<String>,
    hostname: Option<String>,
}

impl Watchable for Service {
    const KIND: Kind = Kind::Service;
    const GROUP: &'static str = "";
    const VERSION: &'static str = "v1";
    const API_VERSION: &'static str = "v1";
    const KIND_NAME: &'static str = "Service";
    const PLURAL: &'static str = "services";
    const NAMESPACED: bool = true;
    const FIELDS: &'static [&'static str] = &["spec", "status"];

    fn from_json(object: &Value) -> Result<Service, String> {
        let meta = Meta::of(object)?;
        let spec: ServiceSpec = field(object, "spec")?;
        let status: ServiceStatus = field(object, "status")?;
        let service_type = match spec.service_type.as_deref() {
            Some("NodePort") => ServiceType::NodePort,
            Some("LoadBalancer") => ServiceType::LoadBalancer,
            Some("ExternalName") => ServiceType::ExternalName,
            _ => ServiceType::ClusterIp,
        };
        let cluster_ips = match spec.cluster_ips {
            Some(ips) if !ips.is_empty() => arcs(Some(ips)),
            _ => vec![arc(spec.cluster_ip)],
        };
        let mut ports = ports(spec.ports, false).map_err(|e| format!("spec.ports: {e}"))?;
        if ports.is_empty() {
            ports = sentinel();
        }
        let load_balancer = status.load_balancer();
        let annotations = meta
            .annotations
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| KEPT_ANNOTATIONS.contains(&k.as_str()))
            .collect();
        Ok(Service {
            key: meta.shared_key(),
            service_type,
            cluster_ips,
            external_name: arc(spec.external_name),
            ports,
            external_ips: arcs(spec.external_ips),
            load_balancer,
            labels: labels(meta.labels),
            annotations: labels(Some(annotations)),
        })
    }

    fn key(&self) -> &ObjectKey {
        &self.key
    }
}

/// Label naming the Service of a plain slice.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// Label naming the ServiceImport of an MCS slice.
const MCS_SERVICE_NAME_LABEL: &str = "multicluster.kubernetes.io/service-name";
/// Label naming the cluster an MCS slice comes from.
const MCS_SOURCE_CLUSTER_LABEL: &str = "multicluster.kubernetes.io/source-cluster";

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawEndpoint {
    addresses: Option<Vec<String>>,
    conditions: Option<RawConditions>,
    hostname: Option<String>,
    node_name: Option<String>,
    target_ref: Option<RawTargetRef>,
    zone: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawConditions {
    ready: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTargetRef {
    name: Option<String>,
    kind: Option<String>,
}

impl Watchable for EndpointSlice {
    const KIND: Kind = Kind::EndpointSlice;
    const GROUP: &'static str = "discovery.k8s.io";
    const VERSION: &'static str = "v1";
    const API_VERSION: &'static str = "discovery.k8s.io/v1";
    const KIND_NAME: &'static str = "EndpointSlice";
    const PLURAL: &'static str = "endpointslices";
    const NAMESPACED: bool = true;
    const FIELDS: &'static [&'static str] = &["addressType", "endpoints", "ports"];

    fn from_json(object: &Value) -> Result<EndpointSlice, String> {
        let meta = Meta::of(object)?;
        let slice_labels = labels(meta.labels.clone());
        let label = |k: &str| slice_labels.get(k).cloned();
        let service_name = label(MCS_SERVICE_NAME_LABEL).or_else(|| label(SERVICE_NAME_LABEL));
        let source_cluster = label(MCS_SOURCE_CLUSTER_LABEL);
        let address_type: Option<String> = field(object, "addressType")?;
        let raw_endpoints: Option<Vec<RawEndpoint>> = field(object, "endpoints")?;
        let endpoints = raw_endpoints
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                let target = e.target_ref.unwrap_or_default();
                Endpoint {
                    addresses: arcs(e.addresses),
                    ready: e.conditions.and_then(|c| c.ready),
                    hostname: arc(e.hostname),
                    node_name: common(e.node_name),
                    target_ref_name: arc(target.name),
                    target_ref_kind: common(target.kind),
                    zone: common(e.zone),
                }
            })
            .collect();
        let mut ports = ports(field(object, "ports")?, true).map_err(|e| format!("ports: {e}"))?;
        if ports.is_empty() {
            ports = sentinel();
        }
        Ok(EndpointSlice {
            key: meta.key(),
            service_name: service_name.unwrap_or_else(empty),
            source_cluster: source_cluster.unwrap_or_else(empty),
            address_type: common(address_type),
            endpoints,
            ports,
            labels: slice_labels,
        })
    }

    fn key(&self) -> &ObjectKey {
        &self.key
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PodStatus {
    #[serde(rename = "podIP")]
    pod_ip: Option<String>,
    #[serde(rename = "podIPs")]
    pod_ips: Option<Vec<RawPodIp>>,
    phase: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawPodIp {
    ip: Option<String>,
}

impl Watchable for Pod {
    const KIND: Kind = Kind::Pod;
    const GROUP: &'static str = "";
    const VERSION: &'static str = "v1";
    const API_VERSION: &'static str = "v1";
    const KIND_NAME: &'static str = "Pod";
    const PLURAL: &'static str = "pods";
    const NAMESPACED: bool = true;
    const FIELDS: &'static [&'static str] = &["status"];

    fn from_json(object: &Value) -> Result<Pod, String> {
        let meta = Meta::of(object)?;
        let status: PodStatus = field(object, "status")?;
        Ok(Pod {
            key: meta.key(),
            pod_ip: arc(status.pod_ip),
            pod_ips: status
                .pod_ips
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| p.ip)
                .map(|ip| arc(Some(ip)))
                .collect(),
            deleting: meta.deletion_timestamp.is_some(),
            phase: common(status.phase),
            labels: labels(meta.labels),
        })
    }

    fn key(&self) -> &ObjectKey {
        &self.key
    }
}

impl Watchable for Namespace {
    const KIND: Kind = Kind::Namespace;
    const GROUP: &'static str = "";
    const VERSION: &'static str = "v1";
    const API_VERSION: &'static str = "v1";
    const KIND_NAME: &'static str = "Namespace";
    const PLURAL: &'static str = "namespaces";
    const NAMESPACED: bool = false;
    const FIELDS: &'static [&'static str] = &[];

    fn from_json(object: &Value) -> Result<Namespace, String> {
        let meta = Meta::of(object)?;
        Ok(Namespace {
            key: ObjectKey {
                namespace: empty(),
                name: common(meta.name),
            },
            labels: labels(meta.labels),
        })
    }

    fn key(&self) -> &ObjectKey {
        &self.key
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ImportSpec {
    #[serde(rename = "type")]
    import_type: Option<String>,
    ips: Option<Vec<String>>,
    ports: Option<Vec<RawPort>>,
}

impl Watchable for ServiceImport {
    const KIND: Kind = Kind::ServiceImport;
    const GROUP: &'static str = "multicluster.x-k8s.io";
    const VERSION: &'static str = "v1alpha1";
    const API_VERSION: &'static str = "multicluster.x-k8s.io/v1alpha1";
    const KIND_NAME: &'static str = "ServiceImport";
    const PLURAL: &'static str = "serviceimports";
    const NAMESPACED: bool = true;
    const FIELDS: &'static [&'static str] = &["spec"];

    fn from_json(object: &Value) -> Result<ServiceImport, String> {
        let meta = Meta::of(object)?;
        let spec: ImportSpec = field(object, "spec")?;
        Ok(ServiceImport {
            key: meta.key(),
            import_type: common(spec.import_type),
            ips: arcs(spec.ips),
            ports: ports(spec.ports, false).map_err(|e| format!("spec.ports: {e}"))?,
            labels: labels(meta.labels),
        })
    }

    fn key(&self) -> &ObjectKey {
        &self.key
    }
}

/// The key an object would have, for warnings about objects that fail to convert.
pub(crate) fn key_of(object: &Value) -> ObjectKey {
    let s = |p: &str| Arc::from(object.pointer(p).and_then(Value::as_str).unwrap_or(""));
    ObjectKey {
        namespace: s("/metadata/namespace"),
        name: s("/metadata/name"),
    }
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
