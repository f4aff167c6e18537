//! The sharded map behind each of the two caches (success and denial).
//!
//! Like CoreDNS's `plugin/pkg/cache`: 256 shards picked by the low bits of the key, each a
//! map under its own lock holding at most `capacity / 256` items (never fewer than 4), and a
//! random item evicted when a new key arrives at a full shard. Values are `Arc`s so a lookup
//! holds the lock only long enough to bump a reference count.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

const SHARDS: usize = 256;

/// Keys are already FNV hashes; hashing them again would only cost time.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        // The shard index took the low 8 bits; spread the rest over the table.
        self.0 = v.rotate_right(8);
    }
}

type Map<T> = HashMap<u64, Arc<T>, BuildHasherDefault<KeyHasher>>;

/// A fixed-size, randomly evicting map from key hashes to shared values.
pub(crate) struct Store<T> {
    shards: Box<[RwLock<Map<T>>]>,
    per_shard: usize,
    len: AtomicUsize,
    /// Source of randomness for eviction.
    seed: AtomicU64,
}

impl<T> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("per_shard", &self.per_shard)
            .field("len", &self.len())
            .finish()
    }
}

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

impl<T> Store<T> {
    /// A store for about `capacity` items (rounded down to a multiple of 256, at least 1024).
    pub(crate) fn new(capacity: i64) -> Store<T> {
        let per_shard = usize::try_from(capacity / SHARDS as i64)
            .unwrap_or(0)
            .max(4);
        let shards = (0..SHARDS)
            .map(|_| {
                RwLock::new(Map::with_capacity_and_hasher(
                    per_shard.min(64),
                    Default::default(),
                ))
            })
            .collect();
        Store {
            shards,
            per_shard,
            len: AtomicUsize::new(0),
            seed: AtomicU64::new(0x9E37_79B9_7F4A_7C15),
        }
    }

    fn shard(&self, key: u64) -> &RwLock<Map<T>> {
        &self.shards[(key as usize) & (SHARDS - 1)]
    }

    /// The item under `key`.
    pub(crate) fn get(&self, key: u64) -> Option<Arc<T>> {
        read(self.shard(key)).get(&key).cloned()
    }

    /// Store `value` under `key`, replacing what was there. Returns true when another item
    /// was evicted to make room.
    pub(crate) fn add(&self, key: u64, value: Arc<T>) -> bool {
        let mut map = write(self.shard(key));
        let mut evicted = false;
        if map.len() >= self.per_shard && !map.contains_key(&key) {
            let victim = map.keys().nth(self.random(map.len())).copied();
            if let Some(victim) = victim {
                map.remove(&victim);
                evicted = true;
            }
        }
        if map.insert(key, value).is_none() && !evicted {
            self.len.fetch_add(1, Ordering::Relaxed);
        }
        evicted
    }

    /// Drop the item under `key`.
    pub(crate) fn remove(&self, key: u64) {
        if write(self.shard(key)).remove(&key).is_some() {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Number of items.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Items a shard holds at most.
    #[cfg(test)]
    pub(crate) fn per_shard(&self) -> usize {
        self.per_shard
    }

    /// A number below `n` (splitmix64 over a shared counter; quality is not critical).
    fn random(&self, n: usize) -> usize {
        let mut z = self
            .seed
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z % n.max(1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_rounding_and_eviction() {
        assert_eq!(Store::<u8>::new(10000).per_shard(), 39);
        assert_eq!(Store::<u8>::new(5000).per_shard(), 19);
        assert_eq!(Store::<u8>::new(10).per_shard(), 4);
        assert_eq!(Store::<u8>::new(-5).per_shard(), 4);

        let s = Store::new(0);
        // Five keys in shard 7: the fifth evicts one of the first four.
        let keys: Vec<u64> = (0..5).map(|i| (i << 8) | 7).collect();
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(s.add(k, Arc::new(i)), i == 4);
        }
        assert_eq!(s.len(), 4);
        assert!(s.get(keys[4]).is_some());
        assert_eq!(keys.iter().filter(|&&k| s.get(k).is_some()).count(), 4);
        // Replacing an existing key never evicts.
        assert!(!s.add(keys[4], Arc::new(9)));
        assert_eq!(*s.get(keys[4]).unwrap(), 9);
        assert_eq!(s.len(), 4);
        s.remove(keys[4]);
        assert_eq!(s.len(), 3);
        s.remove(keys[4]);
        assert_eq!(s.len(), 3);
    }
}
