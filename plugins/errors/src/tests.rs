use std::sync::Arc;
use std::time::Duration;

use signpost_log::output;
use signpost_plugin::testing;
use signpost_plugin::{Chain, Next, Plugin, Request, Step};
use signpost_wire::{rcode, rtype, Response};

use super::*;

/// Fails every query with SERVFAIL and the query name as the error text.
struct Fail;

impl Plugin for Fail {
    fn name(&self) -> &'static str {
        "fail"
    }
    fn serve(&self, req: &Request<'_>, _: &mut Response, _: Next<'_>) -> Step {
        Step::Error(
            rcode::SERVFAIL,
            Some(format!("read udp {}: i/o timeout", req.qname())),
        )
    }
}

fn chain(corefile: &str) -> (Arc<Chain>, Arc<Handler>) {
    let blocks = signpost_corefile::parse("Corefile", corefile).unwrap();
    let config = parse::parse(&blocks[0].directives[0]).unwrap();
    let handler = Arc::new(Handler::new(config.patterns));
    let errors = Errors {
        handler: Arc::clone(&handler),
    };
    (Chain::new(vec![Arc::new(errors), Arc::new(Fail)]), handler)
}

fn query(chain: &Arc<Chain>, name: &str) {
    testing::run(chain, &testing::request(name, rtype::AAAA)).unwrap();
}

fn err(corefile: &str) -> String {
    testing::setup(&[PLUGIN], corefile)
        .expect_err("should fail")
        .to_string()
}

/// Run `f` on a current-thread runtime (so window timers run on this thread and their
/// lines are captured), then wait `settle` for timers to fire.
fn captured(settle: Duration, f: impl FnOnce()) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    output::capture(|| {
        rt.block_on(async {
            f();
            tokio::time::sleep(settle).await;
        })
    })
}

#[test]
fn logs_rcode_name_type_and_error() {
    let (chain, _) = chain(". {\n errors\n}");
    let out = output::capture(|| query(&chain, "Example.org."));
    assert_eq!(
        out,
        "[ERROR] plugin/errors: 2 example.org. AAAA: plugin/fail: read udp example.org.: i/o timeout\n"
    );
    // Answers without an error leave no trace.
    let errors = Errors {
        handler: Arc::new(Handler::default()),
    };
    let chain = Chain::new(vec![Arc::new(errors), Arc::new(testing::NxDomain)]);
    assert_eq!(output::capture(|| query(&chain, "example.org.")), "");
}

#[test]
fn consolidates_matching_errors() {
    let (chain, _) = chain(
        ". {\n errors {\n  consolidate 50ms \"^plugin/fail: read udp .* i/o timeout$\" warning\n  consolidate 1h nothing-matches\n }\n}",
    );
    let out = captured(Duration::from_millis(200), || {
        for _ in 0..3 {
            query(&chain, "example.org.");
        }
    });
    assert_eq!(
        out,
        "[WARNING] plugin/errors: 3 errors like '^plugin/fail: read udp .* i/o timeout$' occurred in last 50ms\n"
    );
}

#[test]
fn show_first_logs_the_first_error_at_the_pattern_level() {
    let (chain, _) = chain(". {\n errors {\n  consolidate 50ms timeout info show_first\n }\n}");
    let out = captured(Duration::from_millis(200), || {
        query(&chain, "a.example.org.");
        query(&chain, "b.example.org.");
    });
    assert_eq!(
        out,
        "[INFO] plugin/errors: 2 a.example.org. AAAA: plugin/fail: read udp a.example.org.: i/o timeout\n\
         [INFO] plugin/errors: 2 errors like 'timeout' occurred in last 50ms\n"
    );
    // A single error in a window is not summarized: it was shown already.
    let out = captured(Duration::from_millis(200), || {
        query(&chain, "c.example.org.")
    });
    assert_eq!(
        out,
        "[INFO] plugin/errors: 2 c.example.org. AAAA: plugin/fail: read udp c.example.org.: i/o timeout\n"
    );
}

