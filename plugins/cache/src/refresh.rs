//! Asking the rest of the chain again for an entry already cached: prefetch of popular
//! entries, background refresh of stale ones, and `serve_stale ... verify`.
//!
//! Background work runs on the server's runtime with owned copies of the request and of the
//! rest of the chain; each entry lets one refresh run at a time.

use std::sync::Arc;
use std::time::Instant;

use signpost_corefile::go_text::to_std;
use signpost_plugin::{Next, Outcome, OwnedNext, OwnedRequest, Request, Step, Transport};
use signpost_wire::Response;

use crate::cache::Inner;
use crate::entry::Entry;
use crate::insert::{written, Verdict};

/// Run the rest of the chain for `req`, on the sync path when it can answer there.
async fn run_rest(next: Next<'_>, req: &Request<'_>, resp: &mut Response) -> Outcome {
    if let Some(outcome) = next.run(req, resp) {
        return outcome;
    }
    next.run_async(req, resp).await
}

/// What a background verification reports back.
struct Verified {
    refreshed: bool,
    entry: Option<Arc<Entry>>,
    resp: Response,
}

impl Inner {
    /// Start a background refresh of `entry` (a prefetch, or with `stale` a refresh of an
    /// expired entry being served), unless one is already running.
    pub(crate) fn start_refresh(
        self: &Arc<Self>,
        req: &Request<'_>,
        next: Next<'_>,
        entry: &Arc<Entry>,
        key: u64,
        now: Instant,
        stale: bool,
    ) {
        let recheck = if stale { self.cfg.stale_recheck } else { 0 };
        if !entry.begin_refresh(self.now(), recheck) {
            return;
        }
        let Some(handle) = self.handle() else {
            entry.end_refresh(now, 0, true);
            return;
        };
        let mut owned = req.to_owned_request(Arc::new(req.server.clone()));
        // No client to fit: ask as over TCP, so the answer is never truncated.
        owned.transport = Transport::Tcp;
        let task = RefreshTask {
            inner: Arc::clone(self),
            req: owned,
            next: next.to_owned_next(),
            entry: Arc::clone(entry),
            key,
            now,
            stale,
            recheck,
        };
        handle.spawn(task.run());
    }

    /// `serve_stale ... verify` for an expired `entry`: ask upstream first and serve its
    /// answer if it is a fresh one, else serve the entry with the stale TTL.
    pub(crate) async fn verify_stale(
        self: &Arc<Self>,
        req: &Request<'_>,
        resp: &mut Response,
        next: Next<'_>,
        entry: &Arc<Entry>,
    ) -> Step {
        let recheck = self.cfg.stale_recheck;
        let track = recheck > 0;
        self.count_hit(req, entry.kind);
        if !track || entry.begin_refresh(self.now(), recheck) {
            if self.cfg.verify_timeout <= 0 {
                let outcome = next.run_async(req, resp).await;
                let verdict = self.verdict(req, resp, &outcome);
                if verdict != Verdict::Reject {
                    self.write_msg(req, resp, verdict == Verdict::StoreOnly);
                }
                let refreshed = verdict == Verdict::Serve;
                if track {
                    entry.end_refresh(self.now(), recheck, refreshed);
                }
                if refreshed {
                    return Step::Answered;
                }
            } else if self.verify_in_background(req, resp, next, entry).await {
                return Step::Answered;
            }
        }
        self.serve_stale(req, resp, entry);
        Step::Answered
    }

    /// Verify on a background task and wait for it at most `VERIFY_TIMEOUT`; the task goes
    /// on refreshing the cache after a timeout. True when `resp` holds a verified answer.
    async fn verify_in_background(
        self: &Arc<Self>,
        req: &Request<'_>,
        resp: &mut Response,
        next: Next<'_>,
        entry: &Arc<Entry>,
    ) -> bool {
        let Some(handle) = self.handle() else {
            // Nowhere to run it: give the refresh slot back and serve stale.
            entry.end_refresh(self.now(), 0, true);
            return false;
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<Verified>();
        let inner = Arc::clone(self);
        let owned = req.to_owned_request(Arc::new(req.server.clone()));
        let owned_next = next.to_owned_next();
        let entry_bg = Arc::clone(entry);
        handle.spawn(async move {
            let Ok(r) = owned.request() else { return };
            let mut bg = Response::new();
            let outcome = owned_next.as_next().run_async(&r, &mut bg).await;
            let verdict = inner.verdict(&r, &bg, &outcome);
            let stored = if verdict == Verdict::Reject {
                None
            } else {
                inner.write_msg(&r, &mut bg, true)
            };
            let refreshed = verdict == Verdict::Serve;
            let recheck = inner.cfg.stale_recheck;
            if recheck > 0 {
                entry_bg.end_refresh(inner.now(), recheck, refreshed);
            }
            let _ = tx.send(Verified {
                refreshed,
                entry: stored,
                resp: bg,
            });
        });
        let wait = to_std(self.cfg.verify_timeout);
        let Ok(Ok(v)) = tokio::time::timeout(wait, rx).await else {
            return false;
        };
        if !v.refreshed {
            return false;
        }
        match v.entry {
            Some(e) => {
                let ttl = if self.cfg.keepttl {
                    e.orig_ttl
                } else {
                    e.ttl(self.now()).clamp(0, i64::from(u32::MAX)) as u32
                };
                e.render(&req.query, resp, ttl);
            }
            None => resp.set_bytes(v.resp.bytes()),
        }
        true
    }
}

/// One background refresh.
struct RefreshTask {
    inner: Arc<Inner>,
    req: OwnedRequest,
    next: OwnedNext,
    entry: Arc<Entry>,
    key: u64,
    now: Instant,
    stale: bool,
    recheck: i64,
}

impl RefreshTask {
    async fn run(self) {
        let refreshed = self.refresh().await;
        self.entry
            .end_refresh(self.inner.now(), self.recheck, refreshed);
    }

    /// Returns whether the entry was refreshed.
    async fn refresh(&self) -> bool {
        let inner = &self.inner;
        let Ok(req) = self.req.request() else {
            return false;
        };
        inner.metrics.with(&req.server.addr, |m| m.prefetch().inc());
        let mut resp = Response::new();
        let outcome = run_rest(self.next.as_next(), &req, &mut resp).await;
        let refreshed = if self.stale {
            let verdict = inner.verdict(&req, &resp, &outcome);
            if verdict != Verdict::Reject {
                inner.write_msg(&req, &mut resp, true);
            }
            verdict == Verdict::Serve
        } else {
            if written(&outcome) {
                inner.write_msg(&req, &mut resp, true);
            }
            true
        };
        if refreshed {
            // Keep the popularity gathered so far on the entry that replaced this one.
            if let Some(fresh) = inner.exists(&req.query, self.key) {
                fresh.reset_hits(self.now, self.entry.hits());
            }
        }
        refreshed
    }
}
