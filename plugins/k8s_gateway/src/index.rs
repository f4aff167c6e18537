//! The objects the watches deliver, and the snapshot queries read.
//!
//! ```text
//!  watches ──events──▶ Stores (slim objects by key, per kind)
//!                         │ a kind changed: rebuild its KindMap (key → records)
//!                         ▼
//!                      Snapshot { one KindMap per resource, in lookup order; PTR map; serial }
//!                         │ ArcSwap: a query loads it without locking or allocating
//! ```
//!
//! A first list (`Reset`) rebuilds at once, so a kind counts as synced only once its names
//! answer. Single changes are coalesced: the rebuild runs a moment later on the runtime, so a
//! burst of thousands of changes costs a few rebuilds, not thousands.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use signpost_k8s_model::{
    DnsEndpoint, EndpointSlice, Event, Gateway, GrpcRoute, HttpRoute, Ingress, Node, ObjectKey,
    Service, Subscriber, TlsRoute,
};
use signpost_kube::Watchable;
use signpost_wire::Name;

use crate::config::{is_reverse, Config, Resource};
use crate::data::{self, Data, KindMap};
use crate::keys::is_wildcard;

/// How long single changes wait to be rebuilt together.
const COALESCE: Duration = Duration::from_millis(20);

/// What queries read.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    /// One map per configured resource, in lookup order.
    pub(crate) kinds: Vec<Arc<KindMap>>,
    /// Served address → the names serving it (only with a reverse zone).
    pub(crate) reverse: HashMap<IpAddr, Vec<Name>>,
    /// SOA serial: the time of the last change, always increasing.
    pub(crate) serial: u32,
    /// Addresses of the `apex` host and of the `secondary` host (every kind's records for
    /// their keys, merged): the glue of the NS records.
    pub(crate) glue: [Data; 2],
}

/// What rebuilding needs of the configuration.
#[derive(Debug)]
struct Rules {
    resources: Vec<Resource>,
    ingress_classes: Option<Vec<String>>,
    gateway_classes: Option<Vec<String>>,
    node_address_type: String,
    /// Forward zones (PTR targets of relative keys go under the first).
    forward: Vec<Name>,
    /// Whether any zone is a reverse zone (else no PTR map is kept).
    reverse: bool,
    /// Keys of the `apex` and `secondary` hosts.
    hosts: [Option<Name>; 2],
}

#[derive(Default)]
struct Stores {
    ingresses: BTreeMap<ObjectKey, Arc<Ingress>>,
    /// One set per Service watch (label selector); unioned by key.
    services: Vec<BTreeMap<ObjectKey, Arc<Service>>>,
    slices: BTreeMap<ObjectKey, Arc<EndpointSlice>>,
    gateways: BTreeMap<ObjectKey, Arc<Gateway>>,
    http: BTreeMap<ObjectKey, Arc<HttpRoute>>,
    grpc: BTreeMap<ObjectKey, Arc<GrpcRoute>>,
    tls: BTreeMap<ObjectKey, Arc<TlsRoute>>,
    dns: BTreeMap<ObjectKey, Arc<DnsEndpoint>>,
    nodes: BTreeMap<ObjectKey, Arc<Node>>,
    maps: HashMap<Resource, Arc<KindMap>>,
    /// Resources changed since the last rebuild.
    dirty: HashSet<Resource>,
    serial: u32,
}

/// The index of one `k8s_gateway` stanza.
pub(crate) struct Index {
    rules: Rules,
    stores: Mutex<Stores>,
    snapshot: ArcSwap<Snapshot>,
    /// Per watch: has it delivered its first list.
    synced: Mutex<Vec<bool>>,
    all_synced: AtomicBool,
    scheduled: AtomicBool,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Applies one event to a store.
fn apply<T: Watchable>(store: &mut BTreeMap<ObjectKey, Arc<T>>, event: &Event<T>) {
    match event {
        Event::Reset(all) => {
            let mut fresh = BTreeMap::new();
            all.for_each(|o| {
                fresh.insert(o.key().clone(), o);
            });
            *store = fresh;
        }
        Event::Apply(o) => {
            store.insert(o.key().clone(), o.clone());
        }
        Event::Delete(o) => {
            store.remove(o.key());
        }
    }
}

fn now_serial() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_secs() as u32)
}

