//! Sets of records found by the key they carry.
//!
//! The writer keeps every Pod and EndpointSlice it was given, and the snapshot every entry;
//! a `HashMap<Key, _>` would store each key a second time beside the record that already
//! holds it. A [`KeyedSet`] (or a [`super::pmap::PSet`] shard) stores only the value and
//! finds it by the key inside, which at 100,000 objects is several megabytes less per map.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use signpost_k8s_model::{ObjectKey, Pod};

use super::pmap::FxBuild;
use super::records::{SliceRec, SvcEntry};

/// A value that carries the key it is found by.
pub(crate) trait HasKey {
    type Key: ?Sized + Hash + Eq;
    fn key(&self) -> &Self::Key;
}

impl HasKey for Arc<Pod> {
    type Key = ObjectKey;
    fn key(&self) -> &ObjectKey {
        &self.key
    }
}

impl HasKey for SliceRec {
    /// The slice's packed key (namespace and name as the watch packs them).
    type Key = [u8];
    fn key(&self) -> &[u8] {
        self.key_bytes()
    }
}

impl HasKey for Arc<SvcEntry> {
    /// `<name><namespace>` in wire form.
    type Key = [u8];
    fn key(&self) -> &[u8] {
        &self.key
    }
}

/// A value hashed and compared by its key (and found by a borrowed key).
#[derive(Clone)]
pub(crate) struct ByKey<V>(pub(crate) V);

impl<V: HasKey> Hash for ByKey<V> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.key().hash(h)
    }
}

impl<V: HasKey> PartialEq for ByKey<V> {
    fn eq(&self, o: &Self) -> bool {
        self.0.key() == o.0.key()
    }
}

impl<V: HasKey> Eq for ByKey<V> {}

// One `Borrow` per key type: a blanket `Borrow<V::Key>` would overlap `Borrow<T> for T`.
impl<V: HasKey<Key = [u8]>> Borrow<[u8]> for ByKey<V> {
    fn borrow(&self) -> &[u8] {
        self.0.key()
    }
}

impl<V: HasKey<Key = ObjectKey>> Borrow<ObjectKey> for ByKey<V> {
    fn borrow(&self) -> &ObjectKey {
        self.0.key()
    }
}

/// Values found by the key they carry.
pub(crate) struct KeyedSet<V>(HashSet<ByKey<V>, FxBuild>);

impl<V> Default for KeyedSet<V> {
    fn default() -> Self {
        KeyedSet(HashSet::default())
    }
}

impl<V: HasKey> KeyedSet<V>
where
    ByKey<V>: Borrow<V::Key>,
{
    pub(crate) fn get(&self, key: &V::Key) -> Option<&V> {
        self.0.get(key).map(|v| &v.0)
    }

    /// Insert or replace; returns the value replaced.
    pub(crate) fn insert(&mut self, value: V) -> Option<V> {
        self.0.replace(ByKey(value)).map(|v| v.0)
    }

    pub(crate) fn remove(&mut self, key: &V::Key) -> Option<V> {
        self.0.take(key).map(|v| v.0)
    }

    /// Every value, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|v| &v.0)
    }
}
