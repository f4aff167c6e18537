//! The metric families, with CoreDNS's names, help texts, labels and buckets.

use std::sync::{Arc, OnceLock};

use signpost_metrics::{
    registry, size_buckets, time_buckets, Counter, CounterVec, GaugeVec, HistogramVec,
};

/// The per-query families (CoreDNS's `plugin/metrics/vars`).
#[derive(Debug)]
pub(crate) struct Families {
    pub(crate) requests: Arc<CounterVec>,
    pub(crate) do_requests: Arc<CounterVec>,
    pub(crate) duration: Arc<HistogramVec>,
    pub(crate) request_size: Arc<HistogramVec>,
    pub(crate) response_size: Arc<HistogramVec>,
    pub(crate) responses: Arc<CounterVec>,
}

/// The process-wide families, registered on first use.
pub(crate) fn families() -> &'static Families {
    static FAMILIES: OnceLock<Families> = OnceLock::new();
    FAMILIES.get_or_init(|| {
        let r = registry();
        Families {
            requests: r.counter_vec(
                "coredns_dns_requests_total",
                "Counter of DNS requests made per zone, protocol and family.",
                &["server", "zone", "view", "proto", "family", "type"],
            ),
            do_requests: r.counter_vec(
                "coredns_dns_do_requests_total",
                "Counter of DNS requests with DO bit set per zone.",
                &["server", "zone", "view"],
            ),
            duration: r.histogram_vec(
                "coredns_dns_request_duration_seconds",
                "Histogram of the time (in seconds) each request took per zone.",
                &["server", "zone", "view"],
                &time_buckets(),
            ),
            request_size: r.histogram_vec(
                "coredns_dns_request_size_bytes",
                "Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.",
                &["server", "zone", "view", "proto"],
                &size_buckets(),
            ),
            response_size: r.histogram_vec(
                "coredns_dns_response_size_bytes",
                "Size of the returned response in bytes.",
                &["server", "zone", "view", "proto"],
                &size_buckets(),
            ),
            responses: r.counter_vec(
                "coredns_dns_responses_total",
                "Counter of response status codes.",
                &["server", "zone", "view", "rcode", "plugin"],
            ),
        }
    })
}

/// `coredns_plugin_enabled{server, zone, view, name}`.
pub(crate) fn plugin_enabled() -> Arc<GaugeVec> {
    registry().gauge_vec(
        "coredns_plugin_enabled",
        "A metric that indicates whether a plugin is enabled on per server and zone basis.",
        &["server", "zone", "view", "name"],
    )
}

/// `coredns_panics_total`.
pub fn panics() -> Arc<Counter> {
    registry().counter(
        "coredns_panics_total",
        "A metrics that counts the number of panics.",
    )
}

/// `coredns_build_info{version, revision, goversion}`, set to 1.
pub(crate) fn set_build_info() {
    registry()
        .gauge_vec(
            "coredns_build_info",
            "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.",
            &["version", "revision", "goversion"],
        )
        .with(&[
            env!("CARGO_PKG_VERSION"),
            option_env!("SIGNPOST_REVISION").unwrap_or(""),
            env!("SIGNPOST_RUSTC_VERSION"),
        ])
        .set(1.0);
}
