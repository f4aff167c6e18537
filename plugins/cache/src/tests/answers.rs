//! Answering from the cache: hits, misses, TTLs, what is cached and what is not, keys,
//! eviction, metrics, allocation.

use super::*;

#[test]
fn hit_miss_and_ttl_decrement() {
    let f = fixture("cache");
    f.backend.set(
        "a.example.org.",
        rtype::A,
        positive(&["a.example.org. 300 IN A 127.0.0.1"]),
    );
    let case = |ttl: &'static str| Case {
        qname: "a.example.org.",
        qtype: rtype::A,
        rcode: rcode::NOERROR,
        answer: vec![ttl],
        ..Case::default()
    };
    // (seconds to advance, expected answer, backend calls so far)
    let steps: [(u64, &'static str, usize); 4] = [
        (0, "a.example.org. 300 IN A 127.0.0.1", 1),
        (0, "a.example.org. 300 IN A 127.0.0.1", 1),
        (10, "a.example.org. 290 IN A 127.0.0.1", 1),
        (289, "a.example.org. 1 IN A 127.0.0.1", 1),
    ];
    for (i, (advance, want, calls)) in steps.into_iter().enumerate() {
        f.advance(advance);
        let resp = f.ask("a.example.org.", rtype::A);
        check(&case(want), &resp);
        assert_eq!(f.backend.calls(), calls, "step {i}");
        assert_eq!(resp.id(), 4242);
        // Hits are marked authoritative, as CoreDNS marks them.
        assert_eq!(flags(&resp) & AA != 0, i > 0, "step {i}");
        assert_ne!(flags(&resp) & RA, 0);
    }
    // Expired: asked again.
    f.advance(1);
    check(
        &case("a.example.org. 300 IN A 127.0.0.1"),
        &f.ask("a.example.org.", rtype::A),
    );
    assert_eq!(f.backend.calls(), 2);
}

#[test]
fn ttls_capped_to_cache_duration() {
    struct T {
        directive: &'static str,
        reply: Vec<&'static str>,
        want: Vec<&'static str>,
    }
    let tests = [
        // The lowest TTL in the message, for every record.
        T {
            directive: "cache",
            reply: vec![
                "a.example.org. 60 IN A 127.0.0.1",
                "a.example.org. 30 IN A 127.0.0.2",
            ],
            want: vec![
                "a.example.org. 30 IN A 127.0.0.1",
                "a.example.org. 30 IN A 127.0.0.2",
            ],
        },
        // At most the maximum.
        T {
            directive: "cache",
            reply: vec!["a.example.org. 86400 IN A 127.0.0.1"],
            want: vec!["a.example.org. 3600 IN A 127.0.0.1"],
        },
        T {
            directive: "cache 10",
            reply: vec!["a.example.org. 60 IN A 127.0.0.1"],
            want: vec!["a.example.org. 10 IN A 127.0.0.1"],
        },
        T {
            directive: "cache {\n success 100 7200\n }",
            reply: vec!["a.example.org. 86400 IN A 127.0.0.1"],
            want: vec!["a.example.org. 7200 IN A 127.0.0.1"],
        },
        // At least the minimum.
        T {
            directive: "cache",
            reply: vec!["a.example.org. 1 IN A 127.0.0.1"],
            want: vec!["a.example.org. 5 IN A 127.0.0.1"],
        },
        T {
            directive: "cache {\n success 100 3600 30\n }",
            reply: vec!["a.example.org. 10 IN A 127.0.0.1"],
            want: vec!["a.example.org. 30 IN A 127.0.0.1"],
        },
    ];
    for t in tests {
        let f = fixture(t.directive);
        let reply: Vec<&'static str> = t.reply.clone();
        f.backend.set("a.example.org.", rtype::A, positive(&reply));
        let case = Case {
            qname: "a.example.org.",
            qtype: rtype::A,
            answer: t.want.clone(),
            ..Case::default()
        };
        check(&case, &f.ask("a.example.org.", rtype::A)); // miss
        check(&case, &f.ask("a.example.org.", rtype::A)); // hit
        assert_eq!(f.backend.calls(), 1, "{}", t.directive);
    }
}

#[test]
fn zero_minimum_and_zero_ttl_not_cached() {
    let f = fixture("cache {\n success 100 3600 0\n }");
    f.backend.set(
        "a.example.org.",
        rtype::A,
        positive(&["a.example.org. 0 IN A 127.0.0.1"]),
    );
    f.ask("a.example.org.", rtype::A);
    f.ask("a.example.org.", rtype::A);
    assert_eq!(f.backend.calls(), 2);
    assert_eq!(f.cache.pcache.len(), 0);
}

