//! CoreDNS's forward metrics, under their current names: the per-upstream ones live in the
//! shared `proxy` subsystem with `proxy_name="forward"`.

use std::sync::{Arc, OnceLock};

use signpost_metrics::{registry, time_buckets, Counter, CounterVec, HistogramVec};
use signpost_wire::Rcode;

use crate::rcode_text;

/// The value of the `proxy_name` label.
pub(crate) const PROXY_NAME: &str = "forward";

/// `coredns_forward_healthcheck_broken_total`.
pub(crate) fn healthcheck_broken() -> Arc<Counter> {
    registry().counter(
        "coredns_forward_healthcheck_broken_total",
        "Counter of the number of complete failures of the healthchecks.",
    )
}

/// `coredns_forward_max_concurrent_rejects_total`.
pub(crate) fn max_concurrent_rejects() -> Arc<Counter> {
    registry().counter(
        "coredns_forward_max_concurrent_rejects_total",
        "Counter of the number of queries rejected because the concurrent queries were at maximum.",
    )
}

/// One labelled series, created on first use: CoreDNS's series only appear once something
/// happened, and a scrape should show the same.
#[derive(Debug)]
pub(crate) struct LazyCounter {
    family: Arc<CounterVec>,
    labels: Vec<String>,
    series: OnceLock<Arc<Counter>>,
}

impl LazyCounter {
    fn new(family: &Arc<CounterVec>, labels: &[&str]) -> LazyCounter {
        LazyCounter {
            family: Arc::clone(family),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            series: OnceLock::new(),
        }
    }

    /// Add one.
    pub(crate) fn inc(&self) {
        self.series
            .get_or_init(|| {
                let labels: Vec<&str> = self.labels.iter().map(String::as_str).collect();
                self.family.with(&labels)
            })
            .inc();
    }

    /// The current value (0 before first use).
    #[cfg(test)]
    pub(crate) fn get(&self) -> u64 {
        self.series.get().map_or(0, |c| c.get())
    }
}

/// The series of one upstream.
#[derive(Debug)]
pub(crate) struct UpstreamMetrics {
    to: String,
    /// `coredns_proxy_request_duration_seconds{proxy_name, to, rcode}`.
    duration: Arc<HistogramVec>,
    /// `coredns_proxy_healthcheck_failures_total{proxy_name, to}`.
    pub(crate) healthcheck_failures: LazyCounter,
    /// `coredns_proxy_conn_cache_hits_total{proxy_name, to, proto}`: udp, tcp.
    pub(crate) cache_hits: [LazyCounter; 2],
    /// `coredns_proxy_conn_cache_misses_total{proxy_name, to, proto}`: udp, tcp.
    pub(crate) cache_misses: [LazyCounter; 2],
}

impl UpstreamMetrics {
    /// The families, for upstream `to`.
    pub(crate) fn new(to: &str) -> UpstreamMetrics {
        let reg = registry();
        let duration = reg.histogram_vec(
            "coredns_proxy_request_duration_seconds",
            "Histogram of the time each request took.",
            &["proxy_name", "to", "rcode"],
            &time_buckets(),
        );
        let failures = reg.counter_vec(
            "coredns_proxy_healthcheck_failures_total",
            "Counter of the number of failed healthchecks.",
            &["proxy_name", "to"],
        );
        let hits = reg.counter_vec(
            "coredns_proxy_conn_cache_hits_total",
            "Counter of connection cache hits per upstream and protocol.",
            &["proxy_name", "to", "proto"],
        );
        let misses = reg.counter_vec(
            "coredns_proxy_conn_cache_misses_total",
            "Counter of connection cache misses per upstream and protocol.",
            &["proxy_name", "to", "proto"],
        );
        UpstreamMetrics {
            to: to.to_string(),
            duration,
            healthcheck_failures: LazyCounter::new(&failures, &[PROXY_NAME, to]),
            cache_hits: [
                LazyCounter::new(&hits, &[PROXY_NAME, to, "udp"]),
                LazyCounter::new(&hits, &[PROXY_NAME, to, "tcp"]),
            ],
            cache_misses: [
                LazyCounter::new(&misses, &[PROXY_NAME, to, "udp"]),
                LazyCounter::new(&misses, &[PROXY_NAME, to, "tcp"]),
            ],
        }
    }

    /// Record how long an exchange that got an answer with `rcode` took.
    pub(crate) fn observe(&self, rcode: Rcode, seconds: f64) {
        let rc = rcode_text::label(rcode);
        self.duration
            .with(&[PROXY_NAME, &self.to, &rc])
            .observe(seconds);
    }
}
