//! A small, fast Prometheus metrics registry with text exposition.
//!
//! # Design
//!
//! * **Hot path without locks or allocation.** [`Counter`], [`Gauge`] and
//!   [`Histogram`] are plain atomics: `Counter::inc` is one relaxed
//!   `fetch_add`, a gauge stores its `f64` bits in an `AtomicU64`, a histogram
//!   keeps one non-cumulative `AtomicU64` per bucket plus a CAS-updated `f64`
//!   sum (cumulative bucket values are computed when rendering). The labelled
//!   families ([`CounterVec`], [`GaugeVec`], [`HistogramVec`]) hide their
//!   children behind an `RwLock`; `with(&[..])` is meant to be called at setup
//!   time, and callers keep the returned `Arc` and bump it per query. (A
//!   lookup of an existing child only takes the read lock and does not
//!   allocate, so occasional `with` calls at query time are tolerable too.)
//!
//! * **Process-wide, get-or-create.** [`registry()`] returns one registry for
//!   the whole process. Every constructor (`counter`, `counter_vec`, ...) is
//!   get-or-create by metric name, so after a Corefile reload the new plugin
//!   instances get the very same series back and values keep counting.
//!
//! * **Name clashes never panic.** A family is identified by its name. Asking
//!   for an existing name with the same kind and the same label names (and,
//!   for histograms, the same buckets) returns the existing metric; the help
//!   text of the first registration is kept. Asking for it with a different
//!   kind, label set or buckets, or with an invalid metric or label name,
//!   returns a *detached* metric: a fresh object that works normally but is
//!   not registered, so nothing it records is ever exposed. A DNS server must
//!   not crash (or refuse a reload) because two plugins disagree about a
//!   metric; losing the second plugin's numbers is the lesser evil, and the
//!   first registration keeps its exposition well-formed. Likewise `with`
//!   given the wrong number of label values returns a detached child.
//!
//! * **Exposition like the Go client.** [`Registry::render`] writes the
//!   Prometheus text format 0.0.4 the way `client_golang` does, so the output
//!   matches CoreDNS byte for byte where the values agree: families sorted by
//!   name, `# HELP`/`# TYPE` lines, label pairs written in label-name order,
//!   series sorted by label values (in that order), labelled families with no
//!   series omitted entirely, histograms as cumulative `_bucket{le=".."}`
//!   lines ending with `le="+Inf"` followed by `_sum` and `_count`, and floats
//!   formatted like Go's `strconv.FormatFloat(v, 'g', -1, 64)` (`0.00025`,
//!   `1e-05`, `1.5e+06`, `+Inf`). Helpers for this format live in [`text`].
//!
//! * **Scrape-time values.** [`Registry::register_collector`] registers a
//!   callback that appends already-formatted lines (including its own
//!   `# HELP`/`# TYPE`) at render time, in name order with everything else.
//!   [`process_collector`] uses this for the Go-client-style `process_*`
//!   metrics read from `/proc/self` on Linux.
//!
//! # Example
//!
//! ```
//! use signpost_metrics::{Registry, time_buckets};
//!
//! let reg = Registry::new();
//! let requests = reg.counter_vec(
//!     "coredns_dns_requests_total",
//!     "Counter of DNS requests made per zone, protocol and family.",
//!     &["server", "zone", "view", "proto", "family", "type"],
//! );
//! // Setup time: resolve the series once and keep the Arc.
//! let udp_a = requests.with(&["dns://:53", ".", "", "udp", "1", "A"]);
//! // Hot path: one relaxed atomic add.
//! udp_a.inc();
//!
//! let text = reg.render();
//! assert!(text.contains(
//!     "coredns_dns_requests_total{family=\"1\",proto=\"udp\",server=\"dns://:53\",type=\"A\",view=\"\",zone=\".\"} 1\n"
//! ));
//! # let _ = time_buckets();
//! ```

mod metric;
mod process;
pub mod text;
mod vec;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use metric::{Counter, Gauge, Histogram};
pub use process::process_collector;
pub use vec::{CounterVec, GaugeVec, HistogramVec};

use text::{write_float, write_header, write_labels};

