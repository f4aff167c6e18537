//! A persistent hash map: readers share it, a writer changes a copy that shares everything
//! it did not touch.
//!
//! The map is split into a fixed number of shards, each an `Arc<HashMap>`. Cloning the map
//! copies one `Arc`. Changing an entry copies the shard table (a few hundred pointers) the
//! first time after a clone, and the one shard the key hashes to (`Arc::make_mut`), so an
//! update costs O(shards + n / shards) whatever the map's size, while a reader holding an
//! older clone keeps seeing exactly what it had.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use super::keyed::{ByKey, HasKey};

/// Number of shards. With 100,000 entries a shard holds about 400.
const SHARDS: usize = 256;

/// A fast, non-cryptographic hasher (keys come from the cluster, not from clients; queries
/// only look up).
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The multiply leaves the low bits weak; the hash table probes with them and shards
        // are picked from the top byte, so mix every bit into both ends (splitmix64's final
        // step).
        let mut z = self.hash;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Builds [`FxHasher`]s.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxBuild;

impl BuildHasher for FxBuild {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher::default()
    }
}

type Shard<K, V> = HashMap<K, V, FxBuild>;

/// The persistent map.
pub(crate) struct PMap<K, V> {
    shards: Arc<Vec<Arc<Shard<K, V>>>>,
}

impl<K, V> Clone for PMap<K, V> {
    fn clone(&self) -> Self {
        PMap {
            shards: Arc::clone(&self.shards),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Default for PMap<K, V> {
    fn default() -> Self {
        PMap::new()
    }
}

fn shard_of<Q: Hash + ?Sized>(key: &Q) -> usize {
    (FxBuild.hash_one(key) >> 56) as usize % SHARDS
}

impl<K: Hash + Eq + Clone, V: Clone> PMap<K, V> {
    /// An empty map.
    pub(crate) fn new() -> PMap<K, V> {
        let empty = Arc::new(Shard::with_hasher(FxBuild));
        PMap {
            shards: Arc::new(vec![empty; SHARDS]),
        }
    }

    /// Look a key up (no allocation).
    #[inline]
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.shards[shard_of(key)].get(key)
    }

    fn shard_mut<Q: Hash + ?Sized>(&mut self, key: &Q) -> &mut Shard<K, V> {
        let i = shard_of(key);
        let table = Arc::make_mut(&mut self.shards);
        Arc::make_mut(&mut table[i])
    }

    /// Insert or replace.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        self.shard_mut(&key).insert(key, value);
    }

    /// Remove; copies nothing when the key is absent.
    pub(crate) fn remove<Q>(&mut self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.get(key).is_some() {
            self.shard_mut(key).remove(key);
        }
    }

    /// Every entry, in no particular order.
    #[allow(dead_code)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.shards.iter().flat_map(|s| s.iter())
    }

    /// Number of entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.len()).sum()
    }

    /// Build from entries in one go (no per-entry copying).
    #[cfg(test)]
    pub(crate) fn from_entries(entries: impl IntoIterator<Item = (K, V)>) -> PMap<K, V> {
        let mut tables: Vec<Shard<K, V>> =
            (0..SHARDS).map(|_| Shard::with_hasher(FxBuild)).collect();
        for (k, v) in entries {
            tables[shard_of(&k)].insert(k, v);
        }
        PMap {
            shards: Arc::new(tables.into_iter().map(Arc::new).collect()),
        }
    }
}

type SetShard<V> = HashSet<ByKey<V>, FxBuild>;

/// [`PMap`] for values that carry their own key: the table holds one pointer per value
/// instead of a key beside it, and the key is not stored twice.
pub(crate) struct PSet<V> {
    shards: Arc<Vec<Arc<SetShard<V>>>>,
}

impl<V> Clone for PSet<V> {
    fn clone(&self) -> Self {
        PSet {
            shards: Arc::clone(&self.shards),
        }
    }
}

impl<V: HasKey + Clone> Default for PSet<V> {
    fn default() -> Self {
        let empty = Arc::new(SetShard::with_hasher(FxBuild));
        PSet {
            shards: Arc::new(vec![empty; SHARDS]),
        }
    }
}

impl<V: HasKey + Clone> PSet<V>
where
    ByKey<V>: Borrow<V::Key>,
{
    /// Look a key up (no allocation).
    #[inline]
    pub(crate) fn get(&self, key: &V::Key) -> Option<&V> {
        self.shards[shard_of(key)].get(key).map(|v| &v.0)
    }

    fn shard_mut(&mut self, key: &V::Key) -> &mut SetShard<V> {
        let i = shard_of(key);
        let table = Arc::make_mut(&mut self.shards);
        Arc::make_mut(&mut table[i])
    }

    /// Insert or replace the value with the same key.
    pub(crate) fn insert(&mut self, value: V) {
        let shard = self.shard_mut(value.key());
        shard.replace(ByKey(value));
    }

    /// Remove; copies nothing when the key is absent.
    pub(crate) fn remove(&mut self, key: &V::Key) {
        if self.get(key).is_some() {
            self.shard_mut(key).remove(key);
        }
    }

    /// Every value, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &V> {
        self.shards.iter().flat_map(|s| s.iter().map(|v| &v.0))
    }

    /// Number of values.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_keep_their_version() {
        let mut m: PMap<Arc<[u8]>, u32> = PMap::new();
        for i in 0..1000u32 {
            m.insert(Arc::from(i.to_string().as_bytes()), i);
        }
        let old = m.clone();
        m.insert(Arc::from(&b"7"[..]), 70);
        m.remove(&b"8"[..]);
        m.remove(&b"absent"[..]);
        assert_eq!(old.get(&b"7"[..]), Some(&7));
        assert_eq!(old.get(&b"8"[..]), Some(&8));
        assert_eq!(m.get(&b"7"[..]), Some(&70));
        assert_eq!(m.get(&b"8"[..]), None);
        assert_eq!(m.len(), 999);
        assert_eq!(old.len(), 1000);
        // Untouched shards are shared.
        let shared = old
            .shards
            .iter()
            .zip(m.shards.iter())
            .filter(|(a, b)| Arc::ptr_eq(a, b))
            .count();
        assert!(shared >= SHARDS - 2);
        let built = PMap::from_entries(old.iter().map(|(k, v)| (k.clone(), *v)));
        assert_eq!(built.len(), 1000);
        assert_eq!(built.get(&b"999"[..]), Some(&999));
    }
}
