//! The scalar metric types: [`Counter`], [`Gauge`] and [`Histogram`].
//!
//! All of them are plain atomics; updating never locks or allocates.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A monotonically increasing integer counter.
///
/// `inc` and `add` are a single relaxed atomic add.
#[derive(Default)]
pub struct Counter {
    value: AtomicU64,
}

impl Counter {
    /// A new, unregistered counter at zero.
    pub fn new() -> Counter {
        Counter::default()
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.value.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `v`.
    #[inline]
    pub fn add(&self, v: u64) {
        self.value.fetch_add(v, Ordering::Relaxed);
    }

    /// The current value.
    #[inline]
    pub fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Counter").field(&self.get()).finish()
    }
}

/// Adds `delta` to an `f64` stored as bits in an `AtomicU64` (CAS loop).
#[inline]
fn atomic_f64_add(cell: &AtomicU64, delta: f64) {
    let mut cur = cell.load(Ordering::Relaxed);
    loop {
        let new = (f64::from_bits(cur) + delta).to_bits();
        match cell.compare_exchange_weak(cur, new, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return,
            Err(actual) => cur = actual,
        }
    }
}

/// A value that can go up and down; an `f64` stored as bits in an `AtomicU64`.
pub struct Gauge {
    bits: AtomicU64,
}

impl Default for Gauge {
    fn default() -> Gauge {
        Gauge {
            bits: AtomicU64::new(0f64.to_bits()),
        }
    }
}

impl Gauge {
    /// A new, unregistered gauge at zero.
    pub fn new() -> Gauge {
        Gauge::default()
    }

    /// Sets the value.
    #[inline]
    pub fn set(&self, v: f64) {
        self.bits.store(v.to_bits(), Ordering::Relaxed);
    }

    /// Adds `v` (which may be negative).
    #[inline]
    pub fn add(&self, v: f64) {
        atomic_f64_add(&self.bits, v);
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1.0);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.add(-1.0);
    }

    /// The current value.
    #[inline]
    pub fn get(&self) -> f64 {
        f64::from_bits(self.bits.load(Ordering::Relaxed))
    }
}

impl fmt::Debug for Gauge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Gauge").field(&self.get()).finish()
    }
}

/// Turns user-supplied bucket bounds into strictly increasing finite-or-`-Inf`
/// upper bounds: NaN and `+Inf` are dropped (the `+Inf` bucket is implicit),
/// the rest sorted and de-duplicated.
pub(crate) fn normalize_buckets(buckets: &[f64]) -> Arc<[f64]> {
    let mut b: Vec<f64> = buckets
        .iter()
        .copied()
        .filter(|v| !v.is_nan() && *v != f64::INFINITY)
        .collect();
    b.sort_by(f64::total_cmp);
    b.dedup();
    b.into()
}

/// A histogram with fixed upper bounds.
///
/// Storage is one non-cumulative `AtomicU64` per bucket (plus the implicit
/// `+Inf` bucket); the count is the sum of all buckets and the cumulative
/// `_bucket` values are computed at render time. The sum is an `f64` updated
/// with a CAS loop. `observe` never locks or allocates.
pub struct Histogram {
    bounds: Arc<[f64]>,
    /// `bounds.len() + 1` entries; the last one is the `+Inf` bucket.
    counts: Box<[AtomicU64]>,
    sum: AtomicU64,
}

impl Histogram {
    /// A new, unregistered histogram. Bounds are sorted and de-duplicated;
    /// NaN and `+Inf` bounds are ignored (`+Inf` is always present implicitly).
    pub fn new(buckets: &[f64]) -> Histogram {
        Histogram::with_bounds(normalize_buckets(buckets))
    }

    pub(crate) fn with_bounds(bounds: Arc<[f64]>) -> Histogram {
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Histogram {
            bounds,
            counts,
            sum: AtomicU64::new(0f64.to_bits()),
        }
    }

    /// Records one observation. A value equal to an upper bound falls into
    /// that bucket (`le` is inclusive); NaN lands in the `+Inf` bucket only.
    #[inline]
    pub fn observe(&self, v: f64) {
        let idx = if v.is_nan() {
            self.bounds.len()
        } else {
            self.bounds.partition_point(|b| *b < v)
        };
        self.counts[idx].fetch_add(1, Ordering::Relaxed);
        atomic_f64_add(&self.sum, v);
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// Sum of all observed values.
    pub fn sum(&self) -> f64 {
        f64::from_bits(self.sum.load(Ordering::Relaxed))
    }

    /// The finite upper bounds (without the implicit `+Inf`).
    pub fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    /// Cumulative bucket counts `(upper_bound, count)`, ending with `+Inf`
    /// whose count equals the total number of observations in the snapshot.
    pub fn cumulative_buckets(&self) -> Vec<(f64, u64)> {
        let mut acc = 0u64;
        self.counts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                acc += c.load(Ordering::Relaxed);
                (self.bounds.get(i).copied().unwrap_or(f64::INFINITY), acc)
            })
            .collect()
    }
}

impl fmt::Debug for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Histogram")
            .field("bounds", &self.bounds)
            .field("count", &self.count())
            .field("sum", &self.sum())
            .finish()
    }
}
