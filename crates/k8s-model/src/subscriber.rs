//! How a watch hands objects to the indexes that need them.
//!
//! A watch calls every subscriber of its (cluster, kind, selectors) with each event. A relist
//! (first list, or after `410 Gone`) arrives as one [`Event::Reset`] holding the complete new
//! set, so an index can rebuild and swap in one step and no query ever sees half a cache.

use std::fmt;
use std::sync::Arc;

/// One change to the set of objects a watch sees.
#[derive(Debug, Clone)]
pub enum Event<T> {
    /// The complete set, replacing everything before.
    Reset(Listing<T>),
    /// An object was added or changed.
    Apply(Arc<T>),
    /// An object was removed (carries its last known state).
    Delete(Arc<T>),
}

/// Where a [`Listing`] reads its objects from.
pub trait ListSource<T>: Send + Sync {
    /// Number of objects.
    fn len(&self) -> usize;
    /// True without objects.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Calls `f` with every object, in key order.
    fn for_each(&self, f: &mut dyn FnMut(Arc<T>));
}

impl<T: Send + Sync> ListSource<T> for Vec<Arc<T>> {
    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn for_each(&self, f: &mut dyn FnMut(Arc<T>)) {
        for o in self {
            f(Arc::clone(o));
        }
    }
}

/// The complete set of a watch, handed out one object at a time.
///
/// A watch keeps its objects in a compact form; a relist of 100,000 objects handed over as
/// one list of full objects would hold all of them at once, beside the subscriber's own
/// state. A listing makes each object as the subscriber reaches it, so a subscriber that
/// keeps only what it derives never holds more than one.
pub struct Listing<T>(Arc<dyn ListSource<T>>);

impl<T> Listing<T> {
    /// A listing read from `source`.
    pub fn new(source: Arc<dyn ListSource<T>>) -> Listing<T> {
        Listing(source)
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True without objects.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Calls `f` with every object, in key order.
    pub fn for_each(&self, mut f: impl FnMut(Arc<T>)) {
        self.0.for_each(&mut f)
    }

    /// Every object at once, in key order (for small sets and tests).
    pub fn to_vec(&self) -> Vec<Arc<T>> {
        let mut v = Vec::with_capacity(self.len());
        self.for_each(|o| v.push(o));
        v
    }
}

impl<T> Clone for Listing<T> {
    fn clone(&self) -> Self {
        Listing(Arc::clone(&self.0))
    }
}

impl<T: Send + Sync + 'static> From<Vec<Arc<T>>> for Listing<T> {
    fn from(v: Vec<Arc<T>>) -> Listing<T> {
        Listing(Arc::new(v))
    }
}

impl<T> fmt::Debug for Listing<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Listing({} objects)", self.len())
    }
}

/// Receives the events of one watch. Called from the watch's task: keep it quick (update an
/// index, swap a snapshot), never block on I/O.
pub trait Subscriber<T>: Send + Sync + 'static {
    /// Handle one event.
    fn on_event(&self, event: &Event<T>);
}

impl<T, F> Subscriber<T> for F
where
    F: Fn(&Event<T>) + Send + Sync + 'static,
{
    fn on_event(&self, event: &Event<T>) {
        self(event)
    }
}
