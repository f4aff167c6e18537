//! Chain tests: the cache in front of a test backend that answers from a table and counts
//! how often it was asked.

mod answers;
mod refresh;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use signpost_corefile::{Directive, Error};
use signpost_metrics::registry;
use signpost_plugin::testing::{self, Case};
use signpost_plugin::{
    BoxFuture, Chain, Next, OwnedRequest, Plugin, PluginDef, Request, SetupContext, Step,
};
use signpost_wire::text::Record;
use signpost_wire::{rcode, rtype, Name, Response, Section};

use crate::cache::Inner;

/// The cache instances set up in a test configuration.
#[derive(Default)]
pub(crate) struct Instances(pub Vec<Arc<Inner>>);

// ---------------------------------------------------------------------------------------
// Allocation counting, to prove a hit allocates nothing.

#[global_allocator]
static GLOBAL: signpost_plugin::testing::CountingAlloc = signpost_plugin::testing::CountingAlloc;

use signpost_plugin::testing::allocations;

// ---------------------------------------------------------------------------------------
// The test backend.

/// One canned answer.
#[derive(Debug, Clone, Default)]
struct Reply {
    rcode: u16,
    answer: Vec<&'static str>,
    ns: Vec<&'static str>,
    truncated: bool,
    ad: bool,
    /// Fail with `Step::Error` (like forward when every upstream is down).
    fail: bool,
}

fn positive(answer: &[&'static str]) -> Reply {
    Reply {
        answer: answer.to_vec(),
        ..Reply::default()
    }
}

fn negative(rc: u16, ns: &[&'static str]) -> Reply {
    Reply {
        rcode: rc,
        ns: ns.to_vec(),
        ..Reply::default()
    }
}

/// Answers from a table (REFUSED for anything else) and counts the queries it answered.
#[derive(Default)]
struct Backend {
    replies: Mutex<HashMap<(Name, u16), Reply>>,
    calls: AtomicUsize,
    /// Behave like forward: give up on the sync path, answer on the async one.
    async_only: AtomicBool,
    /// Answer this many milliseconds late on the async path.
    delay_ms: AtomicU64,
}

impl Backend {
    fn set(&self, qname: &str, qtype: u16, reply: Reply) {
        let name = Name::from_text(qname).unwrap().lowercase();
        self.replies.lock().unwrap().insert((name, qtype), reply);
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn answer(&self, req: &Request<'_>, resp: &mut Response) -> Step {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let reply = self
            .replies
            .lock()
            .unwrap()
            .get(&(*req.qname(), req.qtype()))
            .cloned()
            .unwrap_or(Reply {
                rcode: rcode::REFUSED,
                ..Reply::default()
            });
        if reply.fail {
            return Step::Error(rcode::SERVFAIL, Some("upstream unreachable".into()));
        }
        resp.start(&req.query, reply.rcode);
        resp.set_recursion_available(true);
        for (records, section) in [
            (&reply.answer, Section::Answer),
            (&reply.ns, Section::Authority),
        ] {
            for r in records {
                assert!(r.parse::<Record>().unwrap().write(resp, section));
            }
        }
        resp.set_truncated(reply.truncated);
        if reply.ad {
            resp.bytes_mut()[3] |= 0x20;
        }
        Step::Answered
    }
}

struct BackendPlugin(Arc<Backend>);

impl Plugin for BackendPlugin {
    fn name(&self) -> &'static str {
        "backend"
    }
    fn serve(&self, req: &Request<'_>, resp: &mut Response, _: Next<'_>) -> Step {
        if self.0.async_only.load(Ordering::SeqCst) {
            return Step::Async;
        }
        self.0.answer(req, resp)
    }
    fn serve_async<'a>(
        &'a self,
        req: &'a Request<'a>,
        resp: &'a mut Response,
        _: Next<'a>,
    ) -> BoxFuture<'a, Step> {
        Box::pin(async move {
            let delay = self.0.delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            self.0.answer(req, resp)
        })
    }
}

fn backend_setup(ctx: &mut SetupContext<'_>, _: &[Directive]) -> Result<(), Error> {
    let backend = Arc::clone(ctx.parts.shared::<Arc<Backend>>());
    ctx.add_plugin(Arc::new(BackendPlugin(backend)));
    Ok(())
}

const BACKEND: PluginDef = PluginDef {
    name: "backend",
    setup: backend_setup,
};

// ---------------------------------------------------------------------------------------
// Fixture.

struct Fixture {
    chain: Arc<Chain>,
    backend: Arc<Backend>,
    cache: Arc<Inner>,
}

/// `cache` configured by `directive` in block `key`, in front of the backend.
fn fixture_in(key: &str, directive: &str) -> Fixture {
    let corefile = format!("{key} {{\n    {directive}\n    backend\n}}\n");
    let (chain, mut parts) = testing::setup(&[crate::PLUGIN, BACKEND], &corefile).unwrap();
    assert_eq!(chain.names(), ["cache", "backend"]);
    Fixture {
        chain,
        backend: Arc::clone(parts.shared::<Arc<Backend>>()),
        cache: Arc::clone(&parts.shared::<Instances>().0[0]),
    }
}

fn fixture(directive: &str) -> Fixture {
    fixture_in(".", directive)
}

impl Fixture {
    /// Run on the sync path (which must not need the async one).
    fn run(&self, req: &OwnedRequest) -> Response {
        testing::run(&self.chain, req)
            .expect("answered on the sync path")
            .1
    }

    async fn run_async(&self, req: &OwnedRequest) -> Response {
        testing::run_async(&self.chain, req).await.1
    }

    fn ask(&self, qname: &str, qtype: u16) -> Response {
        self.run(&testing::request(qname, qtype))
    }

    /// Move the cache's clock forward.
    fn advance(&self, secs: u64) {
        self.cache.skew.fetch_add(secs, Ordering::Relaxed);
    }
}

fn flags(resp: &Response) -> u16 {
    u16::from_be_bytes([resp.bytes()[2], resp.bytes()[3]])
}

const AA: u16 = 0x0400;
const AD: u16 = 0x0020;
const RA: u16 = 0x0080;

fn with_do(mut r: OwnedRequest) -> OwnedRequest {
    let at = r.packet.len() - 4; // OPT flags (high byte)
    r.packet[at] |= 0x80;
    r
}

fn with_header_bits(mut r: OwnedRequest, bits: u8) -> OwnedRequest {
    r.packet[3] |= bits;
    r
}

fn check(case: &Case, resp: &Response) {
    if let Err(e) = case.check(resp) {
        panic!("{e}");
    }
}

const SOA: &str =
    "example.org. 60 IN SOA sns.dns.icann.org. noc.dns.icann.org. 2016082540 7200 3600 1209600 3600";

/// Counter value of `name` with these label values (server is always "dns://:53").
fn counter(name: &str, labels: &[&str], values: &[&str]) -> u64 {
    registry().counter_vec(name, "", labels).with(values).get()
}

fn plain(name: &str, zones: &str) -> u64 {
    counter(
        name,
        &["server", "zones", "view"],
        &["dns://:53", zones, ""],
    )
}

fn typed(name: &str, t: &str, zones: &str) -> u64 {
    counter(
        name,
        &["server", "type", "zones", "view"],
        &["dns://:53", t, zones, ""],
    )
}

/// Poll `cond` while background tasks run (at most a second).
async fn wait_for(cond: impl Fn() -> bool) {
    for _ in 0..200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(cond(), "condition not reached");
}
