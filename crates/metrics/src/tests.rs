use super::*;
use std::thread;

const REQ_HELP: &str = "Counter of DNS requests made per zone, protocol and family.";
const REQ_LABELS: &[&str] = &["server", "zone", "view", "proto", "family", "type"];

#[test]
fn counter_vec_two_series_exact_text() {
    let reg = Registry::new();
    let v = reg.counter_vec("coredns_dns_requests_total", REQ_HELP, REQ_LABELS);
    let udp = v.with(&["dns://:53", ".", "", "udp", "1", "A"]);
    let tcp = v.with(&["dns://:53", ".", "", "tcp", "1", "A"]);
    udp.inc();
    udp.add(2);
    tcp.inc();
    assert_eq!(udp.get(), 3);
    assert_eq!(
        reg.render(),
        "# HELP coredns_dns_requests_total Counter of DNS requests made per zone, protocol and family.\n\
         # TYPE coredns_dns_requests_total counter\n\
         coredns_dns_requests_total{family=\"1\",proto=\"tcp\",server=\"dns://:53\",type=\"A\",view=\"\",zone=\".\"} 1\n\
         coredns_dns_requests_total{family=\"1\",proto=\"udp\",server=\"dns://:53\",type=\"A\",view=\"\",zone=\".\"} 3\n"
    );
}

#[test]
fn histogram_cumulative_buckets_sum_count() {
    let reg = Registry::new();
    let h = reg.histogram(
        "test_duration_seconds",
        "A test histogram.",
        &[0.5, 0.00025, 1.0],
    );
    h.observe(0.0001); // le 0.00025
    h.observe(0.00025); // le 0.00025 (inclusive)
    h.observe(0.3); // le 0.5
    h.observe(2.0); // +Inf only
    assert_eq!(h.count(), 4);
    assert!((h.sum() - 2.30035).abs() < 1e-12);
    h.observe(0.25);
    let text = reg.render();
    let sum = format_float(h.sum());
    assert_eq!(
        text,
        format!(
            "# HELP test_duration_seconds A test histogram.\n\
             # TYPE test_duration_seconds histogram\n\
             test_duration_seconds_bucket{{le=\"0.00025\"}} 2\n\
             test_duration_seconds_bucket{{le=\"0.5\"}} 4\n\
             test_duration_seconds_bucket{{le=\"1\"}} 4\n\
             test_duration_seconds_bucket{{le=\"+Inf\"}} 5\n\
             test_duration_seconds_sum {sum}\n\
             test_duration_seconds_count 5\n"
        )
    );
}

#[test]
fn histogram_vec_labels_before_le() {
    let reg = Registry::new();
    let v = reg.histogram_vec(
        "coredns_dns_request_size_bytes",
        "Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.",
        &["server", "zone", "view", "proto"],
        &[100.0, 1e-5],
    );
    v.with(&["dns://:53", ".", "", "udp"]).observe(42.0);
    assert_eq!(
        reg.render(),
        "# HELP coredns_dns_request_size_bytes Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.\n\
         # TYPE coredns_dns_request_size_bytes histogram\n\
         coredns_dns_request_size_bytes_bucket{proto=\"udp\",server=\"dns://:53\",view=\"\",zone=\".\",le=\"1e-05\"} 0\n\
         coredns_dns_request_size_bytes_bucket{proto=\"udp\",server=\"dns://:53\",view=\"\",zone=\".\",le=\"100\"} 1\n\
         coredns_dns_request_size_bytes_bucket{proto=\"udp\",server=\"dns://:53\",view=\"\",zone=\".\",le=\"+Inf\"} 1\n\
         coredns_dns_request_size_bytes_sum{proto=\"udp\",server=\"dns://:53\",view=\"\",zone=\".\"} 42\n\
         coredns_dns_request_size_bytes_count{proto=\"udp\",server=\"dns://:53\",view=\"\",zone=\".\"} 1\n"
    );
}

