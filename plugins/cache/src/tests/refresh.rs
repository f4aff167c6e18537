//! Asking again: serve_stale (immediate and verify), prefetch, prefer_positive.

use super::*;

#[test]
fn serve_stale_immediate_without_runtime() {
    let f = fixture("cache {\n serve_stale\n }");
    f.backend.set(
        "a.example.org.",
        rtype::A,
        positive(&["a.example.org. 60 IN A 127.0.0.1"]),
    );
    f.ask("a.example.org.", rtype::A);
    let stale = Case {
        qname: "a.example.org.",
        qtype: rtype::A,
        answer: vec!["a.example.org. 0 IN A 127.0.0.1"],
        ..Case::default()
    };
    // Served from expiry (60s) until it has been expired for an hour.
    for advance in [60, 3539, 60] {
        f.advance(advance);
        check(&stale, &f.ask("a.example.org.", rtype::A));
    }
    assert_eq!(f.backend.calls(), 1);
    f.advance(1);
    f.ask("a.example.org.", rtype::A);
    assert_eq!(f.backend.calls(), 2);
}

#[test]
fn serve_stale_response_ttl_and_keepttl() {
    for (directive, ttl) in [
        ("cache {\n serve_stale 1h immediate 30s\n }", "30"),
        ("cache {\n serve_stale 1h immediate 17s\n keepttl\n }", "17"),
        ("cache {\n serve_stale 1h\n keepttl\n }", "60"),
    ] {
        let f = fixture(directive);
        f.backend.set(
            "a.example.org.",
            rtype::A,
            positive(&["a.example.org. 60 IN A 127.0.0.1"]),
        );
        f.ask("a.example.org.", rtype::A);
        f.advance(120);
        let want: &'static str =
            Box::leak(format!("a.example.org. {ttl} IN A 127.0.0.1").into_boxed_str());
        check(
            &Case {
                qname: "a.example.org.",
                qtype: rtype::A,
                answer: vec![want],
                ..Case::default()
            },
            &f.ask("a.example.org.", rtype::A),
        );
    }
}

#[tokio::test]
async fn serve_stale_refreshes_in_background() {
    let f = fixture_in("stale.example", "cache {\n serve_stale\n }");
    f.backend.set(
        "a.stale.example.",
        rtype::A,
        positive(&["a.stale.example. 60 IN A 127.0.0.1"]),
    );
    f.run_async(&testing::request("a.stale.example.", rtype::A))
        .await;
    f.backend.set(
        "a.stale.example.",
        rtype::A,
        positive(&["a.stale.example. 60 IN A 127.0.0.2"]),
    );
    f.advance(100);
    let resp = f
        .run_async(&testing::request("a.stale.example.", rtype::A))
        .await;
    check(
        &Case {
            qname: "a.stale.example.",
            qtype: rtype::A,
            answer: vec!["a.stale.example. 0 IN A 127.0.0.1"],
            ..Case::default()
        },
        &resp,
    );
    wait_for(|| f.backend.calls() == 2).await;
    wait_for(|| {
        f.cache.pcache.len() == 1 && plain("coredns_cache_prefetch_total", "stale.example.") == 1
    })
    .await;
    let resp = f
        .run_async(&testing::request("a.stale.example.", rtype::A))
        .await;
    check(
        &Case {
            qname: "a.stale.example.",
            qtype: rtype::A,
            answer: vec!["a.stale.example. 60 IN A 127.0.0.2"],
            ..Case::default()
        },
        &resp,
    );
    assert_eq!(f.backend.calls(), 2);
    assert_eq!(
        plain("coredns_cache_served_stale_total", "stale.example."),
        1
    );
    assert_eq!(
        typed("coredns_cache_hits_total", "success", "stale.example."),
        2
    );
}

