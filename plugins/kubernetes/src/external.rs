//! What *k8s_external* reads from the *kubernetes* plugin of its server block (CoreDNS's
//! `Externaler`): the index, which namespaces are exposed, the plugin's TTL and the serial of
//! external zones.
//!
//! ```text
//!  setup of k8s_external ──clone──▶ ExternalSlot (block state) ◀──set── setup of kubernetes
//! ```
//!
//! *k8s_external* is set up first (it runs earlier in the chain), so it keeps the slot and
//! finds the source in it once *kubernetes* has been set up.

use std::sync::{Arc, OnceLock};

use crate::index::{Index, SerialKind};
use crate::view::IndexView;

/// The *kubernetes* plugin as *k8s_external* sees it.
#[derive(Debug, Clone)]
pub struct ExternalSource {
    index: Arc<Index>,
    /// `namespaces` (exact names; empty = all).
    namespaces: Arc<[Box<[u8]>]>,
    ttl: u32,
}

impl ExternalSource {
    /// The source for a stanza's index.
    pub fn new(index: Arc<Index>, namespaces: Vec<Box<[u8]>>, ttl: u32) -> ExternalSource {
        ExternalSource {
            index,
            namespaces: namespaces.into(),
            ttl,
        }
    }

    /// The current contents.
    pub fn view(&self) -> IndexView {
        self.index.view()
    }

    /// True when the stanza lists `namespaces` (reverse lookups filter by namespace only
    /// then, as in CoreDNS).
    pub fn namespaces_listed(&self) -> bool {
        !self.namespaces.is_empty()
    }

    /// CoreDNS's `namespaceExposed`: listed in `namespaces` (or no list) and existing.
    pub fn exposed(&self, view: &IndexView, namespace: &[u8]) -> bool {
        (self.namespaces.is_empty() || self.namespaces.iter().any(|n| &**n == namespace))
            && view.namespace_exists(namespace)
    }

    /// The *kubernetes* plugin's `ttl` (CoreDNS gives it to some *k8s_external* records).
    pub fn ttl(&self) -> u32 {
        self.ttl
    }

    /// The serial of external zones (Unix time of the last change of external addresses).
    pub fn serial(&self) -> u32 {
        self.index.serial(SerialKind::External)
    }
}

/// Where *kubernetes* leaves its [`ExternalSource`] for *k8s_external*.
#[derive(Debug, Clone, Default)]
pub struct ExternalSlot(Arc<OnceLock<ExternalSource>>);

impl ExternalSlot {
    /// Fill the slot (the first stanza of a block wins).
    pub fn set(&self, source: ExternalSource) {
        let _ = self.0.set(source);
    }

    /// The source, once *kubernetes* is set up.
    pub fn get(&self) -> Option<&ExternalSource> {
        self.0.get()
    }
}
