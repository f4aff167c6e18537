//! One watch's current set of objects and its subscribers.
//!
//! A source (API watch or manifests) feeds the hub; the hub keeps the current set (the slim
//! objects, packed) and calls every subscriber with each change, in order, under one lock, so a
//! subscriber that joins late gets a `Reset` of the current set and then exactly the changes
//! after it. The lock is held while subscribers run: they must be quick and must not
//! subscribe or unsubscribe from inside the callback.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use signpost_k8s_model::{Event, ListSource, Listing, ObjectKey, Subscriber};

use crate::convert::{key_of, Watchable};
use crate::metrics::KindMetrics;
use crate::packed::{self, Packed, SharedBytes};
use crate::selector::Selectors;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One object in its packed form (see [`crate::packed`]), found by the key it starts with:
/// hashed and compared by that key only (the set holds one object per key). Shared with the
/// subscribers that keep packed objects ([`Packed`]).
#[derive(Debug, Clone)]
struct PackedObj(SharedBytes);

/// The packed key at the start of a [`PackedObj`]: what the set hashes and compares.
#[derive(Hash, PartialEq, Eq)]
#[repr(transparent)]
struct KeyBytes([u8]);

impl KeyBytes {
    fn new(b: &[u8]) -> &KeyBytes {
        // SAFETY: `KeyBytes` is a transparent wrapper of `[u8]`.
        unsafe { &*(b as *const [u8] as *const KeyBytes) }
    }
}

impl PackedObj {
    fn key(&self) -> &KeyBytes {
        KeyBytes::new(&self.0[..packed::key_len(&self.0)])
    }
}

impl Hash for PackedObj {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.key().hash(h)
    }
}

impl PartialEq for PackedObj {
    fn eq(&self, o: &Self) -> bool {
        self.key() == o.key()
    }
}

impl Eq for PackedObj {}

impl Borrow<KeyBytes> for PackedObj {
    fn borrow(&self) -> &KeyBytes {
        self.key()
    }
}

/// Objects by key. Kept behind an `Arc` so a relist's [`Listing`] can read the set while
/// the hub goes on; the hub copies it only if a subscriber still holds a listing when the
/// next change comes.
#[derive(Debug, Clone, Default)]
struct Objects(HashSet<PackedObj>);

impl Objects {
    fn get(&self, key: &ObjectKey) -> Option<&PackedObj> {
        self.0.get(KeyBytes::new(&packed::pack_key(key)))
    }

    fn take(&mut self, key: &ObjectKey) -> Option<PackedObj> {
        self.0.take(KeyBytes::new(&packed::pack_key(key)))
    }

