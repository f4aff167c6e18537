//! The write side: the reduced records, and the incremental upkeep of the snapshot.
//!
//! The writer keeps no object of its own: the watch keeps them (packed, see
//! `signpost_kube::packed`); the index holds the watch's packed EndpointSlices themselves and
//! the records it derives from Services, shared between its stores, the entries and the
//! reverse map. Each event changes the record
//! stores, marks the `<svc>.<ns>` names it touched as dirty, and patches the reverse (PTR)
//! and pod maps in place; at the end of the event the dirty
//! names are rebuilt once each and the new snapshot is published. A relist (`Reset`) is the
//! same thing for every object that changed, so a slice arriving twice in a relist, or fifty
//! slices of one Service, still rebuild that Service's entry once.

use std::net::IpAddr;
use std::sync::Arc;

use signpost_k8s_model::{EndpointSlice, Namespace, ObjectKey, Pod, Service, ServiceImport};
use signpost_kube::{packed, Packed};

use super::keyed::KeyedSet;
use super::pmap::{FxBuild, PSet};

type HashMap<K, V> = std::collections::HashMap<K, V, FxBuild>;
type HashSet<K> = std::collections::HashSet<K, FxBuild>;
use super::records::{wire_key, SliceRec, SvcData, SvcEntry, MCS_SERVICE_LABEL};
use super::snapshot::{NameSet, NsAddr, PtrMap, PtrTarget, Snapshot};
use super::{Changed, IndexOptions};

/// `(namespace, service name)`: the identity of an entry.
type SvcKey = (Arc<str>, Arc<str>);

/// A plain or MCS slice store: each slice as the watch keeps it. Which slices a Service has
/// is read from its entry in the snapshot (plus the ones added since the last flush), so no
/// second map from Services to slices is kept.
type Slices = KeyedSet<SliceRec>;

/// What changed under one `<svc>.<ns>` name since the last flush.
#[derive(Default)]
struct Touched {
    /// Slices added (or replaced) here.
    slices: Vec<SliceRec>,
    /// The Service's new state, when it changed (`Some(None)`: it is gone).
    service: Option<Option<SvcData>>,
}

/// Touched names.
type Dirty = HashMap<SvcKey, Touched>;

pub(crate) struct Writer {
    opts: IndexOptions,
    slices: Slices,
    mc_slices: Slices,
    pods: KeyedSet<Arc<Pod>>,
    /// Names of the namespaces that exist (after `namespace_labels`).
    namespaces: HashSet<Arc<str>>,
    local_ips: Vec<IpAddr>,
    dirty: Dirty,
    dirty_mc: Dirty,
    namespaces_dirty: bool,
    /// The snapshot being built (shares everything with the published one until changed).
    pub(crate) working: Snapshot,
}

fn svc_key_of(key: &ObjectKey) -> SvcKey {
    (key.namespace.clone(), key.name.clone())
}

impl Writer {
    pub(crate) fn new(opts: IndexOptions) -> Writer {
        Writer {
            opts: opts.clone(),
            slices: Slices::default(),
            mc_slices: Slices::default(),
            pods: KeyedSet::default(),
            namespaces: HashSet::default(),
            local_ips: Vec::new(),
            dirty: Dirty::default(),
            dirty_mc: Dirty::default(),
            namespaces_dirty: false,
            working: Snapshot {
                primary_zone: opts.primary_zone,
                endpoint_pod_names: opts.endpoint_pod_names,
                ..Snapshot::default()
            },
        }
    }

    fn labels_ok(&self, labels: &signpost_k8s_model::Labels) -> bool {
        self.opts.labels.as_ref().is_none_or(|s| s.matches(labels))
    }

    // ---- Services -------------------------------------------------------------------

    /// Current keys of a kind (for a relist).
    pub(crate) fn service_keys(&self) -> Vec<ObjectKey> {
        keys_with_service(&self.working.entries, &self.dirty)
    }

