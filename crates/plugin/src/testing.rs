//! Helpers for plugin tests: build requests, set a plugin up from Corefile text, run a chain,
//! and check answers against records written as zone-file text (CoreDNS's `test.Case`).

use std::sync::Arc;
use std::time::Instant;

use signpost_corefile::{parse, parse_key, Error};
use signpost_wire::text::{message_sections, Record};
use signpost_wire::{build_query, rcode, Name, Response};

use crate::{
    BlockInfo, Chain, ConfigParts, Outcome, OwnedRequest, Plugin, PluginDef, ServerInfo,
    SetupContext, Transport,
};

/// An owned request for `qname`/`qtype` from 10.240.0.1:40212 over UDP with EDNS 4096.
pub fn request(qname: &str, qtype: u16) -> OwnedRequest {
    request_with(qname, qtype, Transport::Udp, "10.240.0.1:40212")
}

/// An owned request with a chosen transport and client.
pub fn request_with(qname: &str, qtype: u16, transport: Transport, client: &str) -> OwnedRequest {
    let name = Name::from_text(qname).expect("test name");
    OwnedRequest {
        packet: build_query(4242, &name, qtype, true, Some(4096)),
        client: client.parse().expect("test client address"),
        local: "127.0.0.1:53".parse().expect("address"),
        transport,
        server: Arc::new(ServerInfo {
            addr: "dns://:53".into(),
            zone: Name::root(),
            zone_text: ".".into(),
            port: 53,
        }),
        start: Instant::now(),
    }
}

/// Set up every plugin of `defs` (in that order) from a one-block Corefile; returns the
/// chain and the configuration parts (hooks, routes, checks).
pub fn setup(defs: &[PluginDef], corefile: &str) -> Result<(Arc<Chain>, ConfigParts), Error> {
    let blocks = parse("Corefile", corefile)?;
    let block = blocks.into_iter().next().expect("one server block");
    let mut keys = Vec::new();
    for k in &block.keys {
        keys.extend(parse_key(&k.text, 53).expect("test key"));
    }
    let mut zones: Vec<Name> = Vec::new();
    for k in &keys {
        let z = Name::from_text(&k.zone).expect("zone");
        if !zones.contains(&z) {
            zones.push(z);
        }
    }
    let info = BlockInfo {
        keys,
        zones,
        index: 0,
    };
    let mut parts = ConfigParts::default();
    let mut ctx = SetupContext::new(&info, &mut parts);
    for def in defs {
        let ds: Vec<_> = block
            .directives
            .iter()
            .filter(|d| d.name() == def.name)
            .cloned()
            .collect();
        if !ds.is_empty() {
            (def.setup)(&mut ctx, &ds)?;
        }
    }
    let (plugins, _) = ctx.finish();
    Ok((Chain::new(plugins), parts))
}

/// Run `req` through `chain`, taking the async path when a plugin asks for it.
pub async fn run_async(chain: &Arc<Chain>, req: &OwnedRequest) -> (Outcome, Response) {
    let r = req.request().expect("valid test request");
    let mut resp = Response::new();
    if let Some(o) = chain.start().run(&r, &mut resp) {
        return (o, resp);
    }
    let o = chain.start().run_async(&r, &mut resp).await;
    (o, resp)
}

/// Run `req` through `chain` on the sync path only; `None` if a plugin needed the async path.
pub fn run(chain: &Arc<Chain>, req: &OwnedRequest) -> Option<(Outcome, Response)> {
    let r = req.request().expect("valid test request");
    let mut resp = Response::new();
    chain.start().run(&r, &mut resp).map(|o| (o, resp))
}

/// A plugin that answers every query with NXDOMAIN, to end a test chain.
pub struct NxDomain;

impl Plugin for NxDomain {
    fn name(&self) -> &'static str {
        "test-nxdomain"
    }
    fn serve(
        &self,
        req: &crate::Request<'_>,
        resp: &mut Response,
        _: crate::Next<'_>,
    ) -> crate::Step {
        resp.start(&req.query, rcode::NXDOMAIN);
        crate::Step::Answered
    }
}

/// One table-driven case: a question and the exact expected answer.
#[derive(Debug, Clone, Default)]
pub struct Case {
    /// Question name.
    pub qname: &'static str,
    /// Question type.
    pub qtype: u16,
    /// Expected rcode.
    pub rcode: u16,
    /// Expected answer section, as zone-file text.
    pub answer: Vec<&'static str>,
    /// Expected authority section.
    pub ns: Vec<&'static str>,
    /// Expected additional section (without OPT).
    pub extra: Vec<&'static str>,
}

impl Case {
    /// Compare a response with this case, section by section, record by record (in order).
    /// Returns a readable difference on mismatch.
    pub fn check(&self, resp: &Response) -> Result<(), String> {
        let got_rcode = resp.rcode();
        if got_rcode != self.rcode {
            return Err(format!(
                "{} {}: rcode {} want {}",
                self.qname,
                self.qtype,
                rcode::name(got_rcode),
                rcode::name(self.rcode)
            ));
        }
        let sections = message_sections(resp.bytes()).map_err(|e| e.to_string())?;
        for ((want, got), label) in [&self.answer, &self.ns, &self.extra]
            .into_iter()
            .zip(sections.iter())
            .zip(["answer", "authority", "additional"])
        {
            let want: Vec<Record> = want
                .iter()
                .map(|t| t.parse().map_err(|e| format!("bad expected record: {e}")))
                .collect::<Result<_, String>>()?;
            if &want != got {
                let show = |v: &[Record]| {
                    v.iter()
                        .map(|r| r.to_string())
                        .collect::<Vec<_>>()
                        .join("\n    ")
                };
                return Err(format!(
                    "{} {}: {label} section differs\n  got:\n    {}\n  want:\n    {}",
                    self.qname,
                    self.qtype,
                    show(got),
                    show(&want)
                ));
            }
        }
        Ok(())
    }
}

/// A global allocator for allocation tests: the system allocator, counting each thread's
/// allocations (and reallocations) on the side. A test binary installs it with
/// `#[global_allocator] static GLOBAL: CountingAlloc = CountingAlloc;` and compares
/// [`allocations`] before and after the code it checks.
pub struct CountingAlloc;

std::thread_local! {
    static ALLOCATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn count_one() {
    // `try_with`: allocations while the thread's locals are torn down are not counted.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call goes to the system allocator unchanged; counting touches no memory the
// allocator hands out.
unsafe impl std::alloc::GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: same contract as ours.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations the current thread has made so far (always 0 unless [`CountingAlloc`] is the
/// global allocator).
pub fn allocations() -> usize {
    ALLOCATIONS.try_with(std::cell::Cell::get).unwrap_or(0)
}
