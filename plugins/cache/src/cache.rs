//! The state of one `cache` instance and its lookup path.

use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use signpost_corefile::go_text::SECOND;
use signpost_plugin::{Next, Request};
use signpost_wire::{rcode, Query, Response};
use tokio::runtime::Handle;

use crate::config::Config;
use crate::entry::{Entry, Kind};
use crate::metrics::{Metrics, Series};
use crate::store::Store;

/// One `cache` directive's caches, settings and metrics.
#[derive(Debug)]
pub(crate) struct Inner {
    /// The settings.
    pub cfg: Config,
    /// Positive answers.
    pub pcache: Store<Entry>,
    /// Denials and server failures.
    pub ncache: Store<Entry>,
    /// Metric series.
    pub metrics: Metrics,
    /// The server's runtime, for background refreshes started from plain worker threads.
    pub runtime: OnceLock<Handle>,
    /// `serve_stale` duration in whole seconds (0: off).
    stale_up_to_secs: i64,
    /// Test clock offset in seconds.
    #[cfg(test)]
    pub skew: std::sync::atomic::AtomicU64,
}

impl Inner {
    /// Caches sized and set up as `cfg` says.
    pub(crate) fn new(cfg: Config) -> Inner {
        Inner {
            pcache: Store::new(cfg.pcap),
            ncache: Store::new(cfg.ncap),
            metrics: Metrics::new(&cfg.zones_label),
            runtime: OnceLock::new(),
            stale_up_to_secs: cfg.stale_up_to / SECOND,
            cfg,
            #[cfg(test)]
            skew: Default::default(),
        }
    }

    /// The monotonic clock all TTLs are measured with.
    pub(crate) fn now(&self) -> Instant {
        #[cfg(test)]
        {
            let skew = self.skew.load(std::sync::atomic::Ordering::Relaxed);
            Instant::now() + std::time::Duration::from_secs(skew)
        }
        #[cfg(not(test))]
        Instant::now()
    }

    /// Wall-clock seconds since the epoch (for signature validity).
    pub(crate) fn now_unix(&self) -> i64 {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        #[cfg(test)]
        let secs = secs + self.skew.load(std::sync::atomic::Ordering::Relaxed) as i64;
        secs
    }

    /// A runtime to spawn background work on.
    pub(crate) fn handle(&self) -> Option<Handle> {
        Handle::try_current()
            .ok()
            .or_else(|| self.runtime.get().cloned())
    }

    /// Is `q` for a name this cache covers?
    pub(crate) fn covers(&self, q: &Query<'_>) -> bool {
        self.cfg.zones.matches(&q.qname).is_some()
    }

    /// The entry to answer `q` with, fresh or (with serve_stale) not too stale: CoreDNS's
    /// `getIfNotStale` without its counting. Denials are looked at first, but a cached
    /// SERVFAIL does not hide a usable positive answer, and with `prefer_positive` a
    /// positive answer wins outright.
    pub(crate) fn lookup(&self, q: &Query<'_>, key: u64, now: Instant) -> Option<Arc<Entry>> {
        let up = self.stale_up_to_secs;
        if self.cfg.prefer_positive && up > 0 {
            let positive = self.pcache.get(key).and_then(|p| p.answering_entry(q));
            if let Some(p) = positive.filter(|p| p.usable(now, up)) {
                return Some(p);
            }
        }
        let positive = || {
            self.pcache
                .get(key)
                .filter(|p| p.matches(q) && p.usable(now, up))
        };
        if let Some(n) = self.ncache.get(key) {
            if n.matches(q) && n.usable(now, up) {
                if n.rcode() == rcode::SERVFAIL {
                    if let Some(p) = positive() {
                        return Some(p);
                    }
                }
                return Some(n);
            }
        }
        positive()
    }

    /// The entry under `key` for `q`, however old (after a refresh).
    pub(crate) fn exists(&self, q: &Query<'_>, key: u64) -> Option<Arc<Entry>> {
        self.ncache
            .get(key)
            .filter(|e| e.matches(q))
            .or_else(|| self.pcache.get(key).filter(|e| e.matches(q)))
    }

    /// Does a fresh hit on `entry` call for a prefetch? Counts the hit as a side effect.
    fn should_prefetch(&self, entry: &Entry, now: Instant) -> bool {
        if self.cfg.prefetch <= 0 {
            return false;
        }
        let hits = entry.update_hits(self.cfg.duration, now);
        let threshold =
            (self.cfg.percentage as f64 / 100.0 * f64::from(entry.orig_ttl)).ceil() as i64;
        hits >= self.cfg.prefetch && entry.ttl(now) <= threshold
    }

    /// Answer from `entry` (fresh, or stale without verification): count the hit, start a
    /// prefetch or a stale refresh if due, and write the reply.
    pub(crate) fn answer(
        self: &Arc<Self>,
        req: &Request<'_>,
        resp: &mut Response,
        next: Next<'_>,
        entry: &Arc<Entry>,
        key: u64,
        now: Instant,
    ) {
        let ttl = entry.ttl(now);
        self.metrics.with(&req.server.addr, |m| {
            m.requests().inc();
            m.hits(entry.kind).inc();
            let out = if ttl <= 0 {
                if !self.cfg.verify_stale {
                    self.start_refresh(req, next, entry, key, now, true);
                }
                m.served_stale().inc();
                self.stale_ttl(entry)
            } else {
                if self.should_prefetch(entry, now) {
                    self.start_refresh(req, next, entry, key, now, false);
                }
                if self.cfg.keepttl {
                    entry.orig_ttl
                } else {
                    ttl as u32
                }
            };
            entry.render(&req.query, resp, out);
        });
    }

    /// TTL of a stale answer: the configured one, else 0 (the original with `keepttl`).
    pub(crate) fn stale_ttl(&self, entry: &Entry) -> u32 {
        if self.cfg.stale_ttl > 0 {
            (self.cfg.stale_ttl / SECOND) as u32
        } else if self.cfg.keepttl {
            entry.orig_ttl
        } else {
            0
        }
    }

    /// Serve a stale entry after a verification that did not refresh it.
    pub(crate) fn serve_stale(&self, req: &Request<'_>, resp: &mut Response, entry: &Entry) {
        self.metrics
            .with(&req.server.addr, |m: &Series| m.served_stale().inc());
        entry.render(&req.query, resp, self.stale_ttl(entry));
    }

    /// Count a lookup that found `kind`.
    pub(crate) fn count_hit(&self, req: &Request<'_>, kind: Kind) {
        self.metrics.with(&req.server.addr, |m| {
            m.requests().inc();
            m.hits(kind).inc();
        });
    }
}
