//! Parse tests: every option, every error with its exact text and line.

use signpost_corefile::parse;
use signpost_plugin::testing;
use signpost_wire::Name;

use super::*;

/// Parse `body` as the inside of a `. { ... }` block (the first body line is line 2).
fn config(body: &str) -> Result<Config, String> {
    config_in(".", body)
}

fn config_in(key: &str, body: &str) -> Result<Config, String> {
    let text = format!("{key} {{\n{body}\n}}\n");
    let blocks = parse("Corefile", &text).map_err(|e| e.to_string())?;
    let block = &blocks[0];
    let zone = Name::from_text(key.split(':').next().unwrap_or(".")).unwrap();
    let d = block
        .directives
        .iter()
        .find(|d| d.name() == "cache")
        .expect("a cache directive");
    Config::parse(d, &[zone]).map_err(|e| e.to_string())
}

fn names(list: &[&str]) -> Vec<Name> {
    list.iter().map(|n| Name::from_text(n).unwrap()).collect()
}

fn zones(c: &Config) -> Vec<String> {
    c.zones.names().iter().map(Name::to_string).collect()
}

#[test]
fn defaults() {
    let c = config("cache").unwrap();
    assert_eq!(c, Config::new(Zones::new(names(&["."]))));
    assert_eq!(zones(&c), ["."]);
    assert_eq!((c.pcap, c.ncap), (10000, 10000));
    assert_eq!((c.pttl, c.nttl), (3600 * SECOND, 1800 * SECOND));
    assert_eq!(
        (c.minpttl, c.minnttl, c.failttl),
        (5 * SECOND, 5 * SECOND, 5 * SECOND)
    );
    assert_eq!((c.prefetch, c.duration, c.percentage), (0, 60 * SECOND, 10));
    assert_eq!(c.stale_up_to, 0);
    assert!(!c.keepttl && !c.verify_stale && !c.prefer_positive);
    assert_eq!(config("cache {\n}").unwrap(), c);
    // The block's zones when none are given.
    let c = config_in("example.org:1053", "cache").unwrap();
    assert_eq!(zones(&c), ["example.org."]);
    assert_eq!(c.zones_label, "example.org.");
}

#[test]
fn capacities_and_ttls() {
    struct T {
        body: &'static str,
        pcap: i64,
        ncap: i64,
        pttl: i64,
        minpttl: i64,
        nttl: i64,
        minnttl: i64,
        zones: &'static [&'static str],
    }
    let tests = [
        T {
            body: "cache example.nl {\nsuccess 10\n}",
            pcap: 10,
            ncap: 10000,
            pttl: 3600,
            minpttl: 5,
            nttl: 1800,
            minnttl: 5,
            zones: &["example.nl."],
        },
        T {
            body: "cache example.nl {\nsuccess 10 1800 30\n}",
            pcap: 10,
            ncap: 10000,
            pttl: 1800,
            minpttl: 30,
            nttl: 1800,
            minnttl: 5,
            zones: &["example.nl."],
        },
        T {
            body: "cache example.nl {\nsuccess 10\ndenial 10 15\n}",
            pcap: 10,
            ncap: 10,
            pttl: 3600,
            minpttl: 5,
            nttl: 15,
            minnttl: 5,
            zones: &["example.nl."],
        },
        T {
            body: "cache example.nl {\nsuccess 10\ndenial 10 15 2\n}",
            pcap: 10,
            ncap: 10,
            pttl: 3600,
            minpttl: 5,
            nttl: 15,
            minnttl: 2,
            zones: &["example.nl."],
        },
        T {
            body: "cache 25 example.nl {\nsuccess 10\ndenial 10 15\n}",
            pcap: 10,
            ncap: 10,
            pttl: 25,
            minpttl: 5,
            nttl: 15,
            minnttl: 5,
            zones: &["example.nl."],
        },
        T {
            body: "cache 25 example.nl {\nsuccess 10 30 0 ignored\n}",
            pcap: 10,
            ncap: 10000,
            pttl: 30,
            minpttl: 0,
            nttl: 25,
            minnttl: 5,
            zones: &["example.nl."],
        },
        // A first argument that is not a number is a zone.
        T {
            body: "cache aaa example.nl",
            pcap: 10000,
            ncap: 10000,
            pttl: 3600,
            minpttl: 5,
            nttl: 1800,
            minnttl: 5,
            zones: &["aaa.", "example.nl."],
        },
        T {
            body: "cache 7200 10.0.0.0/24",
            pcap: 10000,
            ncap: 10000,
            pttl: 7200,
            minpttl: 5,
            nttl: 7200,
            minnttl: 5,
            zones: &["0.0.10.in-addr.arpa."],
        },
    ];
    for t in tests {
        let c = config(t.body).unwrap_or_else(|e| panic!("{}: {e}", t.body));
        assert_eq!(
            (c.pcap, c.ncap, c.pttl, c.minpttl, c.nttl, c.minnttl),
            (
                t.pcap,
                t.ncap,
                t.pttl * SECOND,
                t.minpttl * SECOND,
                t.nttl * SECOND,
                t.minnttl * SECOND
            ),
            "{}",
            t.body
        );
        assert_eq!(zones(&c), t.zones, "{}", t.body);
    }
    assert_eq!(
        config("cache aaa example.nl").unwrap().zones_label,
        "aaa.,example.nl."
    );
}

