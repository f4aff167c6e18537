//! The whole plugin set up from a Corefile, fed by the shared watch layer from manifest files
//! (no API server): start-up hook, sync wait, answers, and a change followed on disk.

use std::time::Duration;

use signpost_plugin::testing::{request, run, setup};
use signpost_plugin::{Control, Runtime};
use signpost_wire::{rcode, rtype};

use super::texts;
use crate::PLUGIN;

const OBJECTS: &str = r#"apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: shop
- apiVersion: v1
  kind: Service
  metadata:
    name: web
    namespace: shop
  spec:
    clusterIP: 10.96.0.100
    clusterIPs: [10.96.0.100]
    ports:
    - name: http
      port: 80
      protocol: TCP
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata:
    name: web-abc
    namespace: shop
    labels:
      kubernetes.io/service-name: web
  addressType: IPv4
  endpoints:
  - addresses: [10.244.1.7]
    conditions: {ready: true}
  ports:
  - name: http
    port: 8080
    protocol: TCP
"#;

#[test]
fn manifests_feed_the_plugin() {
    let dir =
        std::env::temp_dir().join(format!("signpost-kubernetes-wiring-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("objects.yaml"), OBJECTS).unwrap();
    let corefile = format!(
        ".:53 {{\n kubernetes cluster.local in-addr.arpa {{\n  manifests {}\n  startup_timeout 10s\n }}\n}}",
        dir.display()
    );
    let (chain, mut parts) = setup(&[PLUGIN], &corefile).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let runtime = Runtime {
        handle: rt.handle().clone(),
        control: Control::new(tx),
        corefile: None,
        listeners: Vec::new(),
    };
    // Hooks run inside the runtime, as the server runs them.
    rt.block_on(async {
        for hook in parts.startup.drain(..) {
            hook(&runtime).unwrap();
        }
    });
    // The start-up hook waited for the first lists.
    assert!((parts.ready[0].check)().is_ok(), "synced after start-up");
    let resp = run(&chain, &request("web.shop.svc.cluster.local.", rtype::A))
        .unwrap()
        .1;
    assert_eq!(
        texts(&resp),
        ["web.shop.svc.cluster.local.\t5\tIN\tA\t10.96.0.100"]
    );
    let resp = run(&chain, &request("7.1.244.10.in-addr.arpa.", rtype::PTR))
        .unwrap()
        .1;
    assert_eq!(
        texts(&resp),
        ["7.1.244.10.in-addr.arpa.\t5\tIN\tPTR\t10-244-1-7.web.shop.svc.cluster.local."]
    );
    let resp = run(&chain, &request("nope.shop.svc.cluster.local.", rtype::A))
        .unwrap()
        .1;
    assert_eq!(resp.rcode(), rcode::NXDOMAIN);

    // A change on disk is followed.
    std::fs::write(
        dir.join("objects.yaml"),
        OBJECTS.replace("10.96.0.100", "10.96.0.101"),
    )
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let resp = run(&chain, &request("web.shop.svc.cluster.local.", rtype::A))
            .unwrap()
            .1;
        if texts(&resp) == ["web.shop.svc.cluster.local.\t5\tIN\tA\t10.96.0.101"] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "change not seen: {:?}",
            texts(&resp)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    rt.block_on(async {
        for hook in parts.shutdown.drain(..) {
            hook(false).await;
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
