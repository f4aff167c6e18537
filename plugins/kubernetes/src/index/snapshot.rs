//! The immutable view queries read: swapped in whole after every change, never locked.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

use signpost_k8s_model::ObjectKey;

use super::pmap::{FxBuild, PMap};
use super::records::SvcEntry;

/// One PTR target for an IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PtrTarget {
    /// The full target name in wire form (built in the primary zone); `None` when the
    /// object's names do not make a valid DNS name (then only nameserver discovery uses it).
    pub(crate) target: Option<Box<[u8]>>,
    /// The Service or EndpointSlice it came from (its namespace is what the `namespaces`
    /// filter checks).
    pub(crate) owner: ObjectKey,
}

/// Everything an IP reverses to, in one allocation: the Services with this cluster IP in
/// the order they arrived (the first exposed one wins), then every ready slice address
/// equal to this IP (one per occurrence). Most IPs have exactly one target, so a list per
/// half (and the spare capacity a growing `Vec` keeps) would cost more than the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PtrEntry {
    targets: Arc<[PtrTarget]>,
    services: usize,
}

impl PtrEntry {
    /// From the two halves.
    pub(crate) fn new(services: &[PtrTarget], endpoints: &[PtrTarget]) -> PtrEntry {
        PtrEntry {
            targets: services.iter().chain(endpoints).cloned().collect(),
            services: services.len(),
        }
    }

    /// Services with this cluster IP.
    pub(crate) fn services(&self) -> &[PtrTarget] {
        &self.targets[..self.services]
    }

    /// Slice addresses equal to this IP.
    pub(crate) fn endpoints(&self) -> &[PtrTarget] {
        &self.targets[self.services..]
    }
}

/// One nameserver address (spec §11): a name relative to the zone, and its IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NsAddr {
    /// Wire labels without the root (`\x02ns\x03dns`, or `kube-dns.kube-system.svc`).
    pub(crate) rel: Box<[u8]>,
    pub(crate) ip: IpAddr,
}

/// A namespace set keyed by name bytes.
pub(crate) type NameSet = HashSet<Arc<[u8]>, FxBuild>;

/// What queries see.
#[derive(Clone, Default)]
pub(crate) struct Snapshot {
    /// `<svc><ns>` wire key → Service + its slices.
    pub(crate) entries: PMap<Arc<[u8]>, Arc<SvcEntry>>,
    /// The same for ServiceImports + MCS slices.
    pub(crate) mc_entries: PMap<Arc<[u8]>, Arc<SvcEntry>>,
    /// IP → reverse targets.
    pub(crate) ptr: PMap<IpAddr, PtrEntry>,
    /// `status.podIP` text → the pods with it.
    pub(crate) pods: PMap<Arc<[u8]>, Arc<[ObjectKey]>>,
    /// Namespaces that exist (after `namespace_labels`).
    pub(crate) namespaces: Arc<NameSet>,
    /// Nameserver discovery result.
    pub(crate) ns_addrs: Arc<[NsAddr]>,
    /// Services by the IPs among their external addresses (as written in Go's form), in the
    /// order they arrived (*k8s_external*'s PTR).
    pub(crate) ext_ptr: PMap<IpAddr, Arc<[ObjectKey]>>,
    /// Nameserver discovery in *k8s_external*'s mode: the external IPs of the Services
    /// selecting this server's addresses, else the addresses themselves.
    pub(crate) ns_external: Arc<[IpAddr]>,
    /// The same with `headless`: headless Services give their endpoint addresses.
    pub(crate) ns_external_headless: Arc<[IpAddr]>,
}
