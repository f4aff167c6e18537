//! The table of resource types the fake serves: group, version, plural, kind, scope, short names.
//!
//! Objects are stored as plain JSON, so adding a type is one line here; discovery, routing and
//! `apply` all read this table.

/// One served resource type (a group/version/resource triple and how it is named).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResourceType {
    /// API group, "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    /// Lower-case plural used in URLs ("services").
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    /// Short names kubectl resolves through discovery ("svc").
    pub short_names: &'static [&'static str],
}

impl ResourceType {
    /// "v1" for the core group, "group/version" otherwise (the `apiVersion` of its objects).
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The kind of the list object ("ServiceList").
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// "services" or "endpointslices.discovery.k8s.io", as the real server names it in messages.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

const fn rt(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
) -> ResourceType {
    ResourceType {
        group,
        version,
        plural,
        singular,
        kind,
        namespaced,
        short_names,
    }
}

/// Every resource type the fake knows, in discovery order.
pub static RESOURCES: &[ResourceType] = &[
    rt(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        false,
        &["ns"],
    ),
    rt("", "v1", "nodes", "node", "Node", false, &["no"]),
    rt("", "v1", "pods", "pod", "Pod", true, &["po"]),
    rt("", "v1", "services", "service", "Service", true, &["svc"]),
    rt(
        "",
        "v1",
        "endpoints",
        "endpoints",
        "Endpoints",
        true,
        &["ep"],
    ),
    rt(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "endpointslice",
        "EndpointSlice",
        true,
        &[],
    ),
    rt(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "ingress",
        "Ingress",
        true,
        &["ing"],
    ),
    rt(
        "gateway.networking.k8s.io",
        "v1",
        "gateways",
        "gateway",
        "Gateway",
        true,
        &["gtw"],
    ),
    rt(
        "gateway.networking.k8s.io",
        "v1",
        "httproutes",
        "httproute",
        "HTTPRoute",
        true,
        &[],
    ),
    rt(
        "gateway.networking.k8s.io",
        "v1",
        "grpcroutes",
        "grpcroute",
        "GRPCRoute",
        true,
        &[],
    ),
    rt(
        "gateway.networking.k8s.io",
        "v1",
        "tlsroutes",
        "tlsroute",
        "TLSRoute",
        true,
        &[],
    ),
    rt(
        "gateway.networking.k8s.io",
        "v1alpha2",
        "tlsroutes",
        "tlsroute",
        "TLSRoute",
        true,
        &[],
    ),
    rt(
        "multicluster.x-k8s.io",
        "v1alpha1",
        "serviceimports",
        "serviceimport",
        "ServiceImport",
        true,
        &["svcim"],
    ),
    rt(
        "externaldns.k8s.io",
        "v1alpha1",
        "dnsendpoints",
        "dnsendpoint",
        "DNSEndpoint",
        true,
        &[],
    ),
];

/// Split an `apiVersion` into (group, version): "v1" -> ("", "v1").
pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// The type with this apiVersion and kind.
pub(crate) fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    let (group, version) = split_api_version(api_version);
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// The type with this group, version and plural.
pub(crate) fn by_plural(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The API groups (other than core) with their versions, preferred (first listed) first.
pub(crate) fn groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) => {
                if !versions.contains(&r.version) {
                    versions.push(r.version);
                }
            }
            None => out.push((r.group, vec![r.version])),
        }
    }
    out
}
