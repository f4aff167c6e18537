use std::time::{Duration, Instant};

use signpost_plugin::testing;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

fn config(corefile: &str) -> Result<Config, String> {
    let blocks = signpost_corefile::parse("Corefile", corefile).map_err(|e| e.to_string())?;
    parse(&blocks[0].directives).map_err(|e| e.with_plugin("health").to_string())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A one-route HTTP server answering every connection with `reply` (raw bytes).
async fn serve(reply: &'static [u8]) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(reply).await;
        }
    });
    port
}

#[test]
fn handler_says_ok() {
    let r = health_reply();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"OK");
    assert_eq!(r.content_type, "text/plain; charset=utf-8");
    let (chain, parts) = testing::setup(&[PLUGIN], ". {\n health\n}").unwrap();
    assert!(chain.is_empty(), "health is not in the query chain");
    assert_eq!(parts.http.len(), 1);
    assert_eq!(format!("{:?}", parts.http[0]), "HttpRoute(:8080/health)");
    assert_eq!((parts.http[0].handler)(), r);
    assert_eq!((parts.startup.len(), parts.shutdown.len()), (1, 1));
}

#[test]
fn parse_forms() {
    assert_eq!(
        config(". {\n health\n}").unwrap(),
        Config {
            addr: ":8080".into(),
            lameduck: Duration::ZERO
        }
    );
    assert_eq!(
        config(". {\n health localhost:8092 {\n  lameduck 1s\n }\n}").unwrap(),
        Config {
            addr: "localhost:8092".into(),
            lameduck: Duration::from_secs(1)
        }
    );
    assert_eq!(
        config(". {\n health { lameduck 1m30s }\n}")
            .unwrap()
            .lameduck,
        Duration::from_secs(90)
    );
}

#[test]
fn parse_errors() {
    let at = |line: u32, msg: &str| {
        format!("plugin/health: Corefile:{line} - Error during parsing: {msg}")
    };
    assert_eq!(
        config(". {\n health localhost\n}").unwrap_err(),
        at(2, "address localhost: missing port in address")
    );
    assert_eq!(
        config(". {\n health :1 :2\n}").unwrap_err(),
        at(
            2,
            "Wrong argument count or unexpected line ending after ':2'"
        )
    );
    assert_eq!(
        config(". {\n health {\n  lameduck\n }\n}").unwrap_err(),
        at(
            3,
            "Wrong argument count or unexpected line ending after 'lameduck'"
        )
    );
    assert_eq!(
        config(". {\n health {\n  lameduck 5\n }\n}").unwrap_err(),
        at(
            3,
            "unable to parse lameduck duration value: '5' : time: missing unit in duration \"5\""
        )
    );
    assert_eq!(
        config(". {\n health {\n  lame 5s\n }\n}").unwrap_err(),
        at(3, "unknown property 'lame'")
    );
}

#[test]
fn probe_measures_and_counts_failures() {
    let m = ProbeMetrics::get();
    rt().block_on(async {
        let port = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK").await;
        let t =
            Target::for_addr("127.0.0.1", &port.to_string(), &format!("127.0.0.1:{port}")).unwrap();
        let before = m.duration.count();
        assert!(probe::probe_once(&t, &m).await.is_ok());
        assert!(m.duration.count() > before);

        let port = serve(b"nonsense").await;
        let t = Target::for_addr("", &port.to_string(), &format!(":{port}")).unwrap();
        assert_eq!(t.host, "localhost");
        let failures = m.failures.get();
        let err = probe::fetch(&t).await.unwrap_err();
        assert_eq!(err, "malformed HTTP response");
        let _ = probe::probe_once(&t, &m).await;
        assert!(m.failures.get() > failures);
    });
}

#[test]
fn failed_probe_is_logged_like_coredns() {
    let m = ProbeMetrics::get();
    let rt = rt();
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = Target::for_addr("127.0.0.1", &port.to_string(), &format!("127.0.0.1:{port}")).unwrap();
    let out = signpost_log::output::capture(|| {
        rt.block_on(async {
            assert!(probe::probe_once(&t, &m).await.is_err());
        })
    });
    assert!(
        out.starts_with(&format!(
            "[WARNING] plugin/health: Local health request to \"http://127.0.0.1:{port}/health\" failed: dial tcp: "
        )),
        "{out}"
    );
}

#[test]
fn lameduck_delays_final_shutdown_only() {
    let (_, mut parts) =
        testing::setup(&[PLUGIN], ". {\n health :0 {\n  lameduck 100ms\n }\n}").unwrap();
    let hook = parts.shutdown.pop().unwrap();
    let rt = rt();
    let start = Instant::now();
    let out = signpost_log::output::capture(|| rt.block_on(hook(true)));
    assert!(start.elapsed() >= Duration::from_millis(100));
    assert_eq!(
        out,
        "[INFO] plugin/health: Going into lameduck mode for 100ms\n"
    );

    let (_, mut parts) =
        testing::setup(&[PLUGIN], ". {\n health :0 {\n  lameduck 1h\n }\n}").unwrap();
    let hook = parts.shutdown.pop().unwrap();
    let start = Instant::now();
    rt.block_on(hook(false));
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn startup_runs_the_probe_every_second_until_shutdown() {
    let m = ProbeMetrics::get();
    let rt = rt();
    let port = rt.block_on(serve(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"));
    let corefile = format!(". {{\n health 127.0.0.1:{port}\n}}");
    let (_, mut parts) = testing::setup(&[PLUGIN], &corefile).unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let runtime = signpost_plugin::Runtime {
        handle: rt.handle().clone(),
        control: signpost_plugin::Control::new(tx),
        corefile: None,
        listeners: Vec::new(),
    };
    let before = m.duration.count();
    (parts.startup.pop().unwrap())(&runtime).unwrap();
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(1300)).await });
    assert!(m.duration.count() > before, "the probe ran");
    // Retiring the configuration stops the probe (and does not wait for lameduck).
    rt.block_on((parts.shutdown.pop().unwrap())(false));
}