/// A scrape-time collector: appends complete, already-formatted exposition
/// text (its `# HELP`/`# TYPE` lines and samples, newline-terminated).
pub type CollectorFn = Box<dyn Fn(&mut String) + Send + Sync>;

/// The process-wide registry.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::new)
}

/// The buckets CoreDNS uses for durations (`plugin.TimeBuckets`):
/// `ExponentialBuckets(0.00025, 2, 16)`, i.e. 0.25ms .. ~8.2s.
pub fn time_buckets() -> Vec<f64> {
    exponential_buckets(0.00025, 2.0, 16)
}

/// The buckets CoreDNS uses for message sizes (`plugin.SizeBuckets`).
pub fn size_buckets() -> Vec<f64> {
    vec![
        0.0, 100.0, 200.0, 300.0, 400.0, 511.0, 1023.0, 2047.0, 4095.0, 8291.0, 16e3, 32e3, 48e3,
        64e3,
    ]
}

/// `count` buckets starting at `start`, each `factor` times the previous one
/// (computed by repeated multiplication, exactly like the Go client).
/// Returns an empty vector when `count == 0`, `start <= 0` or `factor <= 1`
/// (where the Go client would panic).
pub fn exponential_buckets(start: f64, factor: f64, count: usize) -> Vec<f64> {
    if count == 0 || start.is_nan() || start <= 0.0 || factor.is_nan() || factor <= 1.0 {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(count);
    let mut v = start;
    for _ in 0..count {
        out.push(v);
        v *= factor;
    }
    out
}

/// `count` buckets starting at `start`, each `width` above the previous one.
/// Returns an empty vector when `count == 0` or `width <= 0`.
pub fn linear_buckets(start: f64, width: f64, count: usize) -> Vec<f64> {
    if count == 0 || width.is_nan() || width <= 0.0 {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(count);
    let mut v = start;
    for _ in 0..count {
        out.push(v);
        v += width;
    }
    out
}

enum Kind {
    Counter(Arc<Counter>),
    Gauge(Arc<Gauge>),
    Histogram(Arc<Histogram>),
    CounterVec(Arc<CounterVec>),
    GaugeVec(Arc<GaugeVec>),
    HistogramVec(Arc<HistogramVec>),
    Collector(Arc<dyn Fn(&mut String) + Send + Sync>),
}

impl Kind {
    fn type_name(&self) -> &'static str {
        match self {
            Kind::Counter(_) | Kind::CounterVec(_) => "counter",
            Kind::Gauge(_) | Kind::GaugeVec(_) => "gauge",
            Kind::Histogram(_) | Kind::HistogramVec(_) => "histogram",
            Kind::Collector(_) => "collector",
        }
    }
}

struct Family {
    help: String,
    kind: Kind,
}

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved), all distinct.
fn valid_label_names(labels: &[&str]) -> bool {
    labels.iter().enumerate().all(|(i, l)| {
        let mut chars = l.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !l.starts_with("__")
            && !labels[..i].contains(l)
    })
}

fn same_labels(have: &[String], want: &[&str]) -> bool {
    have.len() == want.len() && have.iter().zip(want).all(|(a, b)| a == b)
}

/// A set of metric families, rendered together.
///
/// Use [`registry()`] for the process-wide one; `Registry::new` is for tests.
pub struct Registry {
    families: RwLock<BTreeMap<String, Arc<Family>>>,
}

impl Default for Registry {
    fn default() -> Registry {
        Registry::new()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fams = read(&self.families);
        f.debug_map()
            .entries(fams.iter().map(|(k, v)| (k, v.kind.type_name())))
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry {
            families: RwLock::new(BTreeMap::new()),
        }
    }

    /// Get-or-create. `existing` returns the metric if the registered family
    /// is compatible; otherwise (or when `valid` is false) a detached metric is
    /// returned and nothing is registered.
    fn get_or_create<T>(
        &self,
        name: &str,
        help: &str,
        valid: bool,
        existing: impl Fn(&Kind) -> Option<Arc<T>>,
        create: impl FnOnce() -> T,
        wrap: impl FnOnce(Arc<T>) -> Kind,
    ) -> Arc<T> {
        if !valid || !valid_metric_name(name) {
            return Arc::new(create());
        }
        if let Some(f) = read(&self.families).get(name) {
            return existing(&f.kind).unwrap_or_else(|| Arc::new(create()));
        }
        let mut fams = write(&self.families);
        if let Some(f) = fams.get(name) {
            return existing(&f.kind).unwrap_or_else(|| Arc::new(create()));
        }
        let m = Arc::new(create());
        fams.insert(
            name.to_string(),
            Arc::new(Family {
                help: help.to_string(),
                kind: wrap(Arc::clone(&m)),
            }),
        );
        m
    }

