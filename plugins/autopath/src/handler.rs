//! Walking the search path (CoreDNS's `AutoPath.ServeDNS`).
//!
//! A query is autopathed when its name lies in the first search domain of the client
//! (`web.default.svc.cluster.local` from a pod in `default`: the resolver appended that
//! domain first). The name minus that domain is the base (`web`); the base is tried with each
//! search domain in turn through the rest of the chain, and the first answer that is not
//! NXDOMAIN is returned, with a CNAME from the asked name to the name that answered and the
//! question as asked. If every try is NXDOMAIN, the answer to the first try is returned.
//!
//! The first try is the asked name itself; when the client spelled the domain part in lower
//! case it runs on the request as it is, straight into the response, so a name answered at
//! the first try costs no more than without autopath.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use signpost_metrics::CounterVec;
use signpost_plugin::{BoxFuture, Next, Outcome, Plugin, Request, Step, Zones};
use signpost_wire::text::{message_sections, Record, RecordData};
use signpost_wire::{class, rcode, records, rtype, Name, Query, Response, Section, HEADER_LEN};

use crate::{AutoPather, Pathers};

thread_local! {
    /// Reused search-path buffer of the sync path.
    static PATH: RefCell<Vec<Name>> = const { RefCell::new(Vec::new()) };
}

/// The `autopath` plugin of one server block.
pub(crate) struct AutoPath {
    zones: Zones,
    /// The search list of the `resolv.conf` (root last), once read at start-up.
    search: Arc<OnceLock<Vec<Name>>>,
    /// `@PLUGIN`: its name and the registry it is found in.
    source: Option<(String, Pathers)>,
    /// The plugin, looked up at the first query (every plugin has registered by then).
    pather: OnceLock<Option<Arc<dyn AutoPather>>>,
    success: Arc<CounterVec>,
}

impl AutoPath {
    pub(crate) fn new(
        zones: Zones,
        search: Arc<OnceLock<Vec<Name>>>,
        source: Option<(String, Pathers)>,
    ) -> AutoPath {
        AutoPath {
            zones,
            search,
            source,
            pather: OnceLock::new(),
            success: signpost_metrics::registry().counter_vec(
                "coredns_autopath_success_total",
                "Counter of requests that did autopath.",
                &["server"],
            ),
        }
    }

    fn pather(&self) -> Option<&Arc<dyn AutoPather>> {
        let (name, pathers) = self.source.as_ref()?;
        self.pather.get_or_init(|| pathers.get(name)).as_ref()
    }

    fn count(&self, req: &Request<'_>) {
        self.success.with(&[&req.server.addr]).inc();
    }
}

/// Where the asked name stands in the search path.
struct Plan {
    /// The question name as the client wrote it.
    asked: Name,
    /// Wire length of the base (the labels before the first search domain).
    base_len: usize,
}

impl Plan {
    /// `None` when the name is not in the first search domain (no autopath); an error step
    /// when it is that domain itself (CoreDNS's `TrimZone` fails then).
    fn new(req: &Request<'_>, path: &[Name]) -> Result<Option<Plan>, Step> {
        let first = &path[0];
        let qname = req.qname();
        if !qname.is_subdomain_of(first) {
            return Ok(None);
        }
        let asked = Name::read(req.query.packet, HEADER_LEN).map_or(*qname, |(n, _)| n);
        let base_labels = qname.label_count() - first.label_count();
        if base_labels == 0 && !first.is_root() {
            let why = format!("trimzone: overshot qname: {asked}for zone {first}");
            return Err(Step::Error(rcode::SERVFAIL, Some(why)));
        }
        let base_len = asked
            .suffix_offsets()
            .nth(base_labels)
            .unwrap_or(asked.len() - 1);
        Ok(Some(Plan { asked, base_len }))
    }

    /// Is `base.domain` the asked name, byte for byte?
    fn is_asked(&self, domain: &Name) -> bool {
        self.asked.suffix_wire(self.base_len) == domain.wire()
    }

    /// The query for `base.domain`: the client's query with the name replaced (ID, flags,
    /// EDNS kept). `None` when the name would be too long.
    fn packet(&self, req: &Request<'_>, domain: &Name) -> Option<Vec<u8>> {
        let base = &self.asked.wire()[..self.base_len];
        if base.len() + domain.len() > signpost_wire::MAX_NAME_LEN {
            return None;
        }
        let q = &req.query;
        let name_end = q.question_end - 4;
        let mut p = Vec::with_capacity(q.packet.len() + domain.len());
        p.extend_from_slice(&q.packet[..HEADER_LEN]);
        p.extend_from_slice(base);
        p.extend_from_slice(domain.wire());
        p.extend_from_slice(&q.packet[name_end..]);
        Query::parse(&p).is_ok().then_some(p)
    }
}

