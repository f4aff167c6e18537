use super::*;
use crate::manifests::tests::temp_dir;
use signpost_k8s_model::{Event, Namespace, Pod, Service};
use std::path::Path;
use std::time::Instant;

/// Records events as text: `reset a,b`, `apply ns/a`, `delete ns/a`.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
}

impl<T: Watchable> Subscriber<T> for Recorder {
    fn on_event(&self, event: &Event<T>) {
        let name = |o: &Arc<T>| format!("{}/{}", o.key().namespace, o.key().name);
        let text = match event {
            Event::Reset(all) => {
                let names: Vec<String> = all.to_vec().iter().map(name).collect();
                format!("reset {}", names.join(","))
            }
            Event::Apply(o) => format!("apply {}", name(o)),
            Event::Delete(o) => format!("delete {}", name(o)),
        };
        lock(&self.events).push(text);
    }
}

impl Recorder {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.events))
    }

    /// Waits (up to 5 s) for at least one event and returns all so far.
    async fn next(&self) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let got = self.take();
            if !got.is_empty() || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn services(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| {
            format!("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {n}\n  namespace: ns\n")
        })
        .collect()
}

/// Writes `text` so that the change is seen even within one mtime tick (new inode).
fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn manifests_cluster(dir: &Path) -> Cluster {
    registry().cluster(&Connection {
        manifests: vec![dir.to_path_buf()],
        ..Default::default()
    })
}

#[tokio::test]
async fn same_connection_same_cluster() {
    let dir = temp_dir("same");
    let conn = Connection {
        manifests: vec![dir.clone()],
        ..Default::default()
    };
    let a = registry().cluster(&conn);
    let b = registry().cluster(&conn.clone());
    assert!(Arc::ptr_eq(&a.inner, &b.inner));
    let other = registry().cluster(&Connection {
        manifests: vec![dir.join("x")],
        ..Default::default()
    });
    assert!(!Arc::ptr_eq(&a.inner, &other.inner));
    assert_eq!(a.name(), format!("manifests:{}", dir.display()));
}

#[tokio::test]
async fn subscribers_share_one_watch_per_kind_and_selectors() {
    let dir = temp_dir("share");
    let c = manifests_cluster(&dir);
    let r: Arc<Recorder> = Arc::default();
    let g1 = c.watch::<Service>(Selectors::default(), r.clone());
    let g2 = c.watch::<Service>(Selectors::default(), r.clone());
    assert_eq!(c.watch_count(), 1);
    let labelled = Selectors {
        labels: Some("app=web".into()),
        fields: None,
    };
    let g3 = c.watch::<Service>(labelled.clone(), r.clone());
    let g4 = c.watch::<Service>(labelled, r.clone());
    assert_eq!(c.watch_count(), 2);
    let g5 = c.watch::<Pod>(Selectors::default(), r.clone());
    assert_eq!(c.watch_count(), 3);
    drop(g1);
    assert_eq!(
        c.watch_count(),
        3,
        "one subscriber left on the shared watch"
    );
    drop(g2);
    assert_eq!(c.watch_count(), 2, "last subscriber gone: watch stopped");
    drop((g3, g4, g5));
    assert_eq!(c.watch_count(), 0);
}

#[tokio::test]
async fn late_subscriber_gets_current_set_then_changes() {
    let dir = temp_dir("late");
    let file = dir.join("svc.yaml");
    write(&file, &services(&["a"]));
    let c = manifests_cluster(&dir);
    let first: Arc<Recorder> = Arc::default();
    let _g1 = c.watch::<Service>(Selectors::default(), first.clone());
    assert!(c.wait_synced(Duration::from_secs(5)).await);
    assert_eq!(first.take(), vec!["reset ns/a"]);
    assert!(c.is_connected());

    // Shares the running watch: the current set arrives during `watch` itself.
    let second: Arc<Recorder> = Arc::default();
    let _g2 = c.watch::<Service>(Selectors::default(), second.clone());
    assert_eq!(second.take(), vec!["reset ns/a"]);
    assert_eq!(c.watch_count(), 1);

    write(&file, &services(&["a", "b"]));
    assert_eq!(first.next().await, vec!["reset ns/a,ns/b"]);
    assert_eq!(second.next().await, vec!["reset ns/a,ns/b"]);
}