    /// The Service (or ServiceImport) under `wire` as of the last change: a change not yet
    /// flushed, else the entry's.
    fn current(
        entries: &PSet<Arc<SvcEntry>>,
        dirty: &Dirty,
        key: &SvcKey,
        wire: &[u8],
    ) -> Option<SvcData> {
        match dirty.get(key).and_then(|t| t.service.as_ref()) {
            Some(pending) => pending.clone(),
            None => entries.get(wire).and_then(|e| e.service.clone()),
        }
    }

    /// A Service changed. Its reverse entries follow when its name's entry is rebuilt (they
    /// point at the entry).
    pub(crate) fn change_service(&mut self, key: &ObjectKey, new: Option<Arc<Service>>) -> Changed {
        // A name that is not a DNS label is never served (Kubernetes does not allow one).
        let Some(wire) = wire_key(&key.name, &key.namespace) else {
            return Changed::NOTHING;
        };
        let new = new
            .filter(|s| self.labels_ok(&s.labels))
            .map(|s| SvcData::from_service(&s));
        let svc = svc_key_of(key);
        let old = Self::current(&self.working.entries, &self.dirty, &svc, &wire);
        if old == new {
            return Changed::NOTHING;
        }
        let changed = match (&old, &new) {
            (None, None) => return Changed::NOTHING,
            (None, Some(s)) | (Some(s), None) => Changed {
                internal: true,
                external: !s.externals().is_empty(),
                multicluster: false,
            },
            (Some(o), Some(n)) => service_modified(o, n),
        };
        if let Some(o) = &old {
            for &ip in o.ext_ptr_ips().iter() {
                self.ext_ptr_remove(ip, key);
            }
        }
        if let Some(n) = &new {
            for &ip in n.ext_ptr_ips().iter() {
                self.ext_ptr_add(ip, key);
            }
        }
        self.dirty.entry(svc).or_default().service = Some(new);
        changed
    }

    /// Index a Service under one of its external IPs (once, however often it lists it).
    fn ext_ptr_add(&mut self, ip: IpAddr, key: &ObjectKey) {
        let mut owners: Vec<ObjectKey> = self
            .working
            .ext_ptr
            .get(&ip)
            .map(|l| l.to_vec())
            .unwrap_or_default();
        if !owners.contains(key) {
            owners.push(key.clone());
            self.working.ext_ptr.insert(ip, owners.into());
        }
    }

    fn ext_ptr_remove(&mut self, ip: IpAddr, key: &ObjectKey) {
        let Some(owners) = self.working.ext_ptr.get(&ip) else {
            return;
        };
        let rest: Vec<ObjectKey> = owners.iter().filter(|k| *k != key).cloned().collect();
        if rest.is_empty() {
            self.working.ext_ptr.remove(&ip);
        } else if rest.len() != owners.len() {
            self.working.ext_ptr.insert(ip, rest.into());
        }
    }

    // ---- EndpointSlices -------------------------------------------------------------

    pub(crate) fn slice_keys(&self, mcs: bool) -> Vec<ObjectKey> {
        let store = if mcs { &self.mc_slices } else { &self.slices };
        store.iter().map(SliceRec::object_key).collect()
    }