/// What one try gave.
enum Verdict {
    /// A plugin failed with an error: autopath stops and returns it (CoreDNS does).
    Abort(Step),
    /// NXDOMAIN, or nothing written: try the next domain.
    Skip,
    /// An answer to return.
    Found,
}

/// Did the chain write a reply? (CoreDNS's `ClientWrite`: SERVFAIL, REFUSED, FORMERR and
/// NOTIMP returned by a plugin mean it wrote nothing; here such a reply is the bare header
/// the chain writes for an error step.)
fn written(o: &Outcome, r: &Response) -> bool {
    let silent = matches!(
        o.rcode,
        rcode::SERVFAIL | rcode::REFUSED | rcode::FORMERR | rcode::NOTIMP
    );
    !(silent && r.counts() == (0, 0, 0) && !r.authoritative())
}

fn judge(o: &Outcome, r: &Response) -> Verdict {
    if o.error.is_some() {
        return Verdict::Abort(Step::Error(o.rcode, o.error.clone()));
    }
    if !written(o, r) || r.rcode() == rcode::NXDOMAIN {
        Verdict::Skip
    } else {
        Verdict::Found
    }
}

/// The reply to the first try, kept in case every try fails.
struct First {
    written: bool,
    rcode: u16,
    bytes: Vec<u8>,
}

impl First {
    fn of(o: &Outcome, r: &Response) -> First {
        First {
            written: written(o, r),
            rcode: o.rcode,
            bytes: r.bytes().to_vec(),
        }
    }

    fn into_step(first: Option<First>, resp: &mut Response) -> Step {
        match first {
            Some(f) if f.written => {
                resp.set_bytes(&f.bytes);
                Step::Answered
            }
            Some(f) => Step::Error(f.rcode, None),
            None => Step::Error(rcode::SERVFAIL, None),
        }
    }
}

/// The first answer record not owned by the asked name: CoreDNS's `cnamer` puts a CNAME from
/// the asked name to its owner (with its TTL) in front of the answer.
fn cname_target(msg: &[u8], asked: &Name) -> Option<(Name, u32)> {
    records(msg)
        .filter_map(Result::ok)
        .filter(|r| r.section == Section::Answer)
        .map(|r| (r.owner(msg), r.ttl))
        .find(|(owner, _)| owner != asked)
}

/// Write `found` (the reply to a try) into `out` as the reply to the asked question: the
/// question as asked, the CNAME in front of the answer, everything else as it was.
fn rewrite(req: &Request<'_>, plan: &Plan, found: &Response, out: &mut Response) {
    let msg = found.bytes();
    let Ok([answer, authority, additional]) = message_sections(msg) else {
        out.set_bytes(msg);
        return;
    };
    let cname = cname_target(msg, &plan.asked).map(|(target, ttl)| Record {
        name: plan.asked,
        ttl,
        class: class::IN,
        rtype: rtype::CNAME,
        data: RecordData::Name(target),
    });
    out.start(&req.query, found.rcode());
    // Same ID and flags as the try (it was made from the client's query).
    out.bytes_mut()[2..4].copy_from_slice(&msg[2..4]);
    out.set_rcode(found.rcode());
    for rec in cname.iter().chain(answer.iter()) {
        rec.write(out, Section::Answer);
    }
    for rec in &authority {
        rec.write(out, Section::Authority);
    }
    for rec in additional.iter().filter(|r| r.rtype != rtype::OPT) {
        rec.write(out, Section::Additional);
    }
}

/// An answer to the asked name itself, already in `resp`: add the CNAME if some answer
/// record has another owner (an ExternalName's target, for example).
fn finish_in_place(req: &Request<'_>, plan: &Plan, resp: &mut Response) {
    if cname_target(resp.bytes(), &plan.asked).is_some() {
        let found = resp.clone();
        rewrite(req, plan, &found, resp);
    }
}

