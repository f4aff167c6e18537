/// The allocator. A relist of 100,000 objects parses and drops far more memory than it
/// keeps, and what it keeps (the watch's packed objects, the index's entries) is allocated
/// in between. glibc's malloc leaves the freed gaps resident (about 20 MiB at that size);
/// jemalloc's size-class slabs keep the survivors together, and with its decay at zero it
/// gives each emptied page back at once rather than on later allocator calls. One arena:
/// answering allocates nothing, so the writers are the only users and need no more.
#[cfg(target_os = "linux")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read by the allocator at start (the `_rjem_` prefix is the one
/// tikv-jemallocator builds it with); `_RJEM_MALLOC_CONF` in the environment overrides them.
#[cfg(target_os = "linux")]
#[export_name = "_rjem_malloc_conf"]
pub static MALLOC_CONF: ConfText =
    ConfText(c"narenas:1,dirty_decay_ms:0,muzzy_decay_ms:0".as_ptr());

/// A C string the allocator reads; never written.
#[cfg(target_os = "linux")]
#[repr(transparent)]
pub struct ConfText(*const std::ffi::c_char);

// SAFETY: it points at a `'static` C string literal that nothing writes.
#[cfg(target_os = "linux")]
unsafe impl Sync for ConfText {}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(signpost::main(&args));
}
