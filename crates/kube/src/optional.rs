//! Watches of kinds a cluster may not serve: CRDs that are not installed (Gateway API,
//! external-dns DNSEndpoint) or kinds RBAC does not let us list.
//!
//! ```text
//!  watch_optional ──▶ probe: GET <collection>?limit=1
//!                        ├─ 2xx ──────────▶ an ordinary shared watch (Cluster::watch)
//!                        │                  (probed again every RECHECK: a CRD removed
//!                        │                  later drops the watch and its objects)
//!                        ├─ 404 / 403 ────▶ subscriber gets an empty Reset, counts as synced;
//!                        │                  probe again every RECHECK (a CRD installed or a
//!                        │                  role granted later is picked up), logged once
//!                        └─ other error ──▶ retry with backoff, still unsynced
//! ```
//!
//! An ordinary watch of such a kind would retry its failing list forever and keep the whole
//! cluster from ever being synced, so readiness would never come and answers could never
//! trust the data. Until the first probe answers the optional watch holds the cluster
//! unsynced like any other watch; a kind that is served then syncs like any other.
//! A `manifests` connection serves every kind (the files hold what they hold).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use signpost_k8s_model::{Event, Subscriber};
use tokio::task::AbortHandle;

use crate::cluster::{Cluster, ClusterInner, WatchGuard};
use crate::connection::Source;
use crate::convert::{collection_path, Watchable};
use crate::hub::lock;
use crate::selector::Selectors;

/// How often a kind found missing is probed again, unless the environment variable
/// [`RECHECK_ENV`] gives other milliseconds (tests use a short one).
pub const RECHECK: Duration = Duration::from_secs(30);
/// Overrides [`RECHECK`], in milliseconds.
pub const RECHECK_ENV: &str = "SIGNPOST_KUBE_RECHECK_MS";

/// Retry delays while a probe fails for other reasons (unreachable server, 5xx).
const RETRY_MIN: Duration = Duration::from_millis(800);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// Marks a request as a served-or-not probe, so that a 404 or 403 it gets is not taken as
/// the connection failing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe;

/// What the probes found about a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Not known yet (no probe answered).
    Unknown,
    /// The kind is served and watched.
    Served,
    /// The cluster does not serve it (404) or forbids listing it (403).
    Absent,
}

fn recheck() -> Duration {
    std::env::var(RECHECK_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(RECHECK, Duration::from_millis)
}

struct State {
    cluster: Arc<ClusterInner>,
    /// The ordinary watch, once the kind is served.
    guard: Mutex<Option<WatchGuard>>,
    /// Whether this watch still holds the cluster unsynced.
    held: AtomicBool,
    presence: AtomicU8,
}

impl State {
    fn release(&self) {
        if self.held.swap(false, Ordering::AcqRel) {
            self.cluster.release_unsynced();
        }
    }

    fn set(&self, p: Presence) {
        self.presence.store(p as u8, Ordering::Release);
    }
}

/// A subscription to an optional kind; dropping it unsubscribes and stops the probes.
pub struct OptionalGuard {
    state: Arc<State>,
    task: Option<AbortHandle>,
}

impl std::fmt::Debug for OptionalGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OptionalGuard")
            .field("presence", &self.presence())
            .finish()
    }
}

impl OptionalGuard {
    /// What the probes found so far.
    pub fn presence(&self) -> Presence {
        match self.state.presence.load(Ordering::Acquire) {
            1 => Presence::Served,
            2 => Presence::Absent,
            _ => Presence::Unknown,
        }
    }
}

impl Drop for OptionalGuard {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
        lock(&self.state.guard).take();
        self.state.release();
    }
}

