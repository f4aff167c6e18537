//! Compact storage for the strings objects repeat.
//!
//! A cluster of 100,000 Services says `TCP`, `IPv4`, its few namespaces, its label keys and
//! the empty string hundreds of thousands of times. [`shared`] hands out one `Arc<str>` per
//! distinct text, so each repeat costs a pointer instead of an allocation, and [`Labels`]
//! keeps a label set as one sorted slice instead of a tree of nodes sized for eleven entries.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

/// The set of texts handed out, and its size after the last sweep.
struct Pool {
    texts: HashSet<Arc<str>>,
    swept_at: usize,
}

/// Below this many texts the pool is never swept.
const SWEEP_FLOOR: usize = 4096;

fn pool() -> &'static Mutex<Pool> {
    static POOL: OnceLock<Mutex<Pool>> = OnceLock::new();
    POOL.get_or_init(|| {
        Mutex::new(Pool {
            texts: HashSet::new(),
            swept_at: 0,
        })
    })
}

/// The one shared `Arc<str>` for `text`.
///
/// Texts no object holds any more are dropped from the pool whenever it has doubled since
/// the last sweep, so churn (pods coming and going) does not grow it without bound; the
/// sweep's cost is spread over the insertions that doubled it.
pub fn shared(text: &str) -> Arc<str> {
    let mut p = pool().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = p.texts.get(text) {
        return Arc::clone(t);
    }
    if p.texts.len() >= SWEEP_FLOOR && p.texts.len() >= 2 * p.swept_at {
        p.texts.retain(|t| Arc::strong_count(t) > 1);
        p.swept_at = p.texts.len();
    }
    let t: Arc<str> = Arc::from(text);
    p.texts.insert(Arc::clone(&t));
    t
}

/// Drops the texts no object holds any more and gives their table space back. A relist
/// makes and drops a great many objects at once (every label value of every object passes
/// through [`shared`]); called after one, it frees what the next doubling would only
/// reach much later.
pub fn sweep_shared() {
    let mut p = pool().lock().unwrap_or_else(|e| e.into_inner());
    p.texts.retain(|t| Arc::strong_count(t) > 1);
    p.texts.shrink_to_fit();
    p.swept_at = p.texts.len();
}

/// The shared empty string.
pub fn empty() -> Arc<str> {
    static EMPTY: OnceLock<Arc<str>> = OnceLock::new();
    Arc::clone(EMPTY.get_or_init(|| Arc::from("")))
}

/// Labels (or annotations): key/value pairs sorted by key, keys unique.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Labels(Box<[(Arc<str>, Arc<str>)]>);

impl Labels {
    /// No labels.
    pub fn new() -> Labels {
        Labels::default()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Arc<str>> {
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// Sets `key` to `value` (rebuilds the slice: for building objects, not for hot paths).
    pub fn insert(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) {
        let pairs = std::mem::take(&mut self.0).into_vec();
        *self = pairs
            .into_iter()
            .chain([(shared(key.as_ref()), shared(value.as_ref()))])
            .collect();
    }

    /// Whether `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The pairs in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Arc<str>)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True without pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Labels {
    /// Keys and values go through [`shared`]; for a repeated key the last value wins.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Labels {
        let mut v: Vec<(Arc<str>, Arc<str>)> = pairs
            .into_iter()
            .map(|(k, v)| (shared(k.as_ref()), shared(v.as_ref())))
            .collect();
        // A stable sort keeps input order among equal keys, so keeping the last of each
        // run is "last one wins".
        v.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(Arc<str>, Arc<str>)> = Vec::with_capacity(v.len());
        for pair in v {
            match out.last_mut() {
                Some(last) if last.0 == pair.0 => *last = pair,
                _ => out.push(pair),
            }
        }
        Labels(out.into_boxed_slice())
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_texts_are_one_allocation() {
        let a = shared("kubernetes.io/service-name");
        let b = shared(&String::from("kubernetes.io/service-name"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(Arc::ptr_eq(&empty(), &empty()));
    }

    #[test]
    fn unused_texts_are_swept() {
        for i in 0..3 * SWEEP_FLOOR {
            drop(shared(&format!("sweep-test-{i}")));
        }
        let kept = shared("sweep-test-kept");
        let p = pool().lock().unwrap();
        assert!(p.texts.len() < 3 * SWEEP_FLOOR);
        assert!(p.texts.contains(&kept));
    }

    #[test]
    fn labels_sorted_last_wins() {
        let l: Labels = [("b", "1"), ("a", "2"), ("b", "3")].into_iter().collect();
        assert_eq!(l.len(), 2);
        assert_eq!(l.get("b").map(|v| &**v), Some("3"));
        assert_eq!(l.get("a").map(|v| &**v), Some("2"));
        assert!(l.get("c").is_none());
        assert!(!l.contains_key("c"));
        let keys: Vec<&str> = l.iter().map(|(k, _)| &**k).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(format!("{l:?}"), r#"{"a": "2", "b": "3"}"#);
        let mut m = Labels::new();
        assert!(m.is_empty());
        m.insert("z", "1");
        m.insert("a", "2");
        m.insert("z", "3");
        assert_eq!(format!("{m:?}"), r#"{"a": "2", "z": "3"}"#);
    }
}