    pub(crate) fn change_slice(
        &mut self,
        key: &ObjectKey,
        new: Option<Arc<Packed<EndpointSlice>>>,
        mcs: bool,
    ) -> Changed {
        if !mcs && self.opts.noendpoints {
            return Changed::NOTHING;
        }
        let pod_names = self.opts.endpoint_pod_names;
        // The `labels` selector goes with the watch too; it is checked again here, on the
        // unpacked labels, so the index never relies on a source honouring it.
        let new = new
            .filter(|p| {
                self.opts.labels.is_none() || p.unpack().is_some_and(|s| self.labels_ok(&s.labels))
            })
            .and_then(|p| SliceRec::new(&p))
            // An MCS slice names its Service with the MCS label, which the watch selects on.
            .filter(|r| !mcs || r.label(MCS_SERVICE_LABEL).is_some());
        let store = if mcs {
            &mut self.mc_slices
        } else {
            &mut self.slices
        };
        let packed_key = packed::pack_key(key);
        if let (Some(old), Some(n)) = (store.get(&packed_key), &new) {
            if old == n {
                return Changed::NOTHING;
            }
        }
        let old = match &new {
            Some(n) => store.insert(n.clone()),
            None => store.remove(&packed_key),
        };
        let dirty = if mcs {
            &mut self.dirty_mc
        } else {
            &mut self.dirty
        };
        let svc_key = |r: &SliceRec| (Arc::from(r.namespace()), Arc::from(r.service(mcs)));
        if let Some(o) = &old {
            dirty.entry(svc_key(o)).or_default();
        }
        if let Some(n) = &new {
            dirty.entry(svc_key(n)).or_default().slices.push(n.clone());
        }
        let changed = match (&old, &new) {
            (None, None) => return Changed::NOTHING,
            (None, Some(_)) | (Some(_), None) => Changed {
                internal: true,
                external: false,
                // Adds and removals move the multicluster serial too (CoreDNS moves only the
                // internal one; see the README).
                multicluster: mcs,
            },
            (Some(o), Some(n)) => {
                let same = slices_equivalent(o, n, self.opts.zonal, pod_names);
                Changed {
                    internal: !mcs && !same,
                    external: false,
                    multicluster: mcs && (!same || o.cluster() != n.cluster()),
                }
            }
        };
        if !mcs {
            if let Some(r) = &old {
                for (i, a) in r.addrs(pod_names).enumerate() {
                    if let Some(ip) = a.ptr_ip() {
                        self.working
                            .ptr
                            .remove_target(ip, &PtrTarget::Endpoint(r.clone(), i as u32));
                    }
                }
            }
            if let Some(r) = &new {
                for (i, a) in r.addrs(pod_names).enumerate() {
                    if let Some(ip) = a.ptr_ip() {
                        self.working
                            .ptr
                            .add_target(ip, PtrTarget::Endpoint(r.clone(), i as u32));
                    }
                }
            }
        }
        changed
    }

    // ---- Pods -----------------------------------------------------------------------

    pub(crate) fn pod_keys(&self) -> Vec<ObjectKey> {
        self.pods.iter().map(|p| p.key.clone()).collect()
    }

    pub(crate) fn change_pod(&mut self, key: &ObjectKey, new: Option<Arc<Pod>>) -> Changed {
        // The watch's field selector drops finished pods: they count as deleted.
        let new = new.filter(|p| {
            self.labels_ok(&p.labels) && !matches!(&*p.phase, "Succeeded" | "Failed" | "Unknown")
        });
        if new.as_ref().is_some_and(|p| p.deleting) {
            // A terminating pod is not added, and an update marking it terminating is
            // ignored: the last good state stays until the delete event.
            return Changed::NOTHING;
        }
        if let (Some(old), Some(n)) = (self.pods.get(key), &new) {
            if old == n {
                return Changed::NOTHING;
            }
        }
        let old = match &new {
            Some(n) => self.pods.insert(n.clone()),
            None => self.pods.remove(key),
        };
        let changed = match (&old, &new) {
            (None, None) => return Changed::NOTHING,
            (Some(o), Some(n)) => Changed {
                internal: o.pod_ip != n.pod_ip,
                ..Changed::NOTHING
            },
            _ => Changed {
                internal: true,
                ..Changed::NOTHING
            },
        };
        if let Some(o) = &old {
            let ip: Arc<[u8]> = Arc::from(o.pod_ip.as_bytes());
            if let Some(list) = self.working.pods.get(&ip[..]) {
                let rest: Vec<ObjectKey> = list.iter().filter(|k| *k != key).cloned().collect();
                if rest.is_empty() {
                    self.working.pods.remove(&ip[..]);
                } else {
                    self.working.pods.insert(ip, rest.into());
                }
            }
        }
        if let Some(n) = &new {
            if !n.pod_ip.is_empty() {
                let ip: Arc<[u8]> = Arc::from(n.pod_ip.as_bytes());
                let mut list: Vec<ObjectKey> = self
                    .working
                    .pods
                    .get(&ip[..])
                    .map(|l| l.to_vec())
                    .unwrap_or_default();
                list.push(key.clone());
                self.working.pods.insert(ip, list.into());
            }
        }
        changed
    }

