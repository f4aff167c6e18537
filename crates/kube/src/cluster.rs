//! The process-wide registry of clusters and their shared watches.
//!
//! ```text
//!  registry ─ Connection ─▶ Cluster ─ (kind, selectors) ─▶ Hub ◀── source task (API or manifests)
//!                              │                            │
//!                        kube::Client                 subscribers (indexes)
//! ```
//!
//! A cluster exists once per distinct [`Connection`] for the life of the process; its watches
//! exist while someone subscribes. A reload starts the new configuration before the old one
//! is retired, so a watch both ask for keeps running (and keeps its data) across the reload.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use signpost_k8s_model::{Kind, Subscriber};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use crate::connection::{Connection, Source};
use crate::convert::{kind_label, Watchable};
use crate::hub::{lock, Hub, HubControl};
use crate::metrics::KindMetrics;
use crate::packed::Packed;
use crate::selector::Selectors;
use crate::{api_source, manifests};

/// Process-wide registry (watches survive Corefile reloads when the new configuration asks
/// for the same ones).
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry {
        clusters: Mutex::new(HashMap::new()),
    })
}

/// All clusters of the process, by connection.
pub struct Registry {
    clusters: Mutex<HashMap<Connection, Arc<ClusterInner>>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("clusters", &lock(&self.clusters).len())
            .finish()
    }
}

impl Registry {
    /// The cluster for this connection (created on first use, without any I/O; the same
    /// connection gives the same cluster).
    pub fn cluster(&self, conn: &Connection) -> Cluster {
        let mut clusters = lock(&self.clusters);
        let inner = clusters
            .entry(conn.clone())
            .or_insert_with(|| Arc::new(ClusterInner::new(conn.clone())));
        Cluster {
            inner: inner.clone(),
        }
    }
}

/// A part of the connection that can fail on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Part {
    /// Building the client (reading kubeconfig, in-cluster files).
    Client,
    /// The requests (or files) of one kind.
    Kind(Kind),
}

/// What the logs last said about the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConnState {
    Unknown,
    Connected,
    Failing,
}

struct Health {
    failing: BTreeMap<Part, String>,
    ever_ok: bool,
    logged: ConnState,
}

impl Health {
    fn state(&self) -> ConnState {
        if !self.failing.is_empty() {
            ConnState::Failing
        } else if self.ever_ok {
            ConnState::Connected
        } else {
            ConnState::Unknown
        }
    }
}

/// One watch in the cluster's table.
struct WatchEntry {
    kind: Kind,
    any: Arc<dyn Any + Send + Sync>,
    hub: Arc<dyn HubControl>,
    task: Option<AbortHandle>,
}

type WatchKey = (TypeId, Selectors);

pub(crate) struct ClusterInner {
    pub(crate) conn: Connection,
    pub(crate) name: String,
    watches: Mutex<HashMap<WatchKey, WatchEntry>>,
    kinds: Mutex<HashMap<Kind, Arc<KindMetrics>>>,
    next_id: AtomicU64,
    /// Watches that have not delivered their first list yet (kept apart from `watches` so
    /// that subscribers may ask `is_synced` from inside their callbacks).
    unsynced: AtomicUsize,
    /// The shared client, while any watch runs (it is bound to the runtime that made it).
    client: Mutex<Option<kube::Client>>,
    /// Serializes building the client.
    building: tokio::sync::Mutex<()>,
    health: Mutex<Health>,
    /// Woken when a watch syncs.
    progress: Notify,
    /// Serializes refreshes of the state gauges.
    gauges: Mutex<()>,
}

impl ClusterInner {
    fn new(conn: Connection) -> ClusterInner {
        ClusterInner {
            name: conn.name(),
            conn,
            watches: Mutex::new(HashMap::new()),
            kinds: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            unsynced: AtomicUsize::new(0),
            client: Mutex::new(None),
            building: tokio::sync::Mutex::new(()),
            health: Mutex::new(Health {
                failing: BTreeMap::new(),
                ever_ok: false,
                logged: ConnState::Unknown,
            }),
            progress: Notify::new(),
            gauges: Mutex::new(()),
        }
    }

