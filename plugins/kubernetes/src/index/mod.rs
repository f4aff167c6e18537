//! The in-memory index the plugin answers from.
//!
//! # Design
//!
//! Queries read an immutable [`Snapshot`] through an `ArcSwap`: one atomic load, no lock, no
//! allocation. Everything a query looks at is keyed by bytes it already has in hand:
//!
//! * **Names.** `<service>.<namespace>` is a contiguous run of the (lower-cased) query name
//!   in wire form, e.g. `\x04svc1\x06testns`; that byte string is the key of a hash set
//!   whose entry (holding the key inline) has the Service (kind, ports, parsed cluster IPs,
//!   ExternalName target in wire form) and all of its EndpointSlices, as the watch packed
//!   them: ready addresses, endpoint labels (spec §6.3) and zones are read out of those bytes
//!   when a query asks, without allocating. The name grammar (endpoint labels, `_port._proto`,
//!   zonal names) is resolved against that one entry, so no per-name record set is stored and
//!   the same index serves every zone of the plugin. Existence (NXDOMAIN vs NODATA) follows
//!   from the same lookups: the apex, `svc`, `pod` and exposed `<ns>.svc` exist without an
//!   entry; everything else exists iff the entry yields at least one result.
//! * **Reverse.** A map from parsed IP to the Services with that cluster IP and every slice
//!   address with that IP: a pointer to the record, the PTR target named when asked.
//! * **Pods** (`pods verified`): `status.podIP` text → the pods having it.
//! * **Namespaces**: a set of names.
//!
//! # Updates
//!
//! Rebuilding everything per event would cost O(cluster) per change. Instead every map is a
//! [`pmap::PMap`] (or a [`pmap::PSet`]): a fixed table of shards, each shard an `Arc` of a
//! hash table. The writer (one, behind a mutex; events of different kinds arrive from
//! different watch tasks) keeps a working copy that shares all shards with the published
//! snapshot; changing a key copies the shard table (256 pointers) and the one shard it lives
//! in, and rebuilds only the entries the event touched (a slice change rebuilds its Service's
//! entry). Publishing is an `Arc` swap. A relist arrives as one `Reset` and is applied as one
//! batch: every changed object is applied, each affected entry is rebuilt once, and one
//! snapshot is published.
//!
//! # SOA serials
//!
//! Three change timestamps (Unix seconds) as CoreDNS keeps them (spec §12): internal (normal
//! zones), external (for `k8s_external`) and multicluster. Namespaces never move them.

mod keyed;
mod pmap;
pub(crate) mod records;
pub(crate) mod snapshot;
mod writer;

use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::{ArcSwap, Guard};
use signpost_k8s_model::{
    EndpointSlice, Event, Namespace, ObjectKey, Pod, Service, ServiceImport, Subscriber,
};
use signpost_kube::Packed;
use signpost_wire::Name;

use crate::config::{KubernetesConfig, PodMode};
use crate::selector::Selector;

pub(crate) use records::MCS_SERVICE_LABEL;
pub(crate) use snapshot::Snapshot;
use writer::Writer;

/// Which serials an event moves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Changed {
    pub(crate) internal: bool,
    pub(crate) external: bool,
    pub(crate) multicluster: bool,
}

impl Changed {
    pub(crate) const NOTHING: Changed = Changed {
        internal: false,
        external: false,
        multicluster: false,
    };

    fn or(self, o: Changed) -> Changed {
        Changed {
            internal: self.internal || o.internal,
            external: self.external || o.external,
            multicluster: self.multicluster || o.multicluster,
        }
    }
}

/// Which serial to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialKind {
    /// Normal zones.
    Internal,
    /// `k8s_external` zones.
    External,
    /// Multicluster zones.
    Multicluster,
}

/// What the index needs from the configuration.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// `endpoint_pod_names`.
    pub endpoint_pod_names: bool,
    /// `zonal`: keep endpoint zones.
    pub zonal: bool,
    /// `noendpoints`: EndpointSlices are not kept (MCS slices still are).
    pub noendpoints: bool,
    /// `labels`: objects not matching are treated as absent.
    pub labels: Option<Selector>,
    /// `namespace_labels`: namespaces not matching are treated as absent.
    pub namespace_labels: Option<Selector>,
    /// PTR targets are built in this zone.
    pub primary_zone: Name,
    /// Watches feeding the index; it is synced once each delivered its first list.
    pub expect: Feeds,
}

/// The watches an index is fed by (for the synced state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Feeds(u8);

impl Feeds {
    /// Services.
    pub const SERVICES: Feeds = Feeds(1);
    /// EndpointSlices.
    pub const SLICES: Feeds = Feeds(2);
    /// Pods.
    pub const PODS: Feeds = Feeds(4);
    /// Namespaces.
    pub const NAMESPACES: Feeds = Feeds(8);
    /// ServiceImports.
    pub const IMPORTS: Feeds = Feeds(16);
    /// MCS EndpointSlices.
    pub const MCS_SLICES: Feeds = Feeds(32);

