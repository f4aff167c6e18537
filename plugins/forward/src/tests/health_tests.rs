//! Health checking: marking upstreams down and up, probe queries, all-down behaviour.

use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;

use signpost_plugin::testing::{request, run_async};
use signpost_wire::{rcode, rtype};

use super::upstream_server::TestUpstream;
use super::{build, eventually, fast};
use crate::forward::NO_HEALTHY;

#[tokio::test]
async fn a_failing_upstream_is_probed_down_and_back_up() {
    let up = TestUpstream::start(Ipv4Addr::new(10, 0, 0, 1)).await;
    up.state.silent.store(true, Ordering::SeqCst);
    let text = format!(
        ". {{\n forward . {} {{\n  max_fails 1\n  health_check 20ms\n  read_timeout 50ms\n  max_connect_attempts 1\n }}\n}}",
        up.to()
    );
    let (chain, fwds) = build(&text, fast());
    let upstream = fwds[0].upstreams()[0].clone();
    assert!(!upstream.down(1));

    let (o, _) = run_async(&chain, &request("a.example.", rtype::A)).await;
    assert_eq!(o.rcode, rcode::SERVFAIL);
    // The failure started a probe; two failed checks put the upstream above max_fails.
    assert!(eventually(|| upstream.down(1)).await, "marked down");
    assert!(up.state.health_checks() >= 2);
    let checks = up.state.seen();
    let check = checks.iter().find(|s| s.qtype == rtype::NS).unwrap();
    assert_eq!(check.qname, ".");
    assert!(check.rd, "recursion desired by default");
    assert!(!check.tcp);
    assert!(!check.edns);
    assert!(upstream.metrics.healthcheck_failures.get() >= 2);

    // The upstream answers again: the probe sees it and resets the count.
    up.state.silent.store(false, Ordering::SeqCst);
    assert!(eventually(|| upstream.fails() == 0).await, "marked up");
    assert!(!upstream.down(1));
    let (o, _) = run_async(&chain, &request("a.example.", rtype::A)).await;
    assert_eq!(o.rcode, rcode::NOERROR);
}

#[tokio::test]
async fn probe_options_no_rec_domain_and_tcp() {
    let up = TestUpstream::start(Ipv4Addr::new(10, 0, 0, 1)).await;
    let text = format!(
        ". {{\n forward . {} {{\n  health_check 1s no_rec domain Example.ORG\n  force_tcp\n }}\n}}",
        up.to()
    );
    let (_, fwds) = build(&text, fast());
    let upstream = fwds[0].upstreams()[0].clone();
    assert!(upstream.check_once().await);
    let seen = up.state.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].qname, "example.org.");
    assert_eq!(seen[0].qtype, rtype::NS);
    assert!(!seen[0].rd);
    assert!(seen[0].tcp, "force_tcp checks over TCP");
    // Any rcode is healthy.
    up.state
        .rcode_override
        .store(rcode::REFUSED, Ordering::SeqCst);
    assert!(upstream.check_once().await);
}

#[tokio::test]
async fn all_down_picks_one_anyway_or_fails_fast() {
    let one = TestUpstream::start(Ipv4Addr::new(10, 0, 0, 1)).await;
    let two = TestUpstream::start(Ipv4Addr::new(10, 0, 0, 2)).await;
    let text = format!(". {{\n forward . {} {}\n}}", one.to(), two.to());
    let (chain, fwds) = build(&text, fast());
    for u in fwds[0].upstreams() {
        u.set_fails(3);
    }
    let broken = crate::metrics::healthcheck_broken();
    let before = broken.get();
    let (o, _) = run_async(&chain, &request("a.example.", rtype::A)).await;
    assert_eq!(o.rcode, rcode::NOERROR);
    assert!(broken.get() > before);

    // One down: the healthy one is used every time.
    fwds[0].upstreams()[1].set_fails(0);
    for _ in 0..6 {
        let (o, _) = run_async(&chain, &request("b.example.", rtype::A)).await;
        assert_eq!(o.rcode, rcode::NOERROR);
    }
    assert!(one.state.queries().iter().all(|s| s.qname != "b.example."));

    let text = format!(
        ". {{\n forward . {} {{\n  failfast_all_unhealthy_upstreams\n }}\n}}",
        one.to()
    );
    let (chain, fwds) = build(&text, fast());
    fwds[0].upstreams()[0].set_fails(3);
    let sent = one.state.queries().len();
    let (o, _) = run_async(&chain, &request("c.example.", rtype::A)).await;
    assert_eq!(o.rcode, rcode::SERVFAIL);
    assert_eq!(o.error, Some(format!("plugin/forward: {NO_HEALTHY}")));
    assert_eq!(one.state.queries().len(), sent, "nothing sent");

    // max_fails 0: never down.
    let text = format!(". {{\n forward . {} {{\n  max_fails 0\n }}\n}}", one.to());
    let (_, fwds) = build(&text, fast());
    fwds[0].upstreams()[0].set_fails(100);
    assert!(!fwds[0].upstreams()[0].down(0));
}
