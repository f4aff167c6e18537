//! Optional kinds against the fake API server: a CRD that is missing, or forbidden, counts as
//! synced and empty; installing it (or granting it) later is picked up by the re-probe.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use signpost_fakeapi::{Access, FakeApi, Options};
use signpost_k8s_model::{DnsEndpoint, Event, Service, Subscriber};
use signpost_kube::{registry, Cluster, Connection, Presence, Selectors, RECHECK_ENV};

#[derive(Default)]
struct Names(Mutex<Vec<String>>);

impl Subscriber<DnsEndpoint> for Names {
    fn on_event(&self, event: &Event<DnsEndpoint>) {
        let mut v = self.0.lock().unwrap();
        match event {
            Event::Reset(all) => {
                *v = all
                    .to_vec()
                    .iter()
                    .map(|o| o.key.name.to_string())
                    .collect()
            }
            Event::Apply(o) => v.push(o.key.name.to_string()),
            Event::Delete(o) => v.retain(|n| **n != *o.key.name),
        }
    }
}

/// The cluster behind the fake's URL.
fn cluster_of(api: &FakeApi) -> Cluster {
    registry().cluster(&Connection {
        endpoint: Some(api.url()),
        ..Default::default()
    })
}

fn endpoint(name: &str) -> serde_json::Value {
    json!({"apiVersion": "externaldns.k8s.io/v1alpha1", "kind": "DNSEndpoint",
           "metadata": {"name": name, "namespace": "ns"},
           "spec": {"endpoints": [{"dnsName": "a.example.com", "recordType": "A", "targets": ["192.0.2.1"]}]}})
}

async fn eventually(what: &str, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn missing_then_served(access: Access) {
    std::env::set_var(RECHECK_ENV, "200");
    let api = FakeApi::start(Options::default()).await.unwrap();
    api.set_served("externaldns.k8s.io/v1alpha1", "dnsendpoints", access);
    api.apply(endpoint("one"));
    let cluster = cluster_of(&api);
    let names = Arc::new(Names::default());
    let svc: Arc<dyn Subscriber<Service>> = Arc::new(|_: &Event<Service>| {});
    let _s = cluster.watch::<Service>(Selectors::default(), svc);
    let guard = cluster.watch_optional::<DnsEndpoint>(Selectors::default(), names.clone());
    assert!(cluster.wait_synced(Duration::from_secs(10)).await);
    assert_eq!(guard.presence(), Presence::Absent);
    assert!(names.0.lock().unwrap().is_empty());
    // The missing kind does not make the connection look broken.
    eventually("connected", || cluster.is_connected()).await;

    api.set_served(
        "externaldns.k8s.io/v1alpha1",
        "dnsendpoints",
        Access::Served,
    );
    eventually("served", || guard.presence() == Presence::Served).await;
    eventually("the object", || *names.0.lock().unwrap() == ["one"]).await;
    api.apply(endpoint("two"));
    eventually("the change", || names.0.lock().unwrap().len() == 2).await;
    assert!(cluster.is_synced());
}

#[tokio::test(flavor = "multi_thread")]
async fn not_found_then_installed() {
    missing_then_served(Access::NotFound).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forbidden_then_granted() {
    missing_then_served(Access::Forbidden).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn served_from_the_start() {
    let api = FakeApi::start(Options::default()).await.unwrap();
    api.apply(endpoint("one"));
    let cluster = cluster_of(&api);
    let names = Arc::new(Names::default());
    let guard = cluster.watch_optional::<DnsEndpoint>(Selectors::default(), names.clone());
    assert!(cluster.wait_synced(Duration::from_secs(10)).await);
    assert_eq!(guard.presence(), Presence::Served);
    assert_eq!(*names.0.lock().unwrap(), ["one"]);
    drop(guard);
    assert!(cluster.is_synced());
}

#[tokio::test(flavor = "multi_thread")]
async fn removed_later() {
    std::env::set_var(RECHECK_ENV, "200");
    let api = FakeApi::start(Options::default()).await.unwrap();
    api.apply(endpoint("one"));
    let cluster = cluster_of(&api);
    let names = Arc::new(Names::default());
    let guard = cluster.watch_optional::<DnsEndpoint>(Selectors::default(), names.clone());
    assert!(cluster.wait_synced(Duration::from_secs(10)).await);
    assert_eq!(*names.0.lock().unwrap(), ["one"]);
    api.set_served(
        "externaldns.k8s.io/v1alpha1",
        "dnsendpoints",
        Access::NotFound,
    );
    eventually("absent", || guard.presence() == Presence::Absent).await;
    eventually("emptied", || names.0.lock().unwrap().is_empty()).await;
    assert!(cluster.is_synced());
    api.set_served(
        "externaldns.k8s.io/v1alpha1",
        "dnsendpoints",
        Access::Served,
    );
    eventually("back", || *names.0.lock().unwrap() == ["one"]).await;
}