#[tokio::test]
async fn serve_stale_failed_refresh_keeps_entry() {
    let f = fixture("cache {\n serve_stale 1h immediate 0 30s\n }");
    f.backend.set(
        "a.example.org.",
        rtype::A,
        positive(&["a.example.org. 60 IN A 127.0.0.1"]),
    );
    f.run_async(&testing::request("a.example.org.", rtype::A))
        .await;
    f.backend
        .set("a.example.org.", rtype::A, negative(rcode::SERVFAIL, &[]));
    f.advance(100);
    let stale = Case {
        qname: "a.example.org.",
        qtype: rtype::A,
        answer: vec!["a.example.org. 0 IN A 127.0.0.1"],
        ..Case::default()
    };
    check(
        &stale,
        &f.run_async(&testing::request("a.example.org.", rtype::A))
            .await,
    );
    wait_for(|| f.backend.calls() == 2).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    // The failure is not cached over the stale entry, and the recheck delay holds off
    // another refresh.
    for _ in 0..3 {
        check(
            &stale,
            &f.run_async(&testing::request("a.example.org.", rtype::A))
                .await,
        );
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(f.backend.calls(), 2);
    f.advance(30);
    check(
        &stale,
        &f.run_async(&testing::request("a.example.org.", rtype::A))
            .await,
    );
    wait_for(|| f.backend.calls() == 3).await;
}

#[tokio::test]
async fn serve_stale_verify() {
    let f = fixture_in("verify.example", "cache {\n serve_stale 1h verify\n }");
    f.backend.async_only.store(true, Ordering::SeqCst);
    let q = testing::request("a.verify.example.", rtype::A);
    f.backend.set(
        "a.verify.example.",
        rtype::A,
        positive(&["a.verify.example. 120 IN A 127.0.0.1"]),
    );
    f.run_async(&q).await;
    let case = |ttl: &'static str| Case {
        qname: "a.verify.example.",
        qtype: rtype::A,
        answer: vec![ttl],
        ..Case::default()
    };
    // Fresh: answered on the sync path.
    f.advance(60);
    check(&case("a.verify.example. 60 IN A 127.0.0.1"), &f.run(&q));
    let requests = plain("coredns_cache_requests_total", "verify.example.");
    // Expired: the sync path gives up without a trace.
    f.advance(120);
    assert!(testing::run(&f.chain, &q).is_none());
    assert_eq!(
        plain("coredns_cache_requests_total", "verify.example."),
        requests
    );
    // Upstream fails: the stale entry, TTL 0.
    f.backend.set(
        "a.verify.example.",
        rtype::A,
        negative(rcode::SERVFAIL, &[]),
    );
    check(
        &case("a.verify.example. 0 IN A 127.0.0.1"),
        &f.run_async(&q).await,
    );
    assert_eq!(
        plain("coredns_cache_served_stale_total", "verify.example."),
        1
    );
    // Upstream fails outright: the same.
    f.backend.set(
        "a.verify.example.",
        rtype::A,
        Reply {
            fail: true,
            ..Reply::default()
        },
    );
    check(
        &case("a.verify.example. 0 IN A 127.0.0.1"),
        &f.run_async(&q).await,
    );
    // Upstream answers: its answer (capped TTL), and it is cached.
    f.backend.set(
        "a.verify.example.",
        rtype::A,
        positive(&["a.verify.example. 200 IN A 127.0.0.2"]),
    );
    check(
        &case("a.verify.example. 200 IN A 127.0.0.2"),
        &f.run_async(&q).await,
    );
    let calls = f.backend.calls();
    check(&case("a.verify.example. 200 IN A 127.0.0.2"), &f.run(&q));
    assert_eq!(f.backend.calls(), calls);
    // An NXDOMAIN is served too (it is a fresh answer).
    f.advance(300);
    f.backend.set(
        "a.verify.example.",
        rtype::A,
        negative(rcode::NXDOMAIN, &[SOA]),
    );
    let resp = f.run_async(&q).await;
    assert_eq!(resp.rcode(), rcode::NXDOMAIN);
}

#[tokio::test]
async fn serve_stale_verify_timeout() {
    let f = fixture("cache {\n serve_stale 1h verify 50ms 30s\n }");
    let q = testing::request("a.example.org.", rtype::A);
    f.backend.set(
        "a.example.org.",
        rtype::A,
        positive(&["a.example.org. 120 IN A 127.0.0.1"]),
    );
    f.run_async(&q).await;
    f.advance(180);
    // Fast upstream: its answer, from the cache entry it made (authoritative).
    f.backend.set(
        "a.example.org.",
        rtype::A,
        positive(&["a.example.org. 200 IN A 127.0.0.2"]),
    );
    let resp = f.run_async(&q).await;
    check(
        &Case {
            qname: "a.example.org.",
            qtype: rtype::A,
            answer: vec!["a.example.org. 200 IN A 127.0.0.2"],
            ..Case::default()
        },
        &resp,
    );
    assert_ne!(flags(&resp) & AA, 0);
}

