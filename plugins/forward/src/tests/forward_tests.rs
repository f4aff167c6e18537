//! Forwarding against test upstreams on loopback.

use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use signpost_metrics::registry;
use signpost_plugin::testing::{request, request_with, run, run_async, Case};
use signpost_plugin::{OwnedRequest, Transport};
use signpost_wire::{build_query, rcode, rtype, Name};

use super::upstream_server::{closed_port, TestUpstream};
use super::{build, fast};

const TAG1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const TAG2: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

fn tcp(qname: &str) -> OwnedRequest {
    request_with(qname, rtype::A, Transport::Tcp, "10.240.0.1:40212")
}

/// A UDP request without EDNS (the client takes 512 bytes).
fn plain_udp(qname: &str) -> OwnedRequest {
    let mut r = request(qname, rtype::A);
    r.packet = build_query(777, &Name::from_text(qname).unwrap(), rtype::A, true, None);
    r
}

fn a_case(qname: &'static str, answer: &'static str) -> Case {
    Case {
        qname,
        qtype: rtype::A,
        rcode: rcode::NOERROR,
        answer: vec![answer],
        ..Default::default()
    }
}

#[tokio::test]
async fn forwards_over_udp_and_restores_the_id() {
    let up = TestUpstream::start(TAG1).await;
    let (chain, _) = build(&format!(". {{\n forward . {}\n}}", up.to()), fast());
    let req = request("www.example.org.", rtype::A);
    // The sync path hands over to the async one, leaving no trace.
    assert!(run(&chain, &req).is_none());
    let (outcome, resp) = run_async(&chain, &req).await;
    assert_eq!(outcome.plugin, "forward");
    assert_eq!(outcome.error, None);
    a_case("www.example.org.", "www.example.org. 300 IN A 10.0.0.1")
        .check(&resp)
        .unwrap();
    assert_eq!(resp.id(), 4242, "the client's ID");
    assert_eq!(resp.counts().2, 0, "the upstream's OPT is removed");
    let seen = up.state.queries();
    assert_eq!(seen.len(), 1);
    assert!(!seen[0].tcp);
    assert!(seen[0].edns, "the client's OPT goes upstream");
    assert!(seen[0].rd);

    let text = registry().render();
    let line = format!(
        "coredns_proxy_request_duration_seconds_count{{proxy_name=\"forward\",rcode=\"NOERROR\",to=\"{}\"}} 1",
        up.to()
    );
    assert!(text.contains(&line), "missing {line}");
    let miss = format!(
        "coredns_proxy_conn_cache_misses_total{{proto=\"udp\",proxy_name=\"forward\",to=\"{}\"}} 1",
        up.to()
    );
    assert!(text.contains(&miss), "missing {miss}");
}

#[tokio::test]
async fn tcp_client_goes_upstream_over_tcp_and_reuses_the_connection() {
    let up = TestUpstream::start(TAG1).await;
    let (chain, fwds) = build(&format!(". {{\n forward . {}\n}}", up.to()), fast());
    for _ in 0..3 {
        let (_, resp) = run_async(&chain, &tcp("a.example.")).await;
        a_case("a.example.", "a.example. 300 IN A 10.0.0.1")
            .check(&resp)
            .unwrap();
    }
    assert!(up.state.queries().iter().all(|s| s.tcp));
    assert_eq!(
        up.state.tcp_conns.load(Ordering::SeqCst),
        1,
        "one cached connection"
    );
    let m = &fwds[0].upstreams()[0].metrics;
    assert_eq!(m.cache_misses[1].get(), 1);
    assert_eq!(m.cache_hits[1].get(), 2);
    assert_eq!(fwds[0].upstreams()[0].pool().sizes(), (0, 1));
}