    // ---- Namespaces -----------------------------------------------------------------

    pub(crate) fn namespace_keys(&self) -> Vec<ObjectKey> {
        self.namespaces
            .iter()
            .map(|name| ObjectKey {
                namespace: signpost_k8s_model::empty(),
                name: name.clone(),
            })
            .collect()
    }

    pub(crate) fn change_namespace(&mut self, key: &ObjectKey, new: Option<Arc<Namespace>>) {
        let new = new.filter(|n| {
            self.opts
                .namespace_labels
                .as_ref()
                .is_none_or(|s| s.matches(&n.labels))
        });
        let changed = if new.is_some() {
            self.namespaces.insert(key.name.clone())
        } else {
            self.namespaces.remove(&key.name)
        };
        self.namespaces_dirty |= changed;
    }

    // ---- ServiceImports -------------------------------------------------------------

    pub(crate) fn import_keys(&self) -> Vec<ObjectKey> {
        keys_with_service(&self.working.mc_entries, &self.dirty_mc)
    }

    pub(crate) fn change_import(
        &mut self,
        key: &ObjectKey,
        new: Option<Arc<ServiceImport>>,
    ) -> Changed {
        let Some(wire) = wire_key(&key.name, &key.namespace) else {
            return Changed::NOTHING;
        };
        let new = new.map(|s| SvcData::from_import(&s));
        let svc = svc_key_of(key);
        let old = Self::current(&self.working.mc_entries, &self.dirty_mc, &svc, &wire);
        if old == new {
            return Changed::NOTHING;
        }
        let changed = match (&old, &new) {
            (None, None) => return Changed::NOTHING,
            (Some(o), Some(n)) => Changed {
                multicluster: o.kind != n.kind || o.ports != n.ports,
                ..Changed::NOTHING
            },
            _ => Changed {
                internal: true,
                external: false,
                multicluster: true,
            },
        };
        self.dirty_mc.entry(svc).or_default().service = Some(new);
        changed
    }

    // ---- Nameservers ----------------------------------------------------------------

    pub(crate) fn set_local_ips(&mut self, ips: Vec<IpAddr>) {
        self.local_ips = ips;
    }

    /// The Services whose endpoints are this server's own addresses (spec §11), with the
    /// slice holding the address (once per local IP and slice), and whether any slice holds
    /// one of the addresses at all.
    fn own_services(&self) -> (Vec<(&SvcEntry, &SvcData, &SliceRec)>, bool) {
        let mut out = Vec::new();
        let mut found = false;
        for lip in &self.local_ips {
            let Some(entry) = self.working.ptr.get(lip) else {
                continue;
            };
            let mut seen: Vec<&[u8]> = Vec::new();
            for t in entry.endpoints() {
                let PtrTarget::Endpoint(rec, _) = t else {
                    continue;
                };
                if seen.contains(&rec.key_bytes()) {
                    continue;
                }
                seen.push(rec.key_bytes());
                found = true;
                let Some(wire) = wire_key(rec.service(false), rec.namespace()) else {
                    continue;
                };
                if let Some(e) = self.working.entries.get(&wire[..]) {
                    if let Some(svc) = &e.service {
                        out.push((&**e, svc, rec));
                    }
                }
            }
        }
        (out, found)
    }

    /// Nameserver discovery (spec §11): the Services whose endpoints are our own addresses,
    /// else `ns.dns` with each local address.
    fn ns_addrs(&self) -> Vec<NsAddr> {
        let mut out = Vec::new();
        let (own, found) = self.own_services();
        for (entry, svc, rec) in own {
            let base: Box<[u8]> = [&entry.key[..], b"\x03svc"].concat().into();
            if svc.headless() {
                for a in rec.addrs(self.opts.endpoint_pod_names) {
                    let (Some(ip), Some(host)) = (a.ip, full_label_list(&[&a.host])) else {
                        continue;
                    };
                    let mut rel = host.into_vec();
                    rel.extend_from_slice(&base);
                    out.push(NsAddr {
                        rel: rel.into(),
                        ip,
                    });
                }
            } else {
                for &ip in svc.cluster_ips.iter() {
                    out.push(NsAddr {
                        rel: base.clone(),
                        ip,
                    });
                }
            }
        }
        if !found {
            for ip in &self.local_ips {
                out.push(NsAddr {
                    rel: Box::from(&b"\x02ns\x03dns"[..]),
                    ip: *ip,
                });
            }
        }
        out
    }

