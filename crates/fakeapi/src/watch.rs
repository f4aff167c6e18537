//! One watch stream: replayed or synthetic initial events, then live events, filtered by
//! namespace and selectors, with optional bookmarks and a timeout, written as
//! newline-delimited `{"type":..,"object":..}` chunks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use crate::resources::ResourceType;
use crate::selectors::Selectors;
use crate::status::ApiError;
use crate::store::{Event, EventKind, Store, WatchStart};

/// How one watch request filters and paces its stream.
pub(crate) struct WatchParams {
    pub(crate) rt: &'static ResourceType,
    pub(crate) namespace: Option<String>,
    pub(crate) selectors: Selectors,
    /// `allowWatchBookmarks=true` and the server has a bookmark interval.
    pub(crate) bookmark_every: Option<Duration>,
    /// `sendInitialEvents=true`: end the initial ADDED events with an annotated BOOKMARK.
    pub(crate) initial_events_end: bool,
    /// `timeoutSeconds`.
    pub(crate) timeout: Option<Duration>,
}

impl WatchParams {
    fn in_scope(&self, obj: &Value) -> bool {
        let ns_ok = match &self.namespace {
            Some(ns) => {
                obj.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns.as_str())
            }
            None => true,
        };
        ns_ok && self.selectors.matches(obj)
    }

    /// The event as this watch sees it: an object that starts matching is ADDED, one that stops
    /// matching is DELETED (its last matching state, with the new resourceVersion).
    fn render(&self, ev: &Event) -> Option<Bytes> {
        match ev.kind {
            EventKind::Added => self.in_scope(&ev.obj).then(|| line("ADDED", &ev.obj)),
            EventKind::Deleted => {
                let was = ev.old.as_deref().unwrap_or(&ev.obj);
                self.in_scope(was).then(|| line("DELETED", &ev.obj))
            }
            EventKind::Modified => {
                let now = self.in_scope(&ev.obj);
                let before = ev.old.as_deref().is_some_and(|o| self.in_scope(o));
                match (before, now) {
                    (true, true) => Some(line("MODIFIED", &ev.obj)),
                    (false, true) => Some(line("ADDED", &ev.obj)),
                    (true, false) => {
                        let mut last = ev.old.as_deref().cloned().unwrap_or_default();
                        last["metadata"]["resourceVersion"] = json!(ev.rv.to_string());
                        Some(line("DELETED", &last))
                    }
                    (false, false) => None,
                }
            }
        }
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut obj = json!({
            "kind": self.rt.kind,
            "apiVersion": self.rt.api_version(),
            "metadata": {"resourceVersion": rv.to_string(), "creationTimestamp": null},
        });
        if initial_end {
            obj["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        line("BOOKMARK", &obj)
    }
}

/// One newline-terminated watch event.
pub(crate) fn line(kind: &str, obj: &Value) -> Bytes {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    // Serializing a Value cannot fail.
    let _ = serde_json::to_writer(&mut out, obj);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

/// The single ERROR event a watch gets when it cannot start (e.g. 410 Expired).
pub(crate) fn error_line(err: &ApiError) -> Bytes {
    line("ERROR", &err.to_json())
}

/// Run the stream until the client goes away, the timeout passes, or the store drops the
/// watch (`drop_watches`, `down`).
pub(crate) async fn run(
    store: Arc<Mutex<Store>>,
    start: WatchStart,
    p: WatchParams,
    tx: mpsc::Sender<Bytes>,
) {
    let WatchStart {
        initial,
        rv: start_rv,
        mut live,
    } = start;
    let deadline = p.timeout.map(|t| Instant::now() + t);
    for ev in &initial {
        if let Some(b) = p.render(ev) {
            if tx.send(b).await.is_err() {
                return;
            }
        }
    }
    if p.initial_events_end && tx.send(p.bookmark(start_rv, true)).await.is_err() {
        return;
    }
    let mut ticker = p.bookmark_every.map(|d| {
        let mut t = tokio::time::interval_at(Instant::now() + d, d);
        t.set_missed_tick_behavior(MissedTickBehavior::Delay);
        t
    });
    loop {
        tokio::select! {
            ev = live.recv() => match ev {
                Some(ev) => {
                    if let Some(b) = p.render(&ev) {
                        if tx.send(b).await.is_err() {
                            return;
                        }
                    }
                }
                None => return,
            },
            _ = async { ticker.as_mut().expect("guarded").tick().await }, if ticker.is_some() => {
                // Read the store's version and drain what was already sent to us under the same
                // lock, so the bookmark never claims a version whose events are still queued.
                let (rv, pending) = {
                    let s = store.lock().unwrap_or_else(|e| e.into_inner());
                    let mut pending = Vec::new();
                    while let Ok(ev) = live.try_recv() {
                        pending.push(ev);
                    }
                    (s.rv(), pending)
                };
                for ev in pending {
                    if let Some(b) = p.render(&ev) {
                        if tx.send(b).await.is_err() {
                            return;
                        }
                    }
                }
                if tx.send(p.bookmark(rv, false)).await.is_err() {
                    return;
                }
            }
            _ = async { tokio::time::sleep_until(deadline.expect("guarded")).await }, if deadline.is_some() => return,
            _ = tx.closed() => return,
        }
    }
}
