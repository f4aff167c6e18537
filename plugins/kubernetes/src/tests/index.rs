//! Index upkeep: incremental changes, relists, and the SOA serials of spec §12.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use signpost_k8s_model::Event;
use signpost_wire::rtype;

use super::matrix::{ans, nx};
use super::{config, ep, headless, namespace, slice, svc, with_lb, EpWith, Harness, With, World};
use crate::index::{Index, IndexOptions, SerialKind};

static NOW: AtomicI64 = AtomicI64::new(1000);

fn clock() -> i64 {
    NOW.load(Ordering::SeqCst)
}

fn base() -> World {
    World {
        namespaces: vec![namespace("ns")],
        services: vec![svc("ns", "a", &["10.0.0.1"]).port("p", "TCP", 1)],
        ..World::default()
    }
}

#[test]
fn incremental_changes_are_visible() {
    let h = Harness::new("kubernetes cluster.local", &base());
    let services = h.index.services();
    let slices = h.index.endpoint_slices();
    services.on_event(&Event::Apply(Arc::new(
        headless("ns", "h").port("p", "TCP", 1),
    )));
    h.check(&[nx("h.ns.svc.cluster.local.", rtype::A)]);
    slices.on_event(&Event::Apply(Arc::new(
        slice("ns", "h-1", "h", vec![ep(&["10.1.0.1"])]).port("p", "TCP", 1),
    )));
    h.check(&[ans(
        "h.ns.svc.cluster.local.",
        rtype::A,
        vec!["h.ns.svc.cluster.local. 5 IN A 10.1.0.1"],
    )]);
    // A second slice, then the first one changes, then goes.
    slices.on_event(&Event::Apply(Arc::new(
        slice("ns", "h-2", "h", vec![ep(&["10.1.0.2"])]).port("p", "TCP", 1),
    )));
    slices.on_event(&Event::Apply(Arc::new(
        slice("ns", "h-1", "h", vec![ep(&["10.1.0.3"])]).port("p", "TCP", 1),
    )));
    h.check(&[ans(
        "h.ns.svc.cluster.local.",
        rtype::A,
        vec![
            "h.ns.svc.cluster.local. 5 IN A 10.1.0.3",
            "h.ns.svc.cluster.local. 5 IN A 10.1.0.2",
        ],
    )]);
    slices.on_event(&Event::Delete(Arc::new(slice("ns", "h-1", "h", vec![]))));
    h.check(&[ans(
        "h.ns.svc.cluster.local.",
        rtype::A,
        vec!["h.ns.svc.cluster.local. 5 IN A 10.1.0.2"],
    )]);
    // A slice moving to another service (label change) leaves the first.
    slices.on_event(&Event::Apply(Arc::new(
        slice("ns", "h-2", "other", vec![ep(&["10.1.0.2"])]).port("p", "TCP", 1),
    )));
    h.check(&[nx("h.ns.svc.cluster.local.", rtype::A)]);
    // A relist replaces everything.
    services.on_event(&Event::Reset(
        vec![Arc::new(svc("ns", "b", &["10.0.0.2"]).port("p", "TCP", 1))].into(),
    ));
    h.check(&[
        nx("a.ns.svc.cluster.local.", rtype::A),
        ans(
            "b.ns.svc.cluster.local.",
            rtype::A,
            vec!["b.ns.svc.cluster.local. 5 IN A 10.0.0.2"],
        ),
    ]);
    // Namespaces come and go.
    h.index
        .namespaces()
        .on_event(&Event::Delete(Arc::new(namespace("ns"))));
    h.check(&[nx("b.ns.svc.cluster.local.", rtype::A)]);
}

#[test]
fn readers_keep_a_consistent_snapshot() {
    let h = Harness::new("kubernetes cluster.local", &base());
    let before = h.index.snapshot();
    h.index
        .services()
        .on_event(&Event::Delete(Arc::new(svc("ns", "a", &[]))));
    assert!(before.entries.get(&b"\x01a\x02ns"[..]).is_some());
    assert!(h
        .index
        .snapshot()
        .entries
        .get(&b"\x01a\x02ns"[..])
        .is_none());
}

