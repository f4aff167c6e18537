//! Asking the chain a question of one's own.
//!
//! A plugin that must resolve a name it does not serve itself (the target of an ExternalName
//! Service, a load balancer's hostname) asks it through itself and the rest of the chain, as
//! CoreDNS's plugins do through their `Upstream`. The sub-query copies the client's ID, RD
//! bit and EDNS size. A per-thread depth bound stops names that resolve to each other.

use std::cell::Cell;

use signpost_wire::text::Record;
use signpost_wire::{build_query, records, Name, Query, Response, Section};

use crate::{Next, Plugin, Request, Step};

/// Nesting limit for sub-queries that come back to a plugin that asked one.
const MAX_DEPTH: u8 = 8;

thread_local! {
    static DEPTH: Cell<u8> = const { Cell::new(0) };
}

/// What a sub-query gave.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// The answer section of the reply (its rcode is ignored), and its TC bit.
    Answer(Vec<Record>, bool),
    /// No reply (too deep, or the name could not be asked).
    NoMessage,
    /// It needs I/O: redo the query on the async path.
    NeedAsync,
}

fn sub_packet(req: &Request<'_>, target: &Name, qtype: u16) -> Vec<u8> {
    let q = &req.query;
    build_query(q.id, target, qtype, q.rd(), q.edns.map(|e| e.udp_size))
}

/// Resolve `target` through `plugin` and the rest of the chain without waiting for I/O.
pub fn resolve<P: Plugin + ?Sized>(
    plugin: &P,
    req: &Request<'_>,
    next: Next<'_>,
    target: &Name,
    qtype: u16,
) -> Upstream {
    if DEPTH.with(Cell::get) >= MAX_DEPTH {
        return Upstream::NoMessage;
    }
    let packet = sub_packet(req, target, qtype);
    let Ok(query) = Query::parse(&packet) else {
        return Upstream::NoMessage;
    };
    let sub = Request { query, ..*req };
    let mut r = Response::new();
    DEPTH.with(|d| d.set(d.get() + 1));
    let done = match plugin.serve(&sub, &mut r, next) {
        Step::Answered => true,
        Step::Error(rc, _) => {
            r.error(&sub.query, rc);
            true
        }
        Step::Next => next.run(&sub, &mut r).is_some(),
        Step::Async => false,
    };
    DEPTH.with(|d| d.set(d.get() - 1));
    if done {
        answers(&r)
    } else {
        Upstream::NeedAsync
    }
}

/// The same on the async path.
pub async fn resolve_async<P: Plugin + ?Sized>(
    plugin: &P,
    req: &Request<'_>,
    next: Next<'_>,
    target: Name,
    qtype: u16,
) -> Upstream {
    let packet = sub_packet(req, &target, qtype);
    let Ok(query) = Query::parse(&packet) else {
        return Upstream::NoMessage;
    };
    let sub = Request { query, ..*req };
    let mut r = Response::new();
    match plugin.serve_async(&sub, &mut r, next).await {
        Step::Answered => {}
        Step::Error(rc, _) => r.error(&sub.query, rc),
        Step::Next | Step::Async => {
            next.run_async(&sub, &mut r).await;
        }
    }
    answers(&r)
}

/// How many times [`run_async`] re-runs a pipeline before giving up.
const ROUNDS: usize = 4;

/// Runs `pipeline` on the sync path: every sub-query it makes goes through `via` and the
/// plugins after it (`next`) from memory. `None` when one of them needs I/O; the caller then
/// returns [`Step::Async`] and, on the async path, calls [`run_async`].
pub fn run_sync<R>(
    via: &dyn Plugin,
    req: &Request<'_>,
    next: Next<'_>,
    pipeline: impl FnOnce(&mut dyn FnMut(&Name, u16) -> Upstream) -> R,
) -> Option<R> {
    let mut needs_io = false;
    let reply = pipeline(
        &mut |target, qtype| match resolve(via, req, next, target, qtype) {
            Upstream::NeedAsync => {
                needs_io = true;
                Upstream::NeedAsync
            }
            other => other,
        },
    );
    (!needs_io).then_some(reply)
}

/// Runs `pipeline` on the async path: the sub-queries it needs are fetched with I/O and the
/// pipeline is run again with their answers until it needs nothing new. `None` when that
/// does not settle within a few rounds (names whose answers keep asking for new ones).
pub async fn run_async<R>(
    via: &dyn Plugin,
    req: &Request<'_>,
    next: Next<'_>,
    mut pipeline: impl FnMut(&mut dyn FnMut(&Name, u16) -> Upstream) -> R,
) -> Option<R> {
    let mut fetched: Vec<(Name, u16, Upstream)> = Vec::new();
    for _ in 0..ROUNDS {
        let mut wanted: Vec<(Name, u16)> = Vec::new();
        let reply = pipeline(&mut |target, qtype| {
            if let Some((_, _, a)) = fetched
                .iter()
                .find(|(t, q, _)| t.wire() == target.wire() && *q == qtype)
            {
                return a.clone();
            }
            match resolve(via, req, next, target, qtype) {
                Upstream::NeedAsync => {
                    wanted.push((*target, qtype));
                    Upstream::NeedAsync
                }
                other => other,
            }
        });
        if wanted.is_empty() {
            return Some(reply);
        }
        for (target, qtype) in wanted {
            let a = resolve_async(via, req, next, target, qtype).await;
            fetched.push((target, qtype, a));
        }
    }
    None
}

/// The answer records of a reply.
fn answers(r: &Response) -> Upstream {
    let msg = r.bytes();
    let answers = records(msg)
        .filter_map(Result::ok)
        .filter(|rec| rec.section == Section::Answer)
        .filter_map(|rec| Record::from_wire(msg, &rec).ok())
        .collect();
    Upstream::Answer(answers, r.truncated())
}