#[test]
fn label_values_are_escaped() {
    let reg = Registry::new();
    let v = reg.gauge_vec("test_gauge", "Help with \\ and\nnewline.", &["name"]);
    v.with(&["back\\slash \"quoted\"\nnext"]).set(1.5);
    assert_eq!(
        reg.render(),
        "# HELP test_gauge Help with \\\\ and\\nnewline.\n\
         # TYPE test_gauge gauge\n\
         test_gauge{name=\"back\\\\slash \\\"quoted\\\"\\nnext\"} 1.5\n"
    );
}

#[test]
fn get_or_create_returns_same_arc() {
    let reg = Registry::new();
    let a = reg.counter("c_total", "c");
    let b = reg.counter("c_total", "other help is ignored");
    assert!(Arc::ptr_eq(&a, &b));

    let va = reg.counter_vec("cv_total", "cv", &["a", "b"]);
    let vb = reg.counter_vec("cv_total", "cv", &["a", "b"]);
    assert!(Arc::ptr_eq(&va, &vb));
    assert!(Arc::ptr_eq(&va.with(&["x", "y"]), &vb.with(&["x", "y"])));
    assert!(!Arc::ptr_eq(&va.with(&["x", "y"]), &va.with(&["y", "x"])));

    let ga = reg.gauge("g", "g");
    assert!(Arc::ptr_eq(&ga, &reg.gauge("g", "g")));
    let gv = reg.gauge_vec("gv", "gv", &["l"]);
    assert!(Arc::ptr_eq(&gv, &reg.gauge_vec("gv", "gv", &["l"])));

    let buckets = time_buckets();
    let h = reg.histogram("h", "h", &buckets);
    assert!(Arc::ptr_eq(&h, &reg.histogram("h", "h", &buckets)));
    let hv = reg.histogram_vec("hv", "hv", &["l"], &buckets);
    assert!(Arc::ptr_eq(
        &hv,
        &reg.histogram_vec("hv", "hv", &["l"], &buckets)
    ));
    assert!(Arc::ptr_eq(&hv.with(&["1"]), &hv.with(&["1"])));

    // Series survive a "reload": re-registering returns the same values.
    va.with(&["x", "y"]).inc();
    let again = reg.counter_vec("cv_total", "cv", &["a", "b"]);
    assert_eq!(again.with(&["x", "y"]).get(), 1);
}

#[test]
fn global_registry_is_one_instance() {
    assert!(std::ptr::eq(registry(), registry()));
    let a = registry().counter("signpost_metrics_selftest_total", "test");
    let b = registry().counter("signpost_metrics_selftest_total", "test");
    assert!(Arc::ptr_eq(&a, &b));
}

#[test]
fn incompatible_registration_is_detached() {
    let reg = Registry::new();
    let c = reg.counter("m", "m");
    c.inc();
    // Different kind.
    let g = reg.gauge("m", "m");
    g.set(42.0);
    // Different labels.
    let v1 = reg.counter_vec("v", "v", &["a"]);
    v1.with(&["1"]).inc();
    let v2 = reg.counter_vec("v", "v", &["b"]);
    v2.with(&["2"]).add(10);
    // Different buckets.
    let h1 = reg.histogram("h", "h", &[1.0]);
    let h2 = reg.histogram("h", "h", &[2.0]);
    assert!(!Arc::ptr_eq(&h1, &h2));
    // Invalid names.
    reg.counter("bad name", "x").inc();
    reg.counter_vec("ok_total", "x", &["bad-label"])
        .with(&["1"])
        .inc();
    reg.histogram_vec("ok_hist", "x", &["le"], &[1.0])
        .with(&["1"])
        .observe(1.0);

    assert_eq!(g.get(), 42.0, "detached metrics still work");
    let text = reg.render();
    assert!(text.contains("\nm 1\n"), "{text}");
    assert!(!text.contains("42"), "{text}");
    assert!(text.contains("v{a=\"1\"} 1\n"), "{text}");
    assert!(!text.contains("b=\"2\""), "{text}");
    assert!(text.contains("h_bucket{le=\"1\"}"), "{text}");
    assert!(!text.contains("h_bucket{le=\"2\"}"), "{text}");
    assert!(!text.contains("bad"), "{text}");
    assert!(!text.contains("ok_"), "{text}");
}