impl AutoPath {
    /// The sync walk; `None` from the chain means a try needs the async path.
    fn walk(&self, req: &Request<'_>, resp: &mut Response, next: Next<'_>, path: &[Name]) -> Step {
        let plan = match Plan::new(req, path) {
            Ok(Some(p)) => p,
            Ok(None) => return Step::Next,
            Err(step) => return step,
        };
        let mut first = None;
        let mut scratch: Option<Response> = None;
        for (i, domain) in path.iter().enumerate() {
            if i == 0 && plan.is_asked(domain) {
                let Some(o) = next.run(req, resp) else {
                    return Step::Async;
                };
                match judge(&o, resp) {
                    Verdict::Abort(step) => return step,
                    Verdict::Found => {
                        finish_in_place(req, &plan, resp);
                        self.count(req);
                        return Step::Answered;
                    }
                    Verdict::Skip => first = Some(First::of(&o, resp)),
                }
                continue;
            }
            let Some(packet) = plan.packet(req, domain) else {
                continue;
            };
            let Ok(query) = Query::parse(&packet) else {
                continue;
            };
            let sub = Request { query, ..*req };
            let r = scratch.get_or_insert_with(Response::new);
            let Some(o) = next.run(&sub, r) else {
                return Step::Async;
            };
            match judge(&o, r) {
                Verdict::Abort(step) => return step,
                Verdict::Found => {
                    rewrite(req, &plan, r, resp);
                    self.count(req);
                    return Step::Answered;
                }
                Verdict::Skip if i == 0 => first = Some(First::of(&o, r)),
                Verdict::Skip => {}
            }
        }
        First::into_step(first, resp)
    }

    /// The same on the async path.
    async fn walk_async(
        &self,
        req: &Request<'_>,
        resp: &mut Response,
        next: Next<'_>,
        path: &[Name],
    ) -> Step {
        let plan = match Plan::new(req, path) {
            Ok(Some(p)) => p,
            Ok(None) => return Step::Next,
            Err(step) => return step,
        };
        let mut first = None;
        let mut r = Response::new();
        for (i, domain) in path.iter().enumerate() {
            if i == 0 && plan.is_asked(domain) {
                let o = next.run_async(req, resp).await;
                match judge(&o, resp) {
                    Verdict::Abort(step) => return step,
                    Verdict::Found => {
                        finish_in_place(req, &plan, resp);
                        self.count(req);
                        return Step::Answered;
                    }
                    Verdict::Skip => first = Some(First::of(&o, resp)),
                }
                continue;
            }
            let Some(packet) = plan.packet(req, domain) else {
                continue;
            };
            let Ok(query) = Query::parse(&packet) else {
                continue;
            };
            let sub = Request { query, ..*req };
            let o = next.run_async(&sub, &mut r).await;
            match judge(&o, &r) {
                Verdict::Abort(step) => return step,
                Verdict::Found => {
                    rewrite(req, &plan, &r, resp);
                    self.count(req);
                    return Step::Answered;
                }
                Verdict::Skip if i == 0 => first = Some(First::of(&o, &r)),
                Verdict::Skip => {}
            }
        }
        First::into_step(first, resp)
    }
}

impl Plugin for AutoPath {
    fn name(&self) -> &'static str {
        crate::setup::NAME
    }

    // A try that needs I/O sends the whole query to the async path, where every try runs
    // again: the tries already made on the sync path (answered from memory) are repeated.
    fn serve(&self, req: &Request<'_>, resp: &mut Response, next: Next<'_>) -> Step {
        if self.zones.matches(req.qname()).is_none() {
            return Step::Next;
        }
        let Some(pather) = self.pather() else {
            return match self.search.get() {
                Some(path) if !path.is_empty() => self.walk(req, resp, next, path),
                _ => Step::Next,
            };
        };
        PATH.with(|cell| {
            let mut path = cell.take();
            path.clear();
            let step = if pather.search_path(req, &mut path) && !path.is_empty() {
                self.walk(req, resp, next, &path)
            } else {
                Step::Next
            };
            path.clear();
            cell.replace(path);
            step
        })
    }

    fn serve_async<'a>(
        &'a self,
        req: &'a Request<'a>,
        resp: &'a mut Response,
        next: Next<'a>,
    ) -> BoxFuture<'a, Step> {
        Box::pin(async move {
            if self.zones.matches(req.qname()).is_none() {
                return Step::Next;
            }
            let mut owned = Vec::new();
            let path: &[Name] = match self.pather() {
                Some(pather) => {
                    if !pather.search_path(req, &mut owned) {
                        return Step::Next;
                    }
                    &owned
                }
                None => match self.search.get() {
                    Some(path) => path,
                    None => return Step::Next,
                },
            };
            if path.is_empty() {
                return Step::Next;
            }
            self.walk_async(req, resp, next, path).await
        })
    }
}
