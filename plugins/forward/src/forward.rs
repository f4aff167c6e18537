//! The plugin instance of one stanza: which names it takes, and the retry loop that sends a
//! query to its upstreams (CoreDNS's `Forward.ServeDNS`).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use signpost_metrics::Counter;
use signpost_plugin::{BoxFuture, Next, Plugin, Request, Step, Transport};
use signpost_wire::{rcode, Name, Response, HEADER_LEN};

use crate::config::Config;
use crate::health::HealthCheck;
use crate::metrics;
use crate::policy::{random_order, Policy};
use crate::pool::{PoolLimits, SWEEP_INTERVAL};
use crate::transport::{ExchangeError, Proto};
use crate::upstream::{Answer, Settings, Upstream};

/// How long one query may keep trying upstreams (CoreDNS's `defaultTimeout`).
pub(crate) const QUERY_DEADLINE: Duration = Duration::from_secs(5);
/// Write timeout of a query (CoreDNS's `maxTimeout`).
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// Timeouts of a health check exchange.
pub(crate) const HC_IO_TIMEOUT: Duration = Duration::from_secs(1);
/// Dial timeout of a health check.
pub(crate) const HC_DIAL_TIMEOUT: Duration = Duration::from_secs(2);
/// Connect attempts per upstream for one query when `max_connect_attempts` is not set.
const ATTEMPTS_PER_UPSTREAM: u64 = 2;

/// The error when every upstream is down and `failfast_all_unhealthy_upstreams` is set.
pub(crate) const NO_HEALTHY: &str = "no healthy proxies";

/// Timeouts that are constants in CoreDNS; tests shorten them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// Whole query.
    pub(crate) query_deadline: Duration,
    /// Writing a query.
    pub(crate) write: Duration,
    /// Health check read and write.
    pub(crate) hc_io: Duration,
    /// Health check dial.
    pub(crate) hc_dial: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            query_deadline: QUERY_DEADLINE,
            write: WRITE_TIMEOUT,
            hc_io: HC_IO_TIMEOUT,
            hc_dial: HC_DIAL_TIMEOUT,
        }
    }
}

/// One `forward` stanza.
pub(crate) struct Forward {
    from: Name,
    ignored: Vec<Name>,
    upstreams: Vec<Arc<Upstream>>,
    policy: Policy,
    force_tcp: bool,
    prefer_udp: bool,
    max_fails: u32,
    max_connect_attempts: Option<u32>,
    max_concurrent: i64,
    concurrent: AtomicI64,
    limit_error: String,
    next_rcodes: Vec<u16>,
    next_on_nodata: bool,
    /// Another `forward` of this block follows (only then do `next` and `next_on_nodata`
    /// apply, as in CoreDNS).
    next_is_forward: bool,
    failfast: bool,
    failover_rcodes: Vec<u16>,
    query_deadline: Duration,
    broken: Arc<Counter>,
    rejects: Arc<Counter>,
    stopped: AtomicBool,
    stop: Notify,
}

impl std::fmt::Debug for Forward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forward")
            .field("from", &self.from.to_string())
            .field(
                "to",
                &self.upstreams.iter().map(|u| u.label()).collect::<Vec<_>>(),
            )
            .field("policy", &self.policy.name())
            .finish()
    }
}