    /// Inserts or replaces; true when the key is new.
    fn put(&mut self, o: PackedObj) -> bool {
        self.0.replace(o).is_none()
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

/// A relist or late subscription reading the hub's set: objects are unpacked one at a
/// time, in key order.
struct HubListing<T> {
    objects: Arc<Objects>,
    _kind: PhantomData<fn() -> T>,
}

impl<T: Watchable> ListSource<T> for HubListing<T> {
    fn len(&self) -> usize {
        self.objects.len()
    }

    fn for_each(&self, f: &mut dyn FnMut(Arc<T>)) {
        for o in self.objects.sorted() {
            match packed::unpack::<T>(&o.0) {
                Some(v) => f(Arc::new(v)),
                None => unpack_failed::<T>(&o.0),
            }
        }
    }
}

/// A packed object that does not unpack is a bug in `packed`, never bad input: it is logged
/// and left out rather than taking the process down.
fn unpack_failed<T: Watchable>(bytes: &[u8]) {
    let (namespace, name) = packed::key_texts(bytes);
    tracing::error!(
        "internal error: a stored {} {namespace}/{name} could not be read back; left out",
        T::KIND_NAME
    );
}

impl Objects {
    /// Every object, in key order.
    fn sorted(&self) -> Vec<&PackedObj> {
        let mut all: Vec<&PackedObj> = self.0.iter().collect();
        all.sort_by(|a, b| packed::key_texts(&a.0).cmp(&packed::key_texts(&b.0)));
        all
    }
}

fn listing<T: Watchable>(objects: &Arc<Objects>) -> Listing<T> {
    Listing::new(Arc::new(HubListing::<T> {
        objects: Arc::clone(objects),
        _kind: PhantomData,
    }))
}

/// The same for subscribers that keep the packed objects themselves: nothing is unpacked.
struct PackedListing<T> {
    objects: Arc<Objects>,
    _kind: PhantomData<fn() -> T>,
}

impl<T: Watchable> ListSource<Packed<T>> for PackedListing<T> {
    fn len(&self) -> usize {
        self.objects.len()
    }

    fn for_each(&self, f: &mut dyn FnMut(Arc<Packed<T>>)) {
        for o in self.objects.sorted() {
            f(Arc::new(Packed::from_bytes(o.0.clone())));
        }
    }
}

fn packed_listing<T: Watchable>(objects: &Arc<Objects>) -> Listing<Packed<T>> {
    Listing::new(Arc::new(PackedListing::<T> {
        objects: Arc::clone(objects),
        _kind: PhantomData,
    }))
}

/// Subscribers by id.
type Subscribers<T> = Vec<(u64, Arc<dyn Subscriber<T>>)>;

struct State<T> {
    objects: Arc<Objects>,
    subscribers: Subscribers<T>,
    /// Subscribers that keep the packed objects (see [`Packed`]).
    packed_subscribers: Subscribers<Packed<T>>,
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
    objects: Objects,
    bad: Vec<(ObjectKey, String)>,
    _kind: PhantomData<fn() -> T>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending {
            objects: Objects::default(),
            bad: Vec::new(),
            _kind: PhantomData,
        }
    }
}

impl<T: Watchable> Pending<T> {
    /// Converts and adds one object of the list.
    pub(crate) fn add(&mut self, object: &Value) {
        match T::from_json(object) {
            Ok(o) => {
                self.objects.put(PackedObj(packed::pack_shared(&o)));
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
    pub(crate) fn objects(&self) -> impl Iterator<Item = Arc<T>> {
        listing::<T>(&Arc::new(self.objects.clone()))
            .to_vec()
            .into_iter()
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
                objects: Arc::default(),
                subscribers: Vec::new(),
                packed_subscribers: Vec::new(),
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
            sub.on_event(&Event::Reset(listing(&st.objects)));
        }
        st.subscribers.push((id, sub));
    }

    /// Adds a subscriber of packed objects; as [`Hub::subscribe`] otherwise.
    pub(crate) fn subscribe_packed(&self, id: u64, sub: Arc<dyn Subscriber<Packed<T>>>) {
        let mut st = lock(&self.state);
        if self.is_synced() {
            sub.on_event(&Event::Reset(packed_listing(&st.objects)));
        }
        st.packed_subscribers.push((id, sub));
    }

    /// Removes a subscriber; returns how many remain.
    pub(crate) fn unsubscribe(&self, id: u64) -> usize {
        let mut st = lock(&self.state);
        st.subscribers.retain(|(i, _)| *i != id);
        st.packed_subscribers.retain(|(i, _)| *i != id);
        st.subscribers.len() + st.packed_subscribers.len()
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
        st.objects = Arc::new(pending.objects);
        self.metrics
            .objects
            .add(st.objects.len() as f64 - old as f64);
        deliver(&st.subscribers, || Event::Reset(listing(&st.objects)));
        deliver(&st.packed_subscribers, || {
            Event::Reset(packed_listing(&st.objects))
        });
        drop(st);
        release_free_memory();
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
                let bytes = PackedObj(packed::pack_shared(&o));
                if st.objects.get(&key).is_some_and(|cur| cur.0 == bytes.0) {
                    return;
                }
                let shared = bytes.0.clone();
                if Arc::make_mut(&mut st.objects).put(bytes) {
                    self.metrics.objects.inc();
                }
                deliver(&st.subscribers, || Event::Apply(Arc::new(o)));
                deliver(&st.packed_subscribers, || {
                    Event::Apply(Arc::new(Packed::from_bytes(shared)))
                });
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
        if let Some(PackedObj(old)) = Arc::make_mut(&mut st.objects).take(key) {
            self.metrics.objects.dec();
            deliver(&st.packed_subscribers, || {
                Event::Delete(Arc::new(Packed::from_bytes(old.clone())))
            });
            if st.subscribers.is_empty() {
                return;
            }
            match packed::unpack::<T>(&old) {
                Some(o) => deliver(&st.subscribers, || Event::Delete(Arc::new(o))),
                None => unpack_failed::<T>(&old),
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

/// Hands one event to every subscriber of a list; the event is made only if there is one.
fn deliver<E: 'static>(subscribers: &Subscribers<E>, event: impl FnOnce() -> Event<E>) {
    if subscribers.is_empty() {
        return;
    }
    let event = event();
    for (_, s) in subscribers {
        s.on_event(&event);
    }
}

/// Hands the heap's free pages back to the system. A relist builds and drops a great many
/// short-lived objects between the long-lived ones it leaves behind; glibc's malloc keeps the
/// pages they freed, so without this a process on it stays at its peak. (The signpost binary
/// runs on jemalloc, which returns emptied pages by itself; there this trims glibc's nearly
/// empty heap and costs next to nothing.) Texts interned for the relist's objects go too.
fn release_free_memory() {
    signpost_k8s_model::sweep_shared();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
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