    /// The shared client, built on first use.
    pub(crate) async fn client(self: &Arc<Self>) -> Result<kube::Client, String> {
        let _building = self.building.lock().await;
        if let Some(c) = lock(&self.client).clone() {
            return Ok(c);
        }
        let config = self.conn.kube_config().await?;
        let client = api_source::build_client(config, Arc::downgrade(self))?;
        *lock(&self.client) = Some(client.clone());
        Ok(client)
    }

    /// Records how a part of the connection fares; logs when the cluster as a whole goes
    /// from working to failing or back (not on every retry). Returns whether it logged.
    pub(crate) fn report(&self, part: Part, result: Result<(), String>) -> bool {
        self.update(part, result, part != Part::Client)
    }

    /// Drops what is known about a part (nothing uses it any more).
    fn forget(&self, part: Part) {
        // A watch that stops (its last subscriber left) proves nothing about the connection:
        // drop its failure without logging a recovery that did not happen.
        lock(&self.health).failing.remove(&part);
    }

    /// `success`: an `Ok` proves the connection works (a request succeeded), rather than
    /// only clearing a failure.
    fn update(&self, part: Part, result: Result<(), String>, success: bool) -> bool {
        let mut h = lock(&self.health);
        match result {
            Ok(()) => {
                let was_failing = h.failing.remove(&part).is_some();
                if success {
                    h.ever_ok = true;
                } else if !was_failing {
                    return false;
                }
            }
            Err(reason) => {
                if h.failing.get(&part) == Some(&reason) {
                    return false;
                }
                h.failing.insert(part, reason);
            }
        }
        let now = h.state();
        let logged = now != h.logged && now != ConnState::Unknown;
        if now != h.logged {
            let what = match self.conn.source() {
                Source::Api => "Kubernetes API",
                Source::Manifests(_) => "manifests",
            };
            match now {
                ConnState::Failing => {
                    let (part, reason) = h
                        .failing
                        .iter()
                        .next()
                        .map_or((String::new(), String::new()), |(p, r)| {
                            (part_label(*p).to_string(), r.clone())
                        });
                    tracing::warn!(
                        "kubernetes {}: {what} failing ({part}): {reason}; retrying, \
                         the last good data keeps serving",
                        self.name
                    );
                }
                ConnState::Connected if h.logged == ConnState::Failing => {
                    tracing::info!("kubernetes {}: {what} working again", self.name);
                }
                ConnState::Connected => {
                    tracing::info!("kubernetes {}: {what} connected", self.name);
                }
                ConnState::Unknown => {}
            }
            h.logged = now;
        }
        drop(h);
        if let Part::Kind(kind) = part {
            self.refresh_gauge(kind);
        }
        logged
    }

    /// True when the last request (or read) of every part succeeded and one ever did.
    fn is_connected(&self) -> bool {
        lock(&self.health).state() == ConnState::Connected
    }

    fn is_synced(&self) -> bool {
        self.unsynced.load(Ordering::Acquire) == 0
    }

    /// An optional watch (see `optional`) holds the cluster unsynced until it knows
    /// whether its kind is served.
    pub(crate) fn hold_unsynced(&self) {
        self.unsynced.fetch_add(1, Ordering::AcqRel);
    }

    /// Ends a [`ClusterInner::hold_unsynced`].
    pub(crate) fn release_unsynced(&self) {
        self.unsynced.fetch_sub(1, Ordering::AcqRel);
        self.progress.notify_waiters();
    }

    /// A watch delivered its first list (its hub's `reset` said so, once).
    pub(crate) fn synced(&self, kind: Kind) {
        self.unsynced.fetch_sub(1, Ordering::AcqRel);
        self.progress.notify_waiters();
        self.refresh_gauge(kind);
    }

