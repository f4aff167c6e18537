//! One reference-counted allocation per packed object, addressed by a thin pointer.
//!
//! A watch and the indexes fed by it hold the same packed objects; every holder keeps one
//! pointer per object in its tables (hash sets, reverse maps, entry lists). `Arc<[u8]>` is
//! two words (pointer and length) with a two-word header; [`SharedBytes`] is one word, with
//! the count and the length in a two-`u32` header in front of the bytes. At 100,000 Services
//! and slices that is several megabytes of tables and headers less.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicU32, Ordering};

/// What precedes the bytes.
#[repr(C)]
struct Header {
    count: AtomicU32,
    len: u32,
}

/// Shared, immutable bytes behind one pointer. Cloning shares; the last drop frees.
pub struct SharedBytes {
    ptr: NonNull<Header>,
}

// SAFETY: the bytes are never written after construction and the count is atomic, exactly
// as for `Arc<[u8]>`.
unsafe impl Send for SharedBytes {}
// SAFETY: as above.
unsafe impl Sync for SharedBytes {}

/// Counts above this abort, as `Arc` does: reaching it means clones are being leaked.
const MAX_COUNT: u32 = i32::MAX as u32;

fn layout(len: usize) -> Layout {
    // A header of two u32 and `len` bytes: never overflows for the lengths `new` accepts.
    Layout::from_size_align(size_of::<Header>() + len, align_of::<Header>())
        .unwrap_or_else(|_| std::process::abort())
}

impl SharedBytes {
    /// A copy of `bytes` in a new allocation. Packed objects are far below the 4 GiB a
    /// header can describe (an API server refuses objects over a few megabytes); longer
    /// input aborts rather than being cut.
    pub fn new(bytes: &[u8]) -> SharedBytes {
        let Ok(len) = u32::try_from(bytes.len()) else {
            std::process::abort();
        };
        let layout = layout(bytes.len());
        // SAFETY: the layout is never zero-sized (the header has 8 bytes).
        let raw = unsafe { alloc(layout) };
        let Some(ptr) = NonNull::new(raw.cast::<Header>()) else {
            handle_alloc_error(layout);
        };
        // SAFETY: `raw` is a fresh allocation of header + `len` bytes, suitably aligned
        // for the header; the bytes go right after it and do not overlap `bytes`.
        unsafe {
            ptr.as_ptr().write(Header {
                count: AtomicU32::new(1),
                len,
            });
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                raw.add(size_of::<Header>()),
                bytes.len(),
            );
        }
        SharedBytes { ptr }
    }

    fn header(&self) -> &Header {
        // SAFETY: the header stays valid while any `SharedBytes` to it exists.
        unsafe { self.ptr.as_ref() }
    }

    /// The very same allocation (not merely equal bytes).
    pub fn ptr_eq(a: &SharedBytes, b: &SharedBytes) -> bool {
        a.ptr == b.ptr
    }

    /// How many holders share the allocation (for tests and diagnostics).
    pub fn holders(&self) -> u32 {
        self.header().count.load(Ordering::Acquire)
    }
}

impl std::ops::Deref for SharedBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        let len = self.header().len as usize;
        // SAFETY: `len` initialised bytes follow the header and are never written again.
        unsafe {
            std::slice::from_raw_parts(self.ptr.as_ptr().cast::<u8>().add(size_of::<Header>()), len)
        }
    }
}

impl Clone for SharedBytes {
    fn clone(&self) -> Self {
        // Relaxed as in `Arc::clone`: a new holder is made from an existing one, which
        // already keeps the allocation alive.
        if self.header().count.fetch_add(1, Ordering::Relaxed) > MAX_COUNT {
            std::process::abort();
        }
        SharedBytes { ptr: self.ptr }
    }
}

impl Drop for SharedBytes {
    fn drop(&mut self) {
        if self.header().count.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // Every other holder's last use happens before the memory is freed.
        fence(Ordering::Acquire);
        let len = self.header().len as usize;
        // SAFETY: this was the last holder; the allocation was made with this layout.
        unsafe { dealloc(self.ptr.as_ptr().cast::<u8>(), layout(len)) }
    }
}

impl PartialEq for SharedBytes {
    fn eq(&self, o: &SharedBytes) -> bool {
        **self == **o
    }
}

impl Eq for SharedBytes {}

impl std::fmt::Debug for SharedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedBytes({} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_counts_and_frees() {
        let a = SharedBytes::new(b"hello");
        assert_eq!(&*a, b"hello");
        let b = a.clone();
        assert!(SharedBytes::ptr_eq(&a, &b));
        assert_eq!(a.holders(), 2);
        drop(a);
        assert_eq!(b.holders(), 1);
        assert_eq!(&*b, b"hello");
        let c = SharedBytes::new(b"hello");
        assert_eq!(b, c, "equal bytes");
        assert!(!SharedBytes::ptr_eq(&b, &c), "different allocations");
        let empty = SharedBytes::new(b"");
        assert!(empty.is_empty());
        assert_eq!(size_of::<SharedBytes>(), size_of::<usize>());
        assert_eq!(size_of::<Option<SharedBytes>>(), size_of::<usize>());
    }

    #[test]
    fn holders_on_many_threads() {
        let a = SharedBytes::new(&[7u8; 100]);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        let c = a.clone();
                        assert_eq!(c[99], 7);
                    }
                });
            }
        });
        assert_eq!(a.holders(), 1);
    }
}
