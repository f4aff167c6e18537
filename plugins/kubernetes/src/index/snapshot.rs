//! The immutable view queries read: swapped in whole after every change, never locked.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

use signpost_k8s_model::ObjectKey;

use signpost_wire::Name;

use super::pmap::{FxBuild, PMap, PSet};
use super::records::{Host, SliceRec, SvcEntry};

/// One PTR target for an IP: the record it comes from. The target name is made when a query
/// asks (`<svc>.<ns>.svc.<zone>`, or `<endpoint>.<svc>.<ns>.svc.<zone>`) rather than
/// stored: a few words per IP instead of a name.
#[derive(Debug, Clone)]
pub(crate) enum PtrTarget {
    /// The Service of this entry has this cluster IP.
    Service(Arc<SvcEntry>),
    /// Ready address number `.1` of a (plain) slice.
    Endpoint(SliceRec, u32),
}

impl PartialEq for PtrTarget {
    fn eq(&self, o: &Self) -> bool {
        match (self, o) {
            (PtrTarget::Service(a), PtrTarget::Service(b)) => Arc::ptr_eq(a, b),
            (PtrTarget::Endpoint(a, i), PtrTarget::Endpoint(b, j)) => a.same_bytes(b) && i == j,
            _ => false,
        }
    }
}

impl Eq for PtrTarget {}

impl PtrTarget {
    /// A Service's target.
    pub(crate) fn is_service(&self) -> bool {
        matches!(self, PtrTarget::Service(_))
    }

    /// The namespace of the Service or EndpointSlice it came from (what the `namespaces`
    /// filter checks).
    pub(crate) fn namespace(&self) -> &[u8] {
        match self {
            PtrTarget::Service(e) => e.namespace(),
            PtrTarget::Endpoint(s, _) => s.namespace().as_bytes(),
        }
    }

    /// The labels of the target name below the zone: the endpoint's (empty for a Service),
    /// then the Service's, the namespace and `svc`.
    fn labels(&self, pod_names: bool) -> (Host<'_>, [&[u8]; 3]) {
        match self {
            PtrTarget::Service(e) => (Host::Text(b""), [e.name(), e.namespace(), b"svc"]),
            PtrTarget::Endpoint(s, i) => (
                s.addrs(pod_names)
                    .nth(*i as usize)
                    .map_or(Host::Text(b""), |a| a.host),
                [
                    s.service(false).as_bytes(),
                    s.namespace().as_bytes(),
                    b"svc",
                ],
            ),
        }
    }

    /// Whether two targets name the same name.
    pub(crate) fn same_name(&self, o: &PtrTarget, pod_names: bool) -> bool {
        self.labels(pod_names) == o.labels(pod_names)
    }

    /// The target name in `zone`; `None` when the object's names do not make a valid DNS
    /// name.
    pub(crate) fn name(&self, zone: &Name, pod_names: bool) -> Option<Name> {
        let (host, rest) = self.labels(pod_names);
        let mut buf = [0u8; 255];
        let mut n = 0;
        // A Service's name has no endpoint label.
        let first = (!self.is_service()).then_some(&*host);
        for l in first.into_iter().chain(rest) {
            if l.is_empty() || l.len() > 63 || n + 1 + l.len() > buf.len() {
                return None;
            }
            buf[n] = l.len() as u8;
            buf[n + 1..n + 1 + l.len()].copy_from_slice(l);
            n += 1 + l.len();
        }
        let zone = zone.wire();
        buf.get_mut(n..n + zone.len())?.copy_from_slice(zone);
        Name::from_wire(&buf[..n + zone.len()]).ok()
    }
}

/// Everything an IP reverses to: the Services with this cluster IP in the order they
/// arrived (the first exposed one wins), then every ready slice address equal to this IP
/// (one per occurrence). Most IPs have exactly one target, kept inline; the list of the
/// others is behind a thin pointer so an entry stays two words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PtrEntry {
    One(PtrTarget),
    Many(Arc<Vec<PtrTarget>>),
}

impl PtrEntry {
    /// From the targets, Services first.
    pub(crate) fn new(mut targets: Vec<PtrTarget>) -> Option<PtrEntry> {
        match targets.len() {
            0 => None,
            1 => targets.pop().map(PtrEntry::One),
            _ => Some(PtrEntry::Many(Arc::new(targets))),
        }
    }

    /// All targets, Services first.
    pub(crate) fn all(&self) -> &[PtrTarget] {
        match self {
            PtrEntry::One(t) => std::slice::from_ref(t),
            PtrEntry::Many(v) => v,
        }
    }

