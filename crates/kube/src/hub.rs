//! One watch's current set of objects and its subscribers.
//!
//! A source (API watch or manifests) feeds the hub; the hub keeps the current set (the slim
//! objects only) and calls every subscriber with each change, in order, under one lock, so a
//! subscriber that joins late gets a `Reset` of the current set and then exactly the changes
//! after it. The lock is held while subscribers run: they must be quick and must not
//! subscribe or unsubscribe from inside the callback.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use signpost_k8s_model::{Event, ObjectKey, Subscriber};

use crate::convert::{key_of, Watchable};
use crate::metrics::KindMetrics;
use crate::selector::Selectors;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// An object in a set keyed by its [`ObjectKey`]: the set holds one pointer per object
/// instead of a copy of the key beside it.
#[derive(Debug)]
struct Keyed<T>(Arc<T>);

impl<T: Watchable> Hash for Keyed<T> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.key().hash(h)
    }
}

impl<T: Watchable> PartialEq for Keyed<T> {
    fn eq(&self, o: &Self) -> bool {
        self.0.key() == o.0.key()
    }
}

impl<T: Watchable> Eq for Keyed<T> {}

impl<T: Watchable> Borrow<ObjectKey> for Keyed<T> {
    fn borrow(&self) -> &ObjectKey {
        self.0.key()
    }
}

type Objects<T> = HashSet<Keyed<T>>;

struct State<T> {
    objects: Objects<T>,
    subscribers: Vec<(u64, Arc<dyn Subscriber<T>>)>,
    /// Objects already warned about (cleared when they convert again or go away), so a
    /// broken object is reported once, not on every update or relist.
    warned: HashSet<ObjectKey>,
}

/// The state of one (cluster, kind, selectors) watch.
pub(crate) struct Hub<T> {
    /// Cluster name, for logs.
    pub(crate) cluster: String,
    /// What the watch asks for.
    pub(crate) selectors: Selectors,
    pub(crate) metrics: Arc<KindMetrics>,
    state: Mutex<State<T>>,
    synced: AtomicBool,
}

/// A relist being collected (between `Init` and `InitDone`).
#[derive(Debug)]
pub(crate) struct Pending<T> {
    objects: Objects<T>,
    bad: Vec<(ObjectKey, String)>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending {
            objects: HashSet::new(),
            bad: Vec::new(),
        }
    }
}

impl<T: Watchable> Pending<T> {
    /// Converts and adds one object of the list.
    pub(crate) fn add(&mut self, object: &Value) {
        match T::from_json(object) {
            Ok(o) => {
                self.objects.replace(Keyed(Arc::new(o)));
            }
            Err(e) => self.bad.push((key_of(object), e)),
        }
    }

    /// Number of objects collected.
    pub(crate) fn len(&self) -> usize {
        self.objects.len()
    }
}

#[cfg(test)]
impl<T: Watchable> Pending<T> {
    pub(crate) fn objects(&self) -> impl Iterator<Item = &Arc<T>> {
        self.objects.iter().map(|k| &k.0)
    }

    pub(crate) fn bad_count(&self) -> usize {
        self.bad.len()
    }
}

impl<T: Watchable> Hub<T> {
    pub(crate) fn new(cluster: String, selectors: Selectors, metrics: Arc<KindMetrics>) -> Hub<T> {
        Hub {
            cluster,
            selectors,
            metrics,
            state: Mutex::new(State {
                objects: HashSet::new(),
                subscribers: Vec::new(),
                warned: HashSet::new(),
            }),
            synced: AtomicBool::new(false),
        }
    }