    /// Gets or creates the counter `name`.
    pub fn counter(&self, name: &str, help: &str) -> Arc<Counter> {
        self.get_or_create(
            name,
            help,
            true,
            |k| match k {
                Kind::Counter(c) => Some(Arc::clone(c)),
                _ => None,
            },
            Counter::new,
            Kind::Counter,
        )
    }

    /// Gets or creates the counter family `name` with these label names.
    pub fn counter_vec(&self, name: &str, help: &str, labels: &[&str]) -> Arc<CounterVec> {
        self.get_or_create(
            name,
            help,
            valid_label_names(labels),
            |k| match k {
                Kind::CounterVec(v) if same_labels(v.label_names(), labels) => Some(Arc::clone(v)),
                _ => None,
            },
            || CounterVec::new(labels),
            Kind::CounterVec,
        )
    }

    /// Gets or creates the gauge `name`.
    pub fn gauge(&self, name: &str, help: &str) -> Arc<Gauge> {
        self.get_or_create(
            name,
            help,
            true,
            |k| match k {
                Kind::Gauge(g) => Some(Arc::clone(g)),
                _ => None,
            },
            Gauge::new,
            Kind::Gauge,
        )
    }

    /// Gets or creates the gauge family `name` with these label names.
    pub fn gauge_vec(&self, name: &str, help: &str, labels: &[&str]) -> Arc<GaugeVec> {
        self.get_or_create(
            name,
            help,
            valid_label_names(labels),
            |k| match k {
                Kind::GaugeVec(v) if same_labels(v.label_names(), labels) => Some(Arc::clone(v)),
                _ => None,
            },
            || GaugeVec::new(labels),
            Kind::GaugeVec,
        )
    }

    /// Gets or creates the histogram `name`. Buckets are upper bounds; they
    /// are sorted and de-duplicated, and `+Inf` is always added implicitly.
    pub fn histogram(&self, name: &str, help: &str, buckets: &[f64]) -> Arc<Histogram> {
        let bounds = metric::normalize_buckets(buckets);
        self.get_or_create(
            name,
            help,
            true,
            |k| match k {
                Kind::Histogram(h) if h.bounds() == &bounds[..] => Some(Arc::clone(h)),
                _ => None,
            },
            || Histogram::with_bounds(Arc::clone(&bounds)),
            Kind::Histogram,
        )
    }

    /// Gets or creates the histogram family `name` with these label names and
    /// buckets (see [`Registry::histogram`]). `le` is not a valid label name.
    pub fn histogram_vec(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
        buckets: &[f64],
    ) -> Arc<HistogramVec> {
        let bounds = metric::normalize_buckets(buckets);
        self.get_or_create(
            name,
            help,
            valid_label_names(labels) && !labels.contains(&"le"),
            |k| match k {
                Kind::HistogramVec(v)
                    if same_labels(v.label_names(), labels) && v.bounds() == &bounds[..] =>
                {
                    Some(Arc::clone(v))
                }
                _ => None,
            },
            || HistogramVec::new(labels, &bounds),
            Kind::HistogramVec,
        )
    }

    /// Registers a family whose text is produced at render time by `f`.
    ///
    /// `f` appends complete exposition text for the family `name` — its
    /// `# HELP`/`# TYPE` lines and samples (see [`text::write_header`] and
    /// [`text::write_sample`]) — and may append nothing when there is nothing
    /// to report. Its output is placed in name order among the other families.
    ///
    /// Registering a collector again under the same name replaces the previous
    /// one (so a reload can refresh e.g. `coredns_build_info`); if `name` is
    /// taken by a regular metric or is not a valid metric name, the call is
    /// ignored.
    pub fn register_collector(&self, name: &str, f: CollectorFn) {
        if !valid_metric_name(name) {
            return;
        }
        let mut fams = write(&self.families);
        if let Some(existing) = fams.get(name) {
            if !matches!(existing.kind, Kind::Collector(_)) {
                return;
            }
        }
        fams.insert(
            name.to_string(),
            Arc::new(Family {
                help: String::new(),
                kind: Kind::Collector(Arc::from(f)),
            }),
        );
    }