    /// Both sets.
    pub const fn with(self, o: Feeds) -> Feeds {
        Feeds(self.0 | o.0)
    }

    /// True when every feed of `o` is in `self`.
    pub const fn contains(self, o: Feeds) -> bool {
        self.0 & o.0 == o.0
    }
}

impl IndexOptions {
    /// The options a stanza implies.
    pub fn from_config(c: &KubernetesConfig) -> IndexOptions {
        let mut expect = Feeds::SERVICES.with(Feeds::NAMESPACES);
        if !c.noendpoints {
            expect = expect.with(Feeds::SLICES);
        }
        if c.pods == PodMode::Verified {
            expect = expect.with(Feeds::PODS);
        }
        if !c.multicluster.is_empty() {
            expect = expect.with(Feeds::IMPORTS).with(Feeds::MCS_SLICES);
        }
        IndexOptions {
            endpoint_pod_names: c.endpoint_pod_names,
            zonal: c.zonal,
            noendpoints: c.noendpoints,
            labels: c.labels.clone(),
            namespace_labels: c.namespace_labels.clone(),
            primary_zone: c.zones.get(c.primary_zone).copied().unwrap_or_default(),
            expect,
        }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The index of one `kubernetes` stanza.
pub struct Index {
    expect: Feeds,
    seen: AtomicU8,
    snapshot: ArcSwap<Snapshot>,
    writer: Mutex<Writer>,
    serials: [AtomicI64; 3],
    clock: Mutex<fn() -> i64>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.snapshot.load();
        f.debug_struct("Index")
            .field("entries", &s.entries.len())
            .field("synced", &self.is_synced())
            .finish()
    }
}

impl Index {
    /// An empty index.
    pub fn new(opts: IndexOptions) -> Arc<Index> {
        Arc::new(Index {
            expect: opts.expect,
            seen: AtomicU8::new(0),
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            writer: Mutex::new(Writer::new(opts)),
            serials: Default::default(),
            clock: Mutex::new(unix_now),
        })
    }

    /// The current snapshot (lock-free, no allocation).
    #[inline]
    pub(crate) fn snapshot(&self) -> Guard<Arc<Snapshot>> {
        self.snapshot.load()
    }

    /// True once every expected watch delivered its first complete list.
    pub fn is_synced(&self) -> bool {
        Feeds(self.seen.load(Ordering::Acquire)).contains(self.expect)
    }

    /// Mark feeds as synced without data (tests, or a watch known to be complete).
    pub fn mark_synced(&self, feeds: Feeds) {
        self.seen.fetch_or(feeds.0, Ordering::AcqRel);
    }

    /// The SOA serial (a Unix time truncated to 32 bits, 0 before any change).
    pub fn serial(&self, kind: SerialKind) -> u32 {
        self.serials[kind as usize].load(Ordering::Acquire) as u32
    }

    /// Replace the clock serials are read from (tests).
    #[doc(hidden)]
    pub fn set_clock(&self, clock: fn() -> i64) {
        *self.clock.lock().unwrap_or_else(|e| e.into_inner()) = clock;
    }

    /// The addresses this server is bound to (loopback excluded), for NS records.
    pub fn set_local_ips(&self, ips: Vec<IpAddr>) {
        self.write(|w| {
            w.set_local_ips(ips);
            Changed::NOTHING
        });
    }

    fn write(&self, f: impl FnOnce(&mut Writer) -> Changed) {
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let changed = f(&mut w);
        w.flush();
        self.snapshot.store(Arc::new(w.working.clone()));
        let now = (*self.clock.lock().unwrap_or_else(|e| e.into_inner()))();
        for (on, kind) in [
            (changed.internal, SerialKind::Internal),
            (changed.external, SerialKind::External),
            (changed.multicluster, SerialKind::Multicluster),
        ] {
            if on {
                self.serials[kind as usize].store(now, Ordering::Release);
            }
        }
    }

    /// Apply one event of a kind, generically: `keys` lists the current keys (for a relist),
    /// `change` applies one object (`None` = gone).
    fn apply<T>(
        &self,
        feed: Feeds,
        event: &Event<T>,
        key_of: fn(&T) -> ObjectKey,
        keys: impl Fn(&Writer) -> Vec<ObjectKey>,
        change: impl Fn(&mut Writer, &ObjectKey, Option<Arc<T>>) -> Changed,
    ) {
        self.write(|w| match event {
            Event::Apply(o) => change(w, &key_of(o), Some(o.clone())),
            Event::Delete(o) => change(w, &key_of(o), None),
            Event::Reset(all) => {
                // One pass over the listing (each object is unpacked as it is reached), then
                // the objects it no longer has go.
                let mut changed = Changed::NOTHING;
                let mut fresh: std::collections::HashSet<ObjectKey, pmap::FxBuild> =
                    std::collections::HashSet::with_capacity_and_hasher(
                        all.len(),
                        Default::default(),
                    );
                all.for_each(|o| {
                    let k = key_of(&o);
                    changed = changed.or(change(w, &k, Some(o)));
                    fresh.insert(k);
                });
                for k in keys(w) {
                    if !fresh.contains(&k) {
                        changed = changed.or(change(w, &k, None));
                    }
                }
                changed
            }
        });
        if matches!(event, Event::Reset(_)) {
            self.mark_synced(feed);
        }
    }