    /// Sets `signpost_kube_watch_state` of a kind from the watches and the health. Called
    /// with no lock held.
    fn refresh_gauge(&self, kind: Kind) {
        let _serial = lock(&self.gauges);
        let synced = lock(&self.watches)
            .values()
            .filter(|w| w.kind == kind)
            .all(|w| w.hub.is_synced());
        let failing = lock(&self.health).failing.contains_key(&Part::Kind(kind));
        if let Some(m) = lock(&self.kinds).get(&kind) {
            m.state.set(if synced && !failing { 1.0 } else { 0.0 });
        }
    }

    fn kind_metrics(&self, kind: Kind) -> Arc<KindMetrics> {
        lock(&self.kinds)
            .entry(kind)
            .or_insert_with(|| Arc::new(KindMetrics::new(&self.name, kind_label(kind))))
            .clone()
    }

    /// A kind's error counter.
    pub(crate) fn watch_error(&self, kind: Kind) {
        self.kind_metrics(kind).errors.inc();
    }

    fn unsubscribe(&self, key: &WatchKey, id: u64) {
        let mut watches = lock(&self.watches);
        let Some(entry) = watches.get(key) else {
            return;
        };
        if entry.hub.unsubscribe(id) > 0 {
            return;
        }
        let Some(entry) = watches.remove(key) else {
            return;
        };
        // Whichever comes first, the first list or this removal, settles the count.
        if entry.hub.mark_synced() {
            self.unsynced.fetch_sub(1, Ordering::AcqRel);
        }
        if let Some(task) = &entry.task {
            task.abort();
        }
        let kind = entry.kind;
        let kind_left = watches.values().any(|w| w.kind == kind);
        let none_left = watches.is_empty();
        // Metrics change under the watches lock, so a watch of the same kind starting at
        // this moment gets fresh series rather than the ones retired here.
        if kind_left {
            if let Some(m) = lock(&self.kinds).get(&kind) {
                m.objects.add(-(entry.hub.len() as f64));
            }
        } else if let Some(m) = lock(&self.kinds).remove(&kind) {
            m.retire();
        }
        drop(watches);
        if !kind_left {
            // A kind nobody watches can't keep the cluster failing.
            self.forget(Part::Kind(kind));
        }
        if none_left {
            // The client belongs to the runtime that built it; the next watch builds anew.
            *lock(&self.client) = None;
        }
        // Waiters on sync may now be satisfied (the unsynced watch is gone).
        self.progress.notify_waiters();
    }
}

fn part_label(p: Part) -> &'static str {
    match p {
        Part::Client => "client configuration",
        Part::Kind(k) => kind_label(k),
    }
}

/// One cluster: its connection, its shared watches and its health.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<ClusterInner>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("name", &self.inner.name)
            .finish()
    }
}

impl Cluster {
    pub(crate) fn inner(&self) -> &Arc<ClusterInner> {
        &self.inner
    }

    pub(crate) fn from_inner(inner: Arc<ClusterInner>) -> Cluster {
        Cluster { inner }
    }

    /// The connection's short name (see [`Connection::name`]).
    pub fn name(&self) -> String {
        self.inner.name.clone()
    }

    /// Subscribes to (kind `T`, selectors). There is one list/watch per (cluster, `T`,
    /// selectors) whoever asks: a second subscriber to the same key shares it and at once
    /// gets an `Event::Reset` of the current objects if the first list already arrived.
    ///
    /// Call inside the tokio runtime (from an `on_startup` hook): the watch task starts on
    /// the first subscribe. Dropping the guard unsubscribes; the last unsubscribe stops the
    /// watch. Events of one watch are delivered in order. A subscriber's callback may ask
    /// this cluster whether it is synced or connected, but must not subscribe or unsubscribe.
    pub fn watch<T: Watchable>(
        &self,
        selectors: Selectors,
        sub: Arc<dyn Subscriber<T>>,
    ) -> WatchGuard {
        self.attach::<T>(selectors, |hub, id| hub.subscribe(id, sub))
    }

