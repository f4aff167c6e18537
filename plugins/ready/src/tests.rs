use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use signpost_log::output;
use signpost_plugin::ready::{install, ReadyCheck};
use signpost_plugin::testing;

use super::*;

fn config(corefile: &str) -> Result<Config, String> {
    testing::setup(&[PLUGIN], corefile).map_err(|e| e.to_string())?;
    let blocks = signpost_corefile::parse("Corefile", corefile).unwrap();
    parse(&blocks[0].directives[0]).map_err(|e| e.with_plugin("ready").to_string())
}

fn check(name: &str, flag: &Arc<AtomicBool>, detail: &'static str) -> ReadyCheck {
    let flag = Arc::clone(flag);
    ReadyCheck {
        name: name.into(),
        check: Arc::new(move || {
            if flag.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err(detail.to_string())
            }
        }),
    }
}

fn body(r: &HttpReply) -> (u16, String) {
    (r.status, String::from_utf8(r.body.clone()).unwrap())
}

/// The checks are process-wide, so every scenario that installs them lives in this one test.
#[test]
fn ready_and_not_ready() {
    let kube = Arc::new(AtomicBool::new(false));
    let hosts = Arc::new(AtomicBool::new(false));
    install(vec![
        check("kubernetes", &kube, "api not synced"),
        check("hosts", &hosts, ""),
    ]);

    let (_, parts) = testing::setup(&[PLUGIN], ". {\n ready\n}").unwrap();
    assert_eq!(format!("{:?}", parts.http[0]), "HttpRoute(:8181/ready)");
    let handler = Arc::clone(&parts.http[0].handler);

    let out = output::capture(|| {
        let r = handler();
        assert_eq!(body(&r), (503, "hosts,kubernetes".into()));
        assert_eq!(r.content_type, "text/plain; charset=utf-8");
    });
    assert_eq!(
        out,
        "[INFO] plugin/ready: Plugins not ready: \"hosts,kubernetes\"\n"
    );

    // until-ready: once hosts was ready it is never reported again, even if it flips back.
    hosts.store(true, Ordering::SeqCst);
    assert_eq!(body(&call(&handler)), (503, "kubernetes".into()));
    hosts.store(false, Ordering::SeqCst);
    kube.store(true, Ordering::SeqCst);
    assert_eq!(body(&call(&handler)), (200, "OK".into()));

    // continuously: every request asks every plugin.
    let r = Readiness::new(Monitor::Continuously);
    assert_eq!(body(&reply_of(&r)), (503, "hosts".into()));
    hosts.store(true, Ordering::SeqCst);
    assert_eq!(body(&reply_of(&r)), (200, "OK".into()));
    kube.store(false, Ordering::SeqCst);
    assert_eq!(body(&reply_of(&r)), (503, "kubernetes".into()));

    // Retiring the configuration: 503 "Shutting down".
    poll_ready(parts.shutdown.into_iter().next().unwrap()(true));
    assert_eq!(body(&handler()), (503, "Shutting down".into()));

    install(Vec::new());
}

/// Call a handler, keeping its log line out of the test output.
fn call(h: &signpost_plugin::HttpHandler) -> HttpReply {
    let mut r = None;
    output::capture(|| r = Some(h()));
    r.unwrap()
}

/// Ask `rd` for its reply, keeping its log line out of the test output.
fn reply_of(rd: &Readiness) -> HttpReply {
    let mut r = None;
    output::capture(|| r = Some(rd.reply()));
    r.unwrap()
}

/// Poll a future that completes at once (the ready shutdown hook does no I/O).
fn poll_ready(f: signpost_plugin::BoxFuture<'static, ()>) {
    use std::task::{Context, Poll, Waker};
    let mut f = f;
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(f.as_mut().poll(&mut cx), Poll::Ready(())));
}

#[test]
fn parse_forms() {
    assert_eq!(
        config(". {\n ready\n}").unwrap(),
        Config {
            addr: ":8181".into(),
            monitor: Monitor::UntilReady
        }
    );
    assert_eq!(
        config(". {\n ready localhost:8091 {\n  monitor continuously\n }\n}").unwrap(),
        Config {
            addr: "localhost:8091".into(),
            monitor: Monitor::Continuously
        }
    );
    assert_eq!(
        config(". {\n ready {\n  monitor until-ready\n }\n}")
            .unwrap()
            .monitor,
        Monitor::UntilReady
    );
}

#[test]
fn parse_errors() {
    let at = |line: u32, msg: &str| {
        format!("plugin/ready: Corefile:{line} - Error during parsing: {msg}")
    };
    assert_eq!(
        config(". {\n ready 8181\n}").unwrap_err(),
        at(2, "address 8181: missing port in address")
    );
    assert_eq!(
        config(". {\n ready :1 :2\n}").unwrap_err(),
        at(
            2,
            "Wrong argument count or unexpected line ending after ':2'"
        )
    );
    assert_eq!(
        config(". {\n ready {\n  monitor\n }\n}").unwrap_err(),
        at(
            3,
            "Wrong argument count or unexpected line ending after 'monitor'"
        )
    );
    assert_eq!(
        config(". {\n ready {\n  monitor sometimes\n }\n}").unwrap_err(),
        at(3, "monitor type 'sometimes' not supported")
    );
    assert_eq!(
        config(". {\n ready {\n  path /r\n }\n}").unwrap_err(),
        at(3, "unknown property 'path'")
    );
    assert!(config(". {\n ready\n ready :8182\n}")
        .unwrap_err()
        .ends_with("Error during parsing: this plugin can only be used once per Server Block"));
}