#[test]
fn prefetch_and_servfail() {
    let c = config("cache {\nprefetch 10\n}").unwrap();
    assert_eq!(
        (c.prefetch, c.duration, c.percentage),
        (10, 60 * SECOND, 10)
    );
    let c = config("cache {\nprefetch 2 10m 20%\n}").unwrap();
    assert_eq!(
        (c.prefetch, c.duration, c.percentage),
        (2, 600 * SECOND, 20)
    );
    for (body, want) in [
        ("servfail 1s", SECOND),
        ("servfail 5m", 300 * SECOND),
        ("servfail 0s", 0),
        ("servfail 0", 0),
    ] {
        assert_eq!(
            config(&format!("cache {{\n{body}\n}}")).unwrap().failttl,
            want,
            "{body}"
        );
    }
}

#[test]
fn serve_stale() {
    // (line, up to, verify, verify timeout, response TTL, failure recheck)
    let tests: [(&str, i64, bool, i64, i64, i64); 19] = [
        ("serve_stale", 3600 * SECOND, false, 0, 0, 0),
        ("serve_stale 20m", 1200 * SECOND, false, 0, 0, 0),
        ("serve_stale 1h20m", 4800 * SECOND, false, 0, 0, 0),
        ("serve_stale 0m", 0, false, 0, 0, 0),
        ("serve_stale 0", 0, false, 0, 0, 0),
        ("serve_stale 0 verify", 0, true, 0, 0, 0),
        ("serve_stale 0 immediate", 0, false, 0, 0, 0),
        ("serve_stale 0 VERIFY", 0, true, 0, 0, 0),
        (
            "serve_stale 1h immediate 30s",
            3600 * SECOND,
            false,
            0,
            30 * SECOND,
            0,
        ),
        (
            "serve_stale 1h immediate 30s 30s",
            3600 * SECOND,
            false,
            0,
            30 * SECOND,
            30 * SECOND,
        ),
        (
            "serve_stale 1h immediate 4294967295s",
            3600 * SECOND,
            false,
            0,
            4_294_967_295 * SECOND,
            0,
        ),
        ("serve_stale 1h immediate 0", 3600 * SECOND, false, 0, 0, 0),
        (
            "serve_stale 1h verify 100ms",
            3600 * SECOND,
            true,
            SECOND / 10,
            0,
            0,
        ),
        (
            "serve_stale 1h verify 100ms 30s",
            3600 * SECOND,
            true,
            SECOND / 10,
            30 * SECOND,
            0,
        ),
        (
            "serve_stale 1h verify 100ms 30s 250ms",
            3600 * SECOND,
            true,
            SECOND / 10,
            30 * SECOND,
            SECOND / 4,
        ),
        ("serve_stale 1h verify 0", 3600 * SECOND, true, 0, 0, 0),
        (
            "serve_stale 1h verify 0 1m",
            3600 * SECOND,
            true,
            0,
            60 * SECOND,
            0,
        ),
        (
            "serve_stale 1h verify 0 0 5m",
            3600 * SECOND,
            true,
            0,
            0,
            300 * SECOND,
        ),
        (
            "serve_stale 1h VERIFY 250ms",
            3600 * SECOND,
            true,
            SECOND / 4,
            0,
            0,
        ),
    ];
    for (line, up, verify, timeout, ttl, recheck) in tests {
        let c = config(&format!("cache {{\n{line}\n}}")).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(
            (
                c.stale_up_to,
                c.verify_stale,
                c.verify_timeout,
                c.stale_ttl,
                c.stale_recheck
            ),
            (up, verify, timeout, ttl, recheck),
            "{line}"
        );
    }
    let c = config("cache {\nserve_stale\nserve_stale_policy prefer_positive\n}").unwrap();
    assert!(c.prefer_positive);
    let c = config("cache {\nserve_stale_policy PREFER_POSITIVE\nserve_stale\n}").unwrap();
    assert!(c.prefer_positive);
}