#[test]
fn denials() {
    struct T {
        directive: &'static str,
        reply: Reply,
        case: Case,
        cached: bool,
    }
    let nx_case = |soa: &'static str| Case {
        qname: "nx.example.org.",
        qtype: rtype::A,
        rcode: rcode::NXDOMAIN,
        ns: vec![soa],
        ..Case::default()
    };
    let tests = [
        // The denial TTL is the lowest record TTL (the SOA's), not the SOA MINIMUM field.
        T {
            directive: "cache",
            reply: negative(rcode::NXDOMAIN, &[SOA]),
            case: nx_case("example.org. 60 IN SOA sns.dns.icann.org. noc.dns.icann.org. 2016082540 7200 3600 1209600 3600"),
            cached: true,
        },
        T {
            directive: "cache {\n denial 100 30\n }",
            reply: negative(rcode::NXDOMAIN, &[SOA]),
            case: nx_case("example.org. 30 IN SOA sns.dns.icann.org. noc.dns.icann.org. 2016082540 7200 3600 1209600 3600"),
            cached: true,
        },
        T {
            directive: "cache {\n denial 100 1800 120\n }",
            reply: negative(rcode::NXDOMAIN, &[SOA]),
            case: nx_case("example.org. 120 IN SOA sns.dns.icann.org. noc.dns.icann.org. 2016082540 7200 3600 1209600 3600"),
            cached: true,
        },
        // NXDOMAIN without SOA is not cached.
        T {
            directive: "cache",
            reply: negative(rcode::NXDOMAIN, &[]),
            case: Case { qname: "nx.example.org.", qtype: rtype::A, rcode: rcode::NXDOMAIN, ..Case::default() },
            cached: false,
        },
        // NODATA.
        T {
            directive: "cache",
            reply: negative(rcode::NOERROR, &[SOA]),
            case: Case {
                qname: "nx.example.org.",
                qtype: rtype::A,
                ns: vec!["example.org. 60 IN SOA sns.dns.icann.org. noc.dns.icann.org. 2016082540 7200 3600 1209600 3600"],
                ..Case::default()
            },
            cached: true,
        },
        // SERVFAIL: 5s by default, never with `servfail 0`.
        T {
            directive: "cache",
            reply: negative(rcode::SERVFAIL, &[]),
            case: Case { qname: "nx.example.org.", qtype: rtype::A, rcode: rcode::SERVFAIL, ..Case::default() },
            cached: true,
        },
        T {
            directive: "cache {\n servfail 0\n }",
            reply: negative(rcode::SERVFAIL, &[]),
            case: Case { qname: "nx.example.org.", qtype: rtype::A, rcode: rcode::SERVFAIL, ..Case::default() },
            cached: false,
        },
        // Other errors never.
        T {
            directive: "cache",
            reply: negative(rcode::REFUSED, &[]),
            case: Case { qname: "nx.example.org.", qtype: rtype::A, rcode: rcode::REFUSED, ..Case::default() },
            cached: false,
        },
        // Nor failures of the chain itself.
        T {
            directive: "cache",
            reply: Reply { fail: true, ..Reply::default() },
            case: Case { qname: "nx.example.org.", qtype: rtype::A, rcode: rcode::SERVFAIL, ..Case::default() },
            cached: false,
        },
    ];
    for t in tests {
        let f = fixture(t.directive);
        f.backend.set("nx.example.org.", rtype::A, t.reply.clone());
        check(&t.case, &f.ask("nx.example.org.", rtype::A));
        check(&t.case, &f.ask("nx.example.org.", rtype::A));
        let want_calls = if t.cached { 1 } else { 2 };
        assert_eq!(
            f.backend.calls(),
            want_calls,
            "{} {:?}",
            t.directive,
            t.reply
        );
    }
}

#[test]
fn servfail_expires_after_its_duration() {
    let f = fixture("cache {\n servfail 2s\n }");
    f.backend
        .set("a.example.org.", rtype::A, negative(rcode::SERVFAIL, &[]));
    f.ask("a.example.org.", rtype::A);
    f.ask("a.example.org.", rtype::A);
    assert_eq!(f.backend.calls(), 1);
    f.advance(2);
    f.ask("a.example.org.", rtype::A);
    assert_eq!(f.backend.calls(), 2);
}

