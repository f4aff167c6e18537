//! `kubernetes [ZONES...] { ... }`, read exactly as CoreDNS reads it (defaults, validation
//! order and error texts). The connection lines (`endpoint`, `tls`, `kubeconfig`, and
//! signpost's `manifests`) are read by the shared watch layer's `Connection`, so `k8s_api`
//! and every Kubernetes plugin accept the same ones.
//!
//! [`parse_stanza`] is public so that `kubernetai` can read each of its stanzas with the very
//! same rules.

use std::collections::BTreeSet;
use std::time::Duration;

use signpost_corefile::go_text;
use signpost_corefile::go_text::atoi;
use signpost_kube::Connection;
use signpost_plugin::{origins_from_args_or_block, ttl_option};
use signpost_plugin::{CorefileError, Dispenser, Fallthrough};
use signpost_wire::Name;

use crate::selector::Selector;

/// Default TTL of every record (CoreDNS's `defaultTTL`).
pub const DEFAULT_TTL: u32 = 5;
/// Default `startup_timeout`.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(5);

/// `pods disabled|insecure|verified`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PodMode {
    /// No pod records (the default).
    #[default]
    Disabled,
    /// `1-2-3-4.ns.pod.zone` answers with the IP its name spells, without checking.
    Insecure,
    /// The pod must exist in that namespace (watches Pods).
    Verified,
}

/// Everything one `kubernetes` stanza says.
#[derive(Debug, Clone, PartialEq)]
pub struct KubernetesConfig {
    /// Zones served, lower-case and fully qualified, in the order given.
    pub zones: Vec<Name>,
    /// Index into `zones` of the first non-reverse zone (PTR targets are built in it).
    pub primary_zone: usize,
    /// How to reach the cluster (`endpoint`, `tls`, `kubeconfig`, `manifests`; empty means
    /// the block's `k8s_api` default, else in-cluster).
    pub connection: Connection,
    /// `namespaces`: only these are exposed (empty = all).
    pub namespaces: BTreeSet<String>,
    /// `namespace_labels`: only namespaces whose labels match exist.
    pub namespace_labels: Option<Selector>,
    /// `labels`: only Services, EndpointSlices and Pods whose labels match are seen.
    pub labels: Option<Selector>,
    /// `pods`.
    pub pods: PodMode,
    /// `endpoint_pod_names`.
    pub endpoint_pod_names: bool,
    /// `ttl` (0..=3600).
    pub ttl: u32,
    /// `noendpoints`: no EndpointSlice watch.
    pub noendpoints: bool,
    /// `fallthrough [ZONES...]`.
    pub fallthrough: Fallthrough,
    /// `ignore empty_service`.
    pub ignore_empty_service: bool,
    /// `multicluster ZONES...` (each one of `zones`).
    pub multicluster: Vec<Name>,
    /// `zonal`.
    pub zonal: bool,
    /// `startup_timeout`.
    pub startup_timeout: Duration,
    /// `apiserver_qps` (0 = client default).
    pub apiserver_qps: f32,
    /// `apiserver_burst` (0 = client default).
    pub apiserver_burst: u32,
    /// `apiserver_max_inflight` (0 = unlimited).
    pub apiserver_max_inflight: u32,
}

impl KubernetesConfig {
    /// Defaults for these zones (as a bare `kubernetes ZONES` line gives).
    pub fn new(zones: Vec<Name>) -> KubernetesConfig {
        let primary_zone = zones.iter().position(|z| !is_reverse(z)).unwrap_or(0);
        KubernetesConfig {
            zones,
            primary_zone,
            connection: Connection::default(),
            namespaces: BTreeSet::new(),
            namespace_labels: None,
            labels: None,
            pods: PodMode::Disabled,
            endpoint_pod_names: false,
            ttl: DEFAULT_TTL,
            noendpoints: false,
            fallthrough: Fallthrough::default(),
            ignore_empty_service: false,
            multicluster: Vec::new(),
            zonal: false,
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            apiserver_qps: 0.0,
            apiserver_burst: 0,
            apiserver_max_inflight: 0,
        }
    }
}

/// True for names under `in-addr.arpa.` or `ip6.arpa.`.
pub(crate) fn is_reverse(name: &Name) -> bool {
    let (v4, v6) = reverse_roots();
    name.is_subdomain_of(&v4) || name.is_subdomain_of(&v6)
}

fn reverse_roots() -> (Name, Name) {
    (
        Name::from_text("in-addr.arpa.").unwrap_or_default(),
        Name::from_text("ip6.arpa.").unwrap_or_default(),
    )
}

fn zone_list(zones: &[Name]) -> String {
    let texts: Vec<String> = zones.iter().map(Name::to_string).collect();
    format!("[{}]", texts.join(" "))
}