#[test]
fn stop_flushes_open_windows_and_logs_later_errors_directly() {
    let (chain, handler) = chain(". {\n errors {\n  consolidate 1h timeout\n }\n}");
    let out = captured(Duration::ZERO, || {
        query(&chain, "example.org.");
        query(&chain, "example.org.");
        handler.stop();
        query(&chain, "example.org.");
    });
    assert_eq!(
        out,
        "[ERROR] plugin/errors: 2 errors like 'timeout' occurred in last 1h0m0s\n\
         [ERROR] plugin/errors: 2 example.org. AAAA: plugin/fail: read udp example.org.: i/o timeout\n"
    );
}

#[test]
fn parse_options() {
    let blocks = signpost_corefile::parse(
        "Corefile",
        ". {\n errors stdout {\n  stacktrace\n  consolidate 5m \".* i/o timeout$\" warning show_first\n  consolidate 30s \"^Failed to .+\"\n }\n}",
    )
    .unwrap();
    let c = parse::parse(&blocks[0].directives[0]).unwrap();
    assert!(c.stacktrace);
    assert_eq!(c.patterns.len(), 2);
    let p = &c.patterns[0];
    assert_eq!(
        (p.period, p.period_text.as_str(), p.level, p.show_first),
        (Duration::from_secs(300), "5m0s", Level::Warning, true)
    );
    assert_eq!(p.regex.as_str(), ".* i/o timeout$");
    let p = &c.patterns[1];
    assert_eq!((p.level, p.show_first), (Level::Error, false));

    let (chain, parts) = testing::setup(&[PLUGIN], ". {\n errors\n}").unwrap();
    assert_eq!(chain.names(), ["errors"]);
    assert!(parts.startup.is_empty() && parts.shutdown.is_empty());
    let (_, parts) = testing::setup(&[PLUGIN], ". {\n errors {\n consolidate 1s x\n }\n}").unwrap();
    assert_eq!((parts.startup.len(), parts.shutdown.len()), (1, 1));
}

#[test]
fn parse_errors() {
    let at = |line: u32, msg: &str| {
        format!("plugin/errors: Corefile:{line} - Error during parsing: {msg}")
    };
    assert_eq!(
        err(". {\n errors stdout more\n}"),
        at(
            2,
            "Wrong argument count or unexpected line ending after 'more'"
        )
    );
    assert_eq!(
        err(". {\n errors /var/log/errors\n}"),
        at(2, "invalid log file: /var/log/errors")
    );
    assert_eq!(
        err(". {\n errors {\n  unknown\n }\n}"),
        "plugin/errors: Corefile:3 - Syntax error: Unexpected token 'unknown', expecting 'Unknown field unknown'"
    );
    assert_eq!(
        err(". {\n errors {\n  consolidate 1m\n }\n}"),
        at(
            3,
            "Wrong argument count or unexpected line ending after '1m'"
        )
    );
    assert_eq!(
        err(". {\n errors {\n  consolidate 1m a error show_first extra\n }\n}"),
        at(
            3,
            "Wrong argument count or unexpected line ending after 'extra'"
        )
    );
    assert_eq!(
        err(". {\n errors {\n  consolidate 1x a\n }\n}"),
        at(3, "time: unknown unit \"x\" in duration \"1x\"")
    );
    assert_eq!(
        err(&format!(
            ". {{\n errors {{\n  consolidate 1m {}\n }}\n}}",
            "a".repeat(10_001)
        )),
        at(3, "regex pattern too long: 10001 > 10000")
    );
    assert!(err(". {\n errors {\n  consolidate 1m \"(\"\n }\n}").starts_with(&at(3, "")));
    assert_eq!(
        err(". {\n errors {\n  consolidate 1m a warning error\n }\n}"),
        at(3, "multiple log levels specified in consolidate")
    );
    assert_eq!(
        err(". {\n errors {\n  consolidate 1m a show_first warning\n }\n}"),
        at(3, "log level must come before show_first in consolidate")
    );
    assert_eq!(
        err(". {\n errors {\n  consolidate 1m a loud\n }\n}"),
        at(3, "unknown option in consolidate: loud")
    );
    // The line comes from SetupContext::once.
    assert!(err(". {\n errors\n errors\n}")
        .ends_with("Error during parsing: this plugin can only be used once per Server Block"));
}