/// Decrements the in-flight count when a query is done.
struct InFlight<'a>(&'a AtomicI64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Forward {
    /// Build from a parsed stanza.
    pub(crate) fn new(cfg: Config, next_is_forward: bool, t: Timeouts) -> Forward {
        let settings = Settings {
            write_timeout: t.write,
            read_timeout: cfg.read_timeout,
            source: cfg.source_address,
        };
        let limits = PoolLimits {
            expire: cfg.expire,
            max_age: cfg.max_age,
            max_idle: cfg.max_idle_conns,
        };
        let health = HealthCheck {
            interval: cfg.hc_interval,
            domain: cfg.hc_domain,
            recursion_desired: cfg.hc_recursion_desired,
            tcp: cfg.force_tcp,
            dial_timeout: t.hc_dial,
            io_timeout: t.hc_io,
            source: cfg.source_address,
        };
        let upstreams = cfg
            .targets
            .upstreams
            .iter()
            .map(|target| Arc::new(Upstream::new(target, settings, limits, health.clone())))
            .collect();
        Forward {
            from: cfg.from,
            ignored: cfg.ignored,
            upstreams,
            policy: cfg.policy,
            force_tcp: cfg.force_tcp,
            prefer_udp: cfg.prefer_udp,
            max_fails: cfg.max_fails,
            max_connect_attempts: cfg.max_connect_attempts,
            max_concurrent: cfg.max_concurrent,
            concurrent: AtomicI64::new(0),
            limit_error: cfg.limit_error,
            next_rcodes: cfg.next_rcodes,
            next_on_nodata: cfg.next_on_nodata,
            next_is_forward,
            failfast: cfg.failfast,
            failover_rcodes: cfg.failover_rcodes,
            query_deadline: t.query_deadline,
            broken: metrics::healthcheck_broken(),
            rejects: metrics::max_concurrent_rejects(),
            stopped: AtomicBool::new(false),
            stop: Notify::new(),
        }
    }

    /// The upstreams, in configured order.
    #[cfg(test)]
    pub(crate) fn upstreams(&self) -> &[Arc<Upstream>] {
        &self.upstreams
    }

    /// Does this stanza forward `qname`? FROM itself always; names below it unless under an
    /// `except` name.
    pub(crate) fn matches(&self, qname: &Name) -> bool {
        if !qname.is_subdomain_of(&self.from) {
            return false;
        }
        if *qname == self.from {
            return true;
        }
        !self.ignored.iter().any(|z| qname.is_subdomain_of(z))
    }

    /// Start the sweeper of idle connections.
    pub(crate) fn start(self: &Arc<Self>, rt: &tokio::runtime::Handle) {
        let me = Arc::clone(self);
        rt.spawn(async move {
            loop {
                let stopped = me.stop.notified();
                tokio::pin!(stopped);
                stopped.as_mut().enable();
                if me.stopped.load(Ordering::Acquire) {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(SWEEP_INTERVAL) => {
                        for u in &me.upstreams {
                            u.pool().sweep(false);
                        }
                    }
                    _ = &mut stopped => return,
                }
            }
        });
    }

    /// Retire: stop probes and the sweeper, close cached connections.
    pub(crate) fn shutdown(&self) {
        self.stopped.store(true, Ordering::Release);
        self.stop.notify_waiters();
        for u in &self.upstreams {
            u.stop();
        }
    }

    fn proto_for(&self, req: &Request<'_>, force_tcp: bool) -> Proto {
        if force_tcp {
            Proto::Tcp
        } else if self.prefer_udp {
            Proto::Udp
        } else {
            match req.transport {
                Transport::Udp => Proto::Udp,
                Transport::Tcp => Proto::Tcp,
            }
        }
    }

    /// One upstream, retrying as CoreDNS does: again on a fresh connection when a cached one
    /// turned out closed, and over TCP when a UDP answer came back truncated under
    /// `prefer_udp`.
    async fn ask(&self, up: &Upstream, req: &Request<'_>) -> Result<Answer, ExchangeError> {
        let mut force_tcp = self.force_tcp;
        let udp_size = req.max_size();
        loop {
            let proto = self.proto_for(req, force_tcp);
            match up.exchange(req.query.packet, proto, udp_size).await {
                Err(ExchangeError::CachedClosed) => continue,
                Ok(a) if a.truncated() && !force_tcp && self.prefer_udp => force_tcp = true,
                other => return other,
            }
        }
    }