    /// Services with this cluster IP.
    pub(crate) fn services(&self) -> &[PtrTarget] {
        let all = self.all();
        &all[..all.iter().take_while(|t| t.is_service()).count()]
    }

    /// Slice addresses equal to this IP.
    pub(crate) fn endpoints(&self) -> &[PtrTarget] {
        let all = self.all();
        &all[all.iter().take_while(|t| t.is_service()).count()..]
    }
}

/// IP → reverse targets, IPv4 and IPv6 apart: keyed by the address as a number, an IPv4
/// entry takes half the table space an `IpAddr` key would.
#[derive(Clone, Default)]
pub(crate) struct PtrMap {
    v4: PMap<u32, PtrEntry>,
    v6: PMap<u128, PtrEntry>,
}

impl PtrMap {
    pub(crate) fn get(&self, ip: &IpAddr) -> Option<&PtrEntry> {
        match ip {
            IpAddr::V4(a) => self.v4.get(&u32::from(*a)),
            IpAddr::V6(a) => self.v6.get(&u128::from(*a)),
        }
    }

    pub(crate) fn insert(&mut self, ip: IpAddr, entry: PtrEntry) {
        match ip {
            IpAddr::V4(a) => self.v4.insert(u32::from(a), entry),
            IpAddr::V6(a) => self.v6.insert(u128::from(a), entry),
        }
    }

    pub(crate) fn remove(&mut self, ip: &IpAddr) {
        match ip {
            IpAddr::V4(a) => self.v4.remove(&u32::from(*a)),
            IpAddr::V6(a) => self.v6.remove(&u128::from(*a)),
        }
    }

    /// Adds a target for `ip`: a Service after the other Services, an endpoint last.
    pub(crate) fn add_target(&mut self, ip: IpAddr, t: PtrTarget) {
        let mut list = self.get(&ip).map_or_else(Vec::new, |e| e.all().to_vec());
        let at = if t.is_service() {
            list.iter().take_while(|x| x.is_service()).count()
        } else {
            list.len()
        };
        list.insert(at, t);
        if let Some(entry) = PtrEntry::new(list) {
            self.insert(ip, entry);
        }
    }

    /// Removes one occurrence of `t` (an IP listed twice is there twice).
    pub(crate) fn remove_target(&mut self, ip: IpAddr, t: &PtrTarget) {
        let Some(cur) = self.get(&ip) else {
            return;
        };
        let mut list = cur.all().to_vec();
        if let Some(pos) = list.iter().position(|x| x == t) {
            list.remove(pos);
        }
        match PtrEntry::new(list) {
            Some(entry) => self.insert(ip, entry),
            None => self.remove(&ip),
        }
    }

    /// Puts `new` where `old` was, keeping the order of the others.
    pub(crate) fn replace_target(&mut self, ip: IpAddr, old: &PtrTarget, new: &PtrTarget) {
        let Some(cur) = self.get(&ip) else {
            return;
        };
        if !cur.all().contains(old) {
            return;
        }
        let list: Vec<PtrTarget> = cur
            .all()
            .iter()
            .map(|x| if x == old { new.clone() } else { x.clone() })
            .collect();
        if let Some(entry) = PtrEntry::new(list) {
            self.insert(ip, entry);
        }
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
    pub(crate) entries: PSet<Arc<SvcEntry>>,
    /// The same for ServiceImports + MCS slices.
    pub(crate) mc_entries: PSet<Arc<SvcEntry>>,
    /// IP → reverse targets.
    pub(crate) ptr: PtrMap,
    /// The zone PTR targets are named in.
    pub(crate) primary_zone: Name,
    /// `endpoint_pod_names`: how endpoint labels are made (slices are read as queries
    /// ask, so the label is made then).
    pub(crate) endpoint_pod_names: bool,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    /// What a cluster of 100,000 Services costs is mostly these records times the number of
    /// objects: a field that grows one of them grows every Service's bill. Raise a bound only
    /// on purpose (and re-measure `bench/cluster-vs-knot.sh`'s memory phase).
    #[test]
    fn records_stay_compact() {
        assert!(size_of::<PtrEntry>() <= 16, "a reverse entry is two words");
        assert!(
            size_of::<SliceRec>() <= 8,
            "a slice is a pointer to the watch's bytes"
        );
        assert!(
            size_of::<SvcEntry>() <= 112,
            "key inline; with its counts, 128 bytes: an allocator class"
        );
    }
}
