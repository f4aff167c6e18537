//! The connection cache of one upstream (CoreDNS's `persistConn` transport).
//!
//! After a successful exchange a connection goes back to the cache; the next query to that
//! upstream over the same transport takes the oldest cached one (spreading queries over source
//! ports) unless it has been idle longer than `expire` or is older than `max_age`. A
//! connection that failed is never returned. A sweep every 10s (CoreDNS's fixed interval)
//! closes idle ones.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::transport::{Conn, Proto};

/// How often idle connections are swept.
pub(crate) const SWEEP_INTERVAL: Duration = Duration::from_secs(10);

/// A cached connection.
#[derive(Debug)]
pub(crate) struct Pooled {
    /// The connection.
    pub(crate) conn: Conn,
    /// When it was opened.
    pub(crate) created: Instant,
    /// When it was last given back.
    pub(crate) used: Instant,
}

/// Cache limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolLimits {
    /// Idle time after which a connection is closed (`expire`, default 10s).
    pub(crate) expire: Duration,
    /// Lifetime after which a connection is closed however busy (`max_age`; zero: none).
    pub(crate) max_age: Duration,
    /// Most idle connections kept per transport (`max_idle_conns`; zero: no limit).
    pub(crate) max_idle: usize,
}

/// Cached connections per transport.
#[derive(Debug)]
pub(crate) struct Pool {
    conns: Mutex<[VecDeque<Pooled>; 2]>,
    limits: PoolLimits,
    stopped: AtomicBool,
}

impl Pool {
    /// An empty cache.
    pub(crate) fn new(limits: PoolLimits) -> Pool {
        Pool {
            conns: Mutex::new([VecDeque::new(), VecDeque::new()]),
            limits,
            stopped: AtomicBool::new(false),
        }
    }

    fn stale(&self, pc: &Pooled, now: Instant) -> bool {
        now.saturating_duration_since(pc.used) > self.limits.expire
            || (!self.limits.max_age.is_zero()
                && now.saturating_duration_since(pc.created) > self.limits.max_age)
    }

    /// The oldest usable cached connection, closing stale ones on the way.
    pub(crate) fn take(&self, proto: Proto) -> Option<Pooled> {
        let now = Instant::now();
        let mut stale = Vec::new();
        let found = {
            let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
            let queue = &mut conns[proto as usize];
            loop {
                match queue.pop_front() {
                    None => break None,
                    Some(pc) if self.stale(&pc, now) => stale.push(pc),
                    Some(pc) => break Some(pc),
                }
            }
        };
        drop(stale); // closed outside the lock
        found
    }

    /// Give a connection back after a successful exchange.
    pub(crate) fn put(&self, proto: Proto, mut pc: Pooled) {
        if self.stopped.load(Ordering::Acquire) {
            return;
        }
        pc.used = Instant::now();
        let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
        let queue = &mut conns[proto as usize];
        if self.limits.max_idle > 0 && queue.len() >= self.limits.max_idle {
            return;
        }
        queue.push_back(pc);
    }

    /// Close idle connections (all of them when `all`).
    pub(crate) fn sweep(&self, all: bool) {
        let now = Instant::now();
        let mut closed = Vec::new();
        {
            let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
            for queue in conns.iter_mut() {
                if all {
                    closed.extend(queue.drain(..));
                    continue;
                }
                let (keep, drop_now): (VecDeque<_>, VecDeque<_>) =
                    queue.drain(..).partition(|pc| !self.stale(pc, now));
                *queue = keep;
                closed.extend(drop_now);
            }
        }
        drop(closed);
    }

    /// Stop caching: close everything and refuse connections given back later.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.sweep(true);
    }

    /// Cached connections per transport (udp, tcp).
    #[cfg(test)]
    pub(crate) fn sizes(&self) -> (usize, usize) {
        let conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
        (conns[0].len(), conns[1].len())
    }
}
