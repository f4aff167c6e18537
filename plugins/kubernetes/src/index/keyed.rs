//! Maps keyed by an object's own [`ObjectKey`].
//!
//! The writer keeps every Service and EndpointSlice it was given, reduced; a
//! `HashMap<ObjectKey, _>` would store each key a second time beside the record that already
//! holds it. A
//! [`KeyedSet`] stores only the value and finds it by the key inside, which at 100,000
//! objects is several megabytes less per map.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use signpost_k8s_model::{ObjectKey, Pod};

use super::pmap::FxBuild;
use super::records::SliceRec;

/// A value that carries its own key.
pub(crate) trait HasKey {
    fn object_key(&self) -> &ObjectKey;
}

macro_rules! has_key {
    ($($t:ty),*) => {$(
        impl HasKey for Arc<$t> {
            fn object_key(&self) -> &ObjectKey {
                &self.key
            }
        }
    )*};
}
has_key!(Pod, SliceRec);

/// A value hashed and compared by its key.
struct ByKey<V>(V);

impl<V: HasKey> Hash for ByKey<V> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.object_key().hash(h)
    }
}

impl<V: HasKey> PartialEq for ByKey<V> {
    fn eq(&self, o: &Self) -> bool {
        self.0.object_key() == o.0.object_key()
    }
}

impl<V: HasKey> Eq for ByKey<V> {}

impl<V: HasKey> Borrow<ObjectKey> for ByKey<V> {
    fn borrow(&self) -> &ObjectKey {
        self.0.object_key()
    }
}

/// Values found by the key they carry.
pub(crate) struct KeyedSet<V>(HashSet<ByKey<V>, FxBuild>);

impl<V> Default for KeyedSet<V> {
    fn default() -> Self {
        KeyedSet(HashSet::default())
    }
}

impl<V: HasKey> KeyedSet<V> {
    pub(crate) fn get(&self, key: &ObjectKey) -> Option<&V> {
        self.0.get(key).map(|v| &v.0)
    }

    /// Insert or replace; returns the value replaced.
    pub(crate) fn insert(&mut self, value: V) -> Option<V> {
        self.0.replace(ByKey(value)).map(|v| v.0)
    }

    pub(crate) fn remove(&mut self, key: &ObjectKey) -> Option<V> {
        self.0.take(key).map(|v| v.0)
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &ObjectKey> {
        self.0.iter().map(|v| v.0.object_key())
    }
}
