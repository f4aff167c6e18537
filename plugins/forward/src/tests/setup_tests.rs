//! Parsing: every option, every error with its exact text and line, and the README examples.

use std::time::Duration;

use signpost_corefile::{parse, Dispenser};
use signpost_plugin::testing::setup;
use signpost_wire::Name;

use super::TempFile;
use crate::config::{parse_stanza, Config};
use crate::PLUGIN;

fn cfg(text: &str) -> Config {
    let blocks = parse("Corefile", text).unwrap();
    let d = &blocks[0].directives[0];
    parse_stanza(&mut Dispenser::new(d)).unwrap()
}

/// The setup error of a Corefile, as text.
fn err(text: &str) -> String {
    match setup(&[PLUGIN], text) {
        Ok(_) => panic!("expected an error for {text:?}"),
        Err(e) => e.to_string(),
    }
}

/// A block with `forward . 127.0.0.1` and the given option lines (options start on line 3).
fn with_options(lines: &str) -> String {
    format!(". {{\n forward . 127.0.0.1 {{\n{lines}\n }}\n}}")
}

fn labels(c: &Config) -> Vec<&str> {
    c.targets
        .upstreams
        .iter()
        .map(|u| u.label.as_str())
        .collect()
}

#[test]
fn defaults() {
    let c = cfg(". {\n forward . 127.0.0.1\n}");
    assert_eq!(c.from, Name::root());
    assert!(c.ignored.is_empty());
    assert_eq!(labels(&c), ["127.0.0.1:53"]);
    assert!(!c.force_tcp && !c.prefer_udp);
    assert_eq!(c.expire, Duration::from_secs(10));
    assert_eq!(c.max_age, Duration::ZERO);
    assert_eq!(c.max_idle_conns, 0);
    assert_eq!(c.read_timeout, Duration::from_secs(2));
    assert_eq!(c.max_fails, 2);
    assert_eq!(c.max_connect_attempts, None);
    assert_eq!(c.hc_interval, Duration::from_millis(500));
    assert!(c.hc_recursion_desired);
    assert_eq!(c.hc_domain, Name::root());
    assert_eq!(c.policy.name(), "random");
    assert_eq!(c.max_concurrent, 0);
    assert!(c.next_rcodes.is_empty() && !c.next_on_nodata && !c.failfast);
    assert!(c.failover_rcodes.is_empty());
    assert_eq!(c.source_address, None);
}

#[test]
fn every_option() {
    let c = cfg(&with_options(
        "  except Example.org 10.0.0.0/8 bad..name
  force_tcp
  prefer_udp
  expire 30s
  max_age 1m
  max_idle_conns 4
  read_timeout 500ms
  max_fails 3
  max_connect_attempts 5
  health_check 2s no_rec domain Health.Example.
  policy round_robin
  max_concurrent 1000
  next NXDOMAIN servfail
  next_on_nodata
  failfast_all_unhealthy_upstreams
  failover REFUSED NOTIMPL
  doh_method GET
  source_address ::ffff:127.0.0.1",
    ));
    let ignored: Vec<String> = c.ignored.iter().map(|n| n.to_string()).collect();
    assert_eq!(ignored, ["example.org.", "10.in-addr.arpa."]);
    assert!(c.force_tcp && c.prefer_udp);
    assert_eq!(c.expire, Duration::from_secs(30));
    assert_eq!(c.max_age, Duration::from_secs(60));
    assert_eq!(c.max_idle_conns, 4);
    assert_eq!(c.read_timeout, Duration::from_millis(500));
    assert_eq!(c.max_fails, 3);
    assert_eq!(c.max_connect_attempts, Some(5));
    assert_eq!(c.hc_interval, Duration::from_secs(2));
    assert!(!c.hc_recursion_desired);
    assert_eq!(c.hc_domain.to_string(), "health.example.");
    assert_eq!(c.policy.name(), "round_robin");
    assert_eq!(c.max_concurrent, 1000);
    assert_eq!(c.limit_error, "concurrent queries exceeded maximum 1000");
    assert_eq!(c.next_rcodes, [3, 2]);
    assert!(c.next_on_nodata && c.failfast);
    assert_eq!(c.failover_rcodes, [5, 4]);
    assert_eq!(c.source_address, Some("127.0.0.1".parse().unwrap()));

    // A later health_check resets the domain; sequential policy.
    let c = cfg(&with_options(
        "  health_check 1s domain example.org\n  health_check 0s\n  policy sequential",
    ));
    assert_eq!(c.hc_domain, Name::root());
    assert_eq!(c.hc_interval, Duration::ZERO);
    assert_eq!(c.policy.name(), "sequential");
}

