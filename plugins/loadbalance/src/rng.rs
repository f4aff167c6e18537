//! A cheap per-thread random source for shuffling.
//!
//! CoreDNS draws from `dns.Id()` (a crypto-seeded 16-bit random number); the order of records
//! is not a security property, so a xorshift generator per thread, seeded once from the
//! standard library's randomly keyed hasher, does the same job without locks or allocation.

use std::cell::Cell;
use std::hash::BuildHasher;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let marker = 0u8;
    let s = std::collections::hash_map::RandomState::new().hash_one(&marker as *const u8 as usize);
    s | 1
}

/// The next random number (xorshift64*).
pub(crate) fn next() -> u64 {
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

/// A random index below `n` (`n > 0`).
pub(crate) fn below(n: usize) -> usize {
    (next() % n as u64) as usize
}

/// Shuffle the way CoreDNS's `roundRobinShuffle` does: a coin flip for two items, a forward
/// Fisher-Yates pass for more.
pub(crate) fn shuffle<T>(items: &mut [T]) {
    match items.len() {
        0 | 1 => {}
        2 => {
            if next().is_multiple_of(2) {
                items.swap(0, 1);
            }
        }
        l => {
            for j in 0..l {
                let p = j + below(l - j);
                items.swap(j, p);
            }
        }
    }
}