impl Index {
    pub(crate) fn new(config: &Config) -> Arc<Index> {
        let forward = config
            .zones
            .iter()
            .filter(|z| !is_reverse(z))
            .copied()
            .collect();
        let rules = Rules {
            resources: config.resources.clone(),
            ingress_classes: config.ingress_classes.clone(),
            gateway_classes: config.gateway_classes.clone(),
            node_address_type: config.node_address_type.clone(),
            forward,
            reverse: config.zones.iter().any(is_reverse),
            hosts: [
                Some(*config.apex.key()),
                config.secondary.as_ref().map(|h| *h.key()),
            ],
        };
        let selectors = config.service_selectors.len().max(1);
        let stores = Stores {
            services: vec![BTreeMap::new(); selectors],
            serial: now_serial(),
            ..Stores::default()
        };
        let snapshot = Snapshot {
            kinds: rules
                .resources
                .iter()
                .map(|_| Arc::new(KindMap::new()))
                .collect(),
            reverse: HashMap::new(),
            serial: stores.serial,
            glue: Default::default(),
        };
        Arc::new(Index {
            rules,
            stores: Mutex::new(stores),
            snapshot: ArcSwap::from_pointee(snapshot),
            synced: Mutex::new(Vec::new()),
            all_synced: AtomicBool::new(false),
            scheduled: AtomicBool::new(false),
        })
    }

    /// The current snapshot.
    pub(crate) fn load(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.snapshot.load()
    }

    /// Whether every watch has delivered its first list.
    pub(crate) fn is_synced(&self) -> bool {
        self.all_synced.load(Ordering::Acquire)
    }

    /// The resources in lookup order.
    pub(crate) fn resources(&self) -> &[Resource] {
        &self.rules.resources
    }

    /// A new watch slot (unsynced until its first `Reset`).
    fn slot(&self) -> usize {
        let mut s = lock(&self.synced);
        s.push(false);
        self.all_synced.store(false, Ordering::Release);
        s.len() - 1
    }

    fn mark_synced(&self, slot: usize) {
        let mut s = lock(&self.synced);
        if let Some(b) = s.get_mut(slot) {
            *b = true;
        }
        self.all_synced
            .store(s.iter().all(|b| *b), Ordering::Release);
    }

    /// Records that `event` touched `touched`, then rebuilds (now for a first list or
    /// without a runtime, else coalesced).
    fn changed<T>(self: &Arc<Self>, slot: usize, event: &Event<T>, touched: &[Resource]) {
        let reset = matches!(event, Event::Reset(_));
        {
            let mut st = lock(&self.stores);
            st.dirty.extend(touched.iter().copied());
        }
        let handle = tokio::runtime::Handle::try_current();
        match handle {
            Ok(h) if !reset => {
                if !self.scheduled.swap(true, Ordering::AcqRel) {
                    let me = Arc::clone(self);
                    h.spawn(async move {
                        tokio::time::sleep(COALESCE).await;
                        me.scheduled.store(false, Ordering::Release);
                        me.rebuild();
                    });
                }
            }
            _ => self.rebuild(),
        }
        if reset {
            self.mark_synced(slot);
        }
    }

    /// Rebuilds the maps of the dirty resources and swaps in a new snapshot.
    pub(crate) fn rebuild(&self) {
        let mut st = lock(&self.stores);
        if st.dirty.is_empty() {
            return;
        }
        let dirty: Vec<Resource> = st.dirty.drain().collect();
        for r in dirty {
            if !self.rules.resources.contains(&r) {
                continue;
            }
            let map = self.build(&st, r);
            st.maps.insert(r, Arc::new(map));
        }
        let kinds: Vec<Arc<KindMap>> = self
            .rules
            .resources
            .iter()
            .map(|r| st.maps.get(r).cloned().unwrap_or_default())
            .collect();
        let reverse = if self.rules.reverse {
            self.reverse_map(&kinds)
        } else {
            HashMap::new()
        };
        let glue = self
            .rules
            .hosts
            .map(|h| h.map(|h| host_data(&kinds, &h)).unwrap_or_default());
        st.serial = now_serial().max(st.serial.wrapping_add(1));
        let serial = st.serial;
        self.snapshot.store(Arc::new(Snapshot {
            kinds,
            reverse,
            serial,
            glue,
        }));
    }

