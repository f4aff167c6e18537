//! Randomness: unpredictable query IDs (they guard against spoofed answers, so they come from
//! the operating system, a buffer at a time) and cheap numbers for shuffling upstreams.

use std::cell::{Cell, RefCell};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// IDs drawn per refill of the buffer.
const ID_BATCH: usize = 128;

struct IdBuffer {
    ids: [u16; ID_BATCH],
    next: usize,
}

thread_local! {
    static IDS: RefCell<IdBuffer> = const { RefCell::new(IdBuffer { ids: [0; ID_BATCH], next: ID_BATCH }) };
    static STATE: Cell<u64> = Cell::new(seed());
}

/// A seed from the standard library's per-process random keys.
fn seed() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    h.finish() | 1
}

/// xorshift64*: fast and good enough to spread queries over upstreams.
fn next_u64() -> u64 {
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

/// A number in `0..n` (`n > 0`).
pub(crate) fn below(n: u32) -> u32 {
    (((next_u64() >> 32) * u64::from(n)) >> 32) as u32
}

/// Fill `buf` from the operating system; false if it could not.
#[cfg(target_os = "linux")]
fn os_random(buf: &mut [u8]) -> bool {
    let mut filled = 0;
    while filled < buf.len() {
        // SAFETY: the pointer and length describe the unfilled tail of `buf`.
        let n =
            unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), buf.len() - filled, 0) };
        if n <= 0 {
            return false;
        }
        filled += n as usize;
    }
    true
}

#[cfg(not(target_os = "linux"))]
fn os_random(_buf: &mut [u8]) -> bool {
    false
}

/// A fresh message ID for a query sent upstream.
pub(crate) fn query_id() -> u16 {
    IDS.with(|cell| {
        let mut b = cell.borrow_mut();
        if b.next >= ID_BATCH {
            let mut bytes = [0u8; ID_BATCH * 2];
            if !os_random(&mut bytes) {
                for chunk in bytes.chunks_mut(8) {
                    let v = next_u64().to_le_bytes();
                    chunk.copy_from_slice(&v[..chunk.len()]);
                }
            }
            for (i, id) in b.ids.iter_mut().enumerate() {
                *id = u16::from_le_bytes([bytes[2 * i], bytes[2 * i + 1]]);
            }
            b.next = 0;
        }
        let id = b.ids[b.next];
        b.next += 1;
        id
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_vary_and_below_stays_in_range() {
        let ids: std::collections::HashSet<u16> = (0..300).map(|_| query_id()).collect();
        assert!(ids.len() > 250);
        for _ in 0..1000 {
            assert!(below(3) < 3);
        }
    }
}
