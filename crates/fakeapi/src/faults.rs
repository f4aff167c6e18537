//! Fault injection: failing requests, dropping watches, slowing answers, and taking the whole
//! server down, so clients' retry and resync paths can be tested.

use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::store::Store;

/// The faults to inject; reach it with `FakeApi::faults()`. Every method takes effect at once.
pub struct Faults {
    fail_count: AtomicU32,
    fail_status: AtomicU16,
    delay_nanos: AtomicU64,
    down: watch::Sender<bool>,
    store: Arc<Mutex<Store>>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("fail_count", &self.fail_count)
            .field("fail_status", &self.fail_status)
            .field("delay", &self.current_delay())
            .field("down", &self.is_down())
            .finish()
    }
}

impl Faults {
    pub(crate) fn new(store: Arc<Mutex<Store>>) -> Faults {
        Faults {
            fail_count: AtomicU32::new(0),
            fail_status: AtomicU16::new(500),
            delay_nanos: AtomicU64::new(0),
            down: watch::channel(false).0,
            store,
        }
    }

    /// The next `n` requests (of any kind, watches and discovery included) answer HTTP `status`
    /// with a `Status` body. `fail_next(0, _)` cancels.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.fail_status.store(status, Ordering::SeqCst);
        self.fail_count.store(n, Ordering::SeqCst);
    }

    /// Take one pending failure, if any: the status to answer with.
    pub(crate) fn take_failure(&self) -> Option<u16> {
        self.fail_count
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .ok()
            .map(|_| self.fail_status.load(Ordering::SeqCst))
    }

    /// Close every open watch stream now (the chunked response ends cleanly, as when the real
    /// server's watch timeout expires). New watches are accepted.
    pub fn drop_watches(&self) {
        self.store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drop_watchers();
    }

    /// Wait this long before answering each request (zero turns it off).
    pub fn delay(&self, d: Duration) {
        self.delay_nanos
            .store(d.as_nanos().min(u64::MAX as u128) as u64, Ordering::SeqCst);
    }

    pub(crate) fn current_delay(&self) -> Duration {
        Duration::from_nanos(self.delay_nanos.load(Ordering::SeqCst))
    }

    /// `down(true)`: close every open connection and stop listening (new connections are
    /// refused), as if the API server went away. `down(false)` listens again on the same port.
    pub fn down(&self, down: bool) {
        self.down.send_replace(down);
        if down {
            self.drop_watches();
        }
    }

    pub fn is_down(&self) -> bool {
        *self.down.borrow()
    }

    pub(crate) fn down_signal(&self) -> watch::Receiver<bool> {
        self.down.subscribe()
    }
}
