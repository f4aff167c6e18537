//! The order in which upstreams are tried for one query (`policy random|round_robin|sequential`).
//!
//! An order is a small fixed array of indices (there are at most 15 upstreams), so choosing
//! one allocates nothing.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::random;
use crate::targets::MAX_TO;

/// Indices into the upstream list, in the order to try them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Order {
    idx: [u8; MAX_TO],
    len: u8,
}

impl Order {
    fn identity(n: usize) -> Order {
        let n = n.min(MAX_TO);
        let mut idx = [0u8; MAX_TO];
        for (i, slot) in idx.iter_mut().enumerate().take(n) {
            *slot = i as u8;
        }
        Order { idx, len: n as u8 }
    }

    /// The indices.
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.idx[..self.len as usize]
    }
}

/// How upstreams are ordered.
#[derive(Debug, Default)]
pub(crate) enum Policy {
    /// A random permutation per query (CoreDNS's default).
    #[default]
    Random,
    /// Start one further along each query; the rest keep their order.
    RoundRobin(AtomicU32),
    /// Always as configured.
    Sequential,
}

impl Policy {
    /// The name as written in the Corefile.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Policy::Random => "random",
            Policy::RoundRobin(_) => "round_robin",
            Policy::Sequential => "sequential",
        }
    }

    /// The order for the next query over `n` upstreams.
    pub(crate) fn order(&self, n: usize) -> Order {
        match self {
            Policy::Random => random_order(n),
            Policy::Sequential => Order::identity(n),
            Policy::RoundRobin(robin) => {
                let mut o = Order::identity(n);
                if n == 0 {
                    return o;
                }
                // As CoreDNS: the counter is bumped first, so the first query starts at 1.
                let first = (robin.fetch_add(1, Ordering::Relaxed).wrapping_add(1) as usize) % n;
                o.idx[..=first].rotate_right(1);
                o
            }
        }
    }
}

/// A random order: with two upstreams a coin flip, otherwise a shuffle.
pub(crate) fn random_order(n: usize) -> Order {
    let mut o = Order::identity(n);
    let len = o.len as usize;
    for i in (1..len).rev() {
        let j = random::below(i as u32 + 1) as usize;
        o.idx.swap(i, j);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_like_coredns() {
        let p = Policy::RoundRobin(AtomicU32::new(0));
        assert_eq!(p.order(3).as_slice(), [1, 0, 2]);
        assert_eq!(p.order(3).as_slice(), [2, 0, 1]);
        assert_eq!(p.order(3).as_slice(), [0, 1, 2]);
        assert_eq!(p.order(3).as_slice(), [1, 0, 2]);
        assert_eq!(p.order(1).as_slice(), [0]);
    }

    #[test]
    fn sequential_and_random() {
        assert_eq!(Policy::Sequential.order(3).as_slice(), [0, 1, 2]);
        let mut seen_first = [false; 4];
        for _ in 0..200 {
            let o = Policy::Random.order(4);
            let mut sorted = o.as_slice().to_vec();
            sorted.sort();
            assert_eq!(sorted, [0, 1, 2, 3]);
            seen_first[o.as_slice()[0] as usize] = true;
        }
        assert!(
            seen_first.iter().all(|&s| s),
            "every upstream comes first sometimes"
        );
        assert_eq!(Policy::Random.order(1).as_slice(), [0]);
        assert_eq!(Policy::Random.order(0).as_slice(), [] as [u8; 0]);
    }
}
