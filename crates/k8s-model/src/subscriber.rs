//! How a watch hands objects to the indexes that need them.
//!
//! A watch calls every subscriber of its (cluster, kind, selectors) with each event. A relist
//! (first list, or after `410 Gone`) arrives as one [`Event::Reset`] holding the complete new
//! set, so an index can rebuild and swap in one step and no query ever sees half a cache.

use std::sync::Arc;

/// One change to the set of objects a watch sees.
#[derive(Debug, Clone)]
pub enum Event<T> {
    /// The complete set, replacing everything before.
    Reset(Vec<Arc<T>>),
    /// An object was added or changed.
    Apply(Arc<T>),
    /// An object was removed (carries its last known state).
    Delete(Arc<T>),
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