#[tokio::test]
async fn broken_files_keep_the_last_good_set() {
    let dir = temp_dir("broken");
    let file = dir.join("svc.yaml");
    write(&file, &services(&["a", "b"]));
    let c = manifests_cluster(&dir);
    let r: Arc<Recorder> = Arc::default();
    let _g = c.watch::<Service>(Selectors::default(), r.clone());
    assert_eq!(r.next().await, vec!["reset ns/a,ns/b"]);

    write(&file, "apiVersion: v1\nkind: [Service\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    while c.is_connected() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!c.is_connected(), "a broken file marks the source failing");
    assert!(c.is_synced(), "still synced: the last good data serves");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(r.take().is_empty(), "no empty Reset because of an error");

    write(&file, &services(&["c"]));
    assert_eq!(r.next().await, vec!["reset ns/c"]);
    assert!(c.is_connected());

    // Removing every object is a real change: an empty Reset.
    std::fs::remove_file(&file).unwrap();
    assert_eq!(r.next().await, vec!["reset "]);
}

#[tokio::test]
async fn sync_waits_for_every_watch() {
    let dir = temp_dir("sync");
    let missing = dir.join("later.yaml");
    let c = registry().cluster(&Connection {
        manifests: vec![missing.clone()],
        ..Default::default()
    });
    assert!(c.is_synced(), "no watch: nothing to wait for");
    let r: Arc<Recorder> = Arc::default();
    let _svc = c.watch::<Service>(Selectors::default(), r.clone());
    let _ns = c.watch::<Namespace>(Selectors::default(), r.clone());
    assert!(!c.wait_synced(Duration::from_millis(300)).await);
    assert!(!c.is_connected());
    write(
        &missing,
        &format!(
            "{}---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n",
            services(&["a"])
        ),
    );
    assert!(c.wait_synced(Duration::from_secs(5)).await);
    assert!(c.is_connected());
    let mut got = r.take();
    got.sort();
    assert_eq!(got, vec!["reset /ns", "reset ns/a"]);
}

#[tokio::test]
async fn dropping_the_unsynced_watch_makes_the_cluster_synced() {
    let dir = temp_dir("dropsync");
    let c = registry().cluster(&Connection {
        manifests: vec![dir.join("nothing-here")],
        ..Default::default()
    });
    let r: Arc<Recorder> = Arc::default();
    let g = c.watch::<Service>(Selectors::default(), r);
    assert!(!c.is_synced());
    let waiter = {
        let c = c.clone();
        tokio::spawn(async move { c.wait_synced(Duration::from_secs(5)).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(g);
    assert!(waiter.await.unwrap());
}

#[tokio::test]
async fn callbacks_may_ask_the_cluster_and_metrics_follow() {
    let dir = temp_dir("callback");
    write(&dir.join("svc.yaml"), &services(&["a", "b"]));
    let c = manifests_cluster(&dir);
    let asked: Arc<Mutex<Vec<(bool, bool)>>> = Arc::default();
    let sub = {
        let (c, asked) = (c.clone(), asked.clone());
        move |_: &Event<Service>| lock(&asked).push((c.is_synced(), c.is_connected()))
    };
    let _g1 = c.watch::<Service>(Selectors::default(), Arc::new(sub.clone()));
    assert!(c.wait_synced(Duration::from_secs(5)).await);
    // The late subscriber's Reset is delivered inside `watch`.
    let _g2 = c.watch::<Service>(Selectors::default(), Arc::new(sub));
    assert_eq!(lock(&asked).len(), 2);
    assert_eq!(lock(&asked)[1], (true, true));

    let text = signpost_metrics::registry().render();
    let labels = format!("{{cluster=\"{}\",kind=\"Service\"}}", c.name());
    assert!(
        text.contains(&format!("signpost_kube_watch_state{labels} 1\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("signpost_kube_objects{labels} 2\n")),
        "{text}"
    );
    drop((_g1, _g2));
    let text = signpost_metrics::registry().render();
    assert!(!text.contains(&format!("signpost_kube_watch_state{labels}")));
}

#[test]
fn outside_a_runtime_nothing_starts_and_nothing_panics() {
    let dir = temp_dir("nort");
    let c = manifests_cluster(&dir);
    let r: Arc<Recorder> = Arc::default();
    let g = c.watch::<Service>(Selectors::default(), r);
    assert_eq!(c.watch_count(), 1);
    assert!(!c.is_synced());
    drop(g);
    assert_eq!(c.watch_count(), 0);
}

mod hub {
    use super::*;
    use crate::hub::{Hub, Pending};
    use crate::metrics::KindMetrics;
    use serde_json::json;

    fn svc(name: &str, ip: &str) -> serde_json::Value {
        json!({"metadata": {"name": name, "namespace": "ns"}, "spec": {"clusterIP": ip}})
    }

    fn hub() -> Hub<Service> {
        Hub::new(
            "test".into(),
            Selectors::default(),
            Arc::new(KindMetrics::new("hub-test", "Service")),
        )
    }

    #[test]
    fn events_in_order_and_unchanged_objects_not_redelivered() {
        let h = hub();
        let r: Arc<Recorder> = Arc::default();
        h.subscribe(1, r.clone());
        assert!(r.take().is_empty(), "not synced: no Reset yet");
        let mut p = Pending::default();
        p.add(&svc("b", "10.0.0.2"));
        p.add(&svc("a", "10.0.0.1"));
        assert!(h.reset(p), "first reset syncs");
        assert!(!h.reset({
            let mut p = Pending::default();
            p.add(&svc("b", "10.0.0.2"));
            p.add(&svc("a", "10.0.0.1"));
            p
        }));
        h.apply(&svc("c", "10.0.0.3"));
        // Same slim content (only ignored fields differ): not delivered.
        let mut same = svc("c", "10.0.0.3");
        same["status"] = json!({"conditions": []});
        h.apply(&same);
        h.apply(&svc("c", "10.0.0.4"));
        h.delete(&svc("a", ""));
        h.delete(&svc("zz", ""));
        assert_eq!(
            r.take(),
            vec![
                "reset ns/a,ns/b",
                "reset ns/a,ns/b",
                "apply ns/c",
                "apply ns/c",
                "delete ns/a"
            ]
        );
        assert_eq!(h.len(), 2);
        assert_eq!(h.unsubscribe(1), 0);
    }

    /// Records packed events, and the bytes of the last object delivered.
    #[derive(Default)]
    struct PackedRecorder {
        events: Mutex<Vec<String>>,
        last: Mutex<Option<crate::packed::SharedBytes>>,
    }

    impl Subscriber<Packed<Service>> for PackedRecorder {
        fn on_event(&self, event: &Event<Packed<Service>>) {
            let name = |o: &Packed<Service>| {
                *lock(&self.last) = Some(o.bytes().clone());
                let (ns, name) = o.key_texts();
                format!("{ns}/{name}")
            };
            let text = match event {
                Event::Reset(all) => {
                    let names: Vec<String> = all.to_vec().iter().map(|o| name(o)).collect();
                    format!("reset {}", names.join(","))
                }
                Event::Apply(o) => format!("apply {}", name(o)),
                Event::Delete(o) => format!("delete {}", name(o)),
            };
            lock(&self.events).push(text);
        }
    }

    #[test]
    fn packed_subscribers_share_the_hubs_bytes() {
        let h = hub();
        let model: Arc<Recorder> = Arc::default();
        let packed: Arc<PackedRecorder> = Arc::default();
        h.subscribe(1, model.clone());
        h.subscribe_packed(2, packed.clone());
        let mut p = Pending::default();
        p.add(&svc("b", "10.0.0.2"));
        p.add(&svc("a", "10.0.0.1"));
        h.reset(p);
        h.apply(&svc("c", "10.0.0.3"));
        let bytes = lock(&packed.last).clone().unwrap();
        let unpacked = Packed::<Service>::from_bytes(bytes.clone())
            .unpack()
            .unwrap();
        assert_eq!(&*unpacked.cluster_ips[0], "10.0.0.3");
        // The subscriber holds the hub's allocation, not a copy.
        assert!(bytes.holders() >= 3, "hub, recorder and this test");
        h.delete(&svc("a", ""));
        let late: Arc<PackedRecorder> = Arc::default();
        h.subscribe_packed(3, late.clone());
        let want = ["reset ns/a,ns/b", "apply ns/c", "delete ns/a"];
        assert_eq!(model.take(), want);
        assert_eq!(lock(&packed.events).clone(), want);
        assert_eq!(lock(&late.events).clone(), ["reset ns/b,ns/c"]);
        assert_eq!(h.unsubscribe(2), 2);
        assert_eq!(h.unsubscribe(1), 1);
    }

    #[test]
    fn a_broken_update_removes_the_object_and_counts() {
        let h = hub();
        let r: Arc<Recorder> = Arc::default();
        h.subscribe(1, r.clone());
        let mut p = Pending::default();
        p.add(&svc("a", "10.0.0.1"));
        p.add(&json!({"metadata": {"namespace": "ns"}}));
        let skipped = h.metrics.skipped.get();
        h.reset(p);
        assert_eq!(h.metrics.skipped.get(), skipped + 1);
        let broken = json!({"metadata": {"name": "a", "namespace": "ns"}, "spec": {"ports": 5}});
        h.apply(&broken);
        h.apply(&broken);
        assert_eq!(h.metrics.skipped.get(), skipped + 3);
        assert_eq!(r.take(), vec!["reset ns/a", "delete ns/a"]);
        h.apply(&svc("a", "10.0.0.1"));
        assert_eq!(r.take(), vec!["apply ns/a"]);
    }
}
