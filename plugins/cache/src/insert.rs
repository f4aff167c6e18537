//! Taking answers in: what CoreDNS's cache `ResponseWriter` does to every answer that passes
//! through it on the way out, and the filter its `verify` refreshes go through.
//!
//! Every answer the rest of the chain wrote (for a name the cache covers) gets its TTLs
//! capped to the caching time, so a client never sees 1799 now and 8 on its next query; it
//! is filed in the success or denial cache when cacheable; and AD is cleared unless the
//! client asked for DNSSEC or set AD itself.

use std::sync::Arc;

use signpost_corefile::go_text::SECOND;
use signpost_plugin::{Outcome, Request};
use signpost_wire::{rcode, Name, Query, Response};

use crate::cache::Inner;
use crate::classify::{compute_ttl, Type, View};
use crate::entry::{key_hash, Entry, Kind, NewEntry};
use crate::metrics::Series;

/// What a refresh of a stale entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A fresh answer (NOERROR or NXDOMAIN): cache it and serve it.
    Serve,
    /// Cache it, but serve the stale entry (prefer_positive and not a positive answer).
    StoreOnly,
    /// Keep the stale entry (failure, truncated or mismatched answer, ...).
    Reject,
}

/// Did a plugin write an answer (rather than fail, or the chain run out)?
pub(crate) fn written(outcome: &Outcome) -> bool {
    outcome.error.is_none() && !outcome.plugin.is_empty()
}

fn in_any(zones: &[Name], name: &Name) -> bool {
    zones.iter().any(|z| name.is_subdomain_of(z))
}

impl Inner {
    /// Process an answer the chain wrote for `req`: cap its TTLs, cache it if it qualifies
    /// (`prefetch` marks background refreshes), clear AD as needed. Returns the new entry.
    pub(crate) fn write_msg(
        &self,
        req: &Request<'_>,
        resp: &mut Response,
        prefetch: bool,
    ) -> Option<Arc<Entry>> {
        let q = &req.query;
        let now = self.now();
        let rc = resp.rcode();
        let (ttl, offsets, stored) = {
            let view = View::parse(resp.bytes(), rc)?;
            let t = view.cache_type(q.dnssec_ok(), self.now_unix());
            let cfg = &self.cfg;
            let duration = match t {
                Type::NameError | Type::NoData => {
                    compute_ttl(view.minimal_ttl(t, cfg.nttl), cfg.minnttl, cfg.nttl)
                }
                Type::ServerError => cfg.failttl,
                _ => compute_ttl(view.minimal_ttl(t, cfg.pttl), cfg.minpttl, cfg.pttl),
            };
            let ttl = (duration / SECOND).clamp(0, i64::from(u32::MAX)) as u32;
            let offsets: Vec<usize> = view.records().map(|r| r.ttl_offset()).collect();
            let mut stored = None;
            if view.cacheable(t) && duration > 0 {
                self.metrics.with(&req.server.addr, |m| {
                    if view.matches(&q.qname, q.qtype, q.qclass) {
                        stored = self.set(q, &view, resp.bytes(), t, duration, prefetch, now, m);
                        m.entries(Kind::Success).set(self.pcache.len() as f64);
                        m.entries(Kind::Denial).set(self.ncache.len() as f64);
                    } else {
                        m.drops().inc();
                    }
                });
            }
            (ttl, offsets, stored)
        };
        let buf = resp.bytes_mut();
        for at in offsets {
            buf[at..at + 4].copy_from_slice(&ttl.to_be_bytes());
        }
        if !q.dnssec_ok() && q.flags & 0x0020 == 0 {
            buf[3] &= !0x20;
        }
        stored
    }

    /// File an answer of type `t` in the right cache, unless its zone is excluded.
    #[allow(clippy::too_many_arguments)]
    fn set(
        &self,
        q: &Query<'_>,
        view: &View<'_>,
        msg: &[u8],
        t: Type,
        duration: i64,
        prefetch: bool,
        now: std::time::Instant,
        m: &Series,
    ) -> Option<Arc<Entry>> {
        let key = key_hash(q);
        let (kind, except) = match t {
            Type::NoError | Type::Delegation => (Kind::Success, &self.cfg.pexcept),
            Type::NameError | Type::NoData | Type::ServerError => (Kind::Denial, &self.cfg.nexcept),
            _ => return None,
        };
        let qname = view.question.as_ref().map(|(n, _, _)| *n)?;
        if in_any(except, &qname) {
            return None;
        }
        let mut entry = Entry::new(NewEntry {
            kind,
            query: q,
            msg,
            rcode: view.rcode,
            opt: view.opt_ranges().collect(),
            question_end: view.question_end,
            answering: view.answers_question(),
            duration,
            now,
        })?;
        let prefer = self.cfg.prefer_positive;
        if kind == Kind::Denial {
            let entry = Arc::new(entry);
            if self.ncache.add(key, Arc::clone(&entry)) {
                m.evictions(Kind::Denial).inc();
            }
            return Some(entry);
        }
        if prefer && !entry.answering {
            // Keep the last answer that did answer, so a non-answer cannot destroy it.
            entry.last_known_good = self.pcache.get(key).and_then(|p| p.answering_entry(q));
        }
        let entry = Arc::new(entry);
        if self.pcache.add(key, Arc::clone(&entry)) {
            m.evictions(Kind::Success).inc();
        }
        // A positive refresh is the newest state for this key.
        if (!prefer && prefetch) || (prefer && entry.answering) {
            self.ncache.remove(key);
        }
        Some(entry)
    }

    /// Judge the answer a refresh of a stale entry got (CoreDNS's
    /// `verifyStaleResponseWriter`).
    pub(crate) fn verdict(&self, req: &Request<'_>, resp: &Response, outcome: &Outcome) -> Verdict {
        if !written(outcome) {
            return Verdict::Reject;
        }
        let q = &req.query;
        let Some(view) = View::parse(resp.bytes(), resp.rcode()) else {
            return Verdict::Reject;
        };
        if view.truncated() || !view.matches(&q.qname, q.qtype, q.qclass) {
            return Verdict::Reject;
        }
        let now_unix = self.now_unix();
        if self.cfg.prefer_positive {
            return if view.usable_answer(q.dnssec_ok(), now_unix) {
                Verdict::Serve
            } else {
                Verdict::StoreOnly
            };
        }
        match view.typify(q.dnssec_ok(), now_unix) {
            Type::OtherError | Type::Meta | Type::Update => return Verdict::Reject,
            _ => {}
        }
        if view.rcode != rcode::NOERROR && view.rcode != rcode::NXDOMAIN {
            return Verdict::Reject;
        }
        Verdict::Serve
    }
}