#[test]
fn wrong_label_count_is_detached() {
    let reg = Registry::new();
    let v = reg.counter_vec("x_total", "x", &["a", "b"]);
    v.with(&["only-one"]).inc();
    v.with(&["1", "2", "3"]).inc();
    assert!(v.is_empty());
    assert_eq!(reg.render(), "");
}

#[test]
fn concurrent_increments_sum_correctly() {
    let reg = Registry::new();
    let v = reg.counter_vec("conc_total", "c", &["t"]);
    let h = reg.histogram("conc_hist", "h", &[0.5]);
    let g = reg.gauge("conc_gauge", "g");
    let threads = 8;
    let per = 10_000u64;
    thread::scope(|s| {
        for _ in 0..threads {
            let c = v.with(&["shared"]);
            let h = Arc::clone(&h);
            let g = Arc::clone(&g);
            s.spawn(move || {
                for i in 0..per {
                    c.inc();
                    h.observe(if i % 2 == 0 { 0.25 } else { 1.0 });
                    g.add(0.5);
                }
            });
        }
    });
    let total = threads as u64 * per;
    assert_eq!(v.with(&["shared"]).get(), total);
    assert_eq!(v.len(), 1);
    assert_eq!(h.count(), total);
    assert_eq!(h.sum(), total as f64 / 2.0 * 1.25);
    assert_eq!(
        h.cumulative_buckets(),
        vec![(0.5, total / 2), (f64::INFINITY, total)]
    );
    assert_eq!(g.get(), total as f64 * 0.5);
}

#[test]
fn gauge_set_get() {
    let reg = Registry::new();
    let g = reg.gauge(
        "coredns_cache_entries",
        "The number of elements in the cache.",
    );
    assert_eq!(g.get(), 0.0);
    g.set(3.5);
    assert_eq!(g.get(), 3.5);
    g.inc();
    g.add(0.25);
    g.dec();
    g.add(-1.0);
    assert_eq!(g.get(), 2.75);
    g.set(-0.5);
    assert_eq!(g.get(), -0.5);
    assert_eq!(
        reg.render(),
        "# HELP coredns_cache_entries The number of elements in the cache.\n\
         # TYPE coredns_cache_entries gauge\n\
         coredns_cache_entries -0.5\n"
    );
}

#[test]
fn gauge_vec_remove_and_clear() {
    let reg = Registry::new();
    let v = reg.gauge_vec("gv", "gv", &["zone"]);
    let a = v.with(&["a."]);
    a.set(1.0);
    v.with(&["b."]).set(2.0);
    v.remove(&["a."]);
    v.remove(&["missing."]);
    assert_eq!(v.len(), 1);
    let text = reg.render();
    assert!(!text.contains("a."), "{text}");
    assert!(text.contains("gv{zone=\"b.\"} 2\n"), "{text}");
    // A removed series comes back fresh.
    assert!(!Arc::ptr_eq(&a, &v.with(&["a."])));
    assert_eq!(v.with(&["a."]).get(), 0.0);
    v.clear();
    assert!(v.is_empty());
    // Empty labelled families are not exposed at all (like the Go client).
    assert_eq!(reg.render(), "");
}

#[test]
fn families_sorted_and_series_sorted() {
    let reg = Registry::new();
    reg.gauge("zzz", "z").set(1.0);
    let v = reg.counter_vec("mmm_total", "m", &["b", "a"]);
    v.with(&["2", "x"]).inc();
    v.with(&["1", "y"]).inc();
    v.with(&["1", "x"]).inc();
    reg.counter("aaa_total", "a");
    let text = reg.render();
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        lines,
        vec![
            "aaa_total 0",
            "mmm_total{a=\"x\",b=\"1\"} 1",
            "mmm_total{a=\"x\",b=\"2\"} 1",
            "mmm_total{a=\"y\",b=\"1\"} 1",
            "zzz 1",
        ]
    );
}