#[test]
fn truncated_not_cached() {
    let f = fixture("cache");
    let reply = Reply {
        truncated: true,
        ..positive(&["a.example.org. 300 IN A 127.0.0.1"])
    };
    f.backend.set("a.example.org.", rtype::A, reply);
    f.ask("a.example.org.", rtype::A);
    f.ask("a.example.org.", rtype::A);
    assert_eq!(f.backend.calls(), 2);
}

#[test]
fn disable_zones() {
    struct T {
        directive: &'static str,
        qname: &'static str,
        reply: Reply,
        cached: bool,
    }
    let pos = |n: &'static str| positive(&[n]);
    let tests = [
        T {
            directive: "cache {\n disable success pos.example.org\n }",
            qname: "a.pos.example.org.",
            reply: pos("a.pos.example.org. 300 IN A 127.0.0.1"),
            cached: false,
        },
        T {
            directive: "cache {\n disable success pos.example.org\n }",
            qname: "a.pos.example.org.",
            reply: negative(rcode::NXDOMAIN, &[SOA]),
            cached: true,
        },
        T {
            directive: "cache {\n disable success pos.example.org\n }",
            qname: "a.other.example.org.",
            reply: pos("a.other.example.org. 300 IN A 127.0.0.1"),
            cached: true,
        },
        T {
            directive: "cache {\n disable denial neg.example.org\n }",
            qname: "a.neg.example.org.",
            reply: negative(rcode::NXDOMAIN, &[SOA]),
            cached: false,
        },
        T {
            directive: "cache {\n disable denial neg.example.org\n }",
            qname: "a.neg.example.org.",
            reply: pos("a.neg.example.org. 300 IN A 127.0.0.1"),
            cached: true,
        },
        T {
            directive: "cache {\n disable denial\n }",
            qname: "a.example.net.",
            reply: negative(rcode::SERVFAIL, &[]),
            cached: false,
        },
        T {
            directive: "cache {\n disable success\n }",
            qname: "a.example.net.",
            reply: pos("a.example.net. 300 IN A 127.0.0.1"),
            cached: false,
        },
    ];
    for t in tests {
        let f = fixture(t.directive);
        f.backend.set(t.qname, rtype::A, t.reply.clone());
        f.ask(t.qname, rtype::A);
        f.ask(t.qname, rtype::A);
        let want = if t.cached { 1 } else { 2 };
        assert_eq!(f.backend.calls(), want, "{} {}", t.directive, t.qname);
    }
}

#[test]
fn only_names_in_the_cache_zones() {
    let f = fixture("cache example.org");
    f.backend.set(
        "a.example.org.",
        rtype::A,
        positive(&["a.example.org. 300 IN A 127.0.0.1"]),
    );
    f.backend.set(
        "a.example.net.",
        rtype::A,
        positive(&["a.example.net. 300 IN A 127.0.0.1"]),
    );
    for _ in 0..2 {
        f.ask("a.example.org.", rtype::A);
        let resp = f.ask("a.example.net.", rtype::A);
        // Untouched: the backend's TTL, no AA.
        check(
            &Case {
                qname: "a.example.net.",
                qtype: rtype::A,
                answer: vec!["a.example.net. 300 IN A 127.0.0.1"],
                ..Case::default()
            },
            &resp,
        );
    }
    assert_eq!(f.backend.calls(), 3);
}

#[test]
fn keyed_by_do_and_cd_bits_not_case() {
    let f = fixture("cache");
    f.backend.set(
        "a.example.org.",
        rtype::A,
        positive(&["a.example.org. 300 IN A 127.0.0.1"]),
    );
    let plain_q = testing::request("a.example.org.", rtype::A);
    let do_q = with_do(testing::request("a.example.org.", rtype::A));
    let cd_q = with_header_bits(testing::request("a.example.org.", rtype::A), 0x10);
    let upper_q = testing::request("A.EXAMPLE.ORG.", rtype::A);
    for (i, (req, calls)) in [
        (&plain_q, 1),
        (&do_q, 2),
        (&cd_q, 3),
        (&plain_q, 3),
        (&do_q, 3),
        (&cd_q, 3),
        (&upper_q, 3),
    ]
    .into_iter()
    .enumerate()
    {
        let resp = f.run(req);
        assert_eq!(f.backend.calls(), calls, "step {i}");
        // CD is echoed from the query.
        assert_eq!(
            flags(&resp) & 0x0010 != 0,
            std::ptr::eq(req, &cd_q),
            "step {i}"
        );
    }
    // Different types are different entries.
    f.ask("a.example.org.", rtype::AAAA);
    assert_eq!(f.backend.calls(), 4);
}

