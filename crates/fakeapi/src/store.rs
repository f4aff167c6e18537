//! The object store: current objects per resource type, the global resourceVersion counter,
//! the event history watches replay from, and the open watches to notify.
//!
//! Everything sits behind one mutex so a watch can register and read the history atomically:
//! no event is lost or repeated between the replay and the live stream.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::resources::{ResourceType, RESOURCES};
use crate::status::ApiError;

/// (namespace, name); namespace is "" for cluster-scoped objects. Sorts like etcd keys.
pub(crate) type Key = (String, String);

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    Added,
    Modified,
    Deleted,
}

/// One change, as kept in the history and sent to watches.
#[derive(Debug)]
pub(crate) struct Event {
    pub(crate) rv: u64,
    /// Index into [`RESOURCES`].
    pub(crate) rt: usize,
    pub(crate) kind: EventKind,
    /// The object after the change (for Deleted: the object as it was, with the delete's rv).
    pub(crate) obj: Arc<Value>,
    /// The object before the change (None for Added).
    pub(crate) old: Option<Arc<Value>>,
}

impl Event {
    fn key(&self) -> Key {
        key_of(&self.obj)
    }
}

/// A page of a list at a fixed resourceVersion.
#[derive(Debug)]
pub(crate) struct ListPage {
    /// The resourceVersion the list is consistent at.
    pub(crate) rv: u64,
    pub(crate) items: Vec<Arc<Value>>,
    /// The key of the last item returned when more matching items remain.
    pub(crate) next: Option<Key>,
}

/// What a new watch starts with.
pub(crate) struct WatchStart {
    /// Events to send first (replayed history, or synthetic ADDED for current objects).
    pub(crate) initial: Vec<Arc<Event>>,
    /// The store's resourceVersion when the watch registered.
    pub(crate) rv: u64,
    pub(crate) live: UnboundedReceiver<Arc<Event>>,
}

struct Watcher {
    rt: usize,
    tx: UnboundedSender<Arc<Event>>,
}

/// The state of the fake cluster.
pub(crate) struct Store {
    rv: u64,
    /// Watches and exact lists at a resourceVersion below this get 410 Gone.
    floor: u64,
    objects: Vec<BTreeMap<Key, Arc<Value>>>,
    history: VecDeque<Arc<Event>>,
    watchers: Vec<Watcher>,
    uid_seed: u32,
    uids: u64,
}

pub(crate) fn key_of(obj: &Value) -> Key {
    let s = |p: &str| {
        obj.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    (s("/metadata/namespace"), s("/metadata/name"))
}

pub(crate) fn rt_index(rt: &ResourceType) -> usize {
    RESOURCES
        .iter()
        .position(|r| r == rt)
        .expect("resource type from the table")
}

/// RFC 3339 UTC time, seconds precision, as in `creationTimestamp`.
pub(crate) fn timestamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Everything but metadata and status: a change here bumps `metadata.generation`.
fn spec_part(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    v
}

impl Default for Store {
    fn default() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        Store {
            rv: 0,
            floor: 0,
            objects: vec![BTreeMap::new(); RESOURCES.len()],
            history: VecDeque::new(),
            watchers: Vec::new(),
            uid_seed: nanos ^ std::process::id().rotate_left(16),
            uids: 0,
        }
    }
}

impl Store {
    /// The current (latest) resourceVersion.
    pub(crate) fn rv(&self) -> u64 {
        self.rv
    }

    pub(crate) fn get(&self, rt: &ResourceType, key: &Key) -> Option<Arc<Value>> {
        self.objects[rt_index(rt)].get(key).cloned()
    }

    /// Fill in server-set fields and record the change. `old` is the current object at `key`.
    fn commit(
        &mut self,
        rt: &ResourceType,
        key: Key,
        mut obj: Value,
        old: Option<Arc<Value>>,
    ) -> Arc<Value> {
        self.rv += 1;
        let rv = self.rv;
        if !obj.is_object() {
            obj = json!({});
        }
        obj["apiVersion"] = json!(rt.api_version());
        obj["kind"] = json!(rt.kind);
        if !obj.get("metadata").is_some_and(Value::is_object) {
            obj["metadata"] = json!({});
        }
        let generation = match &old {
            None => 1,
            Some(o) => {
                let g = o
                    .pointer("/metadata/generation")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                if spec_part(o) != spec_part(&obj) {
                    g + 1
                } else {
                    g
                }
            }
        };
        let (uid, created) = match &old {
            Some(o) => (
                o["metadata"]["uid"].clone(),
                o["metadata"]["creationTimestamp"].clone(),
            ),
            None => {
                self.uids += 1;
                let uid = format!("{:08x}-fa4e-4000-8000-{:012x}", self.uid_seed, self.uids);
                (json!(uid), json!(timestamp(SystemTime::now())))
            }
        };
        let meta = &mut obj["metadata"];
        meta["name"] = json!(key.1);
        if rt.namespaced {
            meta["namespace"] = json!(key.0);
        } else if let Some(m) = meta.as_object_mut() {
            m.remove("namespace");
        }
        meta["uid"] = uid;
        meta["creationTimestamp"] = created;
        meta["generation"] = json!(generation);
        meta["resourceVersion"] = json!(rv.to_string());
        let obj = Arc::new(obj);
        let kind = if old.is_some() {
            EventKind::Modified
        } else {
            EventKind::Added
        };
        self.objects[rt_index(rt)].insert(key, obj.clone());
        self.emit(Event {
            rv,
            rt: rt_index(rt),
            kind,
            obj: obj.clone(),
            old,
        });
        obj
    }