#[test]
fn from_and_to_forms() {
    let c = cfg(". {\n forward 10.9.3.0/18 127.0.0.1\n}");
    assert_eq!(c.from.to_string(), "0.9.10.in-addr.arpa.");
    let c = cfg(". {\n forward Example.ORG dns://10.0.0.1:1053 [::1]:53 10.0.0.1:1053 ::2\n}");
    assert_eq!(c.from.to_string(), "example.org.");
    assert_eq!(labels(&c), ["10.0.0.1:1053", "[::1]:53", "[::2]:53"]);
    assert_eq!(c.targets.entries, 4);
}

#[test]
fn resolv_conf_files() {
    let f = TempFile::new(
        "resolv.conf",
        "# generated\nsearch svc.cluster.local cluster.local\n\
         nameserver 10.96.0.10\nnameserver   fd00::53 # v6\n\
         nameserver fe80::1%eth0\nnameserver\noptions ndots:5\n\
         ; nameserver 192.0.2.1\nnameserver 10.96.0.10\n",
    );
    let c = cfg(&format!(". {{\n forward . {} 10.0.0.1\n}}", f.path()));
    assert_eq!(
        labels(&c),
        [
            "10.96.0.10:53",
            "[fd00::53]:53",
            "[fe80::1]:53",
            "10.0.0.1:53"
        ]
    );
    assert_eq!(c.targets.entries, 2);

    // A file without nameservers is skipped; alone it leaves nothing.
    let empty = TempFile::new("empty.conf", "search example.org\n");
    let c = cfg(&format!(". {{\n forward . {} 10.0.0.1\n}}", empty.path()));
    assert_eq!(labels(&c), ["10.0.0.1:53"]);
    assert_eq!(c.targets.entries, 1);
    assert_eq!(
        err(&format!(". {{\n forward . {}\n}}", empty.path())),
        "plugin/forward: Corefile:2 - Error during parsing: no valid upstream addresses found"
    );

    let named = TempFile::new("named.conf", "nameserver dns.example.org\n");
    assert_eq!(
        err(&format!(". {{\n forward . {}\n}}", named.path())),
        format!(
            "plugin/forward: Corefile:2 - Error during parsing: nameserver \"dns.example.org\" \
             in {} is not an IP address",
            named.path()
        )
    );
    assert_eq!(
        err(". {\n forward . /nonexistent/resolv.conf\n}"),
        "plugin/forward: Corefile:2 - Error during parsing: not an IP address or file \
         \"/nonexistent/resolv.conf\": failed to open file \"/nonexistent/resolv.conf\": \
         \"open /nonexistent/resolv.conf: no such file or directory\""
    );
}

#[test]
fn multiple_stanzas_become_handlers_in_order() {
    let (chain, parts) = setup(
        &[PLUGIN],
        ". {\n forward example.org 10.0.0.1 {\n  next NXDOMAIN\n }\n forward . 10.0.0.2\n}",
    )
    .unwrap();
    assert_eq!(chain.names(), ["forward", "forward"]);
    assert_eq!(parts.startup.len(), 2);
    assert_eq!(parts.shutdown.len(), 2);
}