#[test]
fn question_case_preserved_on_hit() {
    let f = fixture("cache");
    f.backend.set(
        "a.example.org.",
        rtype::A,
        positive(&["a.example.org. 300 IN A 127.0.0.1"]),
    );
    f.ask("a.example.org.", rtype::A);
    let req = testing::request("A.eXaMpLe.OrG.", rtype::A);
    let resp = f.run(&req);
    assert_eq!(f.backend.calls(), 1);
    let q_end = 12 + Name::from_text("a.example.org.").unwrap().len() + 4;
    assert_eq!(&resp.bytes()[12..q_end], &req.packet[12..q_end]);
    assert_eq!(&resp.bytes()[13..14], b"A");
}

#[test]
fn authenticated_data_bit() {
    let f = fixture("cache");
    let reply = Reply {
        ad: true,
        ..positive(&["a.example.org. 300 IN A 127.0.0.1"])
    };
    f.backend.set("a.example.org.", rtype::A, reply.clone());
    f.backend.set("b.example.org.", rtype::A, reply);
    // Neither DO nor AD: AD cleared, on the miss and on the hit.
    for _ in 0..2 {
        assert_eq!(flags(&f.ask("a.example.org.", rtype::A)) & AD, 0);
    }
    // AD in the query: kept (same entry, the AD bit does not split the cache).
    let ad_q = with_header_bits(testing::request("a.example.org.", rtype::A), 0x20);
    assert_ne!(flags(&f.run(&ad_q)) & AD, 0);
    assert_eq!(f.backend.calls(), 1);
    // DO: kept.
    let do_q = with_do(testing::request("b.example.org.", rtype::A));
    for _ in 0..2 {
        assert_ne!(flags(&f.run(&do_q)) & AD, 0);
    }
}

#[test]
fn capacity_eviction() {
    let f = fixture_in("evict.example", "cache {\n success 0\n }");
    assert_eq!(f.cache.pcache.per_shard(), 4);
    let names: Vec<String> = (0..1500).map(|i| format!("n{i}.evict.example.")).collect();
    let names: Vec<&'static str> = names
        .into_iter()
        .map(|n| &*Box::leak(n.into_boxed_str()))
        .collect();
    for n in &names {
        let rr: &'static str = Box::leak(format!("{n} 300 IN A 127.0.0.1").into_boxed_str());
        f.backend.set(n, rtype::A, positive(&[rr]));
        f.ask(n, rtype::A);
    }
    let len = f.cache.pcache.len();
    assert!(len <= 1024, "{len}");
    let evicted = typed("coredns_cache_evictions_total", "success", "evict.example.");
    assert_eq!(evicted as usize, 1500 - len);
    let gauge = registry()
        .gauge_vec(
            "coredns_cache_entries",
            "",
            &["server", "type", "zones", "view"],
        )
        .with(&["dns://:53", "success", "evict.example.", ""])
        .get();
    assert_eq!(gauge as usize, len);
    // Something evicted is asked again; something kept is not.
    let calls = f.backend.calls();
    let (mut hits, mut misses) = (0, 0);
    for n in &names {
        f.ask(n, rtype::A);
        if f.backend.calls() > calls + misses {
            misses += 1;
        } else {
            hits += 1;
        }
    }
    assert!(hits > 0 && misses > 0, "{hits} {misses}");
}

#[test]
fn keepttl() {
    let f = fixture("cache {\n keepttl\n }");
    f.backend.set(
        "a.example.org.",
        rtype::A,
        positive(&["a.example.org. 60 IN A 127.0.0.1"]),
    );
    let case = Case {
        qname: "a.example.org.",
        qtype: rtype::A,
        answer: vec!["a.example.org. 60 IN A 127.0.0.1"],
        ..Case::default()
    };
    for advance in [0, 0, 30] {
        f.advance(advance);
        check(&case, &f.ask("a.example.org.", rtype::A));
    }
    assert_eq!(f.backend.calls(), 1);
}