    /// As [`Cluster::watch`], for a subscriber that keeps the objects in the watch's own
    /// packed form ([`Packed`]) instead of a copy: the same watch, shared with the model
    /// subscribers of (kind `T`, selectors).
    pub fn watch_packed<T: Watchable>(
        &self,
        selectors: Selectors,
        sub: Arc<dyn Subscriber<Packed<T>>>,
    ) -> WatchGuard {
        self.attach::<T>(selectors, |hub, id| hub.subscribe_packed(id, sub))
    }

    /// Finds or starts the watch of (kind `T`, selectors) and runs `subscribe` on its hub
    /// while the watch cannot go away.
    fn attach<T: Watchable>(
        &self,
        selectors: Selectors,
        subscribe: impl FnOnce(&Hub<T>, u64),
    ) -> WatchGuard {
        let inner = &self.inner;
        let key: WatchKey = (TypeId::of::<T>(), selectors.clone());
        let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        let mut watches = lock(&inner.watches);
        let existing = watches.get_mut(&key).and_then(|e| {
            let hub = e.any.clone().downcast::<Hub<T>>().ok()?;
            if e.task.is_none() {
                // First asked for outside the runtime: start it now.
                e.task = start::<T>(inner, &hub);
            }
            Some(hub)
        });
        let hub = match existing {
            Some(hub) => hub,
            None => {
                let metrics = inner.kind_metrics(T::KIND);
                let hub = Arc::new(Hub::<T>::new(inner.name.clone(), selectors, metrics));
                inner.unsynced.fetch_add(1, Ordering::AcqRel);
                let task = start::<T>(inner, &hub);
                watches.insert(
                    key.clone(),
                    WatchEntry {
                        kind: T::KIND,
                        any: hub.clone(),
                        hub: hub.clone(),
                        task,
                    },
                );
                hub
            }
        };
        subscribe(&hub, id);
        drop(watches);
        inner.refresh_gauge(T::KIND);
        WatchGuard {
            cluster: inner.clone(),
            key,
            id,
        }
    }

    /// True when every watch on this cluster has delivered its first complete list (also
    /// when there is no watch). Stays true when the API fails later: the last good data
    /// keeps serving.
    pub fn is_synced(&self) -> bool {
        self.inner.is_synced()
    }

    /// Waits until synced or the timeout passes; returns [`Cluster::is_synced`].
    pub async fn wait_synced(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.progress.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_synced() {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.is_synced();
            }
        }
    }

    /// Number of running watches (tests check sharing with it).
    #[cfg(test)]
    pub(crate) fn watch_count(&self) -> usize {
        lock(&self.inner.watches).len()
    }

    /// True when the connection currently works: the last request of every watched kind
    /// succeeded (or, for manifests, the last read). False before the first success and
    /// while failing.
    pub fn is_connected(&self) -> bool {
        self.inner.is_connected()
    }
}

/// Starts the source task of a new watch (none outside a tokio runtime).
fn start<T: Watchable>(inner: &Arc<ClusterInner>, hub: &Arc<Hub<T>>) -> Option<AbortHandle> {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        tracing::error!(
            "kubernetes {}: watch of {} requested outside the runtime; not started",
            inner.name,
            T::KIND_NAME
        );
        return None;
    };
    let task = match inner.conn.source() {
        Source::Manifests(paths) => {
            rt.spawn(manifests::run::<T>(inner.clone(), hub.clone(), paths))
        }
        Source::Api => rt.spawn(api_source::run::<T>(inner.clone(), hub.clone())),
    };
    Some(task.abort_handle())
}

/// A subscription; dropping it unsubscribes.
pub struct WatchGuard {
    cluster: Arc<ClusterInner>,
    key: WatchKey,
    id: u64,
}

impl std::fmt::Debug for WatchGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchGuard")
            .field("cluster", &self.cluster.name)
            .field("selectors", &self.key.1)
            .finish()
    }
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.cluster.unsubscribe(&self.key, self.id);
    }
}

#[cfg(test)]
#[path = "cluster_tests.rs"]
mod tests;