#[tokio::test]
async fn serve_stale_verify_timeout_slow_upstream() {
    let f = fixture("cache {\n serve_stale 1h verify 50ms 30s\n }");
    f.backend.async_only.store(true, Ordering::SeqCst);
    let q = testing::request("a.example.org.", rtype::A);
    f.backend.set(
        "a.example.org.",
        rtype::A,
        positive(&["a.example.org. 120 IN A 127.0.0.1"]),
    );
    f.run_async(&q).await;
    f.advance(180);
    f.backend.set(
        "a.example.org.",
        rtype::A,
        positive(&["a.example.org. 60 IN A 127.0.0.2"]),
    );
    f.backend.delay_ms.store(200, Ordering::SeqCst);
    let start = std::time::Instant::now();
    let resp = f.run_async(&q).await;
    assert!(
        start.elapsed() < Duration::from_millis(180),
        "{:?}",
        start.elapsed()
    );
    let case = |rr: &'static str| Case {
        qname: "a.example.org.",
        qtype: rtype::A,
        answer: vec![rr],
        ..Case::default()
    };
    check(&case("a.example.org. 30 IN A 127.0.0.1"), &resp);
    // The verification goes on in the background and refreshes the entry.
    wait_for(|| {
        f.cache
            .pcache
            .get(key_of(&q))
            .is_some_and(|e| e.orig_ttl == 60)
    })
    .await;
    f.backend.delay_ms.store(0, Ordering::SeqCst);
    check(&case("a.example.org. 60 IN A 127.0.0.2"), &f.run(&q));
}

fn key_of(req: &OwnedRequest) -> u64 {
    crate::entry::key_hash(&req.request().unwrap().query)
}

#[tokio::test]
async fn prefetch_refreshes_popular_entries() {
    let f = fixture_in("prefetch.example", "cache {\n prefetch 2 1m 50%\n }");
    let q = testing::request("a.prefetch.example.", rtype::A);
    f.backend.set(
        "a.prefetch.example.",
        rtype::A,
        positive(&["a.prefetch.example. 10 IN A 127.0.0.1"]),
    );
    f.run_async(&q).await;
    f.backend.set(
        "a.prefetch.example.",
        rtype::A,
        positive(&["a.prefetch.example. 10 IN A 127.0.0.2"]),
    );
    // One hit with plenty of TTL left: no prefetch.
    f.advance(2);
    f.run_async(&q).await;
    // Second hit, TTL 4 <= 50% of 10: prefetch; the cached answer is served meanwhile.
    f.advance(4);
    let resp = f.run_async(&q).await;
    check(
        &Case {
            qname: "a.prefetch.example.",
            qtype: rtype::A,
            answer: vec!["a.prefetch.example. 4 IN A 127.0.0.1"],
            ..Case::default()
        },
        &resp,
    );
    wait_for(|| f.backend.calls() == 2).await;
    wait_for(|| plain("coredns_cache_prefetch_total", "prefetch.example.") == 1).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let resp = f.run_async(&q).await;
    check(
        &Case {
            qname: "a.prefetch.example.",
            qtype: rtype::A,
            answer: vec!["a.prefetch.example. 10 IN A 127.0.0.2"],
            ..Case::default()
        },
        &resp,
    );
    assert_eq!(f.backend.calls(), 2);
}

#[tokio::test]
async fn prefer_positive_keeps_last_good_answer() {
    let f = fixture("cache {\n serve_stale\n serve_stale_policy prefer_positive\n }");
    let q = testing::request("a.example.org.", rtype::A);
    f.backend.set(
        "a.example.org.",
        rtype::A,
        positive(&["a.example.org. 60 IN A 127.0.0.1"]),
    );
    f.run_async(&q).await;
    f.advance(100);
    f.backend.set(
        "a.example.org.",
        rtype::A,
        negative(rcode::NXDOMAIN, &[SOA]),
    );
    let stale = Case {
        qname: "a.example.org.",
        qtype: rtype::A,
        answer: vec!["a.example.org. 0 IN A 127.0.0.1"],
        ..Case::default()
    };
    check(&stale, &f.run_async(&q).await);
    wait_for(|| f.cache.ncache.len() == 1).await;
    // The refreshed NXDOMAIN is cached, but the stale positive answer still wins.
    check(&stale, &f.run_async(&q).await);
}
