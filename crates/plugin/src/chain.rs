//! The plugin trait and the chain runner.
//!
//! The sync path runs first for every query. It must leave no trace when it gives up with
//! [`Step::Async`]: no plugin's `after` runs, so the re-run on the async path counts, logs and
//! caches the query exactly once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use signpost_wire::{rcode, Rcode, Response};

use crate::Request;

/// A boxed, sendable future (the async path of a plugin).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What one plugin did with a query.
#[derive(Debug)]
pub enum Step {
    /// The response buffer holds a complete answer.
    Answered,
    /// Not for this plugin: the chain moves to the next one.
    Next,
    /// Failed: the server answers with this rcode (SERVFAIL, REFUSED, ...). The message, if
    /// any, is what the `errors` plugin logs.
    Error(Rcode, Option<String>),
    /// Needs I/O: run the chain again on the async path.
    Async,
}

/// The final result of a query, as `after` hooks see it.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Response code of the answer.
    pub rcode: Rcode,
    /// Name of the plugin that produced the answer ("" when the chain ran out).
    pub plugin: &'static str,
    /// Error reported by that plugin, if any.
    pub error: Option<String>,
}

/// A plugin in the chain.
pub trait Plugin: Send + Sync + 'static {
    /// The directive name (`hosts`, `forward`, ...).
    fn name(&self) -> &'static str;

    /// Handle a query without blocking. Call `next.run` only if the plugin must see or redo
    /// the rest of the chain (autopath); otherwise return [`Step::Next`].
    fn serve(&self, req: &Request<'_>, resp: &mut Response, next: Next<'_>) -> Step;

    /// The async path. The default runs [`Plugin::serve`]; plugins that return
    /// [`Step::Async`] from `serve` must override it.
    fn serve_async<'a>(
        &'a self,
        req: &'a Request<'a>,
        resp: &'a mut Response,
        next: Next<'a>,
    ) -> BoxFuture<'a, Step> {
        let step = self.serve(req, resp, next);
        Box::pin(std::future::ready(step))
    }

    /// Post-processing, in reverse chain order, for every plugin the query reached.
    /// `produced_here` tells whether this plugin produced the answer.
    fn after(
        &self,
        _req: &Request<'_>,
        _resp: &mut Response,
        _outcome: &Outcome,
        _produced_here: bool,
    ) {
    }
}

/// The plugins of one server block, in execution order.
pub struct Chain {
    plugins: Vec<Arc<dyn Plugin>>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.plugins.iter().map(|p| p.name()))
            .finish()
    }
}

const NO_NEXT: &str = "no next plugin found";

impl Chain {
    /// A chain of these plugins, first to last.
    pub fn new(plugins: Vec<Arc<dyn Plugin>>) -> Arc<Chain> {
        Arc::new(Chain { plugins })
    }

    /// Plugin names in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.plugins.iter().map(|p| p.name()).collect()
    }

    /// Number of plugins.
    pub fn len(&self) -> usize {
        self.plugins.len()
    }

    /// True for a chain without plugins.
    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }

    /// Entry point: the whole chain.
    pub fn start(self: &Arc<Self>) -> Next<'_> {
        Next {
            chain: self,
            index: 0,
        }
    }

    fn finish(
        &self,
        from: usize,
        producer: usize,
        req: &Request<'_>,
        resp: &mut Response,
        outcome: &Outcome,
    ) {
        let last = producer.min(self.plugins.len().saturating_sub(1));
        if self.plugins.is_empty() || last < from {
            return;
        }
        for k in (from..=last).rev() {
            self.plugins[k].after(req, resp, outcome, k == producer);
        }
    }

    fn settle(
        &self,
        j: usize,
        step: Step,
        req: &Request<'_>,
        resp: &mut Response,
    ) -> Option<Outcome> {
        let plugin = self.plugins[j].name();
        match step {
            Step::Answered => Some(Outcome {
                rcode: resp.rcode(),
                plugin,
                error: None,
            }),
            Step::Error(rc, error) => {
                resp.error(&req.query, rc);
                Some(Outcome {
                    rcode: rc,
                    plugin,
                    error: error.map(|e| format!("plugin/{plugin}: {e}")),
                })
            }
            Step::Next | Step::Async => None,
        }
    }

    fn ran_out(req: &Request<'_>, resp: &mut Response) -> Outcome {
        resp.error(&req.query, rcode::SERVFAIL);
        Outcome {
            rcode: rcode::SERVFAIL,
            plugin: "",
            error: Some(NO_NEXT.to_string()),
        }
    }
}

/// The rest of the chain after the current plugin.
#[derive(Clone, Copy)]
pub struct Next<'a> {
    chain: &'a Arc<Chain>,
    index: usize,
}

impl<'a> Next<'a> {
    /// True when no plugin follows.
    pub fn is_empty(&self) -> bool {
        self.index >= self.chain.plugins.len()
    }

    /// Run the rest of the chain synchronously. `None` means a plugin needs the async path
    /// (nothing was recorded; the caller must give up with [`Step::Async`] too).
    pub fn run(self, req: &Request<'_>, resp: &mut Response) -> Option<Outcome> {
        let chain = self.chain;
        for j in self.index..chain.plugins.len() {
            let next = Next {
                chain,
                index: j + 1,
            };
            let step = chain.plugins[j].serve(req, resp, next);
            if matches!(step, Step::Async) {
                return None;
            }
            if let Some(outcome) = chain.settle(j, step, req, resp) {
                chain.finish(self.index, j, req, resp, &outcome);
                return Some(outcome);
            }
        }
        let outcome = Chain::ran_out(req, resp);
        chain.finish(self.index, chain.plugins.len(), req, resp, &outcome);
        Some(outcome)
    }