    fn emit(&mut self, ev: Event) {
        let ev = Arc::new(ev);
        self.history.push_back(ev.clone());
        self.watchers
            .retain(|w| w.rt != ev.rt || w.tx.send(ev.clone()).is_ok());
        // Prune watchers of other types whose stream has ended.
        self.watchers.retain(|w| !w.tx.is_closed());
    }

    /// Create; 409 AlreadyExists if present.
    pub(crate) fn create(
        &mut self,
        rt: &ResourceType,
        key: Key,
        obj: Value,
    ) -> Result<Arc<Value>, ApiError> {
        if self.objects[rt_index(rt)].contains_key(&key) {
            return Err(ApiError::new(
                409,
                "AlreadyExists",
                format!("{} \"{}\" already exists", rt.qualified(), key.1),
            )
            .with_details(&key.1, rt.group, rt.plural));
        }
        Ok(self.commit(rt, key, obj, None))
    }

    /// Replace an existing object; 404 if absent, 409 Conflict if the body carries a stale
    /// resourceVersion.
    pub(crate) fn replace(
        &mut self,
        rt: &ResourceType,
        key: Key,
        obj: Value,
    ) -> Result<Arc<Value>, ApiError> {
        let Some(old) = self.get(rt, &key) else {
            return Err(not_found(rt, &key.1));
        };
        if let Some(want) = obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
        {
            let have = old["metadata"]["resourceVersion"].as_str().unwrap_or("");
            if !want.is_empty() && want != have {
                return Err(ApiError::new(
                    409,
                    "Conflict",
                    format!(
                        "Operation cannot be fulfilled on {} \"{}\": the object has been modified; please apply your changes to the latest version and try again",
                        rt.qualified(),
                        key.1
                    ),
                )
                .with_details(&key.1, rt.group, rt.plural));
            }
        }
        Ok(self.commit(rt, key, obj, Some(old)))
    }

    /// Create or replace without preconditions (the test-side `apply`).
    pub(crate) fn upsert(&mut self, rt: &ResourceType, key: Key, obj: Value) -> Arc<Value> {
        let old = self.get(rt, &key);
        self.commit(rt, key, obj, old)
    }