    /// Registers the Go-client-style `process_*` collectors (Linux only; does
    /// nothing elsewhere). See [`process_collector`].
    pub fn register_process_collector(&self) {
        process::register(self);
    }

    /// Removes the family `name` (metric or collector). Holders of its
    /// `Arc`s keep working but are no longer exposed. Returns whether it existed.
    pub fn unregister(&self, name: &str) -> bool {
        write(&self.families).remove(name).is_some()
    }

    /// Renders all families in the Prometheus text format 0.0.4.
    pub fn render(&self) -> String {
        // Snapshot under the lock, render (and run collectors) without it.
        let fams: Vec<(String, Arc<Family>)> = read(&self.families)
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        let mut out = String::with_capacity(1024 + fams.len() * 256);
        for (name, fam) in &fams {
            render_family(&mut out, name, fam);
        }
        out
    }
}

fn render_family(out: &mut String, name: &str, fam: &Family) {
    let no_labels: &[&str] = &[];
    match &fam.kind {
        Kind::Counter(c) => {
            write_header(out, name, &fam.help, "counter");
            write_value_line(out, name, no_labels, no_labels, c.get() as f64);
        }
        Kind::Gauge(g) => {
            write_header(out, name, &fam.help, "gauge");
            write_value_line(out, name, no_labels, no_labels, g.get());
        }
        Kind::Histogram(h) => {
            write_header(out, name, &fam.help, "histogram");
            write_histogram(out, name, no_labels, no_labels, h);
        }
        Kind::CounterVec(v) => {
            let series = v.children.snapshot();
            if series.is_empty() {
                return;
            }
            let names = v.children.sorted_names();
            write_header(out, name, &fam.help, "counter");
            for (vals, c) in &series {
                write_value_line(out, name, &names, vals, c.get() as f64);
            }
        }
        Kind::GaugeVec(v) => {
            let series = v.children.snapshot();
            if series.is_empty() {
                return;
            }
            let names = v.children.sorted_names();
            write_header(out, name, &fam.help, "gauge");
            for (vals, g) in &series {
                write_value_line(out, name, &names, vals, g.get());
            }
        }
        Kind::HistogramVec(v) => {
            let series = v.children.snapshot();
            if series.is_empty() {
                return;
            }
            let names = v.children.sorted_names();
            write_header(out, name, &fam.help, "histogram");
            for (vals, h) in &series {
                write_histogram(out, name, &names, vals, h);
            }
        }
        Kind::Collector(f) => {
            f(out);
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
        }
    }
}

fn write_value_line<V: AsRef<str>>(
    out: &mut String,
    name: &str,
    names: &[&str],
    values: &[V],
    v: f64,
) {
    out.push_str(name);
    write_labels(out, names, values, None);
    out.push(' ');
    write_float(out, v);
    out.push('\n');
}

fn write_histogram<V: AsRef<str>>(
    out: &mut String,
    name: &str,
    names: &[&str],
    values: &[V],
    h: &Histogram,
) {
    let buckets = h.cumulative_buckets();
    let mut le = String::with_capacity(24);
    for (upper, cum) in &buckets {
        le.clear();
        write_float(&mut le, *upper);
        out.push_str(name);
        out.push_str("_bucket");
        write_labels(out, names, values, Some(("le", &le)));
        out.push(' ');
        write_float(out, *cum as f64);
        out.push('\n');
    }
    let count = buckets.last().map_or(0, |b| b.1);
    out.push_str(name);
    out.push_str("_sum");
    write_labels(out, names, values, None);
    out.push(' ');
    write_float(out, h.sum());
    out.push('\n');
    out.push_str(name);
    out.push_str("_count");
    write_labels(out, names, values, None);
    out.push(' ');
    write_float(out, count as f64);
    out.push('\n');
}

#[cfg(test)]
mod tests;