/// Read one stanza. The dispenser sits on the directive name (`kubernetes`, or `kubernetai`);
/// `block_zones` are the server block's zones. Errors name file and line.
pub fn parse_stanza(
    d: &mut Dispenser<'_>,
    block_zones: &[Name],
) -> Result<KubernetesConfig, CorefileError> {
    let args = d.remaining_args();
    let zones = origins_from_args_or_block(&args, block_zones);
    if !zones.iter().any(|z| !is_reverse(z)) {
        return Err(d.err("non-reverse zone name must be used"));
    }
    let mut c = KubernetesConfig::new(zones);
    while d.next_block() {
        if c.connection.parse_line(d)? {
            continue;
        }
        let property = d.val().to_string();
        match property.as_str() {
            "endpoint_pod_names" => {
                if !d.remaining_args().is_empty() {
                    return Err(d.arg_err());
                }
                c.endpoint_pod_names = true;
            }
            "pods" => {
                let args = d.remaining_args();
                let [mode] = args.as_slice() else {
                    return Err(d.arg_err());
                };
                c.pods = match mode.as_str() {
                    "disabled" => PodMode::Disabled,
                    "insecure" => PodMode::Insecure,
                    "verified" => PodMode::Verified,
                    other => {
                        return Err(d.err(format!(
                            "wrong value for pods: {other},  must be one of: disabled, verified, insecure"
                        )))
                    }
                };
            }
            "namespaces" => {
                let args = d.remaining_args();
                if args.is_empty() {
                    return Err(d.arg_err());
                }
                c.namespaces.extend(args);
            }
            "labels" | "namespace_labels" => {
                let args = d.remaining_args();
                if args.is_empty() {
                    return Err(d.arg_err());
                }
                let text = args.join(" ");
                let what = if property == "labels" {
                    "label"
                } else {
                    "namespace_label"
                };
                let selector = Selector::parse(&text).map_err(|e| {
                    d.err(format!(
                        "unable to parse {what} selector value: '{text}': {e}"
                    ))
                })?;
                if property == "labels" {
                    c.labels = Some(selector);
                } else {
                    c.namespace_labels = Some(selector);
                }
            }
            "fallthrough" => c.fallthrough = Fallthrough::parse(d)?,
            "ttl" => c.ttl = ttl_option(d)?,
            "noendpoints" => {
                if !d.remaining_args().is_empty() {
                    return Err(d.arg_err());
                }
                c.noendpoints = true;
            }
            "zonal" => {
                if !d.remaining_args().is_empty() {
                    return Err(d.arg_err());
                }
                c.zonal = true;
            }
            "ignore" => {
                // No argument at all is accepted and does nothing (as in CoreDNS); extra
                // arguments after the first are ignored.
                let args = d.remaining_args();
                if let Some(first) = args.first() {
                    if first != "empty_service" {
                        return Err(d.err(format!("unable to parse ignore value: '{first}'")));
                    }
                    c.ignore_empty_service = true;
                }
            }
            "multicluster" => {
                let args = d.remaining_args();
                c.multicluster = origins_from_args_or_block(&args, &[]);
            }
            "startup_timeout" => {
                let args = d.remaining_args();
                let Some(first) = args.first() else {
                    return Err(d.arg_err());
                };
                let nanos = go_text::parse_duration(first)
                    .map_err(|e| d.err(format!("failed to parse startup_timeout: {first}, {e}")))?;
                c.startup_timeout = Duration::from_nanos(nanos.max(0) as u64);
            }
            "apiserver_qps" => {
                let args = d.remaining_args();
                let [v] = args.as_slice() else {
                    return Err(d.arg_err());
                };
                let qps: f32 = v.parse().map_err(|_| {
                    d.err(format!(
                        "invalid apiserver_qps {v:?}: strconv.ParseFloat: parsing {v:?}: invalid syntax"
                    ))
                })?;
                if qps < 0.0 {
                    return Err(d.err("apiserver_qps must be >= 0"));
                }
                c.apiserver_qps = qps;
            }
            "apiserver_burst" | "apiserver_max_inflight" => {
                let args = d.remaining_args();
                let [v] = args.as_slice() else {
                    return Err(d.arg_err());
                };
                let n = atoi(v).map_err(|e| d.err(format!("invalid {property} {v:?}: {e}")))?;
                if n < 0 {
                    return Err(d.err(format!("{property} must be >= 0")));
                }
                let n = n.min(u32::MAX as i64) as u32;
                if property == "apiserver_burst" {
                    c.apiserver_burst = n;
                } else {
                    c.apiserver_max_inflight = n;
                }
            }
            _ => return Err(d.err(format!("unknown property '{property}'"))),
        }
    }
    if !c.namespaces.is_empty() && c.namespace_labels.is_some() {
        return Err(d.err("namespaces and namespace_labels cannot both be set"));
    }
    for mz in &c.multicluster {
        if !c.zones.iter().any(|z| z.wire() == mz.wire()) {
            return Err(d.err(format!(
                "is not authoritative for the multicluster zone {mz} (authoritative zones: {})",
                zone_list(&c.zones)
            )));
        }
    }
    if c.zonal && c.noendpoints {
        return Err(d.err("zonal requires the endpoint cache; remove noendpoints"));
    }
    Ok(c)
}
