//! The metrics of the watch layer (all labelled by cluster name and kind).

use std::sync::{Arc, OnceLock};

use signpost_metrics::{registry, Counter, CounterVec, Gauge, GaugeVec};

struct Families {
    state: Arc<GaugeVec>,
    objects: Arc<GaugeVec>,
    errors: Arc<CounterVec>,
    skipped: Arc<CounterVec>,
    requests: Arc<CounterVec>,
}

fn families() -> &'static Families {
    static F: OnceLock<Families> = OnceLock::new();
    F.get_or_init(|| {
        let r = registry();
        Families {
            state: r.gauge_vec(
                "signpost_kube_watch_state",
                "1 when the watches of a kind have their complete list and the API answers, else 0.",
                &["cluster", "kind"],
            ),
            objects: r.gauge_vec(
                "signpost_kube_objects",
                "Objects currently held by the watches of a kind.",
                &["cluster", "kind"],
            ),
            errors: r.counter_vec(
                "signpost_kube_watch_errors_total",
                "Errors of list/watch calls (each followed by a retry with backoff).",
                &["cluster", "kind"],
            ),
            skipped: r.counter_vec(
                "signpost_kube_objects_skipped_total",
                "Objects skipped because they could not be read (no name, fields of the wrong type).",
                &["cluster", "kind"],
            ),
            requests: r.counter_vec(
                "signpost_kube_api_requests_total",
                "Requests to the Kubernetes API, by HTTP status code (\"error\" when none came back).",
                &["cluster", "kind", "code"],
            ),
        }
    })
}

/// The series of one (cluster, kind), resolved once.
pub(crate) struct KindMetrics {
    cluster: String,
    kind: &'static str,
    /// `signpost_kube_watch_state`.
    pub(crate) state: Arc<Gauge>,
    /// `signpost_kube_objects`.
    pub(crate) objects: Arc<Gauge>,
    /// `signpost_kube_watch_errors_total`.
    pub(crate) errors: Arc<Counter>,
    /// `signpost_kube_objects_skipped_total`.
    pub(crate) skipped: Arc<Counter>,
}

impl KindMetrics {
    pub(crate) fn new(cluster: &str, kind: &'static str) -> KindMetrics {
        let f = families();
        let l = [cluster, kind];
        KindMetrics {
            cluster: cluster.to_string(),
            kind,
            state: f.state.with(&l),
            objects: f.objects.with(&l),
            errors: f.errors.with(&l),
            skipped: f.skipped.with(&l),
        }
    }

    /// Drops the gauges of a kind no longer watched (counters keep counting).
    pub(crate) fn retire(&self) {
        let f = families();
        f.state.remove(&[&self.cluster, self.kind]);
        f.objects.remove(&[&self.cluster, self.kind]);
    }
}

/// Counts one API request.
pub(crate) fn request(cluster: &str, kind: &str, code: &str) {
    families().requests.with(&[cluster, kind, code]).inc();
}
