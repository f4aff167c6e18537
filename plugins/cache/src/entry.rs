//! One cached answer: the message as received (minus OPT), where its TTLs sit, and what the
//! reply to a later client must take from that client's query instead.
//!
//! Serving an entry is a copy into the response buffer and a few stores: the ID, the
//! header flags, the client's own spelling of the question (0x20 case randomisation survives)
//! and the aged TTL written over every record's TTL field. Nothing is decoded or allocated.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use signpost_corefile::go_text::{to_std, GoDuration, SECOND};
use signpost_wire::{records, rtype, Name, Query, Response, HEADER_LEN};

/// Which of the two caches an entry lives in (the `type` metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Positive answers and referrals.
    Success,
    /// NXDOMAIN, NODATA, SERVFAIL and NOTIMP.
    Denial,
}

impl Kind {
    /// Metric label value.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Success => "success",
            Kind::Denial => "denial",
        }
    }
}

/// The hash a question is filed under: name (lower case), type, class, DO and CD bits.
pub(crate) fn key_hash(q: &Query<'_>) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    };
    eat(q.dnssec_ok() as u8);
    eat(q.cd() as u8);
    q.qtype.to_be_bytes().into_iter().for_each(&mut eat);
    q.qclass.to_be_bytes().into_iter().for_each(&mut eat);
    q.qname.wire().iter().for_each(|&b| eat(b));
    h
}

/// Popularity of an entry, for prefetch (CoreDNS's `freq.Freq`).
#[derive(Debug, Default, Clone, Copy)]
struct Freq {
    last: Option<Instant>,
    hits: i64,
}

/// A cached answer.
#[derive(Debug)]
pub(crate) struct Entry {
    /// Which cache holds it.
    pub kind: Kind,
    name: Name,
    qtype: u16,
    qclass: u16,
    dnssec_ok: bool,
    cd: bool,
    msg: Box<[u8]>,
    question_end: usize,
    ttl_offsets: Box<[u32]>,
    rcode: u16,
    recursion_available: bool,
    authenticated_data: bool,
    /// The answer section answers the question (prefer_positive).
    pub answering: bool,
    /// The last answering entry this one replaced (prefer_positive).
    pub last_known_good: Option<Arc<Entry>>,
    /// TTL when stored, in seconds.
    pub orig_ttl: u32,
    /// When stored.
    pub stored: Instant,
    freq: Mutex<Freq>,
    refreshing: AtomicBool,
    retry_after: Mutex<Option<Instant>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What an entry is built from.
pub(crate) struct NewEntry<'a> {
    /// Which cache.
    pub kind: Kind,
    /// The query it answers (key fields).
    pub query: &'a Query<'a>,
    /// The message, TTLs already capped.
    pub msg: &'a [u8],
    /// Response code (full).
    pub rcode: u16,
    /// OPT records to leave out (byte ranges).
    pub opt: Vec<(usize, usize)>,
    /// Offset just past the question.
    pub question_end: usize,
    /// Whether the answer answers the question.
    pub answering: bool,
    /// How long it may be served.
    pub duration: GoDuration,
    /// Now.
    pub now: Instant,
}

impl Entry {
    /// Build an entry; `None` if the message is malformed.
    pub(crate) fn new(n: NewEntry<'_>) -> Option<Entry> {
        let mut msg = n.msg.to_vec();
        // OPT is hop-by-hop: never stored.
        for &(start, end) in n.opt.iter().rev() {
            msg.drain(start..end);
            let ar = u16::from_be_bytes([msg[10], msg[11]]).saturating_sub(1);
            msg[10..12].copy_from_slice(&ar.to_be_bytes());
        }
        let mut ttl_offsets = Vec::new();
        for r in records(&msg) {
            let r = r.ok()?;
            if r.rtype != rtype::OPT {
                ttl_offsets.push(r.ttl_offset() as u32);
            }
        }
        let flags = u16::from_be_bytes([msg[2], msg[3]]);
        Some(Entry {
            kind: n.kind,
            name: n.query.qname,
            qtype: n.query.qtype,
            qclass: n.query.qclass,
            dnssec_ok: n.query.dnssec_ok(),
            cd: n.query.cd(),
            msg: msg.into_boxed_slice(),
            question_end: n.question_end,
            ttl_offsets: ttl_offsets.into_boxed_slice(),
            rcode: n.rcode,
            recursion_available: flags & 0x0080 != 0,
            authenticated_data: flags & 0x0020 != 0,
            answering: n.answering,
            last_known_good: None,
            orig_ttl: (n.duration / SECOND).clamp(0, i64::from(u32::MAX)) as u32,
            stored: n.now,
            freq: Mutex::new(Freq::default()),
            refreshing: AtomicBool::new(false),
            retry_after: Mutex::new(None),
        })
    }