#[tokio::test]
async fn async_path_counts_once() {
    let f = fixture_in("once.example", "cache");
    f.backend.async_only.store(true, Ordering::SeqCst);
    let q = testing::request("a.once.example.", rtype::A);
    f.backend.set(
        "a.once.example.",
        rtype::A,
        positive(&["a.once.example. 300 IN A 127.0.0.1"]),
    );
    assert!(testing::run(&f.chain, &q).is_none());
    assert_eq!(plain("coredns_cache_requests_total", "once.example."), 0);
    f.run_async(&q).await;
    f.run_async(&q).await;
    assert_eq!(f.backend.calls(), 1);
    assert_eq!(plain("coredns_cache_requests_total", "once.example."), 2);
    assert_eq!(plain("coredns_cache_misses_total", "once.example."), 1);
    assert_eq!(
        typed("coredns_cache_hits_total", "success", "once.example."),
        1
    );
}

#[test]
fn mismatched_question_dropped() {
    /// Answers a different question than asked.
    struct Liar;
    impl Plugin for Liar {
        fn name(&self) -> &'static str {
            "liar"
        }
        fn serve(&self, _: &Request<'_>, resp: &mut Response, _: Next<'_>) -> Step {
            let other = testing::request("other.drops.example.", rtype::A);
            let r = other.request().unwrap();
            resp.start(&r.query, rcode::NOERROR);
            "other.drops.example. 60 IN A 127.0.0.1"
                .parse::<Record>()
                .unwrap()
                .write(resp, Section::Answer);
            Step::Answered
        }
    }
    fn liar_setup(ctx: &mut SetupContext<'_>, _: &[Directive]) -> Result<(), Error> {
        ctx.add_plugin(Arc::new(Liar));
        Ok(())
    }
    let def = PluginDef {
        name: "liar",
        setup: liar_setup,
    };
    let (chain, _) =
        testing::setup(&[crate::PLUGIN, def], "drops.example {\n cache\n liar\n}\n").unwrap();
    testing::run(&chain, &testing::request("a.drops.example.", rtype::A)).unwrap();
    assert_eq!(plain("coredns_cache_drops_total", "drops.example."), 1);
}

#[test]
fn metrics_exposition() {
    let f = fixture_in("expo.example", "cache");
    f.backend.set(
        "a.expo.example.",
        rtype::A,
        positive(&["a.expo.example. 300 IN A 127.0.0.1"]),
    );
    f.backend.set(
        "b.expo.example.",
        rtype::A,
        negative(rcode::NXDOMAIN, &[SOA]),
    );
    for _ in 0..2 {
        f.ask("a.expo.example.", rtype::A);
        f.ask("b.expo.example.", rtype::A);
    }
    let text = registry().render();
    for line in [
        "coredns_cache_requests_total{server=\"dns://:53\",view=\"\",zones=\"expo.example.\"} 4",
        "coredns_cache_misses_total{server=\"dns://:53\",view=\"\",zones=\"expo.example.\"} 2",
        "coredns_cache_hits_total{server=\"dns://:53\",type=\"success\",view=\"\",zones=\"expo.example.\"} 1",
        "coredns_cache_hits_total{server=\"dns://:53\",type=\"denial\",view=\"\",zones=\"expo.example.\"} 1",
        "coredns_cache_entries{server=\"dns://:53\",type=\"success\",view=\"\",zones=\"expo.example.\"} 1",
        "coredns_cache_entries{server=\"dns://:53\",type=\"denial\",view=\"\",zones=\"expo.example.\"} 1",
        "# HELP coredns_cache_hits_total The count of cache hits.",
        "# TYPE coredns_cache_entries gauge",
    ] {
        assert!(text.contains(line), "missing {line}");
    }
    // Series that never counted are not exported.
    assert!(!text.contains("coredns_cache_evictions_total{server=\"dns://:53\",type=\"success\",view=\"\",zones=\"expo.example.\"}"));
}

#[test]
fn hit_does_not_allocate() {
    let f = fixture("cache");
    f.backend.set(
        "a.example.org.",
        rtype::A,
        positive(&[
            "a.example.org. 300 IN A 127.0.0.1",
            "a.example.org. 300 IN A 127.0.0.2",
        ]),
    );
    let owned = testing::request("a.example.org.", rtype::A);
    let req = owned.request().unwrap();
    let mut resp = Response::new();
    // Miss, then a first hit (which resolves the metric series).
    f.chain.start().run(&req, &mut resp).unwrap();
    f.chain.start().run(&req, &mut resp).unwrap();
    let before = allocations();
    for _ in 0..10 {
        let outcome = f.chain.start().run(&req, &mut resp).unwrap();
        assert_eq!(outcome.plugin, "cache");
    }
    assert_eq!(allocations() - before, 0);
    assert_eq!(f.backend.calls(), 1);
}
