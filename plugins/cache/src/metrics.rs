//! CoreDNS's cache metrics, with its names, help texts and labels.
//!
//! Every series carries the `server` label, known only per query. Each server address gets
//! its set of series resolved once (on its first query) and kept in a copy-on-write list, so
//! a cache hit finds its counters with one atomic load and a string compare, and bumps them
//! without allocating.

use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use signpost_metrics::{registry, Counter, CounterVec, Gauge, GaugeVec};

use crate::entry::Kind;

/// The metric families (process-wide, shared by every cache instance).
struct Families {
    entries: Arc<GaugeVec>,
    requests: Arc<CounterVec>,
    hits: Arc<CounterVec>,
    misses: Arc<CounterVec>,
    prefetch: Arc<CounterVec>,
    drops: Arc<CounterVec>,
    served_stale: Arc<CounterVec>,
    evictions: Arc<CounterVec>,
}

fn families() -> &'static Families {
    static FAMILIES: OnceLock<Families> = OnceLock::new();
    FAMILIES.get_or_init(|| {
        let r = registry();
        let typed = &["server", "type", "zones", "view"];
        let plain = &["server", "zones", "view"];
        Families {
            entries: r.gauge_vec(
                "coredns_cache_entries",
                "The number of elements in the cache.",
                typed,
            ),
            requests: r.counter_vec(
                "coredns_cache_requests_total",
                "The count of cache requests.",
                plain,
            ),
            hits: r.counter_vec("coredns_cache_hits_total", "The count of cache hits.", typed),
            misses: r.counter_vec(
                "coredns_cache_misses_total",
                "The count of cache misses. Deprecated, derive misses from cache hits/requests counters.",
                plain,
            ),
            prefetch: r.counter_vec(
                "coredns_cache_prefetch_total",
                "The number of times the cache has prefetched a cached item.",
                plain,
            ),
            drops: r.counter_vec(
                "coredns_cache_drops_total",
                "The number responses that are not cached, because the reply is malformed.",
                plain,
            ),
            served_stale: r.counter_vec(
                "coredns_cache_served_stale_total",
                "The number of requests served from stale cache entries.",
                plain,
            ),
            evictions: r.counter_vec(
                "coredns_cache_evictions_total",
                "The count of cache evictions.",
                typed,
            ),
        }
    })
}

/// The series of one server address. Each is created on first use, as the Go client
/// creates a child on its first `WithLabelValues`, so series that never counted anything
/// are not exported.
pub(crate) struct Series {
    server: String,
    zones: String,
    requests: OnceLock<Arc<Counter>>,
    misses: OnceLock<Arc<Counter>>,
    prefetch: OnceLock<Arc<Counter>>,
    drops: OnceLock<Arc<Counter>>,
    served_stale: OnceLock<Arc<Counter>>,
    hits: [OnceLock<Arc<Counter>>; 2],
    evictions: [OnceLock<Arc<Counter>>; 2],
    entries: [OnceLock<Arc<Gauge>>; 2],
}

fn index(kind: Kind) -> usize {
    match kind {
        Kind::Success => 0,
        Kind::Denial => 1,
    }
}

impl Series {
    fn new(server: &str, zones: &str) -> Series {
        Series {
            server: server.to_string(),
            zones: zones.to_string(),
            requests: OnceLock::new(),
            misses: OnceLock::new(),
            prefetch: OnceLock::new(),
            drops: OnceLock::new(),
            served_stale: OnceLock::new(),
            hits: Default::default(),
            evictions: Default::default(),
            entries: Default::default(),
        }
    }

    fn plain<'a>(&self, cell: &'a OnceLock<Arc<Counter>>, vec: &CounterVec) -> &'a Counter {
        cell.get_or_init(|| vec.with(&[&self.server, &self.zones, ""]))
    }

    fn typed<'a>(
        &self,
        cell: &'a OnceLock<Arc<Counter>>,
        vec: &CounterVec,
        kind: Kind,
    ) -> &'a Counter {
        cell.get_or_init(|| vec.with(&[&self.server, kind.label(), &self.zones, ""]))
    }

    /// `coredns_cache_requests_total`.
    pub(crate) fn requests(&self) -> &Counter {
        self.plain(&self.requests, &families().requests)
    }

    /// `coredns_cache_misses_total`.
    pub(crate) fn misses(&self) -> &Counter {
        self.plain(&self.misses, &families().misses)
    }

    /// `coredns_cache_prefetch_total`.
    pub(crate) fn prefetch(&self) -> &Counter {
        self.plain(&self.prefetch, &families().prefetch)
    }

    /// `coredns_cache_drops_total`.
    pub(crate) fn drops(&self) -> &Counter {
        self.plain(&self.drops, &families().drops)
    }

    /// `coredns_cache_served_stale_total`.
    pub(crate) fn served_stale(&self) -> &Counter {
        self.plain(&self.served_stale, &families().served_stale)
    }

    /// `coredns_cache_hits_total` of this kind.
    pub(crate) fn hits(&self, kind: Kind) -> &Counter {
        self.typed(&self.hits[index(kind)], &families().hits, kind)
    }

    /// `coredns_cache_evictions_total` of this kind.
    pub(crate) fn evictions(&self, kind: Kind) -> &Counter {
        self.typed(&self.evictions[index(kind)], &families().evictions, kind)
    }

    /// `coredns_cache_entries` of this kind.
    pub(crate) fn entries(&self, kind: Kind) -> &Gauge {
        self.entries[index(kind)].get_or_init(|| {
            families()
                .entries
                .with(&[&self.server, kind.label(), &self.zones, ""])
        })
    }
}

/// The series of one cache instance, by server address.
pub(crate) struct Metrics {
    zones: String,
    by_server: ArcSwap<Vec<Arc<Series>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("zones", &self.zones)
            .finish()
    }
}

impl Metrics {
    /// Metrics for a cache whose `zones` label is `zones`.
    pub(crate) fn new(zones: &str) -> Metrics {
        Metrics {
            zones: zones.to_string(),
            by_server: ArcSwap::from_pointee(Vec::new()),
        }
    }

    /// Run `f` with the series of `server`, making room for them on first use.
    pub(crate) fn with<R>(&self, server: &str, f: impl FnOnce(&Series) -> R) -> R {
        {
            let list = self.by_server.load();
            if let Some(s) = list.iter().find(|s| s.server == server) {
                return f(s);
            }
        }
        let series = self.resolve(server);
        f(&series)
    }

    fn resolve(&self, server: &str) -> Arc<Series> {
        let mut found = None;
        self.by_server.rcu(|list| {
            let mut list = (**list).clone();
            match list.iter().find(|s| s.server == server) {
                Some(s) => found = Some(Arc::clone(s)),
                None => {
                    let s = Arc::new(Series::new(server, &self.zones));
                    found = Some(Arc::clone(&s));
                    list.push(s);
                }
            }
            list
        });
        found.unwrap_or_else(|| Arc::new(Series::new(server, &self.zones)))
    }
}