    /// Is this the entry for `q` (and not another question with the same hash)?
    pub(crate) fn matches(&self, q: &Query<'_>) -> bool {
        self.qtype == q.qtype
            && self.qclass == q.qclass
            && self.dnssec_ok == q.dnssec_ok()
            && self.cd == q.cd()
            && self.name.wire() == q.qname.wire()
    }

    /// The response code.
    pub(crate) fn rcode(&self) -> u16 {
        self.rcode
    }

    /// Seconds of TTL left at `now` (zero or less once expired).
    pub(crate) fn ttl(&self, now: Instant) -> i64 {
        i64::from(self.orig_ttl) - now.saturating_duration_since(self.stored).as_secs() as i64
    }

    /// Fresh, or expired for less than `stale_up_to` seconds.
    pub(crate) fn usable(&self, now: Instant, stale_up_to_secs: i64) -> bool {
        let ttl = self.ttl(now);
        ttl > 0 || (stale_up_to_secs > 0 && -ttl < stale_up_to_secs)
    }

    /// This entry if it answers `q`, else the answering entry it replaced, if any.
    pub(crate) fn answering_entry(self: &Arc<Self>, q: &Query<'_>) -> Option<Arc<Entry>> {
        if self.answering && self.matches(q) {
            return Some(Arc::clone(self));
        }
        self.last_known_good
            .as_ref()
            .filter(|e| e.answering && e.matches(q))
            .cloned()
    }

    /// Write the reply to `q` into `resp`, every TTL set to `ttl`. As CoreDNS does, the
    /// reply is marked authoritative (some stub resolvers drop non-authoritative answers),
    /// and AD is kept only when the client asked for DNSSEC or set AD itself.
    pub(crate) fn render(&self, q: &Query<'_>, resp: &mut Response, ttl: u32) {
        resp.set_bytes(&self.msg);
        let keep_ad = self.authenticated_data && (q.dnssec_ok() || q.flags & 0x0020 != 0);
        let flags = 0x8000
            | (q.flags & 0x7800)
            | 0x0400
            | (q.flags & 0x0110)
            | if self.recursion_available { 0x0080 } else { 0 }
            | if keep_ad { 0x0020 } else { 0 }
            | (self.rcode & 0x000F);
        let buf = resp.bytes_mut();
        buf[0..2].copy_from_slice(&q.id.to_be_bytes());
        buf[2..4].copy_from_slice(&flags.to_be_bytes());
        let question = q.question_wire();
        if question.len() == self.question_end - HEADER_LEN {
            buf[HEADER_LEN..self.question_end].copy_from_slice(question);
        }
        let ttl = ttl.to_be_bytes();
        for &at in self.ttl_offsets.iter() {
            let at = at as usize;
            buf[at..at + 4].copy_from_slice(&ttl);
        }
    }

    /// Count a hit for prefetch: hits within `window` of each other add up, a longer gap
    /// starts over. Returns the hits so far.
    pub(crate) fn update_hits(&self, window: GoDuration, now: Instant) -> i64 {
        let mut f = lock(&self.freq);
        let reset = match f.last {
            None => true,
            Some(last) => window < 0 || now.saturating_duration_since(last) > to_std(window),
        };
        f.last = Some(now);
        f.hits = if reset { 1 } else { f.hits + 1 };
        f.hits
    }

    /// Hits counted so far.
    pub(crate) fn hits(&self) -> i64 {
        lock(&self.freq).hits
    }

    /// Carry popularity over from the entry this one replaced.
    pub(crate) fn reset_hits(&self, now: Instant, hits: i64) {
        let mut f = lock(&self.freq);
        f.last = Some(now);
        f.hits = hits;
    }

    /// Would [`Entry::begin_refresh`] succeed now? (Looks without taking the slot.)
    pub(crate) fn may_refresh(&self, now: Instant, recheck: GoDuration) -> bool {
        !self.refreshing.load(Ordering::Acquire) && !self.waiting_after_failure(now, recheck)
    }

    fn waiting_after_failure(&self, now: Instant, recheck: GoDuration) -> bool {
        recheck > 0 && lock(&self.retry_after).is_some_and(|t| now < t)
    }

    /// Take the one refresh slot of this entry; false if a refresh is under way or a failed
    /// one asked to wait.
    pub(crate) fn begin_refresh(&self, now: Instant, recheck: GoDuration) -> bool {
        if self.waiting_after_failure(now, recheck) {
            return false;
        }
        self.refreshing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Give the refresh slot back; a failure with `recheck` set holds off the next attempt.
    pub(crate) fn end_refresh(&self, now: Instant, recheck: GoDuration, refreshed: bool) {
        *lock(&self.retry_after) = if recheck > 0 && !refreshed {
            Some(now + to_std(recheck))
        } else {
            None
        };
        self.refreshing.store(false, Ordering::Release);
    }
}