#[test]
fn serials_follow_coredns_rules() {
    let cfg = config("kubernetes cluster.local");
    let index = Index::new(IndexOptions::from_config(&cfg));
    index.set_clock(clock);
    let internal = || index.serial(SerialKind::Internal);
    let external = || index.serial(SerialKind::External);
    let services = index.services();
    let slices = index.endpoint_slices();
    assert_eq!(internal(), 0);

    // Namespaces never move a serial.
    NOW.store(1001, Ordering::SeqCst);
    index
        .namespaces()
        .on_event(&Event::Apply(Arc::new(namespace("ns"))));
    assert_eq!(internal(), 0);

    // An add moves the internal serial (and, with external IPs, the external one).
    NOW.store(1002, Ordering::SeqCst);
    let a = svc("ns", "a", &["10.0.0.1"]).port("p", "TCP", 1);
    services.on_event(&Event::Apply(Arc::new(a.clone())));
    assert_eq!((internal(), external()), (1002, 0));
    NOW.store(1003, Ordering::SeqCst);
    let lb = with_lb(
        svc("ns", "lb", &["10.0.0.2"]).port("p", "TCP", 1),
        "192.0.2.1",
    );
    services.on_event(&Event::Apply(Arc::new(lb.clone())));
    assert_eq!((internal(), external()), (1003, 1003));

    // Updates: a label change moves nothing; a port change moves both; an ExternalName
    // change only the internal one; an external IP change only the external one.
    NOW.store(1004, Ordering::SeqCst);
    services.on_event(&Event::Apply(Arc::new(a.clone().label("x", "y"))));
    assert_eq!((internal(), external()), (1003, 1003));
    services.on_event(&Event::Apply(Arc::new(a.clone().port("q", "UDP", 2))));
    assert_eq!((internal(), external()), (1004, 1004));
    NOW.store(1005, Ordering::SeqCst);
    services.on_event(&Event::Apply(Arc::new(with_lb(lb.clone(), "192.0.2.2"))));
    assert_eq!((internal(), external()), (1004, 1005));

    // Slices: add moves it; an equivalent update (only nodeName) does not; a new address does.
    NOW.store(1006, Ordering::SeqCst);
    let s = slice("ns", "a-1", "a", vec![ep(&["10.1.0.1"])]).port("p", "TCP", 1);
    slices.on_event(&Event::Apply(Arc::new(s.clone())));
    assert_eq!(internal(), 1006);
    NOW.store(1007, Ordering::SeqCst);
    let mut moved = s.clone();
    moved.endpoints[0].node_name = "node-2".into();
    slices.on_event(&Event::Apply(Arc::new(moved)));
    assert_eq!(internal(), 1006);
    let grown =
        slice("ns", "a-1", "a", vec![ep(&["10.1.0.1"]), ep(&["10.1.0.2"])]).port("p", "TCP", 1);
    slices.on_event(&Event::Apply(Arc::new(grown)));
    assert_eq!(internal(), 1007);

    // A relist with the same objects moves nothing.
    NOW.store(1008, Ordering::SeqCst);
    services.on_event(&Event::Reset(
        vec![
            Arc::new(a.port("q", "UDP", 2)),
            Arc::new(with_lb(lb, "192.0.2.2")),
        ]
        .into(),
    ));
    assert_eq!(internal(), 1007);
    // A delete moves it.
    services.on_event(&Event::Delete(Arc::new(svc("ns", "a", &[]))));
    assert_eq!(internal(), 1008);
}