#[test]
fn collectors_render_in_name_order_and_replace() {
    let reg = Registry::new();
    reg.counter("b_total", "b");
    reg.register_collector(
        "coredns_build_info",
        Box::new(|out: &mut String| {
            text::write_header(
                out,
                "coredns_build_info",
                "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.",
                "gauge",
            );
            text::write_sample(
                out,
                "coredns_build_info",
                &[("version", "1.0"), ("revision", "r1"), ("goversion", "none")],
                1.0,
            );
        }),
    );
    reg.register_collector(
        "a_info",
        Box::new(|out: &mut String| out.push_str("# TYPE a_info gauge\na_info 1")),
    );
    let text = reg.render();
    assert_eq!(
        text,
        "# TYPE a_info gauge\na_info 1\n\
         # HELP b_total b\n# TYPE b_total counter\nb_total 0\n\
         # HELP coredns_build_info A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.\n\
         # TYPE coredns_build_info gauge\n\
         coredns_build_info{goversion=\"none\",revision=\"r1\",version=\"1.0\"} 1\n"
    );
    // Replacing a collector; a collector cannot take over a metric's name.
    reg.register_collector(
        "a_info",
        Box::new(|out: &mut String| out.push_str("a_info 2\n")),
    );
    reg.register_collector(
        "b_total",
        Box::new(|out: &mut String| out.push_str("hijack\n")),
    );
    let text = reg.render();
    assert!(text.starts_with("a_info 2\n# HELP b_total"), "{text}");
    assert!(!text.contains("hijack"), "{text}");
    // A metric cannot take over a collector's name either.
    reg.gauge("a_info", "x").set(5.0);
    assert!(!reg.render().contains("a_info 5"));
    assert!(reg.unregister("a_info"));
    assert!(!reg.unregister("a_info"));
    assert!(!reg.render().contains("a_info"));
}

#[test]
fn bucket_helpers() {
    let tb = time_buckets();
    assert_eq!(tb.len(), 16);
    assert_eq!(tb[0], 0.00025);
    assert_eq!(tb[15], 8.192);
    let rendered: Vec<String> = tb.iter().map(|v| format_float(*v)).collect();
    assert_eq!(
        rendered.join(" "),
        "0.00025 0.0005 0.001 0.002 0.004 0.008 0.016 0.032 0.064 0.128 0.256 0.512 1.024 2.048 4.096 8.192"
    );
    assert_eq!(
        size_buckets(),
        vec![
            0.0, 100.0, 200.0, 300.0, 400.0, 511.0, 1023.0, 2047.0, 4095.0, 8291.0, 16000.0,
            32000.0, 48000.0, 64000.0
        ]
    );
    assert_eq!(exponential_buckets(1.0, 10.0, 3), vec![1.0, 10.0, 100.0]);
    assert!(exponential_buckets(0.0, 2.0, 3).is_empty());
    assert!(exponential_buckets(1.0, 1.0, 3).is_empty());
    assert_eq!(linear_buckets(1.0, 2.0, 3), vec![1.0, 3.0, 5.0]);
    // +Inf and NaN bounds are dropped, the rest sorted and de-duplicated.
    let h = Histogram::new(&[2.0, f64::NAN, 1.0, 2.0, f64::INFINITY]);
    assert_eq!(h.bounds(), &[1.0, 2.0]);
    h.observe(f64::NAN);
    assert_eq!(h.cumulative_buckets().last(), Some(&(f64::INFINITY, 1)));
}

#[test]
fn large_counter_values_formatted_like_go() {
    let reg = Registry::new();
    reg.counter("big_total", "b").add(1_234_567);
    assert!(reg.render().ends_with("big_total 1.234567e+06\n"));
}

fn format_float(v: f64) -> String {
    text::format_float(v)
}