#[tokio::test]
async fn expire_zero_never_reuses() {
    let up = TestUpstream::start(TAG1).await;
    let text = format!(". {{\n forward . {} {{\n  expire 0s\n }}\n}}", up.to());
    let (chain, _) = build(&text, fast());
    for _ in 0..2 {
        let (o, _) = run_async(&chain, &tcp("a.example.")).await;
        assert_eq!(o.rcode, rcode::NOERROR);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(up.state.tcp_conns.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn force_tcp_and_prefer_udp() {
    let up = TestUpstream::start(TAG1).await;
    let text = format!(". {{\n forward . {} {{\n  force_tcp\n }}\n}}", up.to());
    let (chain, _) = build(&text, fast());
    let (o, _) = run_async(&chain, &request("a.example.", rtype::A)).await;
    assert_eq!(o.rcode, rcode::NOERROR);
    assert!(
        up.state.queries()[0].tcp,
        "force_tcp sends a UDP client's query over TCP"
    );

    let up = TestUpstream::start(TAG1).await;
    let text = format!(". {{\n forward . {} {{\n  prefer_udp\n }}\n}}", up.to());
    let (chain, _) = build(&text, fast());
    let (o, _) = run_async(&chain, &tcp("a.example.")).await;
    assert_eq!(o.rcode, rcode::NOERROR);
    assert!(
        !up.state.queries()[0].tcp,
        "prefer_udp sends a TCP client's query over UDP"
    );

    // Both: force_tcp wins.
    let up = TestUpstream::start(TAG1).await;
    let text = format!(
        ". {{\n forward . {} {{\n  prefer_udp\n  force_tcp\n }}\n}}",
        up.to()
    );
    let (chain, _) = build(&text, fast());
    let (o, _) = run_async(&chain, &tcp("a.example.")).await;
    assert_eq!(o.rcode, rcode::NOERROR);
    assert!(up.state.queries()[0].tcp);
}

#[tokio::test]
async fn truncated_answers() {
    // Without prefer_udp the truncated answer goes back to the client (which retries).
    let up = TestUpstream::start(TAG1).await;
    let (chain, _) = build(&format!(". {{\n forward . {}\n}}", up.to()), fast());
    let (_, resp) = run_async(&chain, &request("big.example.", rtype::A)).await;
    assert!(resp.truncated());
    assert_eq!(resp.counts().0, 0);
    assert_eq!(up.state.queries().len(), 1);

    // With prefer_udp a truncated UDP answer is retried over TCP.
    let up = TestUpstream::start(TAG1).await;
    let text = format!(". {{\n forward . {} {{\n  prefer_udp\n }}\n}}", up.to());
    let (chain, _) = build(&text, fast());
    let (_, resp) = run_async(&chain, &tcp("big.example.")).await;
    Case {
        qname: "big.example.",
        qtype: rtype::A,
        rcode: rcode::NOERROR,
        answer: vec![
            "big.example. 300 IN A 10.1.0.1",
            "big.example. 300 IN A 10.1.0.2",
            "big.example. 300 IN A 10.1.0.3",
        ],
        ..Default::default()
    }
    .check(&resp)
    .unwrap();
    assert!(!resp.truncated());
    let seen: Vec<bool> = up.state.queries().iter().map(|s| s.tcp).collect();
    assert_eq!(seen, [false, true]);
}

#[tokio::test]
async fn oversized_udp_answer_becomes_empty_truncated() {
    let up = TestUpstream::start(TAG1).await;
    let (chain, _) = build(&format!(". {{\n forward . {}\n}}", up.to()), fast());
    let (o, resp) = run_async(&chain, &plain_udp("huge.example.")).await;
    assert_eq!(o.rcode, rcode::NOERROR);
    assert!(resp.truncated());
    assert_eq!(resp.counts(), (0, 0, 0));
    assert_eq!(resp.id(), 777);
    // Over TCP the whole answer comes through.
    let (_, resp) = run_async(&chain, &tcp("huge.example.")).await;
    assert_eq!(resp.counts().0, 60);
}

#[tokio::test]
async fn fails_over_to_the_next_upstream() {
    let silent = TestUpstream::start(TAG1).await;
    silent.state.silent.store(true, Ordering::SeqCst);
    let good = TestUpstream::start(TAG2).await;
    let text = format!(
        ". {{\n forward . {} {} {{\n  policy sequential\n  read_timeout 100ms\n  max_fails 0\n }}\n}}",
        silent.to(),
        good.to()
    );
    let (chain, _) = build(&text, fast());
    let (o, resp) = run_async(&chain, &request("a.example.", rtype::A)).await;
    assert_eq!(o.error, None);
    a_case("a.example.", "a.example. 300 IN A 10.0.0.2")
        .check(&resp)
        .unwrap();
    assert_eq!(silent.state.queries().len(), 1);

    // A refused port fails at once, over UDP and TCP.
    let closed = closed_port().await;
    for opt in ["", "force_tcp"] {
        let text = format!(
            ". {{\n forward . {closed} {} {{\n  policy sequential\n  {opt}\n }}\n}}",
            good.to()
        );
        let (chain, _) = build(&text, fast());
        let (o, resp) = run_async(&chain, &request("a.example.", rtype::A)).await;
        assert_eq!(o.error, None, "{opt}");
        a_case("a.example.", "a.example. 300 IN A 10.0.0.2")
            .check(&resp)
            .unwrap();
    }
}

#[tokio::test]
async fn servfail_with_the_upstream_error_after_the_attempts() {
    let silent = TestUpstream::start(TAG1).await;
    silent.state.silent.store(true, Ordering::SeqCst);
    let text = format!(
        ". {{\n forward . {} {{\n  read_timeout 50ms\n  max_fails 0\n }}\n}}",
        silent.to()
    );
    let (chain, _) = build(&text, fast());
    let (o, resp) = run_async(&chain, &request("a.example.", rtype::A)).await;
    assert_eq!(o.rcode, rcode::SERVFAIL);
    assert_eq!(resp.rcode(), rcode::SERVFAIL);
    let err = o.error.unwrap();
    assert!(
        err.starts_with("plugin/forward: read udp 0.0.0.0:")
            || err.starts_with("plugin/forward: read udp 127.0.0.1:"),
        "{err}"
    );
    assert!(
        err.ends_with(&format!("->{}: i/o timeout", silent.to())),
        "{err}"
    );
    // Two attempts per upstream by default.
    assert_eq!(silent.state.queries().len(), 2);

    let text = format!(
        ". {{\n forward . {} {{\n  read_timeout 50ms\n  max_fails 0\n  max_connect_attempts 1\n }}\n}}",
        silent.to()
    );
    let (chain, _) = build(&text, fast());
    let before = silent.state.queries().len();
    let (o, _) = run_async(&chain, &request("a.example.", rtype::A)).await;
    assert_eq!(o.rcode, rcode::SERVFAIL);
    assert_eq!(silent.state.queries().len() - before, 1);

    // TCP refused: Go's dial error text.
    let closed = closed_port().await;
    let text = format!(". {{\n forward . {closed} {{\n  force_tcp\n  max_fails 0\n }}\n}}");
    let (chain, _) = build(&text, fast());
    let (o, _) = run_async(&chain, &request("a.example.", rtype::A)).await;
    assert_eq!(
        o.error.as_deref(),
        Some(format!("plugin/forward: dial tcp {closed}: connect: connection refused").as_str())
    );
}

#[tokio::test]
async fn the_deadline_bounds_the_retries() {
    let silent = TestUpstream::start(TAG1).await;
    silent.state.silent.store(true, Ordering::SeqCst);
    let text = format!(
        ". {{\n forward . {} {{\n  read_timeout 40ms\n  max_fails 0\n  max_connect_attempts 0\n }}\n}}",
        silent.to()
    );
    let mut t = fast();
    t.query_deadline = Duration::from_millis(150);
    let (chain, _) = build(&text, t);
    let started = std::time::Instant::now();
    let (o, _) = run_async(&chain, &request("a.example.", rtype::A)).await;
    assert_eq!(o.rcode, rcode::SERVFAIL);
    assert!(started.elapsed() < Duration::from_secs(1));
    let n = silent.state.queries().len();
    assert!((3..=5).contains(&n), "{n} attempts in 150ms of 40ms each");
}

#[tokio::test]
async fn skips_answers_with_another_id_and_rejects_another_question() {
    let up = TestUpstream::start(TAG1).await;
    let (chain, _) = build(&format!(". {{\n forward . {}\n}}", up.to()), fast());
    for req in [request("late.example.", rtype::A), tcp("late.example.")] {
        let (_, resp) = run_async(&chain, &req).await;
        a_case("late.example.", "late.example. 300 IN A 10.0.0.1")
            .check(&resp)
            .unwrap();
    }
    let (o, resp) = run_async(&chain, &request("wrong.example.", rtype::A)).await;
    assert_eq!(o.rcode, rcode::FORMERR);
    assert_eq!(o.error, None);
    assert_eq!(resp.rcode(), rcode::FORMERR);
    assert_eq!(resp.id(), 4242);
}

#[tokio::test]
async fn from_and_except_decide_what_is_forwarded() {
    let up = TestUpstream::start(TAG1).await;
    let text = format!(
        ". {{\n forward example.org {} {{\n  except internal.example.org\n }}\n}}",
        up.to()
    );
    let (chain, _) = build(&text, fast());
    for (qname, forwarded) in [
        ("www.example.org.", true),
        ("example.org.", true),
        ("WWW.Example.ORG.", true),
        ("example.com.", false),
        ("internal.example.org.", false),
        ("a.internal.example.org.", false),
    ] {
        let req = request(qname, rtype::A);
        // Names not forwarded are settled on the sync path.
        assert_eq!(run(&chain, &req).is_none(), forwarded, "{qname}");
        let (o, _) = run_async(&chain, &req).await;
        let want = if forwarded {
            "forward"
        } else {
            "test-nxdomain"
        };
        assert_eq!(o.plugin, want, "{qname}");
    }

    // FROM itself is forwarded even when excepted.
    let text = format!(". {{\n forward . {} {{\n  except .\n }}\n}}", up.to());
    let (chain, _) = build(&text, fast());
    assert!(run(&chain, &request(".", rtype::NS)).is_none());
    assert!(run(&chain, &request("a.example.", rtype::A)).is_some());
}

#[tokio::test]
async fn policies() {
    let one = TestUpstream::start(TAG1).await;
    let two = TestUpstream::start(TAG2).await;
    let corefile = |policy: &str| {
        format!(
            ". {{\n forward . {} {} {{\n  policy {policy}\n }}\n}}",
            one.to(),
            two.to()
        )
    };
    let answered_by = |resp: &signpost_wire::Response| {
        let recs = signpost_wire::text::message_records(resp.bytes()).unwrap();
        recs[0].to_string()
    };

    let (chain, _) = build(&corefile("sequential"), fast());
    for _ in 0..4 {
        let (_, resp) = run_async(&chain, &request("a.example.", rtype::A)).await;
        assert!(answered_by(&resp).ends_with("10.0.0.1"));
    }

    let (chain, _) = build(&corefile("round_robin"), fast());
    let mut got = Vec::new();
    for _ in 0..4 {
        let (_, resp) = run_async(&chain, &request("a.example.", rtype::A)).await;
        got.push(answered_by(&resp).ends_with("10.0.0.1"));
    }
    assert_eq!(
        got,
        [false, true, false, true],
        "round robin starts at the second"
    );

    let (chain, _) = build(&corefile("random"), fast());
    let mut first = 0;
    for _ in 0..60 {
        let (_, resp) = run_async(&chain, &request("a.example.", rtype::A)).await;
        if answered_by(&resp).ends_with("10.0.0.1") {
            first += 1;
        }
    }
    assert!(first > 5 && first < 55, "random spreads: {first}/60");
}

#[tokio::test]
async fn max_concurrent_refuses_the_excess() {
    let silent = TestUpstream::start(TAG1).await;
    silent.state.silent.store(true, Ordering::SeqCst);
    let text = format!(
        ". {{\n forward . {} {{\n  max_concurrent 1\n  read_timeout 300ms\n  max_fails 0\n  max_connect_attempts 1\n }}\n}}",
        silent.to()
    );
    let (chain, _) = build(&text, fast());
    let rejects = crate::metrics::max_concurrent_rejects();
    let before = rejects.get();
    let slow = {
        let chain = Arc::clone(&chain);
        tokio::spawn(async move {
            let req = request("a.example.", rtype::A);
            run_async(&chain, &req).await.0
        })
    };
    assert!(super::eventually(|| !silent.state.queries().is_empty()).await);
    let (o, resp) = run_async(&chain, &request("b.example.", rtype::A)).await;
    assert_eq!(o.rcode, rcode::REFUSED);
    assert_eq!(resp.rcode(), rcode::REFUSED);
    assert_eq!(
        o.error.as_deref(),
        Some("plugin/forward: concurrent queries exceeded maximum 1")
    );
    assert_eq!(rejects.get(), before + 1);
    let first = slow.await.unwrap();
    assert_eq!(first.rcode, rcode::SERVFAIL);
    // The slot is free again.
    silent.state.silent.store(false, Ordering::SeqCst);
    let (o, _) = run_async(&chain, &request("c.example.", rtype::A)).await;
    assert_eq!(o.rcode, rcode::NOERROR);
}

#[tokio::test]
async fn next_hands_rcodes_to_the_following_forward() {
    let one = TestUpstream::start(TAG1).await;
    one.state
        .rcode_override
        .store(rcode::NXDOMAIN, Ordering::SeqCst);
    let two = TestUpstream::start(TAG2).await;
    let text = format!(
        ". {{\n forward . {} {{\n  next NXDOMAIN\n }}\n forward . {} {{\n  next NXDOMAIN\n }}\n}}",
        one.to(),
        two.to()
    );
    let (chain, _) = build(&text, fast());
    let (_, resp) = run_async(&chain, &request("a.example.", rtype::A)).await;
    a_case("a.example.", "a.example. 300 IN A 10.0.0.2")
        .check(&resp)
        .unwrap();

    // The last forward ignores `next`: its NXDOMAIN is the answer.
    two.state
        .rcode_override
        .store(rcode::NXDOMAIN, Ordering::SeqCst);
    let (o, resp) = run_async(&chain, &request("a.example.", rtype::A)).await;
    assert_eq!(o.plugin, "forward");
    assert_eq!(resp.rcode(), rcode::NXDOMAIN);

    // next_on_nodata.
    let text = format!(
        ". {{\n forward . {} {{\n  next_on_nodata\n }}\n forward . {}\n}}",
        TestUpstream::start(TAG1).await.to(),
        two.to()
    );
    two.state.rcode_override.store(0, Ordering::SeqCst);
    let (chain, _) = build(&text, fast());
    let (_, resp) = run_async(&chain, &request("nodata.example.", rtype::A)).await;
    assert_eq!(resp.counts().0, 0);
}

#[tokio::test]
async fn failover_tries_the_next_upstream_on_listed_rcodes() {
    let one = TestUpstream::start(TAG1).await;
    one.state
        .rcode_override
        .store(rcode::SERVFAIL, Ordering::SeqCst);
    let two = TestUpstream::start(TAG2).await;
    let text = format!(
        ". {{\n forward . {} {} {{\n  policy sequential\n  failover SERVFAIL REFUSED\n }}\n}}",
        one.to(),
        two.to()
    );
    let (chain, _) = build(&text, fast());
    let (_, resp) = run_async(&chain, &request("a.example.", rtype::A)).await;
    a_case("a.example.", "a.example. 300 IN A 10.0.0.2")
        .check(&resp)
        .unwrap();
    // When every upstream fails over, the last answer stands.
    two.state
        .rcode_override
        .store(rcode::REFUSED, Ordering::SeqCst);
    let (o, resp) = run_async(&chain, &request("a.example.", rtype::A)).await;
    assert_eq!(o.error, None);
    assert_eq!(resp.rcode(), rcode::REFUSED);
}

#[tokio::test]
async fn shutdown_closes_the_cache() {
    let up = TestUpstream::start(TAG1).await;
    let (chain, fwds) = build(&format!(". {{\n forward . {}\n}}", up.to()), fast());
    let rt = tokio::runtime::Handle::current();
    fwds[0].start(&rt);
    let (o, _) = run_async(&chain, &tcp("a.example.")).await;
    assert_eq!(o.rcode, rcode::NOERROR);
    assert_eq!(fwds[0].upstreams()[0].pool().sizes(), (0, 1));
    fwds[0].shutdown();
    assert_eq!(fwds[0].upstreams()[0].pool().sizes(), (0, 0));
    // A query still in flight when the configuration is retired completes, uncached.
    let (o, _) = run_async(&chain, &tcp("a.example.")).await;
    assert_eq!(o.rcode, rcode::NOERROR);
    assert_eq!(fwds[0].upstreams()[0].pool().sizes(), (0, 0));
    assert_eq!(up.state.tcp_conns.load(Ordering::SeqCst), 2);
}