    /// Remove; returns the object as deleted (with the delete's resourceVersion).
    pub(crate) fn delete(&mut self, rt: &ResourceType, key: &Key) -> Option<Arc<Value>> {
        let old = self.objects[rt_index(rt)].remove(key)?;
        self.rv += 1;
        let mut gone = (*old).clone();
        gone["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let gone = Arc::new(gone);
        self.emit(Event {
            rv: self.rv,
            rt: rt_index(rt),
            kind: EventKind::Deleted,
            obj: gone.clone(),
            old: Some(old),
        });
        Some(gone)
    }

    /// Forget the history: watches and exact lists from an older resourceVersion get 410.
    pub(crate) fn compact(&mut self) {
        self.history.clear();
        self.floor = self.rv;
    }

    /// Close every open watch stream.
    pub(crate) fn drop_watchers(&mut self) {
        self.watchers.clear();
    }

    /// Number of registered watches (closed ones are pruned on the next change).
    pub(crate) fn watcher_count(&self) -> usize {
        self.watchers.iter().filter(|w| !w.tx.is_closed()).count()
    }

    fn too_old(&self, at: u64) -> bool {
        at < self.floor
    }

    /// One page of objects of `rt` as they were at `at` (None = now), in key order, after
    /// `after`, in namespace `ns` if given, that satisfy `pred`; at most `limit` items.
    pub(crate) fn list(
        &self,
        rt: &ResourceType,
        at: Option<u64>,
        ns: Option<&str>,
        after: Option<&Key>,
        limit: Option<usize>,
        pred: &dyn Fn(&Value) -> bool,
    ) -> Result<ListPage, ApiError> {
        let idx = rt_index(rt);
        let at = at.unwrap_or(self.rv).min(self.rv);
        if self.too_old(at) {
            return Err(ApiError::expired(
                "The resourceVersion for the provided list is too old.",
            ));
        }
        let reconstructed;
        let map = if at == self.rv {
            &self.objects[idx]
        } else {
            // Undo the changes made after `at`, newest first.
            let mut m = self.objects[idx].clone();
            for ev in self.history.iter().rev().take_while(|e| e.rv > at) {
                if ev.rt != idx {
                    continue;
                }
                match (ev.kind, &ev.old) {
                    (EventKind::Added, _) | (_, None) => {
                        m.remove(&ev.key());
                    }
                    (_, Some(old)) => {
                        m.insert(ev.key(), old.clone());
                    }
                }
            }
            reconstructed = m;
            &reconstructed
        };
        let limit = limit.unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let mut next = None;
        let range = match after {
            Some(k) => {
                map.range::<Key, _>((std::ops::Bound::Excluded(k), std::ops::Bound::Unbounded))
            }
            None => map.range::<Key, _>(..),
        };
        for (key, obj) in range {
            if ns.is_some_and(|ns| ns != key.0) || !pred(obj) {
                continue;
            }
            if items.len() == limit {
                next = items.last().map(|o: &Arc<Value>| key_of(o));
                break;
            }
            items.push(obj.clone());
        }
        Ok(ListPage {
            rv: at,
            items,
            next,
        })
    }

    /// Register a watch on `rt`. `from` = Some(N) replays the events after N (410 if compacted
    /// away); None starts with a synthetic ADDED per current object.
    pub(crate) fn watch(
        &mut self,
        rt: &ResourceType,
        from: Option<u64>,
    ) -> Result<WatchStart, ApiError> {
        let idx = rt_index(rt);
        let initial = match from {
            Some(n) => {
                if self.too_old(n) {
                    return Err(ApiError::expired(format!(
                        "too old resource version: {n} ({})",
                        self.floor
                    )));
                }
                self.history
                    .iter()
                    .filter(|e| e.rt == idx && e.rv > n)
                    .cloned()
                    .collect()
            }
            None => self.objects[idx]
                .values()
                .map(|o| {
                    let rv = o["metadata"]["resourceVersion"]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    Arc::new(Event {
                        rv,
                        rt: idx,
                        kind: EventKind::Added,
                        obj: o.clone(),
                        old: None,
                    })
                })
                .collect(),
        };
        let (tx, live) = unbounded_channel();
        self.watchers.push(Watcher { rt: idx, tx });
        Ok(WatchStart {
            initial,
            rv: self.rv,
            live,
        })
    }
}

pub(crate) fn not_found(rt: &ResourceType, name: &str) -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        format!("{} \"{}\" not found", rt.qualified(), name),
    )
    .with_details(name, rt.group, rt.plural)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::by_kind;

    fn svc(ns: &str, name: &str, ip: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": {"clusterIP": ip}})
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_709_251_199); // leap year end of Feb
        assert_eq!(timestamp(t), "2024-02-29T23:59:59Z");
    }

    #[test]
    fn list_at_past_version_undoes_later_changes() {
        let rt = by_kind("v1", "Service").unwrap();
        let mut s = Store::default();
        s.upsert(rt, ("a".into(), "x".into()), svc("a", "x", "10.0.0.1"));
        s.upsert(rt, ("a".into(), "y".into()), svc("a", "y", "10.0.0.2"));
        let at = s.rv();
        s.upsert(rt, ("a".into(), "x".into()), svc("a", "x", "10.0.0.9"));
        s.delete(rt, &("a".into(), "y".into()));
        s.upsert(rt, ("a".into(), "z".into()), svc("a", "z", "10.0.0.3"));
        let page = s.list(rt, Some(at), None, None, None, &|_| true).unwrap();
        let ips: Vec<_> = page
            .items
            .iter()
            .map(|o| o["spec"]["clusterIP"].as_str().unwrap())
            .collect();
        assert_eq!(ips, ["10.0.0.1", "10.0.0.2"]);
        let now = s.list(rt, None, None, None, None, &|_| true).unwrap();
        let ips: Vec<_> = now
            .items
            .iter()
            .map(|o| o["spec"]["clusterIP"].as_str().unwrap())
            .collect();
        assert_eq!(ips, ["10.0.0.9", "10.0.0.3"]);
        s.compact();
        assert_eq!(
            s.list(rt, Some(at), None, None, None, &|_| true)
                .unwrap_err()
                .code,
            410
        );
    }

    #[test]
    fn generation_and_uid() {
        let rt = by_kind("v1", "Service").unwrap();
        let mut s = Store::default();
        let k: Key = ("a".into(), "x".into());
        let a = s.upsert(rt, k.clone(), svc("a", "x", "1"));
        let mut labelled = svc("a", "x", "1");
        labelled["metadata"]["labels"] = json!({"l": "v"});
        let b = s.upsert(rt, k.clone(), labelled);
        let c = s.upsert(rt, k, svc("a", "x", "2"));
        assert_eq!(a["metadata"]["uid"], c["metadata"]["uid"]);
        assert_eq!(a["metadata"]["generation"], 1);
        assert_eq!(b["metadata"]["generation"], 1);
        assert_eq!(c["metadata"]["generation"], 2);
        assert_eq!(c["metadata"]["resourceVersion"], "3");
    }
}