#[test]
fn large_index_updates_touch_little() {
    let cfg = config("kubernetes cluster.local");
    let index = Index::new(IndexOptions::from_config(&cfg));
    let services: Vec<_> = (0..20_000u32)
        .map(|i| {
            Arc::new(
                svc(
                    "ns",
                    &format!("s{i}"),
                    &[&format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255)],
                )
                .port("p", "TCP", 1),
            )
        })
        .collect();
    let sub = index.services();
    sub.on_event(&Event::Reset(services.into()));
    index
        .namespaces()
        .on_event(&Event::Reset(vec![Arc::new(namespace("ns"))].into()));
    let start = std::time::Instant::now();
    for i in 0..1000u32 {
        sub.on_event(&Event::Apply(Arc::new(
            svc("ns", &format!("s{i}"), &["10.200.0.1"]).port("p", "TCP", 1),
        )));
    }
    let per_event = start.elapsed() / 1000;
    // Generous bound (debug builds); an O(n) rebuild would take milliseconds per event.
    assert!(
        per_event < std::time::Duration::from_millis(2),
        "{per_event:?} per event"
    );
    assert_eq!(index.snapshot().entries.len(), 20_000);
}

/// The reverse map points at the records it reverses to: when a Service's entry is rebuilt
/// (its slices change), its IPs follow the new entry, in place among Services sharing the
/// IP; when its IPs change, the old ones stop answering.
#[test]
fn reverse_entries_follow_rebuilt_entries() {
    // NXDOMAIN with the reverse zone's SOA.
    let reverse_nx = |qname: &'static str| {
        signpost_plugin::testing::Case {
        qname,
        qtype: rtype::PTR,
        rcode: signpost_wire::rcode::NXDOMAIN,
        ns: vec![
            "10.in-addr.arpa. 5 IN SOA ns.dns.10.in-addr.arpa. hostmaster.10.in-addr.arpa. 1499347823 7200 1800 86400 5",
        ],
        ..Default::default()
    }
    };
    let h = Harness::new(
        "kubernetes cluster.local 10.0.0.0/8",
        &World {
            namespaces: vec![namespace("ns")],
            services: vec![
                svc("ns", "a", &["10.0.0.1"]).port("p", "TCP", 1),
                svc("ns", "b", &["10.0.0.1"]).port("p", "TCP", 1),
            ],
            ..World::default()
        },
    );
    let services = h.index.services();
    let slices = h.index.endpoint_slices();
    let first = ans(
        "1.0.0.10.in-addr.arpa.",
        rtype::PTR,
        vec!["1.0.0.10.in-addr.arpa. 5 IN PTR a.ns.svc.cluster.local."],
    );
    h.check(std::slice::from_ref(&first));
    // A slice for `a` rebuilds its entry: `a` stays first for the shared IP, and the
    // endpoint reverses to its name.
    slices.on_event(&Event::Apply(Arc::new(
        slice("ns", "a-1", "a", vec![ep(&["10.1.0.1"]).host("x")]).port("p", "TCP", 1),
    )));
    h.check(&[
        first.clone(),
        ans(
            "1.0.1.10.in-addr.arpa.",
            rtype::PTR,
            vec!["1.0.1.10.in-addr.arpa. 5 IN PTR x.a.ns.svc.cluster.local."],
        ),
    ]);
    slices.on_event(&Event::Delete(Arc::new(slice("ns", "a-1", "a", vec![]))));
    h.check(&[first, reverse_nx("1.0.1.10.in-addr.arpa.")]);
    // `a` moves to another IP: the shared one now reverses to `b`, the new one to `a`.
    services.on_event(&Event::Apply(Arc::new(
        svc("ns", "a", &["10.0.0.2"]).port("p", "TCP", 1),
    )));
    h.check(&[
        ans(
            "1.0.0.10.in-addr.arpa.",
            rtype::PTR,
            vec!["1.0.0.10.in-addr.arpa. 5 IN PTR b.ns.svc.cluster.local."],
        ),
        ans(
            "2.0.0.10.in-addr.arpa.",
            rtype::PTR,
            vec!["2.0.0.10.in-addr.arpa. 5 IN PTR a.ns.svc.cluster.local."],
        ),
    ]);
    services.on_event(&Event::Delete(Arc::new(svc("ns", "b", &[]))));
    services.on_event(&Event::Delete(Arc::new(svc("ns", "a", &[]))));
    h.check(&[
        reverse_nx("1.0.0.10.in-addr.arpa."),
        reverse_nx("2.0.0.10.in-addr.arpa."),
    ]);
}