    /// Nameserver discovery in *k8s_external*'s mode (CoreDNS's `nsAddrs(external, ..)`):
    /// the external IPs of those Services (hostnames left out), or with `headless` the
    /// endpoint addresses of headless ones; the local addresses when no slice holds one.
    /// Returns the lists without and with `headless`.
    fn ns_external(&self) -> (Vec<IpAddr>, Vec<IpAddr>) {
        let (own, found) = self.own_services();
        if !found {
            return (self.local_ips.clone(), self.local_ips.clone());
        }
        let (mut plain, mut headless) = (Vec::new(), Vec::new());
        for (_, svc, rec) in own {
            let externals = || svc.externals().iter().filter_map(|e| e.ip);
            plain.extend(externals());
            if svc.headless() {
                headless.extend(rec.addrs(false).filter_map(|a| a.ip));
            } else {
                headless.extend(externals());
            }
        }
        (plain, headless)
    }

    // ---- Flush ----------------------------------------------------------------------

    /// Rebuild every dirty entry and the derived views; true when anything changed.
    pub(crate) fn flush(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        let pod_names = self.opts.endpoint_pod_names;
        rebuild(
            &mut self.working.entries,
            Some(&mut self.working.ptr),
            dirty,
            &self.slices,
            false,
            pod_names,
        );
        // ServiceImports have no reverse entries.
        let dirty = std::mem::take(&mut self.dirty_mc);
        rebuild(
            &mut self.working.mc_entries,
            None,
            dirty,
            &self.mc_slices,
            true,
            pod_names,
        );
        if std::mem::take(&mut self.namespaces_dirty) {
            let set: NameSet = self
                .namespaces
                .iter()
                .map(|n| Arc::from(n.to_ascii_lowercase().as_bytes()))
                .collect::<HashSet<_>>();
            self.working.namespaces = Arc::new(set);
        }
        let ns = self.ns_addrs();
        if *self.working.ns_addrs != *ns {
            self.working.ns_addrs = ns.into();
        }
        let (plain, headless) = self.ns_external();
        if *self.working.ns_external != *plain {
            self.working.ns_external = plain.into();
        }
        if *self.working.ns_external_headless != *headless {
            self.working.ns_external_headless = headless.into();
        }
    }
}

/// Rebuilds the entries of the touched names: the Service as last changed, and the slices
/// the entry already had that are still current plus those added since. A rebuilt entry
/// is a new record, so the reverse entries of its Service move to it.
fn rebuild(
    entries: &mut PSet<Arc<SvcEntry>>,
    mut ptr: Option<&mut PtrMap>,
    dirty: Dirty,
    slices: &Slices,
    mcs: bool,
    pod_names: bool,
) {
    for ((namespace, name), touched) in dirty {
        let Some(wire) = wire_key(&name, &namespace) else {
            continue;
        };
        // Queries are matched in lower case; a slice belongs here when its service-name
        // label is exactly this name, as CoreDNS looks endpoints up.
        let label = &wire[1..1 + wire[0] as usize];
        let current = |s: &&SliceRec| {
            s.service(mcs).as_bytes() == label
                && slices.get(s.key_bytes()).is_some_and(|c| c.same_bytes(s))
        };
        let old = entries.get(&wire).cloned();
        let mut list: Vec<SliceRec> = old
            .as_ref()
            .map(|e| e.slices.iter().filter(current).cloned().collect())
            .unwrap_or_default();
        list.extend(touched.slices.iter().filter(current).cloned());
        list.sort_by(|a, b| a.name().cmp(b.name()));
        list.dedup_by(|a, b| a.same_bytes(b));
        let service = match touched.service {
            Some(s) => s,
            None => old.as_ref().and_then(|e| e.service.clone()),
        };
        let new = (service.is_some() || !list.is_empty())
            .then(|| Arc::new(SvcEntry::build(wire.clone(), service, list, pod_names)));
        match &new {
            Some(e) => entries.insert(e.clone()),
            None => entries.remove(&wire),
        }
        if let Some(ptr) = ptr.as_deref_mut() {
            repoint(ptr, old.as_ref(), new.as_ref());
        }
    }
}

