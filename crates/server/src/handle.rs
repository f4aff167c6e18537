//! The per-packet path shared by UDP and TCP: parse, route, run the chain synchronously,
//! finalize. Anything that needs I/O comes back as [`Handled::Async`] and is finished by
//! [`answer_async`] on the runtime.
//!
//! A panic in a plugin is caught here and becomes SERVFAIL, a log line and
//! `coredns_panics_total`, like CoreDNS's recover.

use std::future::Future;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use signpost_metrics::{registry, Counter};
use signpost_plugin::{Chain, OwnedRequest, Request, ServerInfo, Transport};
use signpost_wire::{rcode, Query, QueryError, Response};

use crate::router::Router;

/// What became of a packet.
#[derive(Debug)]
pub enum Handled {
    /// `resp` holds the reply to send.
    Reply,
    /// Send nothing.
    Drop,
    /// Finish on the async path with this block.
    Async(Arc<Chain>, Arc<ServerInfo>),
}

fn panics() -> &'static Counter {
    static C: OnceLock<Arc<Counter>> = OnceLock::new();
    C.get_or_init(|| {
        registry().counter(
            "coredns_panics_total",
            "A metrics that counts the number of panics.",
        )
    })
}

/// Create the metrics the server owns, so they show before the first event.
pub fn init_metrics() {
    let _ = panics();
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

fn recovered(q: &Query<'_>, resp: &mut Response, p: &(dyn std::any::Any + Send)) {
    panics().inc();
    tracing::error!(
        "Recovered from panic in server: {}: {}",
        q.qname,
        panic_message(p)
    );
    resp.error(q, rcode::SERVFAIL);
}

/// Answer one packet as far as possible without waiting.
pub fn handle(
    router: &Router,
    packet: &[u8],
    client: SocketAddr,
    local: SocketAddr,
    transport: Transport,
    resp: &mut Response,
) -> Handled {
    let start = Instant::now();
    let query = match Query::parse(packet) {
        Ok(q) => q,
        Err(QueryError::Drop) => return Handled::Drop,
        Err(QueryError::Reply { id, flags, rcode }) => {
            resp.header_only(id, flags, rcode);
            return Handled::Reply;
        }
    };
    if query.edns.is_some_and(|e| e.version != 0) {
        resp.start(&query, rcode::BADVERS);
        resp.finalize(&query, query.max_udp());
        return Handled::Reply;
    }
    let Some(route) = router.lookup(&query.qname, query.qtype) else {
        resp.start(&query, rcode::REFUSED);
        resp.finalize(&query, query.max_udp());
        return Handled::Reply;
    };
    let req = Request {
        query,
        client,
        local,
        transport,
        server: &route.info,
        start,
    };
    match catch_unwind(AssertUnwindSafe(|| route.chain.start().run(&req, resp))) {
        Ok(Some(_)) => {}
        Ok(None) => return Handled::Async(Arc::clone(&route.chain), Arc::clone(&route.info)),
        Err(p) => recovered(&req.query, resp, p.as_ref()),
    }
    resp.finalize(&req.query, req.max_size());
    Handled::Reply
}

/// Finish a query on the async path; returns false when nothing should be sent.
pub(crate) async fn answer_async(
    chain: Arc<Chain>,
    owned: OwnedRequest,
    resp: &mut Response,
) -> bool {
    let Ok(req) = owned.request() else {
        return false;
    };
    let run = CatchUnwind(chain.start().run_async(&req, resp));
    if let Err(p) = run.await {
        recovered(&req.query, resp, p.as_ref());
    }
    resp.finalize(&req.query, req.max_size());
    true
}

/// Polls a future inside `catch_unwind`.
struct CatchUnwind<F>(F);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn std::any::Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of the only field; it is never moved out.
        let inner = unsafe { self.map_unchecked_mut(|s| &mut s.0) };
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(p) => Poll::Ready(Err(p)),
        }
    }
}

/// Build the owned request for the async path.
pub(crate) fn owned_request(
    packet: &[u8],
    client: SocketAddr,
    local: SocketAddr,
    transport: Transport,
    server: Arc<ServerInfo>,
) -> OwnedRequest {
    OwnedRequest {
        packet: packet.to_vec(),
        client,
        local,
        transport,
        server,
        start: Instant::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::Route;
    use signpost_plugin::{Next, Plugin, Step};
    use signpost_wire::{build_query, rtype, Name};

    struct Boom;
    impl Plugin for Boom {
        fn name(&self) -> &'static str {
            "boom"
        }
        fn serve(&self, _: &Request<'_>, _: &mut Response, _: Next<'_>) -> Step {
            panic!("plugin bug")
        }
    }

    fn router(zone: &str) -> Router {
        Router::new(vec![Route {
            info: Arc::new(ServerInfo {
                addr: "dns://:53".into(),
                zone: Name::from_text(zone).unwrap(),
                zone_text: zone.into(),
                port: 53,
            }),
            chain: Chain::new(vec![Arc::new(Boom)]),
        }])
    }

    fn ask(router: &Router, name: &str) -> (Handled, Response) {
        let p = build_query(
            3,
            &Name::from_text(name).unwrap(),
            rtype::A,
            true,
            Some(1232),
        );
        let mut resp = Response::new();
        let a = "127.0.0.1:1".parse().unwrap();
        let h = handle(router, &p, a, a, Transport::Udp, &mut resp);
        (h, resp)
    }

    #[test]
    fn a_panicking_plugin_gives_servfail_and_counts() {
        let before = panics().get();
        let (h, resp) = ask(&router("example.org."), "www.example.org.");
        assert!(matches!(h, Handled::Reply));
        assert_eq!(resp.rcode(), rcode::SERVFAIL);
        assert_eq!(resp.id(), 3);
        assert!(panics().get() > before);
    }

    #[test]
    fn names_outside_every_zone_are_refused() {
        let (h, resp) = ask(&router("example.org."), "www.example.com.");
        assert!(matches!(h, Handled::Reply));
        assert_eq!(resp.rcode(), rcode::REFUSED);
    }
}