    /// Whether the first complete list has been delivered.
    pub(crate) fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }

    /// Adds a subscriber; it gets a `Reset` of the current set at once if synced.
    pub(crate) fn subscribe(&self, id: u64, sub: Arc<dyn Subscriber<T>>) {
        let mut st = lock(&self.state);
        if self.is_synced() {
            sub.on_event(&Event::Reset(sorted(&st.objects)));
        }
        st.subscribers.push((id, sub));
    }

    /// Removes a subscriber; returns how many remain.
    pub(crate) fn unsubscribe(&self, id: u64) -> usize {
        let mut st = lock(&self.state);
        st.subscribers.retain(|(i, _)| *i != id);
        st.subscribers.len()
    }

    /// Number of objects held.
    pub(crate) fn len(&self) -> usize {
        lock(&self.state).objects.len()
    }

    /// Marks the hub synced; true if it was not (used when an unsynced watch is removed).
    pub(crate) fn mark_synced(&self) -> bool {
        !self.synced.swap(true, Ordering::AcqRel)
    }

    /// Replaces the whole set and delivers it as one `Reset`. Returns true the first time
    /// (the watch just synced).
    pub(crate) fn reset(&self, pending: Pending<T>) -> bool {
        let mut st = lock(&self.state);
        let mut warned = HashSet::new();
        for (key, err) in pending.bad {
            self.skipped(&st.warned, &key, &err);
            warned.insert(key);
        }
        st.warned = warned;
        let old = st.objects.len();
        st.objects = pending.objects;
        self.metrics
            .objects
            .add(st.objects.len() as f64 - old as f64);
        let event = Event::Reset(sorted(&st.objects));
        for (_, s) in &st.subscribers {
            s.on_event(&event);
        }
        self.mark_synced()
    }

    /// An object was added or changed. An unchanged slim object (only fields DNS ignores
    /// moved) is not delivered. An object that no longer converts is removed.
    pub(crate) fn apply(&self, object: &Value) {
        let converted = T::from_json(object);
        let mut st = lock(&self.state);
        match converted {
            Ok(o) => {
                let key = o.key().clone();
                st.warned.remove(&key);
                if st.objects.get(&key).is_some_and(|cur| *cur.0 == o) {
                    return;
                }
                let o = Arc::new(o);
                if st.objects.replace(Keyed(o.clone())).is_none() {
                    self.metrics.objects.inc();
                }
                let event = Event::Apply(o);
                for (_, s) in &st.subscribers {
                    s.on_event(&event);
                }
            }
            Err(e) => {
                let key = key_of(object);
                self.skipped(&st.warned, &key, &e);
                st.warned.insert(key.clone());
                self.remove_locked(&mut st, &key);
            }
        }
    }

    /// An object was deleted.
    pub(crate) fn delete(&self, object: &Value) {
        let key = key_of(object);
        let mut st = lock(&self.state);
        st.warned.remove(&key);
        self.remove_locked(&mut st, &key);
    }

    fn remove_locked(&self, st: &mut State<T>, key: &ObjectKey) {
        if let Some(Keyed(old)) = st.objects.take(key) {
            self.metrics.objects.dec();
            let event = Event::Delete(old);
            for (_, s) in &st.subscribers {
                s.on_event(&event);
            }
        }
    }

    fn skipped(&self, warned: &HashSet<ObjectKey>, key: &ObjectKey, err: &str) {
        self.metrics.skipped.inc();
        if !warned.contains(key) {
            tracing::warn!(
                "kubernetes {}: skipping {} {}/{}: {err}",
                self.cluster,
                T::KIND_NAME,
                key.namespace,
                key.name
            );
        }
    }
}

/// The set as a list in key order (so consumers and tests see a stable order).
fn sorted<T: Watchable>(objects: &Objects<T>) -> Vec<Arc<T>> {
    let mut v: Vec<Arc<T>> = objects.iter().map(|k| Arc::clone(&k.0)).collect();
    v.sort_by(|a, b| a.key().cmp(b.key()));
    v
}

/// What the cluster needs of a hub without knowing its kind.
pub(crate) trait HubControl: Send + Sync {
    fn is_synced(&self) -> bool;
    fn mark_synced(&self) -> bool;
    fn unsubscribe(&self, id: u64) -> usize;
    /// Objects held (for the objects gauge when the hub goes away).
    fn len(&self) -> usize;
}

impl<T: Watchable> HubControl for Hub<T> {
    fn is_synced(&self) -> bool {
        Hub::is_synced(self)
    }
    fn mark_synced(&self) -> bool {
        Hub::mark_synced(self)
    }
    fn unsubscribe(&self, id: u64) -> usize {
        Hub::unsubscribe(self, id)
    }
    fn len(&self) -> usize {
        Hub::len(self)
    }
}
