//! Shared Kubernetes watches: one list/watch per (cluster, kind, selectors), whoever needs it.
//!
//! ```text
//!  Corefile: endpoint / tls / kubeconfig / manifests ──▶ Connection ──registry()──▶ Cluster
//!                                                                                     │
//!  plugin on_startup: cluster.watch::<Service>(selectors, subscriber) ──▶ WatchGuard  │
//!                                                                                     ▼
//!        API server ──kube watcher──▶ slim objects ──▶ Hub (current set) ──▶ every subscriber
//!        or files   ──poll 1 s─────┘                    Reset / Apply / Delete, in order
//! ```
//!
//! * **Sharing.** The [`registry`] keeps one [`Cluster`] per distinct [`Connection`] and one
//!   watch per (kind, [`Selectors`]) on it. A second subscriber shares the watch and gets a
//!   `Reset` of the current set at once. The last [`WatchGuard`] dropped stops the watch.
//! * **Slim on arrival.** Objects are reduced to the `signpost-k8s-model` types while they
//!   are parsed ([`Watchable`]) and kept packed ([`packed`]). A subscriber gets model
//!   objects ([`Cluster::watch`]), or the packed objects themselves, shared with the watch
//!   ([`Cluster::watch_packed`]), when it would otherwise keep a copy.
//! * **Faults.** An unreachable or failing API server, a dropped watch, `410 Gone`: kube's
//!   watcher relists or retries with backoff (0.8 s doubling to 30 s). A relist arrives as
//!   one `Reset` of the complete new set; an error never empties the set, so the last good
//!   data keeps serving. The cluster logs when it goes from working to failing and back,
//!   not on every retry.
//! * **Offline.** A `manifests` connection reads objects from YAML/JSON files (what
//!   `kubectl get -o yaml` prints) and follows them for changes; no API server needed.
//! * **Readiness.** [`Cluster::is_synced`] once every watch on it has delivered its first
//!   complete list.
//! * **Optional kinds.** [`Cluster::watch_optional`] watches a kind the cluster may not
//!   serve (a CRD not installed, RBAC forbidding it): missing counts as synced and empty,
//!   and it is probed again periodically so a CRD installed later is picked up.

mod api_source;
mod cluster;
mod connection;
mod convert;
mod convert_gateway;
mod hub;
mod manifests;
mod metrics;
mod optional;
pub mod packed;
pub use packed::Packed;
pub mod selector;
mod wire;

pub use cluster::{registry, Cluster, Registry, WatchGuard};
pub use connection::{BlockDefault, Connection};
pub use convert::Watchable;
pub use optional::{OptionalGuard, Presence, RECHECK, RECHECK_ENV};
pub use selector::Selectors;