    /// The subscriber for the Service watch.
    pub fn services(self: &Arc<Self>) -> Arc<dyn Subscriber<Service>> {
        let me = Arc::clone(self);
        Arc::new(move |e: &Event<Service>| {
            me.apply(
                Feeds::SERVICES,
                e,
                |s| s.key.clone(),
                Writer::service_keys,
                |w, k, o| w.change_service(k, o),
            )
        })
    }

    /// The subscriber for the EndpointSlice watch: it keeps the watch's packed slices
    /// (see [`records::SliceRec`]).
    pub fn packed_endpoint_slices(self: &Arc<Self>) -> Arc<dyn Subscriber<Packed<EndpointSlice>>> {
        self.slice_subscriber(Feeds::SLICES, false)
    }

    /// The subscriber for the MCS EndpointSlice watch (label
    /// `multicluster.kubernetes.io/service-name` exists).
    pub fn packed_mcs_endpoint_slices(
        self: &Arc<Self>,
    ) -> Arc<dyn Subscriber<Packed<EndpointSlice>>> {
        self.slice_subscriber(Feeds::MCS_SLICES, true)
    }

    fn slice_subscriber(
        self: &Arc<Self>,
        feed: Feeds,
        mcs: bool,
    ) -> Arc<dyn Subscriber<Packed<EndpointSlice>>> {
        let me = Arc::clone(self);
        Arc::new(move |e: &Event<Packed<EndpointSlice>>| {
            me.apply(
                feed,
                e,
                |s| s.key(),
                move |w| w.slice_keys(mcs),
                move |w, k, o| w.change_slice(k, o, mcs),
            )
        })
    }

    /// [`Index::packed_endpoint_slices`] for a source of model objects (tests): each slice
    /// is packed as the watch would.
    pub fn endpoint_slices(self: &Arc<Self>) -> Arc<dyn Subscriber<EndpointSlice>> {
        packing(self.packed_endpoint_slices())
    }

    /// [`Index::packed_mcs_endpoint_slices`] for a source of model objects (tests).
    pub fn mcs_endpoint_slices(self: &Arc<Self>) -> Arc<dyn Subscriber<EndpointSlice>> {
        packing(self.packed_mcs_endpoint_slices())
    }

    /// The subscriber for the Pod watch (`pods verified`).
    pub fn pods(self: &Arc<Self>) -> Arc<dyn Subscriber<Pod>> {
        let me = Arc::clone(self);
        Arc::new(move |e: &Event<Pod>| {
            me.apply(
                Feeds::PODS,
                e,
                |s| s.key.clone(),
                Writer::pod_keys,
                |w, k, o| w.change_pod(k, o),
            )
        })
    }

    /// The subscriber for the Namespace watch.
    pub fn namespaces(self: &Arc<Self>) -> Arc<dyn Subscriber<Namespace>> {
        let me = Arc::clone(self);
        Arc::new(move |e: &Event<Namespace>| {
            me.apply(
                Feeds::NAMESPACES,
                e,
                |s| s.key.clone(),
                Writer::namespace_keys,
                |w, k, o| {
                    w.change_namespace(k, o);
                    Changed::NOTHING
                },
            )
        })
    }

    /// The subscriber for the ServiceImport watch.
    pub fn service_imports(self: &Arc<Self>) -> Arc<dyn Subscriber<ServiceImport>> {
        let me = Arc::clone(self);
        Arc::new(move |e: &Event<ServiceImport>| {
            me.apply(
                Feeds::IMPORTS,
                e,
                |s| s.key.clone(),
                Writer::import_keys,
                |w, k, o| w.change_import(k, o),
            )
        })
    }
}

/// A subscriber of model slices that packs each and hands it to `inner`.
fn packing(
    inner: Arc<dyn Subscriber<Packed<EndpointSlice>>>,
) -> Arc<dyn Subscriber<EndpointSlice>> {
    Arc::new(move |e: &Event<EndpointSlice>| {
        let pack = |s: &EndpointSlice| Arc::new(Packed::new(s));
        inner.on_event(&match e {
            Event::Apply(s) => Event::Apply(pack(s)),
            Event::Delete(s) => Event::Delete(pack(s)),
            Event::Reset(all) => Event::Reset(
                all.to_vec()
                    .iter()
                    .map(|s| pack(s))
                    .collect::<Vec<_>>()
                    .into(),
            ),
        })
    })
}