impl Cluster {
    /// Like [`Cluster::watch`], for a kind the cluster may not serve. While the kind is
    /// missing (404) or forbidden (403) the subscriber holds an empty set and the watch
    /// counts as synced; the kind is probed again periodically and watched as soon as it is
    /// served. Call inside the tokio runtime.
    pub fn watch_optional<T: Watchable>(
        &self,
        selectors: Selectors,
        sub: Arc<dyn Subscriber<T>>,
    ) -> OptionalGuard {
        let inner = self.inner().clone();
        let state = Arc::new(State {
            cluster: inner.clone(),
            guard: Mutex::new(None),
            held: AtomicBool::new(false),
            presence: AtomicU8::new(Presence::Unknown as u8),
        });
        if matches!(inner.conn.source(), Source::Manifests(_)) {
            *lock(&state.guard) = Some(self.watch::<T>(selectors, sub));
            state.set(Presence::Served);
            return OptionalGuard { state, task: None };
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            tracing::error!(
                "kubernetes {}: watch of {} requested outside the runtime; not started",
                inner.name,
                T::KIND_NAME
            );
            return OptionalGuard { state, task: None };
        };
        inner.hold_unsynced();
        state.held.store(true, Ordering::Release);
        let task = rt.spawn(run::<T>(state.clone(), selectors, sub));
        OptionalGuard {
            state,
            task: Some(task.abort_handle()),
        }
    }
}

/// What one probe found.
enum Found {
    Served,
    Absent(u16),
    Failed(String),
}

async fn probe<T: Watchable>(cluster: &Arc<ClusterInner>) -> Found {
    let client = match cluster.client().await {
        Ok(c) => c,
        Err(e) => return Found::Failed(e),
    };
    let path = format!(
        "{}?limit=1",
        collection_path(T::GROUP, T::VERSION, T::PLURAL)
    );
    let req = match http::Request::get(path).extension(Probe).body(Vec::new()) {
        Ok(r) => r,
        Err(e) => return Found::Failed(e.to_string()),
    };
    match client.send(req.map(kube::client::Body::from)).await {
        Ok(resp) => match resp.status().as_u16() {
            200..=299 => Found::Served,
            code @ (403 | 404) => Found::Absent(code),
            code => Found::Failed(format!("HTTP {code}")),
        },
        Err(e) => Found::Failed(crate::connection::chain(&e)),
    }
}

async fn run<T: Watchable>(state: Arc<State>, selectors: Selectors, sub: Arc<dyn Subscriber<T>>) {
    let cluster = state.cluster.clone();
    let what = format!(
        "{} ({}/{} {})",
        T::KIND_NAME,
        if T::GROUP.is_empty() {
            "core"
        } else {
            T::GROUP
        },
        T::VERSION,
        T::PLURAL
    );
    let every = recheck();
    let mut delay = RETRY_MIN;
    // What the last answered probe said (None before the first).
    let mut served: Option<bool> = None;
    loop {
        match probe::<T>(&cluster).await {
            Found::Served => {
                delay = RETRY_MIN;
                if served != Some(true) {
                    if served == Some(false) {
                        tracing::info!(
                            "kubernetes {}: {what} is served now; watching it",
                            cluster.name
                        );
                    }
                    let guard = Cluster::from_inner(cluster.clone())
                        .watch::<T>(selectors.clone(), sub.clone());
                    *lock(&state.guard) = Some(guard);
                    state.set(Presence::Served);
                    served = Some(true);
                    // The ordinary watch now holds the cluster unsynced until its first list.
                    state.release();
                }
            }
            Found::Absent(code) => {
                delay = RETRY_MIN;
                if served != Some(false) {
                    let why = if code == 403 {
                        "forbidden (HTTP 403: RBAC does not allow listing it)"
                    } else {
                        "not served (HTTP 404: the CRD is not installed)"
                    };
                    let was = if served == Some(true) {
                        "no longer served: dropping its objects; "
                    } else {
                        ""
                    };
                    tracing::info!(
                        "kubernetes {}: {what} is {why}; {was}serving none and checking \
                         again every {}s",
                        cluster.name,
                        every.as_secs_f64()
                    );
                    // Unsubscribe first, so no event of the old watch follows the reset.
                    lock(&state.guard).take();
                    sub.on_event(&Event::Reset(Vec::new().into()));
                    served = Some(false);
                    state.set(Presence::Absent);
                    state.release();
                }
            }
            Found::Failed(why) => {
                tracing::debug!(
                    "kubernetes {}: probing {what} failed: {why}; retrying",
                    cluster.name
                );
                if served.is_none() {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(RETRY_MAX);
                    continue;
                }
            }
        }
        tokio::time::sleep(every).await;
    }
}