    fn build(&self, st: &Stores, r: Resource) -> KindMap {
        let gw = self.rules.gateway_classes.as_deref();
        match r {
            Resource::Ingress => {
                data::ingresses(st.ingresses.values(), self.rules.ingress_classes.as_deref())
            }
            Resource::Service => {
                let mut union: BTreeMap<&ObjectKey, &Arc<Service>> = BTreeMap::new();
                for set in &st.services {
                    union.extend(set.iter());
                }
                let mut by_service = data::SlicesByService::new();
                for s in st.slices.values() {
                    by_service
                        .entry((s.key.namespace.clone(), s.service_name.clone()))
                        .or_default()
                        .push(s.clone());
                }
                data::services(union.into_values(), &by_service)
            }
            Resource::HttpRoute => data::routes(st.http.values().map(|r| &r.0), &st.gateways, gw),
            Resource::GrpcRoute => data::routes(st.grpc.values().map(|r| &r.0), &st.gateways, gw),
            Resource::TlsRoute => data::routes(st.tls.values().map(|r| &r.0), &st.gateways, gw),
            Resource::DnsEndpoint => data::dns_endpoints(st.dns.values()),
            Resource::Node => data::nodes(st.nodes.values(), &self.rules.node_address_type),
        }
    }

    /// Every served address → its names (full keys as they are, relative keys under the
    /// first forward zone; wildcards have no single name and are left out).
    fn reverse_map(&self, kinds: &[Arc<KindMap>]) -> HashMap<IpAddr, Vec<Name>> {
        let mut out: HashMap<IpAddr, Vec<Name>> = HashMap::new();
        for map in kinds {
            for (key, d) in map.iter() {
                if is_wildcard(key) {
                    continue;
                }
                let name = if self.rules.forward.iter().any(|z| key.is_subdomain_of(z)) {
                    *key
                } else {
                    match self.rules.forward.first().and_then(|z| key.concat(z).ok()) {
                        Some(n) => n,
                        None => continue,
                    }
                };
                let ips =
                    d.v4.iter()
                        .map(|a| IpAddr::V4(*a))
                        .chain(d.v6.iter().map(|a| IpAddr::V6(*a)));
                for ip in ips {
                    let names = out.entry(ip).or_default();
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
        }
        for names in out.values_mut() {
            names.sort_by_key(|n| n.to_string());
        }
        out
    }

    /// Counts the watches as synced when there are none at all.
    pub(crate) fn slots_done(&self) {
        let s = lock(&self.synced);
        self.all_synced
            .store(s.iter().all(|b| *b), Ordering::Release);
    }
}

/// The addresses of a host key: every kind's records for it, merged (no TXT, no CNAME).
fn host_data(kinds: &[Arc<KindMap>], key: &Name) -> Data {
    let mut d = Data::default();
    for map in kinds {
        if let Some(x) = map.get(key) {
            d.merge(x);
        }
    }
    d.txt.clear();
    d.cname = None;
    d
}

/// The subscribers the watch module hands to the watch layer.
macro_rules! subscriber {
    ($fn:ident, $ty:ty, $field:ident, [$($touch:expr),*]) => {
        pub(crate) fn $fn(self: &Arc<Self>) -> Arc<dyn Subscriber<$ty>> {
            let me = Arc::clone(self);
            let slot = me.slot();
            Arc::new(move |event: &Event<$ty>| {
                apply(&mut lock(&me.stores).$field, event);
                me.changed(slot, event, &[$($touch),*]);
            })
        }
    };
}

impl Index {
    subscriber!(ingresses, Ingress, ingresses, [Resource::Ingress]);
    subscriber!(slices, EndpointSlice, slices, [Resource::Service]);
    subscriber!(
        gateways,
        Gateway,
        gateways,
        [Resource::HttpRoute, Resource::GrpcRoute, Resource::TlsRoute]
    );
    subscriber!(http_routes, HttpRoute, http, [Resource::HttpRoute]);
    subscriber!(grpc_routes, GrpcRoute, grpc, [Resource::GrpcRoute]);
    subscriber!(tls_routes, TlsRoute, tls, [Resource::TlsRoute]);
    subscriber!(dns_endpoints, DnsEndpoint, dns, [Resource::DnsEndpoint]);
    subscriber!(nodes, Node, nodes, [Resource::Node]);

    /// The subscriber of the `n`th Service watch (one per label selector).
    pub(crate) fn services(self: &Arc<Self>, n: usize) -> Arc<dyn Subscriber<Service>> {
        let me = Arc::clone(self);
        let slot = me.slot();
        Arc::new(move |event: &Event<Service>| {
            if let Some(store) = lock(&me.stores).services.get_mut(n) {
                apply(store, event);
            }
            me.changed(slot, event, &[Resource::Service]);
        })
    }
}