#[test]
fn disable_and_keepttl() {
    let c = config("cache {\ndisable denial example.com Example.org\n}").unwrap();
    assert_eq!(c.nexcept, names(&["example.com.", "example.org."]));
    assert!(c.pexcept.is_empty());
    let c = config("cache {\ndisable success\n}").unwrap();
    assert_eq!(c.pexcept, names(&["."]));
    let c = config(
        "cache {\ndisable denial a.example\ndisable success b.example\ndisable denial c.example\n}",
    )
    .unwrap();
    assert_eq!(
        (c.nexcept, c.pexcept),
        (names(&["c.example."]), names(&["b.example."]))
    );
    assert!(config("cache {\nkeepttl\n}").unwrap().keepttl);
}

#[test]
fn errors() {
    let e = |msg: &str, line: u32| {
        format!("plugin/cache: Corefile:{line} - Error during parsing: {msg}")
    };
    let arg = |after: &str, line: u32| {
        e(
            &format!("Wrong argument count or unexpected line ending after '{after}'"),
            line,
        )
    };
    let tests: Vec<(&str, String)> = vec![
        ("cache 0 example.nl", e("cache TTL can not be zero or negative: 0", 2)),
        ("cache -1 example.nl", e("cache TTL can not be zero or negative: -1", 2)),
        ("cache example.nl {\nsuccess\ndenial 10 15\n}", arg("success", 3)),
        ("cache example.nl {\nsuccess 15\ndenial aaa\n}", e("strconv.Atoi: parsing \"aaa\": invalid syntax", 4)),
        ("cache example.nl {\npositive 15\nnegative aaa\n}", arg("positive", 3)),
        ("cache {\nsuccess 10 0\n}", e("cache TTL can not be zero or negative: 0", 3)),
        ("cache {\nsuccess 10 x\n}", e("strconv.Atoi: parsing \"x\": invalid syntax", 3)),
        ("cache {\ndenial 10 20 -1\n}", e("cache min TTL can not be negative: -1", 3)),
        ("cache {\ndenial 99999999999999999999\n}", e("strconv.Atoi: parsing \"99999999999999999999\": value out of range", 3)),
        ("cache 1 example.nl {\nprefetch -1\n}", e("prefetch amount should be positive: -1", 3)),
        ("cache 1 example.nl {\nprefetch 0 blurp\n}", e("time: invalid duration \"blurp\"", 3)),
        ("cache {\nprefetch\n}", arg("prefetch", 3)),
        ("cache {\nprefetch 1 1m 10% 4\n}", arg("4", 3)),
        ("cache {\nprefetch 1 1m 5\n}", e("last character of percentage should be `%`, but is: '5'", 3)),
        ("cache {\nprefetch 1 1m 5%\n}", e("percentage should fall in range [10, 90]: 5", 3)),
        ("cache {\nprefetch 1 1m 91%\n}", e("percentage should fall in range [10, 90]: 91", 3)),
        ("cache {\nprefetch 1 1m x%\n}", e("strconv.Atoi: parsing \"x\": invalid syntax", 3)),
        ("cache {\nserve_stale 20\n}", e("time: missing unit in duration \"20\"", 3)),
        ("cache {\nserve_stale -20m\n}", e("invalid negative duration for serve_stale", 3)),
        ("cache {\nserve_stale aa\n}", e("time: invalid duration \"aa\"", 3)),
        ("cache {\nserve_stale 1m nono\n}", e("invalid value for serve_stale refresh mode: nono", 3)),
        ("cache {\nserve_stale 0 AFTER nono\n}", e("invalid value for serve_stale refresh mode: after", 3)),
        ("cache {\nserve_stale 1h immediate 100ms\n}", e("serve_stale response TTL must be a whole number of seconds", 3)),
        ("cache {\nserve_stale 1h immediate 4294967296s\n}", e("serve_stale response TTL exceeds the DNS TTL range", 3)),
        ("cache {\nserve_stale 1h immediate -1s\n}", e("invalid negative response TTL for serve_stale", 3)),
        ("cache {\nserve_stale 1h immediate garbage\n}", e("invalid serve_stale response TTL: time: invalid duration \"garbage\"", 3)),
        ("cache {\nserve_stale 1h immediate 30s 30s extra\n}", arg("extra", 3)),
        ("cache {\nserve_stale 1h immediate 30s -1s\n}", e("invalid negative failure recheck for serve_stale", 3)),
        ("cache {\nserve_stale 1h immediate 30s 5m1s\n}", e("serve_stale failure recheck cannot exceed 5 minutes", 3)),
        ("cache {\nserve_stale 1h immediate 30s invalid\n}", e("invalid serve_stale failure recheck: time: invalid duration \"invalid\"", 3)),
        ("cache {\nserve_stale 1h verify -1ms\n}", e("invalid negative timeout for serve_stale verify", 3)),
        ("cache {\nserve_stale 1h verify garbage\n}", e("invalid serve_stale verify timeout: time: invalid duration \"garbage\"", 3)),
        ("cache {\nserve_stale 1h verify 100ms 500ms\n}", e("serve_stale response TTL must be a whole number of seconds", 3)),
        ("cache {\nserve_stale 1h verify 100ms -1s\n}", e("invalid negative response TTL for serve_stale", 3)),
        ("cache {\nserve_stale 1h verify 100ms garbage\n}", e("invalid serve_stale response TTL: time: invalid duration \"garbage\"", 3)),
        ("cache {\nserve_stale 1h verify 100ms 30s -1s\n}", e("invalid negative failure recheck for serve_stale", 3)),
        ("cache {\nserve_stale 1h verify 100ms 30s 30s extra\n}", arg("extra", 3)),
        ("cache {\nserve_stale_policy prefer_positive\n}", e("serve_stale_policy requires serve_stale", 4)),
        ("cache {\nserve_stale\nserve_stale_policy\n}", arg("serve_stale_policy", 4)),
        ("cache {\nserve_stale\nserve_stale_policy prefer_positive extra\n}", arg("extra", 4)),
        ("cache {\nserve_stale\nserve_stale_policy invalid\n}", e("invalid serve_stale_policy: invalid", 4)),
        ("cache {\nserve_stale\nserve_stale_policy prefer_positive\nserve_stale_policy prefer_positive\n}", e("serve_stale_policy can only be specified once", 5)),
        ("cache {\nservfail\n}", arg("servfail", 3)),
        ("cache {\nservfail 6m\n}", e("caching SERVFAIL responses over 5 minutes is not permitted", 3)),
        ("cache {\nservfail 20\n}", e("time: missing unit in duration \"20\"", 3)),
        ("cache {\nservfail -1s\n}", e("invalid negative ttl for servfail", 3)),
        ("cache {\nservfail aa\n}", e("time: invalid duration \"aa\"", 3)),
        ("cache {\nservfail 1m invalid\n}", arg("invalid", 3)),
        ("cache {\ndisable\n}", arg("disable", 3)),
        ("cache {\ndisable invalid example.com example.org\n}", e("cache type for disable must be \"success\" or \"denial\"", 3)),
        ("cache {\nkeepttl arg1\n}", arg("arg1", 3)),
    ];
    for (body, want) in tests {
        assert_eq!(config(body).unwrap_err(), want, "{body}");
    }
}

#[test]
fn only_once_per_block() {
    let err = testing::setup(&[crate::PLUGIN], ". {\n cache\n cache 10\n}\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin/cache: Corefile:3 - Error during parsing: this plugin can only be used once per Server Block"
    );
}
