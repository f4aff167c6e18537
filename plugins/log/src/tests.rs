use std::sync::Arc;
use std::time::Duration;

use signpost_plugin::testing::{self, NxDomain};
use signpost_plugin::{Chain, Next, Plugin, Request, Step, Transport};
use signpost_wire::{rcode, rtype, Owner, RData, Response};

use super::*;
use crate::classify::Class;

fn rules(corefile: &str) -> Result<Vec<Rule>, String> {
    let blocks = signpost_corefile::parse("Corefile", corefile).map_err(|e| e.to_string())?;
    let dirs: Vec<Directive> = blocks[0]
        .directives
        .iter()
        .filter(|d| d.name() == "log")
        .cloned()
        .collect();
    setup::parse(&dirs).map_err(|e| e.with_plugin("log").to_string())
}

fn err(corefile: &str) -> String {
    rules(corefile).expect_err("should fail")
}

/// Answers A queries with one address, NXDOMAIN otherwise.
struct Answer;

impl Plugin for Answer {
    fn name(&self) -> &'static str {
        "answer"
    }
    fn serve(&self, req: &Request<'_>, resp: &mut Response, _: Next<'_>) -> Step {
        if req.qtype() == rtype::A {
            resp.start(&req.query, rcode::NOERROR);
            resp.set_authoritative(true);
            resp.answer(Owner::Question, 5, &RData::A("192.0.2.1".parse().unwrap()));
        } else {
            resp.start(&req.query, rcode::NXDOMAIN);
        }
        Step::Answered
    }
}

/// Log lines for one query through `log` (set up from `corefile`) then `last`, with the
/// duration field replaced by `D`.
fn run_logged(
    corefile: &str,
    req: &signpost_plugin::OwnedRequest,
    last: Arc<dyn Plugin>,
) -> String {
    let logger: Arc<dyn Plugin> = Arc::new(Logger::new(rules(corefile).unwrap()));
    let chain = Chain::new(vec![logger, last]);
    let out = output::capture(|| {
        testing::run(&chain, req).unwrap();
    });
    // Replace the trailing duration ("0.000012345s") of each line by "D".
    out.lines()
        .map(|l| match l.rsplit_once(' ') {
            Some((head, d)) if d.ends_with('s') && d[..d.len() - 1].parse::<f64>().is_ok() => {
                format!("{head} D\n")
            }
            _ => format!("{l}\n"),
        })
        .collect()
}

#[test]
fn common_log_format_line() {
    let req = testing::request("example.org.", rtype::A);
    let out = run_logged(". {\n log\n}", &req, Arc::new(Answer));
    assert_eq!(
        out,
        "[INFO] 10.240.0.1:40212 - 4242 \"A IN example.org. udp 40 false 4096\" NOERROR qr,aa,rd 45 D\n"
    );
    let req = testing::request_with(
        "Example.ORG.",
        rtype::MX,
        Transport::Tcp,
        "[2001:db8::1]:5353",
    );
    let out = run_logged(". {\n log\n}", &req, Arc::new(NxDomain));
    assert_eq!(
        out,
        "[INFO] [2001:db8::1]:5353 - 4242 \"MX IN example.org. tcp 40 false 65535\" NXDOMAIN qr,rd 29 D\n"
    );
}

#[test]
fn exact_line_with_fixed_duration() {
    let owned = testing::request("example.org.", rtype::A);
    let req = owned.request().unwrap();
    let mut resp = Response::new();
    resp.start(&req.query, rcode::NOERROR);
    let logger = Logger::new(rules(". {\n log . {combined}\n}").unwrap());
    let outcome = Outcome {
        rcode: rcode::NOERROR,
        plugin: "answer",
        error: None,
    };
    let (rule, mut entry) = logger.entry(&req, &resp, &outcome).unwrap();
    entry.elapsed = Duration::from_nanos(66_103);
    let mut line = Vec::new();
    render_line(&mut line, rule, &entry);
    assert_eq!(
        String::from_utf8(line).unwrap(),
        "[INFO] 10.240.0.1:40212 - 4242 \"A IN example.org. udp 40 false 4096\" NOERROR qr,rd 29 0.000066103s \"0\""
    );
}

#[test]
fn custom_format_and_metadata() {
    let req = testing::request("a.example.org.", rtype::AAAA);
    let out = run_logged(
        ". {\n log . \"{proto} Request: {name} {type} {>id} {/log/class} {/log/type} {/x} {local}\"\n}",
        &req,
        Arc::new(NxDomain),
    );
    assert_eq!(
        out,
        "[INFO] udp Request: a.example.org. AAAA 4242 denial NXDOMAIN - 127.0.0.1\n"
    );
}