#[test]
fn errors_with_text_and_line() {
    let p = "plugin/forward: Corefile";
    let cases: Vec<(String, String)> = vec![
        (
            ". {\n forward\n}".into(),
            format!("{p}:2 - Error during parsing: Wrong argument count or unexpected line ending after 'forward'"),
        ),
        (
            ". {\n forward .\n}".into(),
            format!("{p}:2 - Error during parsing: Wrong argument count or unexpected line ending after '.'"),
        ),
        (
            format!(". {{\n forward {} 127.0.0.1\n}}", "x".repeat(64)),
            format!("{p}:2 - Error during parsing: unable to normalize '{}'", "x".repeat(64)),
        ),
        (
            with_options("  blaatl"),
            format!("{p}:3 - Error during parsing: unknown property 'blaatl'"),
        ),
        (
            with_options("  except"),
            format!("{p}:3 - Error during parsing: Wrong argument count or unexpected line ending after 'except'"),
        ),
        (
            with_options("  max_fails"),
            format!("{p}:3 - Error during parsing: Wrong argument count or unexpected line ending after 'max_fails'"),
        ),
        (
            with_options("  max_fails -1"),
            format!("{p}:3 - Error during parsing: strconv.ParseUint: parsing \"-1\": invalid syntax"),
        ),
        (
            with_options("  max_fails 3 4"),
            format!("{p}:3 - Error during parsing: unknown property '4'"),
        ),
        (
            with_options("  max_connect_attempts 99999999999"),
            format!("{p}:3 - Error during parsing: strconv.ParseUint: parsing \"99999999999\": value out of range"),
        ),
        (
            with_options("  health_check"),
            format!("{p}:3 - Error during parsing: Wrong argument count or unexpected line ending after 'health_check'"),
        ),
        (
            with_options("  health_check 5"),
            format!("{p}:3 - Error during parsing: time: missing unit in duration \"5\""),
        ),
        (
            with_options("  health_check -1s"),
            format!("{p}:3 - Error during parsing: health_check can't be negative: -1000000000"),
        ),
        (
            with_options("  health_check 0.5s domain"),
            format!("{p}:3 - Error during parsing: Wrong argument count or unexpected line ending after 'domain'"),
        ),
        (
            with_options("  health_check 0.5s domain a..b"),
            format!("{p}:3 - Error during parsing: health_check: invalid domain name a..b"),
        ),
        (
            with_options("  health_check 0.5s rec"),
            format!("{p}:3 - Error during parsing: health_check: unknown option rec"),
        ),
        (
            with_options("  force_tcp yes"),
            format!("{p}:3 - Error during parsing: Wrong argument count or unexpected line ending after 'yes'"),
        ),
        (
            with_options("  prefer_udp yes"),
            format!("{p}:3 - Error during parsing: Wrong argument count or unexpected line ending after 'yes'"),
        ),
        (
            with_options("  tls"),
            format!("{p}:3 - Error during parsing: tls is not supported: this forward speaks plain DNS over UDP and TCP only (no DNS-over-TLS)"),
        ),
        (
            with_options("  tls_servername dns.quad9.net"),
            format!("{p}:3 - Error during parsing: tls_servername is not supported: this forward speaks plain DNS over UDP and TCP only (no DNS-over-TLS)"),
        ),
        (
            with_options("  expire"),
            format!("{p}:3 - Error during parsing: Wrong argument count or unexpected line ending after 'expire'"),
        ),
        (
            with_options("  expire 10q"),
            format!("{p}:3 - Error during parsing: time: unknown unit \"q\" in duration \"10q\""),
        ),
        (
            with_options("  expire -1.5s"),
            format!("{p}:3 - Error during parsing: expire can't be negative: -1.5s"),
        ),
        (
            with_options("  max_age -2s"),
            format!("{p}:3 - Error during parsing: max_age can't be negative: -2s"),
        ),
        (
            with_options("  max_age 5s"),
            format!("{p}:2 - Error during parsing: max_age (5s) must not be less than expire (10s)"),
        ),
        (
            with_options("  max_idle_conns many"),
            format!("{p}:3 - Error during parsing: strconv.Atoi: parsing \"many\": invalid syntax"),
        ),
        (
            with_options("  max_idle_conns -1"),
            format!("{p}:3 - Error during parsing: max_idle_conns can't be negative: -1"),
        ),
        (
            with_options("  read_timeout 0s"),
            format!("{p}:3 - Error during parsing: read_timeout must be positive: 0s"),
        ),
        (
            with_options("  read_timeout abc"),
            format!("{p}:3 - Error during parsing: time: invalid duration \"abc\""),
        ),
        (
            with_options("  doh_method PUT"),
            format!("{p}:3 - Error during parsing: doh_method must be either POST or GET"),
        ),
        (
            with_options("  policy"),
            format!("{p}:3 - Error during parsing: Wrong argument count or unexpected line ending after 'policy'"),
        ),
        (
            with_options("  policy random2"),
            format!("{p}:3 - Error during parsing: unknown policy 'random2'"),
        ),
        (
            with_options("  max_concurrent"),
            format!("{p}:3 - Error during parsing: Wrong argument count or unexpected line ending after 'max_concurrent'"),
        ),
        (
            with_options("  max_concurrent 1k"),
            format!("{p}:3 - Error during parsing: strconv.Atoi: parsing \"1k\": invalid syntax"),
        ),
        (
            with_options("  max_concurrent -5"),
            format!("{p}:3 - Error during parsing: max_concurrent can't be negative: -5"),
        ),
        (
            with_options("  next"),
            format!("{p}:3 - Error during parsing: Wrong argument count or unexpected line ending after 'next'"),
        ),
        (
            with_options("  next NXDOMAIN nope"),
            format!("{p}:3 - Error during parsing: nope is not a valid rcode"),
        ),
        (
            with_options("  next_on_nodata now"),
            format!("{p}:3 - Error during parsing: Wrong argument count or unexpected line ending after 'now'"),
        ),
        (
            with_options("  failfast_all_unhealthy_upstreams a b"),
            format!("{p}:3 - Error during parsing: Wrong argument count or unexpected line ending after 'b'"),
        ),
        (
            with_options("  failover"),
            format!("{p}:3 - Error during parsing: Wrong argument count or unexpected line ending after 'failover'"),
        ),
        (
            with_options("  failover SERVFAIL NOERROR"),
            format!("{p}:3 - Error during parsing: NoError cannot be used in failover"),
        ),
        (
            with_options("  failover XX"),
            format!("{p}:3 - Error during parsing: XX is not a valid rcode"),
        ),
        (
            with_options("  source_address"),
            format!("{p}:3 - Error during parsing: Wrong argument count or unexpected line ending after 'source_address'"),
        ),
        (
            with_options("  source_address not-an-ip"),
            format!("{p}:3 - Error during parsing: invalid IP address: not-an-ip"),
        ),
        (
            with_options("  resolver 10.0.0.1"),
            format!("{p}:3 - Error during parsing: resolver is not supported: upstreams must be IP addresses or resolv.conf files"),
        ),
        (
            ". {\n forward . tls://9.9.9.9 {\n  health_check 5s\n }\n}".into(),
            format!("{p}:2 - Error during parsing: 'tls' is not supported as a destination protocol in forward: tls://9.9.9.9:853"),
        ),
        (
            ". {\n forward . 10.0.0.1 https://9.9.9.9\n}".into(),
            format!("{p}:2 - Error during parsing: 'https' is not supported as a destination protocol in forward: https://9.9.9.9:443"),
        ),
        (
            ". {\n forward . dns://\n}".into(),
            format!("{p}:2 - Error during parsing: invalid address: \"dns://\""),
        ),
        (
            ". {\n forward . dns.example.local\n}".into(),
            format!("{p}:2 - Error during parsing: not an IP address or file \"dns.example.local\": failed to open file \"dns.example.local\": \"open dns.example.local: no such file or directory\""),
        ),
        (
            format!(
                ". {{\n forward . {}\n}}",
                (1..=16).map(|i| format!("10.0.0.{i}")).collect::<Vec<_>>().join(" ")
            ),
            format!("{p}:2 - Error during parsing: more than 15 TOs configured: 16"),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(err(&text), want, "for {text:?}");
    }
}

#[test]
fn fifteen_upstreams_are_fine() {
    let to: Vec<String> = (1..=15).map(|i| format!("10.0.0.{i}")).collect();
    let c = cfg(&format!(". {{\n forward . {}\n}}", to.join(" ")));
    assert_eq!(c.targets.upstreams.len(), 15);
}

/// Every ```corefile example of the README parses and builds.
#[test]
fn readme_examples_build() {
    let readme = include_str!("../../README.md");
    let mut count = 0;
    let mut rest = readme;
    while let Some(start) = rest.find("```corefile\n") {
        let body = &rest[start + "```corefile\n".len()..];
        let end = body.find("\n```").expect("closed fence");
        let example = &body[..end];
        if let Err(e) = setup(&[PLUGIN], example) {
            panic!("README example does not build: {e}\n{example}");
        }
        count += 1;
        rest = &body[end..];
    }
    assert!(count >= 6, "{count} examples");
}
