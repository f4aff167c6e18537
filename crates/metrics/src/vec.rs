//! Labelled metric families: [`CounterVec`], [`GaugeVec`], [`HistogramVec`].
//!
//! A vec maps label values to a child metric behind an `RwLock`. `with` is meant
//! for setup time: callers keep the returned `Arc` and update it directly on the
//! hot path. A lookup of an existing child takes only the read lock and does not
//! allocate; creating a child takes the write lock.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::metric::{Counter, Gauge, Histogram};

type Series<T> = (Box<[String]>, Arc<T>);

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

fn same_values(stored: &[String], values: &[&str]) -> bool {
    stored.len() == values.len() && stored.iter().zip(values).all(|(a, b)| a == b)
}

/// The shared machinery of all vec types.
pub(crate) struct Children<T> {
    /// Label names in declaration order (the order `with` takes values in).
    names: Box<[String]>,
    /// Indexes into `names`, sorted by label name: the output order.
    order: Box<[usize]>,
    hasher: RandomState,
    /// Keyed by the hash of the label values; collisions share a bucket.
    map: RwLock<HashMap<u64, Vec<Series<T>>>>,
}

impl<T> Children<T> {
    fn new(labels: &[&str]) -> Children<T> {
        let names: Box<[String]> = labels.iter().map(|s| s.to_string()).collect();
        let mut order: Vec<usize> = (0..names.len()).collect();
        order.sort_by(|&a, &b| names[a].cmp(&names[b]));
        Children {
            names,
            order: order.into(),
            hasher: RandomState::new(),
            map: RwLock::new(HashMap::new()),
        }
    }

    pub(crate) fn label_names(&self) -> &[String] {
        &self.names
    }

    /// Returns the child for `values`, creating it with `make` if needed.
    ///
    /// With the wrong number of values a detached child is returned (counted
    /// nowhere, rendered never) instead of panicking.
    fn get_or_create(&self, values: &[&str], make: impl FnOnce() -> T) -> Arc<T> {
        if values.len() != self.names.len() {
            return Arc::new(make());
        }
        let h = self.hasher.hash_one(values);
        if let Some(bucket) = read(&self.map).get(&h) {
            if let Some((_, m)) = bucket.iter().find(|(k, _)| same_values(k, values)) {
                return Arc::clone(m);
            }
        }
        let mut map = write(&self.map);
        let bucket = map.entry(h).or_default();
        if let Some((_, m)) = bucket.iter().find(|(k, _)| same_values(k, values)) {
            return Arc::clone(m);
        }
        let m = Arc::new(make());
        let key: Box<[String]> = values.iter().map(|s| s.to_string()).collect();
        bucket.push((key, Arc::clone(&m)));
        m
    }

    fn remove(&self, values: &[&str]) {
        if values.len() != self.names.len() {
            return;
        }
        let h = self.hasher.hash_one(values);
        let mut map = write(&self.map);
        if let Some(bucket) = map.get_mut(&h) {
            bucket.retain(|(k, _)| !same_values(k, values));
            if bucket.is_empty() {
                map.remove(&h);
            }
        }
    }

    fn clear(&self) {
        write(&self.map).clear();
    }

    fn len(&self) -> usize {
        read(&self.map).values().map(Vec::len).sum()
    }

    /// Label names in output (sorted) order.
    pub(crate) fn sorted_names(&self) -> Vec<&str> {
        self.order.iter().map(|&i| self.names[i].as_str()).collect()
    }

    /// All series with their label values permuted into output order, sorted
    /// by those values.
    pub(crate) fn snapshot(&self) -> Vec<(Vec<String>, Arc<T>)> {
        let mut out: Vec<(Vec<String>, Arc<T>)> = read(&self.map)
            .values()
            .flatten()
            .map(|(k, m)| {
                let vals = self.order.iter().map(|&i| k[i].clone()).collect();
                (vals, Arc::clone(m))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

macro_rules! vec_common {
    ($ty:ident) => {
        impl $ty {
            /// The label names, in the order `with` expects values.
            pub fn label_names(&self) -> &[String] {
                self.children.label_names()
            }

            /// Number of series currently present.
            pub fn len(&self) -> usize {
                self.children.len()
            }

            /// Whether no series is present.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// Removes the series with these label values (no-op if absent).
            /// Holders of its `Arc` keep a detached metric.
            pub fn remove(&self, values: &[&str]) {
                self.children.remove(values);
            }

            /// Removes all series.
            pub fn clear(&self) {
                self.children.clear();
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("labels", &self.children.label_names())
                    .field("series", &self.len())
                    .finish()
            }
        }
    };
}

/// A family of [`Counter`]s distinguished by label values.
pub struct CounterVec {
    pub(crate) children: Children<Counter>,
}

impl CounterVec {
    /// A new, unregistered vec with these label names.
    pub fn new(labels: &[&str]) -> CounterVec {
        CounterVec {
            children: Children::new(labels),
        }
    }

    /// The counter for these label values (in label-name declaration order),
    /// created at zero if absent. With a wrong number of values, a detached
    /// counter is returned.
    pub fn with(&self, values: &[&str]) -> Arc<Counter> {
        self.children.get_or_create(values, Counter::new)
    }
}
vec_common!(CounterVec);

/// A family of [`Gauge`]s distinguished by label values.
pub struct GaugeVec {
    pub(crate) children: Children<Gauge>,
}

impl GaugeVec {
    /// A new, unregistered vec with these label names.
    pub fn new(labels: &[&str]) -> GaugeVec {
        GaugeVec {
            children: Children::new(labels),
        }
    }

    /// The gauge for these label values (in label-name declaration order),
    /// created at zero if absent. With a wrong number of values, a detached
    /// gauge is returned.
    pub fn with(&self, values: &[&str]) -> Arc<Gauge> {
        self.children.get_or_create(values, Gauge::new)
    }
}
vec_common!(GaugeVec);

/// A family of [`Histogram`]s sharing the same buckets, distinguished by
/// label values.
pub struct HistogramVec {
    pub(crate) children: Children<Histogram>,
    pub(crate) bounds: Arc<[f64]>,
}

impl HistogramVec {
    /// A new, unregistered vec with these label names and buckets.
    pub fn new(labels: &[&str], buckets: &[f64]) -> HistogramVec {
        HistogramVec {
            children: Children::new(labels),
            bounds: crate::metric::normalize_buckets(buckets),
        }
    }

    /// The finite bucket upper bounds shared by all children.
    pub fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    /// The histogram for these label values (in label-name declaration
    /// order), created empty if absent. With a wrong number of values, a
    /// detached histogram is returned.
    pub fn with(&self, values: &[&str]) -> Arc<Histogram> {
        self.children
            .get_or_create(values, || Histogram::with_bounds(Arc::clone(&self.bounds)))
    }
}
vec_common!(HistogramVec);