#[test]
fn classes_filter_and_first_matching_rule_wins() {
    let corefile = ". {\n log example.org {\n  class denial\n }\n log . \"{name}\"\n}";
    let nx = testing::request("a.example.org.", rtype::MX);
    let ok = testing::request("a.example.org.", rtype::A);
    let other = testing::request("a.example.net.", rtype::A);
    assert!(run_logged(corefile, &nx, Arc::new(Answer)).contains("NXDOMAIN"));
    // example.org's rule matches first and does not log successes; the `.` rule is not tried.
    assert_eq!(run_logged(corefile, &ok, Arc::new(Answer)), "");
    assert_eq!(
        run_logged(corefile, &other, Arc::new(Answer)),
        "[INFO] a.example.net.\n"
    );
    // Names not under any rule are not logged.
    let only = ". {\n log example.org\n}";
    assert_eq!(run_logged(only, &other, Arc::new(Answer)), "");
}

#[test]
fn errors_from_the_chain_are_logged_with_their_rcode() {
    struct Fail;
    impl Plugin for Fail {
        fn name(&self) -> &'static str {
            "fail"
        }
        fn serve(&self, _: &Request<'_>, _: &mut Response, _: Next<'_>) -> Step {
            Step::Error(rcode::REFUSED, None)
        }
    }
    let req = testing::request("example.org.", rtype::A);
    let out = run_logged(". {\n log . {\n  class error\n }\n}", &req, Arc::new(Fail));
    assert_eq!(
        out,
        "[INFO] 10.240.0.1:40212 - 4242 \"A IN example.org. udp 40 false 4096\" REFUSED qr,rd 29 D\n"
    );
}

#[test]
fn parse_forms() {
    let r = rules(". {\n log\n}").unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].scope.to_string(), ".");
    assert_eq!(*r[0].format, format::Format::parse(format::COMMON));

    // One argument is always a name, even when it looks like a format.
    let r = rules(". {\n log {combined}\n}").unwrap();
    assert_eq!(r[0].scope.to_string(), "{combined}.");
    assert_eq!(*r[0].format, format::Format::parse(format::COMMON));

    let r = rules(". {\n log example.org example.net {combined}\n}").unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[1].scope.to_string(), "example.net.");
    assert_eq!(*r[1].format, format::Format::parse(format::COMBINED));

    // Two names and no format.
    let r = rules(". {\n log example.org example.net\n}").unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(*r[0].format, format::Format::parse(format::COMMON));

    let r = rules(". {\n log . {\n  class denial\n  class success\n }\n}").unwrap();
    assert!(r[0].classes.matches(Class::Denial));
    assert!(r[0].classes.matches(Class::Success));
    assert!(!r[0].classes.matches(Class::Error));

    let r = rules(". {\n log . {\n  class all denial\n }\n}").unwrap();
    assert!(r[0].classes.matches(Class::Error));
}

#[test]
fn parse_errors() {
    assert_eq!(
        err(". {\n log . {\n  class\n }\n}"),
        "plugin/log: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'class'"
    );
    assert_eq!(
        err(". {\n log . {\n  class denial bogus\n }\n}"),
        "plugin/log: Corefile:3 - Error during parsing: invalid Class: bogus"
    );
    assert_eq!(
        err(". {\n log {\n  format x\n }\n}"),
        "plugin/log: Corefile:3 - Error during parsing: unknown property 'format'"
    );
}

#[test]
fn plugin_setup_adds_the_logger() {
    let (chain, _) = testing::setup(&[PLUGIN], ". {\n log\n log example.org\n}").unwrap();
    assert_eq!(chain.names(), ["log"]);
    assert!(testing::setup(&[PLUGIN], ". {\n log {\n  x\n }\n}")
        .unwrap_err()
        .to_string()
        .starts_with("plugin/log: Corefile:3"));
}

#[global_allocator]
static GLOBAL: testing::CountingAlloc = testing::CountingAlloc;

#[test]
fn rendering_a_line_does_not_allocate() {
    let owned = testing::request_with(
        "www.example.org.",
        rtype::A,
        Transport::Udp,
        "[2001:db8::1]:53",
    );
    let req = owned.request().unwrap();
    let mut resp = Response::new();
    resp.start(&req.query, rcode::NOERROR);
    let logger = Logger::new(rules(". {\n log . {combined} {\n  class success\n }\n}").unwrap());
    let outcome = Outcome {
        rcode: rcode::NOERROR,
        plugin: "answer",
        error: None,
    };
    let mut line = Vec::with_capacity(512);
    let before = testing::allocations();
    for _ in 0..10 {
        line.clear();
        let (rule, entry) = logger.entry(&req, &resp, &outcome).unwrap();
        render_line(&mut line, rule, &entry);
    }
    assert_eq!(testing::allocations(), before);
    assert!(line.starts_with(b"[INFO] [2001:db8::1]:53 - 4242 \"A IN www.example.org. udp"));
}
