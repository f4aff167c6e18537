//! Sets of records found by the key they carry.
//!
//! The writer keeps every Pod and EndpointSlice it was given; a `HashMap<ObjectKey, _>`
//! would store each key a second time beside the record that already holds it. A
//! [`KeyedSet`] or [`SliceSet`] stores only the value and finds it by the key inside, which
//! at 100,000 objects is several megabytes less per map.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use signpost_k8s_model::{ObjectKey, Pod};

use super::pmap::{ByKey as SetByKey, FxBuild, SetKey};
use super::records::SliceRec;
use signpost_kube::packed;

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
has_key!(Pod);

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

impl SetKey for SliceRec {
    /// The slice's packed key (namespace and name as the watch packs them).
    fn set_key(&self) -> &[u8] {
        self.key_bytes()
    }
}

/// The slices the writer holds, found by key.
#[derive(Default)]
pub(crate) struct SliceSet(HashSet<SetByKey<SliceRec>, FxBuild>);

impl SliceSet {
    pub(crate) fn get(&self, key: &ObjectKey) -> Option<&SliceRec> {
        self.get_packed(&packed::pack_key(key))
    }

    /// By the packed key (see [`SliceRec::key_bytes`]).
    pub(crate) fn get_packed(&self, key: &[u8]) -> Option<&SliceRec> {
        self.0.get(key).map(|v| &v.0)
    }

    /// Insert or replace; returns the slice replaced.
    pub(crate) fn insert(&mut self, value: SliceRec) -> Option<SliceRec> {
        self.0.replace(SetByKey(value)).map(|v| v.0)
    }

    pub(crate) fn remove(&mut self, key: &ObjectKey) -> Option<SliceRec> {
        self.0.take(&packed::pack_key(key)[..]).map(|v| v.0)
    }

    /// Every slice's key.
    pub(crate) fn keys(&self) -> impl Iterator<Item = ObjectKey> + '_ {
        self.0.iter().map(|v| {
            let (namespace, name) = (v.0.namespace(), v.0.name());
            ObjectKey {
                namespace: signpost_k8s_model::shared(namespace),
                name: Arc::from(name),
            }
        })
    }
}