    /// Run the rest of the chain on the async path.
    pub async fn run_async(self, req: &Request<'_>, resp: &mut Response) -> Outcome {
        let chain = self.chain;
        for j in self.index..chain.plugins.len() {
            let next = Next {
                chain,
                index: j + 1,
            };
            let mut step = chain.plugins[j].serve_async(req, resp, next).await;
            if matches!(step, Step::Async) {
                step = Step::Error(
                    rcode::SERVFAIL,
                    Some("asked for the async path while on it".into()),
                );
            }
            if let Some(outcome) = chain.settle(j, step, req, resp) {
                chain.finish(self.index, j, req, resp, &outcome);
                return outcome;
            }
        }
        let outcome = Chain::ran_out(req, resp);
        chain.finish(self.index, chain.plugins.len(), req, resp, &outcome);
        outcome
    }

    /// An owned handle on the rest of the chain, for background work (prefetch).
    pub fn to_owned_next(&self) -> OwnedNext {
        OwnedNext {
            chain: Arc::clone(self.chain),
            index: self.index,
        }
    }
}

/// An owned [`Next`].
#[derive(Clone)]
pub struct OwnedNext {
    chain: Arc<Chain>,
    index: usize,
}

impl OwnedNext {
    /// Borrow as [`Next`].
    pub fn as_next(&self) -> Next<'_> {
        Next {
            chain: &self.chain,
            index: self.index,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ServerInfo, Transport};
    use signpost_wire::{build_query, rtype, Name, Owner, Query, RData};
    use std::net::Ipv4Addr;
    use std::sync::Mutex;
    use std::time::Instant;

    struct Answer;
    impl Plugin for Answer {
        fn name(&self) -> &'static str {
            "answer"
        }
        fn serve(&self, req: &Request<'_>, resp: &mut Response, _: Next<'_>) -> Step {
            resp.start(&req.query, rcode::NOERROR);
            resp.answer(Owner::Question, 5, &RData::A(Ipv4Addr::LOCALHOST));
            Step::Answered
        }
    }

    struct Pass(&'static str, Arc<Mutex<Vec<String>>>);
    impl Plugin for Pass {
        fn name(&self) -> &'static str {
            self.0
        }
        fn serve(&self, _: &Request<'_>, _: &mut Response, _: Next<'_>) -> Step {
            Step::Next
        }
        fn after(&self, _: &Request<'_>, _: &mut Response, o: &Outcome, here: bool) {
            self.1
                .lock()
                .unwrap()
                .push(format!("{}:{}:{}:{}", self.0, o.plugin, o.rcode, here));
        }
    }

    struct Slow;
    impl Plugin for Slow {
        fn name(&self) -> &'static str {
            "slow"
        }
        fn serve(&self, _: &Request<'_>, _: &mut Response, _: Next<'_>) -> Step {
            Step::Async
        }
        fn serve_async<'a>(
            &'a self,
            _: &'a Request<'a>,
            _: &'a mut Response,
            _: Next<'a>,
        ) -> BoxFuture<'a, Step> {
            Box::pin(async { Step::Error(rcode::REFUSED, Some("nope".into())) })
        }
    }

    fn with_request(f: impl FnOnce(&Request<'_>)) {
        let p = build_query(
            1,
            &Name::from_text("a.example.").unwrap(),
            rtype::A,
            false,
            None,
        );
        let server = ServerInfo {
            addr: "dns://:53".into(),
            zone: Name::root(),
            zone_text: ".".into(),
            port: 53,
        };
        let req = Request {
            query: Query::parse(&p).unwrap(),
            client: "127.0.0.1:5000".parse().unwrap(),
            local: "127.0.0.1:53".parse().unwrap(),
            transport: Transport::Udp,
            server: &server,
            start: Instant::now(),
        };
        f(&req)
    }

    #[test]
    fn after_hooks_run_in_reverse_for_plugins_reached() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let chain = Chain::new(vec![
            Arc::new(Pass("first", log.clone())),
            Arc::new(Pass("second", log.clone())),
            Arc::new(Answer),
            Arc::new(Pass("never", log.clone())),
        ]);
        with_request(|req| {
            let mut resp = Response::new();
            let o = chain.start().run(req, &mut resp).unwrap();
            assert_eq!(o.plugin, "answer");
            assert_eq!(resp.counts().0, 1);
        });
        assert_eq!(
            *log.lock().unwrap(),
            ["second:answer:0:false", "first:answer:0:false"]
        );
    }

    #[test]
    fn running_out_is_servfail_and_async_leaves_no_trace() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let chain = Chain::new(vec![Arc::new(Pass("only", log.clone()))]);
        with_request(|req| {
            let mut resp = Response::new();
            let o = chain.start().run(req, &mut resp).unwrap();
            assert_eq!(o.rcode, rcode::SERVFAIL);
            assert_eq!(o.error.as_deref(), Some(NO_NEXT));
        });
        assert_eq!(*log.lock().unwrap(), ["only::2:false"]);

        let log = Arc::new(Mutex::new(Vec::new()));
        let chain = Chain::new(vec![Arc::new(Pass("p", log.clone())), Arc::new(Slow)]);
        with_request(|req| {
            let mut resp = Response::new();
            assert!(chain.start().run(req, &mut resp).is_none());
            assert!(log.lock().unwrap().is_empty());
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let o = rt.block_on(chain.start().run_async(req, &mut resp));
            assert_eq!(o.rcode, rcode::REFUSED);
            assert_eq!(o.error.as_deref(), Some("plugin/slow: nope"));
            assert_eq!(resp.rcode(), rcode::REFUSED);
        });
        assert_eq!(*log.lock().unwrap(), ["p:slow:5:false"]);
    }
}
