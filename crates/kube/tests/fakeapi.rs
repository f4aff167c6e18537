//! The watch layer against a fake API server: sharing (counted in requests), events, the
//! three ways to connect, and faults (dropped watches, 5xx, 410, server down) during which
//! the data stays and after which it recovers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use signpost_fakeapi::{lists_and_watches, FakeApi, Options};
use signpost_k8s_model::{EndpointSlice, Event, Pod, Service, Subscriber};
use signpost_kube::{registry, Cluster, Connection, Selectors, Watchable};

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
        self.events.lock().unwrap().push(text);
    }
}

impl Recorder {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }

    /// Waits (up to 10 s) until the events so far end with `last`; returns them all.
    async fn until(&self, last: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = Vec::new();
        loop {
            seen.extend(self.take());
            if seen.last().is_some_and(|l| l == last) || Instant::now() > deadline {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn service(name: &str, ip: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "ns", "labels": {"app": name}},
        "spec": {"clusterIP": ip, "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}
    })
}

async fn fake() -> FakeApi {
    FakeApi::start(Options::default()).await.unwrap()
}

fn endpoint(api: &FakeApi) -> Cluster {
    registry().cluster(&Connection {
        endpoint: Some(api.url()),
        ..Default::default()
    })
}

fn lists(api: &FakeApi, plural: &str) -> usize {
    lists_and_watches(&api.requests(), plural).0
}

fn watches(api: &FakeApi, plural: &str) -> usize {
    lists_and_watches(&api.requests(), plural).1
}

async fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn two_subscribers_one_list_and_one_watch() {
    let api = fake().await;
    api.apply(service("a", "10.0.0.1"));
    api.apply(service("b", "10.0.0.2"));
    let c = endpoint(&api);
    let (r1, r2): (Arc<Recorder>, Arc<Recorder>) = Default::default();
    let _g1 = c.watch::<Service>(Selectors::default(), r1.clone());
    let _g2 = c.watch::<Service>(Selectors::default(), r2.clone());
    assert!(c.wait_synced(Duration::from_secs(10)).await);
    eventually("the watch to open", || watches(&api, "services") == 1).await;
    assert_eq!(lists(&api, "services"), 1);
    assert_eq!(r1.take(), vec!["reset ns/a,ns/b"]);
    assert_eq!(r2.take(), vec!["reset ns/a,ns/b"]);
    assert!(c.is_connected());

    // A late third subscriber: the current set at once, no new request.
    let r3: Arc<Recorder> = Arc::default();
    let _g3 = c.watch::<Service>(Selectors::default(), r3.clone());
    assert_eq!(r3.take(), vec!["reset ns/a,ns/b"]);
    assert_eq!(lists(&api, "services"), 1);

    // Changes reach everyone, once.
    api.apply(service("c", "10.0.0.3"));
    api.delete("v1", "Service", "ns", "a");
    for r in [&r1, &r2, &r3] {
        assert_eq!(
            r.until("delete ns/a").await,
            vec!["apply ns/c", "delete ns/a"]
        );
    }

    // Other selectors: a watch of their own, filtered by the server.
    let r4: Arc<Recorder> = Arc::default();
    let _g4 = c.watch::<Service>(
        Selectors {
            labels: Some("app in (b, c)".into()),
            fields: None,
        },
        r4.clone(),
    );
    assert!(c.wait_synced(Duration::from_secs(10)).await);
    assert_eq!(r4.take(), vec!["reset ns/b,ns/c"]);
    assert_eq!(lists(&api, "services"), 2);
    let selected = api
        .requests()
        .iter()
        .filter(|r| r.is_list_of("services"))
        .filter(|r| r.query.contains("labelSelector"))
        .count();
    assert_eq!(selected, 1);
}

#[tokio::test]
async fn last_unsubscribe_stops_the_watch() {
    let api = fake().await;
    let c = endpoint(&api);
    let r: Arc<Recorder> = Arc::default();
    let g = c.watch::<EndpointSlice>(Selectors::default(), r.clone());
    assert!(c.wait_synced(Duration::from_secs(10)).await);
    eventually("the watch to open", || api.open_watches() == 1).await;
    drop(g);
    eventually("the watch to close", || api.open_watches() == 0).await;
    // A new subscriber starts a new list.
    let _g = c.watch::<EndpointSlice>(Selectors::default(), r.clone());
    assert!(c.wait_synced(Duration::from_secs(10)).await);
    assert_eq!(lists(&api, "endpointslices"), 2);
}

#[tokio::test]
async fn dropped_watches_resume_without_losing_data() {
    let api = fake().await;
    api.apply(service("a", "10.0.0.1"));
    let c = endpoint(&api);
    let r: Arc<Recorder> = Arc::default();
    let _g = c.watch::<Service>(Selectors::default(), r.clone());
    assert!(c.wait_synced(Duration::from_secs(10)).await);
    assert_eq!(r.take(), vec!["reset ns/a"]);
    eventually("the watch to open", || api.open_watches() == 1).await;

    api.faults().drop_watches();
    api.apply(service("b", "10.0.0.2"));
    // The watch resumes from its resource version: the change arrives, nothing is relisted.
    assert_eq!(r.until("apply ns/b").await, vec!["apply ns/b"]);
    assert_eq!(lists(&api, "services"), 1);
    assert!(c.is_connected());
}

#[tokio::test]
async fn server_errors_keep_the_data_and_recover() {
    let api = fake().await;
    api.apply(service("a", "10.0.0.1"));
    let c = endpoint(&api);
    let r: Arc<Recorder> = Arc::default();
    let _g = c.watch::<Service>(Selectors::default(), r.clone());
    assert!(c.wait_synced(Duration::from_secs(10)).await);
    assert_eq!(r.take(), vec!["reset ns/a"]);
    eventually("the watch to open", || api.open_watches() == 1).await;

    // The next requests fail; drop the watch so the client has to make some.
    api.faults().fail_next(2, 500);
    api.faults().drop_watches();
    eventually("the failure to show", || !c.is_connected()).await;
    assert!(c.is_synced(), "synced stays: the last good data serves");
    api.apply(service("b", "10.0.0.2"));
    // The backoff retries, the watch resumes, the change arrives.
    assert_eq!(r.until("apply ns/b").await, vec!["apply ns/b"]);
    eventually("the recovery to show", || c.is_connected()).await;
}

#[tokio::test]
async fn expired_resource_version_relists_as_one_reset() {
    let api = fake().await;
    api.apply(service("a", "10.0.0.1"));
    let c = endpoint(&api);
    let r: Arc<Recorder> = Arc::default();
    let _g = c.watch::<Service>(Selectors::default(), r.clone());
    assert!(c.wait_synced(Duration::from_secs(10)).await);
    assert_eq!(r.take(), vec!["reset ns/a"]);
    eventually("the watch to open", || api.open_watches() == 1).await;

    // Changes happen while the watch is down and history is compacted: 410 on re-watch.
    api.faults().drop_watches();
    api.apply(service("b", "10.0.0.2"));
    api.delete("v1", "Service", "ns", "a");
    api.compact();
    let got = r.until("reset ns/b").await;
    assert_eq!(
        got.last().map(String::as_str),
        Some("reset ns/b"),
        "{got:?}"
    );
    assert!(
        got.iter().all(|e| e != "reset "),
        "never an empty reset: {got:?}"
    );
    assert_eq!(lists(&api, "services"), 2, "relisted once");
}

#[tokio::test]
async fn server_down_keeps_the_data_and_comes_back() {
    let api = fake().await;
    api.apply(service("a", "10.0.0.1"));
    let c = endpoint(&api);
    let r: Arc<Recorder> = Arc::default();
    let _g = c.watch::<Service>(Selectors::default(), r.clone());
    assert!(c.wait_synced(Duration::from_secs(10)).await);
    assert_eq!(r.take(), vec!["reset ns/a"]);

    api.faults().down(true);
    eventually("the outage to show", || !c.is_connected()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(r.take().is_empty(), "no events (no empty reset) while down");
    assert!(c.is_synced());

    api.apply(service("b", "10.0.0.2"));
    api.faults().down(false);
    let got = r.until("apply ns/b").await;
    assert_eq!(got, vec!["apply ns/b"]);
    eventually("the recovery to show", || c.is_connected()).await;
}

#[tokio::test]
async fn unreachable_at_start_syncs_once_the_server_answers() {
    let api = fake().await;
    api.apply(service("a", "10.0.0.1"));
    api.faults().down(true);
    let c = endpoint(&api);
    let r: Arc<Recorder> = Arc::default();
    let _g = c.watch::<Service>(Selectors::default(), r.clone());
    assert!(!c.wait_synced(Duration::from_millis(500)).await);
    assert!(!c.is_connected());
    api.faults().down(false);
    assert!(c.wait_synced(Duration::from_secs(15)).await);
    assert_eq!(r.take(), vec!["reset ns/a"]);
    assert!(c.is_connected());
}

#[tokio::test]
async fn kubeconfig_connection() {
    let api = FakeApi::start(Options {
        tls: true,
        auth: signpost_fakeapi::Auth::Token("s3cret".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    api.apply(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "ns"},
        "status": {"phase": "Running", "podIP": "10.1.0.1"}
    }));
    let dir = std::env::temp_dir().join(format!("signpost-kube-kc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config");
    api.write_kubeconfig(&path);
    let c = registry().cluster(&Connection {
        kubeconfig: Some((path, Some("fake".into()))),
        ..Default::default()
    });
    assert_eq!(c.name(), "fake");
    let r: Arc<Recorder> = Arc::default();
    let _g = c.watch::<Pod>(
        Selectors {
            labels: None,
            fields: Some("status.phase!=Succeeded,status.phase!=Failed".into()),
        },
        r.clone(),
    );
    assert!(c.wait_synced(Duration::from_secs(10)).await);
    assert_eq!(r.take(), vec!["reset ns/p"]);
}

#[tokio::test]
async fn endpoint_with_client_certificate() {
    let api = FakeApi::start(Options {
        auth: signpost_fakeapi::Auth::ClientCert,
        ..Default::default()
    })
    .await
    .unwrap();
    api.apply(service("a", "10.0.0.1"));
    let dir = std::env::temp_dir().join(format!("signpost-kube-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tls = api.write_tls_files(&dir).unwrap();
    let c = registry().cluster(&Connection {
        endpoint: Some(api.url()),
        tls: Some(tls),
        ..Default::default()
    });
    let r: Arc<Recorder> = Arc::default();
    let _g = c.watch::<Service>(Selectors::default(), r.clone());
    assert!(c.wait_synced(Duration::from_secs(10)).await);
    assert_eq!(r.take(), vec!["reset ns/a"]);

    // Without the CA the server's certificate is not trusted: never synced.
    let other = std::env::temp_dir().join(format!("signpost-kube-tls2-{}", std::process::id()));
    std::fs::create_dir_all(&other).unwrap();
    let untrusted = FakeApi::start(Options {
        auth: signpost_fakeapi::Auth::ClientCert,
        ..Default::default()
    })
    .await
    .unwrap();
    let (_, _, wrong_ca) = untrusted.write_tls_files(&other).unwrap();
    let (cert, key, _) = api.write_tls_files(&dir).unwrap();
    let c = registry().cluster(&Connection {
        endpoint: Some(api.url()),
        tls: Some((cert, key, wrong_ca)),
        ..Default::default()
    });
    let _g = c.watch::<Service>(Selectors::default(), r.clone());
    assert!(!c.wait_synced(Duration::from_millis(1500)).await);
    assert!(!c.is_connected());
}