/// The IPs the reverse map lists an entry's Service under.
fn ptr_ips(e: Option<&Arc<SvcEntry>>) -> &[IpAddr] {
    e.and_then(|e| e.service.as_ref())
        .map_or(&[][..], |s| s.ptr_ips())
}

/// Moves the reverse entries of a Service from its old entry to the rebuilt one: in place
/// when its IPs are the same (the order among Services sharing an IP stays), else out of
/// the old IPs and in at the end of the new ones' Services.
fn repoint(ptr: &mut PtrMap, old: Option<&Arc<SvcEntry>>, new: Option<&Arc<SvcEntry>>) {
    let (before, after) = (ptr_ips(old), ptr_ips(new));
    if let (Some(o), Some(n)) = (old, new) {
        if before == after {
            let (o, n) = (PtrTarget::Service(o.clone()), PtrTarget::Service(n.clone()));
            for &ip in before {
                ptr.replace_target(ip, &o, &n);
            }
            return;
        }
    }
    if let Some(o) = old {
        let t = PtrTarget::Service(o.clone());
        for &ip in before {
            ptr.remove_target(ip, &t);
        }
    }
    if let Some(n) = new {
        let t = PtrTarget::Service(n.clone());
        for &ip in after {
            ptr.add_target(ip, t.clone());
        }
    }
}

/// Keys of the Services (or ServiceImports) the index holds or is about to, for a relist.
fn keys_with_service(entries: &PSet<Arc<SvcEntry>>, dirty: &Dirty) -> Vec<ObjectKey> {
    let text = |b: &[u8]| Arc::<str>::from(String::from_utf8_lossy(b));
    let mut keys: Vec<ObjectKey> = entries
        .iter()
        .filter(|e| e.service.is_some())
        .map(|e| ObjectKey {
            namespace: text(e.namespace()),
            name: text(e.name()),
        })
        .collect();
    keys.extend(
        dirty
            .iter()
            .filter(|(_, t)| matches!(t.service, Some(Some(_))))
            .map(|((namespace, name), _)| ObjectKey {
                namespace: namespace.clone(),
                name: name.clone(),
            }),
    );
    keys
}

/// Wire labels (no root) for these labels; `None` if one is not a valid label.
fn full_label_list(parts: &[&[u8]]) -> Option<Box<[u8]>> {
    let mut v = Vec::new();
    for p in parts {
        if p.is_empty() || p.len() > 63 {
            return None;
        }
        v.push(p.len() as u8);
        v.extend_from_slice(p);
    }
    Some(v.into())
}

/// CoreDNS's `serviceModified` for an update: internal records move with the ExternalName or
/// the ports, external ones with the external addresses or the ports.
fn service_modified(o: &SvcData, n: &SvcData) -> Changed {
    let ports_changed = o.ports != n.ports;
    Changed {
        internal: o.external_name() != n.external_name() || ports_changed,
        external: o.externals() != n.externals() || ports_changed,
        multicluster: false,
    }
}

/// CoreDNS's `endpointsEquivalent` on the reduced slices: same ready addresses (IP and
/// label, by position), same ports, and (with `zonal`) the same zones.
fn slices_equivalent(a: &SliceRec, b: &SliceRec, zonal: bool, pod_names: bool) -> bool {
    a.ports().eq(b.ports())
        && a.addr_count() == b.addr_count()
        && a.addrs(pod_names).zip(b.addrs(pod_names)).all(|(x, y)| {
            x.text == y.text
                && x.host == y.host
                && (!zonal || x.zone().eq_ignore_ascii_case(y.zone()))
        })
}
