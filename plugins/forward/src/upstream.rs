//! One upstream server (CoreDNS's `proxy.Proxy`): its address, connection cache, failure
//! count, health probe and metrics.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use signpost_wire::{rtype, Rcode};

use crate::health::HealthCheck;
use crate::metrics::UpstreamMetrics;
use crate::pool::{Pool, PoolLimits, Pooled};
use crate::random;
use crate::targets::Target;
use crate::transport::{dial, exchange, ExchangeError, ExchangeLimits, Proto};

/// Bounds of the self-tuning dial timeout (CoreDNS: 1s to 30s, starting at the top).
const MIN_DIAL: Duration = Duration::from_secs(1);
const MAX_DIAL: Duration = Duration::from_secs(30);
/// Weight of a new observation in the dial time average.
const DIAL_AVG_WEIGHT: i64 = 4;

const PROBE_IDLE: u8 = 0;
const PROBE_ACTIVE: u8 = 1;
const PROBE_STOPPED: u8 = 2;

/// What a query exchange needs besides the query.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Write timeout (CoreDNS: 2s).
    pub(crate) write_timeout: Duration,
    /// Read timeout (`read_timeout`, default 2s).
    pub(crate) read_timeout: Duration,
    /// Source address for outgoing queries.
    pub(crate) source: Option<IpAddr>,
}

/// An upstream.
#[derive(Debug)]
pub(crate) struct Upstream {
    addr: SocketAddr,
    label: String,
    settings: Settings,
    health: HealthCheck,
    pool: Pool,
    fails: AtomicU32,
    probe: AtomicU8,
    avg_dial_nanos: AtomicI64,
    pub(crate) metrics: UpstreamMetrics,
}

/// An answer from an upstream.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The message, with the client's ID put back.
    pub(crate) msg: Vec<u8>,
    /// Its response code, extended bits included.
    pub(crate) rcode: Rcode,
}

impl Answer {
    /// The TC bit.
    pub(crate) fn truncated(&self) -> bool {
        self.msg[2] & 0x02 != 0
    }
}

impl Upstream {
    /// An upstream at `target`.
    pub(crate) fn new(
        target: &Target,
        settings: Settings,
        limits: PoolLimits,
        health: HealthCheck,
    ) -> Upstream {
        Upstream {
            addr: target.addr,
            label: target.label.clone(),
            settings,
            health,
            pool: Pool::new(limits),
            fails: AtomicU32::new(0),
            probe: AtomicU8::new(PROBE_IDLE),
            avg_dial_nanos: AtomicI64::new(MAX_DIAL.as_nanos() as i64 / 2),
            metrics: UpstreamMetrics::new(&target.label),
        }
    }

    /// The address as written (the `to` label).
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// Consecutive failed health checks.
    pub(crate) fn fails(&self) -> u32 {
        self.fails.load(Ordering::Relaxed)
    }

    /// Set the failure count.
    #[cfg(test)]
    pub(crate) fn set_fails(&self, n: u32) {
        self.fails.store(n, Ordering::Relaxed);
    }

    /// Down means more failed health checks in a row than `max_fails` (never when 0).
    pub(crate) fn down(&self, max_fails: u32) -> bool {
        max_fails != 0 && self.fails() > max_fails
    }

    /// The connection cache.
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Stop probing and caching (configuration retired). Queries still in flight finish on
    /// fresh connections.
    pub(crate) fn stop(&self) {
        self.probe.store(PROBE_STOPPED, Ordering::Release);
        self.pool.stop();
    }

    fn dial_timeout(&self) -> Duration {
        let avg = Duration::from_nanos(self.avg_dial_nanos.load(Ordering::Relaxed).max(0) as u64);
        if avg < MIN_DIAL {
            MIN_DIAL
        } else if avg < MAX_DIAL / 2 {
            2 * avg
        } else {
            MAX_DIAL
        }
    }