    /// The async path: the whole retry loop.
    async fn forward(&self, req: &Request<'_>, resp: &mut Response) -> Step {
        if !self.matches(req.qname()) {
            return Step::Next;
        }
        let _in_flight = if self.max_concurrent > 0 {
            let count = self.concurrent.fetch_add(1, Ordering::AcqRel) + 1;
            let guard = InFlight(&self.concurrent);
            if count > self.max_concurrent {
                self.rejects.inc();
                return Step::Error(rcode::REFUSED, Some(self.limit_error.clone()));
            }
            Some(guard)
        } else {
            None
        };

        let n = self.upstreams.len();
        let order = self.policy.order(n);
        let list = order.as_slice();
        let deadline = Instant::now() + self.query_deadline;
        let max_attempts = match self.max_connect_attempts {
            Some(m) => u64::from(m),
            None => ATTEMPTS_PER_UPSTREAM * n as u64,
        };
        let mut attempts = 0u64;
        let mut fails = 0usize;
        let mut failovers = 0usize;
        let mut i = 0usize;
        let mut upstream_err: Option<String> = None;

        while Instant::now() < deadline && (max_attempts == 0 || attempts < max_attempts) {
            if i >= list.len() {
                i = 0;
                fails = 0;
            }
            let mut up = &self.upstreams[list[i] as usize];
            i += 1;
            if up.down(self.max_fails) {
                fails += 1;
                if fails < n {
                    continue;
                }
                self.broken.inc();
                if self.failfast {
                    break;
                }
                // Health checking itself looks broken: try any upstream.
                up = &self.upstreams[random_order(n).as_slice()[0] as usize];
            }

            let answer = match self.ask(up, req).await {
                Ok(a) => a,
                Err(e) => {
                    upstream_err = Some(e.to_string());
                    if self.max_fails != 0 {
                        up.start_probe();
                    }
                    if max_attempts > 0 {
                        attempts += 1;
                        if attempts >= max_attempts {
                            break;
                        }
                    }
                    if fails < n {
                        continue;
                    }
                    break;
                }
            };

            if !answers_question(&answer.msg, req) {
                resp.start(&req.query, rcode::FORMERR);
                return Step::Answered;
            }
            if self.failover_rcodes.contains(&answer.rcode) {
                failovers += 1;
                if failovers < n {
                    continue;
                }
            }
            if self.next_is_forward && self.next_rcodes.contains(&answer.rcode) {
                return Step::Next;
            }
            if self.next_is_forward
                && self.next_on_nodata
                && answer.rcode == rcode::NOERROR
                && answer_count(&answer.msg) == 0
            {
                return Step::Next;
            }
            resp.set_bytes(&answer.msg);
            resp.remove_opt();
            return Step::Answered;
        }

        let error = upstream_err.unwrap_or_else(|| NO_HEALTHY.to_string());
        Step::Error(rcode::SERVFAIL, Some(error))
    }
}

/// Is `msg` a response with exactly the question of `req` (name case-insensitively)?
fn answers_question(msg: &[u8], req: &Request<'_>) -> bool {
    if msg.len() < HEADER_LEN || msg[2] & 0x80 == 0 || msg[4..6] != [0, 1] {
        return false;
    }
    let Ok((name, end)) = Name::read(msg, HEADER_LEN) else {
        return false;
    };
    let Some(fixed) = msg.get(end..end + 4) else {
        return false;
    };
    name == req.query.qname
        && u16::from_be_bytes([fixed[0], fixed[1]]) == req.query.qtype
        && u16::from_be_bytes([fixed[2], fixed[3]]) == req.query.qclass
}

fn answer_count(msg: &[u8]) -> u16 {
    u16::from_be_bytes([msg[6], msg[7]])
}

impl Plugin for Forward {
    fn name(&self) -> &'static str {
        "forward"
    }

    fn serve(&self, req: &Request<'_>, _resp: &mut Response, _next: Next<'_>) -> Step {
        if self.matches(req.qname()) {
            Step::Async
        } else {
            Step::Next
        }
    }

    fn serve_async<'a>(
        &'a self,
        req: &'a Request<'a>,
        resp: &'a mut Response,
        _next: Next<'a>,
    ) -> BoxFuture<'a, Step> {
        Box::pin(self.forward(req, resp))
    }
}
