//! The `cache` plugin in the chain.
//!
//! * `serve` (sync): a hit is answered from memory without allocating; a miss passes on
//!   without counting anything (the miss is counted in `after`, which runs exactly once per
//!   query, whichever path finished it). An expired entry under `serve_stale ... verify`
//!   needs upstream first, so it asks for the async path, again without counting.
//! * `serve_async`: the same, plus the verification of stale entries.
//! * `after`: answers produced further down the chain are capped, cached and counted as
//!   misses.

use std::sync::Arc;

use signpost_plugin::{BoxFuture, Next, Outcome, Plugin, Request, Step};
use signpost_wire::Response;

use crate::cache::Inner;
use crate::entry::key_hash;
use crate::insert::written;

/// The plugin instance of one server block.
#[derive(Debug)]
pub(crate) struct Cache {
    pub(crate) inner: Arc<Inner>,
}

impl Plugin for Cache {
    fn name(&self) -> &'static str {
        "cache"
    }

    fn serve(&self, req: &Request<'_>, resp: &mut Response, next: Next<'_>) -> Step {
        let inner = &self.inner;
        let q = &req.query;
        if !inner.covers(q) {
            return Step::Next;
        }
        let now = inner.now();
        let key = key_hash(q);
        let Some(entry) = inner.lookup(q, key, now) else {
            return Step::Next;
        };
        if entry.ttl(now) <= 0
            && inner.cfg.verify_stale
            && (inner.cfg.stale_recheck <= 0 || entry.may_refresh(now, inner.cfg.stale_recheck))
        {
            return Step::Async;
        }
        inner.answer(req, resp, next, &entry, key, now);
        Step::Answered
    }

    fn serve_async<'a>(
        &'a self,
        req: &'a Request<'a>,
        resp: &'a mut Response,
        next: Next<'a>,
    ) -> BoxFuture<'a, Step> {
        Box::pin(async move {
            let inner = &self.inner;
            let q = &req.query;
            if !inner.covers(q) {
                return Step::Next;
            }
            let now = inner.now();
            let key = key_hash(q);
            let Some(entry) = inner.lookup(q, key, now) else {
                return Step::Next;
            };
            if entry.ttl(now) <= 0 && inner.cfg.verify_stale {
                return inner.verify_stale(req, resp, next, &entry).await;
            }
            inner.answer(req, resp, next, &entry, key, now);
            Step::Answered
        })
    }

    fn after(
        &self,
        req: &Request<'_>,
        resp: &mut Response,
        outcome: &Outcome,
        produced_here: bool,
    ) {
        let inner = &self.inner;
        if produced_here || !inner.covers(&req.query) {
            return;
        }
        inner.metrics.with(&req.server.addr, |m| {
            m.requests().inc();
            m.misses().inc();
        });
        if written(outcome) {
            inner.write_msg(req, resp, false);
        }
    }
}