    fn observe_dial(&self, took: Duration) {
        let avg = self.avg_dial_nanos.load(Ordering::Relaxed);
        let took = took.as_nanos().min(i64::MAX as u128) as i64;
        self.avg_dial_nanos
            .fetch_add((took - avg) / DIAL_AVG_WEIGHT, Ordering::Relaxed);
    }

    /// A cached connection or a new one; the flag tells which.
    async fn connection(&self, proto: Proto) -> Result<(Pooled, bool), ExchangeError> {
        if let Some(pc) = self.pool.take(proto) {
            self.metrics.cache_hits[proto as usize].inc();
            return Ok((pc, true));
        }
        self.metrics.cache_misses[proto as usize].inc();
        let start = Instant::now();
        let res = dial(proto, self.addr, self.settings.source, self.dial_timeout()).await;
        self.observe_dial(start.elapsed());
        let conn = res.map_err(ExchangeError::Failed)?;
        let now = Instant::now();
        Ok((
            Pooled {
                conn,
                created: now,
                used: now,
            },
            false,
        ))
    }

    /// Send `query` over `proto` with a fresh ID and wait for the answer; `udp_size` is the
    /// largest UDP answer the client takes.
    pub(crate) async fn exchange(
        &self,
        query: &[u8],
        proto: Proto,
        udp_size: usize,
    ) -> Result<Answer, ExchangeError> {
        let start = Instant::now();
        let client_id = u16::from_be_bytes([query[0], query[1]]);
        let id = random::query_id();
        let mut packet = query.to_vec();
        packet[..2].copy_from_slice(&id.to_be_bytes());

        let (mut pc, cached) = self.connection(proto).await?;
        let limits = ExchangeLimits {
            write: self.settings.write_timeout,
            read: self.settings.read_timeout,
            udp_size,
        };
        let mut msg = exchange(&mut pc.conn, self.addr, &packet, id, cached, limits).await?;
        self.pool.put(proto, pc);

        msg[..2].copy_from_slice(&client_id.to_be_bytes());
        let rcode = full_rcode(&msg);
        self.metrics.observe(rcode, start.elapsed().as_secs_f64());
        Ok(Answer { msg, rcode })
    }

    /// Start a probe unless one is running: check now, and again every interval until a
    /// check succeeds.
    pub(crate) fn start_probe(self: &Arc<Self>) {
        if self
            .probe
            .compare_exchange(
                PROBE_IDLE,
                PROBE_ACTIVE,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            self.probe.store(PROBE_IDLE, Ordering::Release);
            return;
        };
        let me = Arc::clone(self);
        rt.spawn(async move {
            loop {
                if me.check_once().await {
                    break;
                }
                if me.health.interval.is_zero() {
                    tokio::task::yield_now().await;
                } else {
                    tokio::time::sleep(me.health.interval).await;
                }
                if me.probe.load(Ordering::Acquire) == PROBE_STOPPED {
                    return;
                }
            }
            let _ = me.probe.compare_exchange(
                PROBE_ACTIVE,
                PROBE_IDLE,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        });
    }

    /// One health check, counted; true when healthy.
    pub(crate) async fn check_once(&self) -> bool {
        match self.health.check(self.addr).await {
            Ok(()) => {
                self.fails.store(0, Ordering::Relaxed);
                true
            }
            Err(_) => {
                self.metrics.healthcheck_failures.inc();
                let _ = self
                    .fails
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |f| f.checked_add(1));
                false
            }
        }
    }
}

/// The response code: header bits plus the extended bits of an OPT record.
pub(crate) fn full_rcode(msg: &[u8]) -> Rcode {
    let low = Rcode::from(msg[3] & 0x0F);
    let ext = signpost_wire::records(msg)
        .filter_map(Result::ok)
        .find(|r| r.rtype == rtype::OPT)
        .map_or(0, |r| (r.ttl >> 24) as Rcode);
    (ext << 4) | low
}
