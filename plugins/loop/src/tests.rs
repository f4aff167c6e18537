//! Setup tests, and probing against a small UDP server running a chain.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use signpost_plugin::testing::{self, NxDomain};
use signpost_plugin::{
    BlockInfo, BoxFuture, Chain, ConfigParts, Control, ControlMsg, Next, OwnedRequest, Plugin,
    Request, ServerInfo, Step, Transport,
};
use signpost_wire::{rcode, Response};
use tokio::net::UdpSocket;
use tokio::runtime::Handle;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tokio::time::{sleep, timeout};

use super::*;

fn setup_err(text: &str) -> String {
    testing::setup(&[PLUGIN], text).err().unwrap().to_string()
}

#[test]
fn setup_adds_the_handler_and_hooks() {
    for text in [
        ". {\n    loop\n}",
        "example.org:1053 {\n    loop {\n    }\n}",
    ] {
        let (chain, parts) = testing::setup(&[PLUGIN], text).unwrap();
        assert_eq!(chain.names(), ["loop"], "{text}");
        assert_eq!(parts.startup.len(), 1);
        assert_eq!(parts.shutdown.len(), 1);
    }
}

#[test]
fn setup_errors() {
    for (text, want) in [
        (
            ". {\n    loop argument\n}",
            "plugin/loop: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'argument'",
        ),
        (
            ". {\n    loop\n    loop\n}",
            "plugin/loop: Corefile:3 - Error during parsing: this plugin can only be used once per Server Block",
        ),
        (
            ". {\n    loop {\n        max 3\n    }\n}",
            "plugin/loop: Corefile:3 - Error during parsing: unknown property 'max'",
        ),
    ] {
        assert_eq!(setup_err(text), want, "{text}");
    }
}

/// Forwards every query to a fixed address and relays the answer, like `forward` pointed
/// at the server itself.
struct ForwardToSelf(OnceLock<SocketAddr>);

impl Plugin for ForwardToSelf {
    fn name(&self) -> &'static str {
        "forward"
    }
    fn serve(&self, _: &Request<'_>, _: &mut Response, _: Next<'_>) -> Step {
        Step::Async
    }
    fn serve_async<'a>(
        &'a self,
        req: &'a Request<'a>,
        resp: &'a mut Response,
        _: Next<'a>,
    ) -> BoxFuture<'a, Step> {
        Box::pin(async move {
            let Some(&to) = self.0.get() else {
                return Step::Error(rcode::SERVFAIL, None);
            };
            let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            sock.send_to(req.query.packet, to).await.unwrap();
            let mut buf = [0u8; 4096];
            match timeout(Duration::from_secs(3), sock.recv(&mut buf)).await {
                Ok(Ok(n)) => {
                    resp.set_bytes(&buf[..n]);
                    Step::Answered
                }
                _ => Step::Error(rcode::SERVFAIL, None),
            }
        })
    }
}

/// A UDP server on 127.0.0.1 answering every query with `chain`, each in its own task.
async fn serve(chain: Arc<Chain>) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let local = sock.local_addr().unwrap();
    let info = Arc::new(ServerInfo {
        addr: format!("dns://:{}", local.port()),
        zone: Name::root(),
        zone_text: ".".into(),
        port: local.port(),
    });
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok((n, client)) = sock.recv_from(&mut buf).await {
            let req = OwnedRequest {
                packet: buf[..n].to_vec(),
                client,
                local,
                transport: Transport::Udp,
                server: Arc::clone(&info),
                start: Instant::now(),
            };
            let (chain, sock) = (Arc::clone(&chain), Arc::clone(&sock));
            tokio::spawn(async move {
                if req.request().is_err() {
                    return;
                }
                let (_, resp) = testing::run_async(&chain, &req).await;
                let _ = sock.send_to(resp.bytes(), client).await;
            });
        }
    });
    (local, task)
}

const FAST: Timing = Timing {
    window: Duration::from_millis(600),
    exchange: Duration::from_millis(300),
    pause: Duration::from_millis(20),
};

/// Registers `detector`'s hooks and runs the start-up hook with `listeners`.
fn start(
    detector: Arc<Loop>,
    listeners: Vec<(Transport, SocketAddr)>,
) -> (ConfigParts, UnboundedReceiver<ControlMsg>) {
    let block = BlockInfo {
        keys: Vec::new(),
        zones: Vec::new(),
        index: 0,
    };
    let mut parts = ConfigParts::default();
    let port = listeners.first().map(|(_, a)| a.port());
    let mut ctx = SetupContext::new(&block, &mut parts);
    register(&mut ctx, detector, port, FAST);
    drop(ctx);
    let (tx, rx) = unbounded_channel();
    let rt = Runtime {
        handle: Handle::current(),
        control: Control::new(tx),
        corefile: None,
        listeners,
    };
    for hook in parts.startup.drain(..) {
        hook(&rt).unwrap();
    }
    (parts, rx)
}

#[tokio::test]
async fn a_forwarding_loop_stops_the_server() {
    let detector = Arc::new(Loop::new(Name::root()).unwrap());
    let forward = Arc::new(ForwardToSelf(OnceLock::new()));
    let chain = Chain::new(vec![detector.clone(), forward.clone()]);
    let (addr, server) = serve(chain).await;
    forward.0.set(addr).unwrap();

    let (_parts, mut rx) = start(detector.clone(), vec![(Transport::Udp, addr)]);
    let msg = timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let ControlMsg::Fatal(msg) = msg else {
        panic!("not fatal: {msg:?}");
    };
    let want_tail = format!(
        " -> {addr}) detected for zone \".\", see https://coredns.io/plugins/loop#troubleshooting. \
         Query: \"HINFO {}\"",
        detector.qname()
    );
    assert!(msg.starts_with("plugin/loop: Loop (127.0.0.1:"), "{msg}");
    assert!(msg.ends_with(&want_tail), "{msg}");
    server.abort();
}

#[tokio::test]
async fn an_answered_probe_turns_the_detector_off() {
    let detector = Arc::new(Loop::new(Name::root()).unwrap());
    let chain = Chain::new(vec![detector.clone(), Arc::new(NxDomain)]);
    let (addr, server) = serve(chain).await;
    // A wildcard listener is probed on loopback.
    let wildcard: SocketAddr = format!("0.0.0.0:{}", addr.port()).parse().unwrap();

    let (_parts, mut rx) = start(detector.clone(), vec![(Transport::Udp, wildcard)]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !detector.disabled() && Instant::now() < deadline {
        sleep(Duration::from_millis(10)).await;
    }
    assert!(detector.disabled());
    assert_eq!(detector.seen(), 1, "the probe arrived once");
    assert!(rx.try_recv().is_err());
    server.abort();
}

#[tokio::test]
async fn unanswered_probes_give_up_after_the_window() {
    // A port nobody answers on.
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let detector = Arc::new(Loop::new(Name::root()).unwrap());

    let (_parts, mut rx) = start(detector.clone(), vec![(Transport::Udp, addr)]);
    sleep(Duration::from_millis(100)).await;
    assert!(!detector.disabled(), "still probing");
    timeout(Duration::from_secs(5), async {
        while !detector.disabled() {
            sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    assert!(rx.try_recv().is_err());
}

#[tokio::test]
async fn no_udp_listener_or_retired_first_means_no_probe() {
    let detector = Arc::new(Loop::new(Name::root()).unwrap());
    let (_parts, _rx) = start(
        detector.clone(),
        vec![(Transport::Tcp, "127.0.0.1:53".parse().unwrap())],
    );
    assert!(detector.disabled());

    let detector = Arc::new(Loop::new(Name::root()).unwrap());
    let block = BlockInfo {
        keys: Vec::new(),
        zones: Vec::new(),
        index: 0,
    };
    let mut parts = ConfigParts::default();
    let mut ctx = SetupContext::new(&block, &mut parts);
    register(&mut ctx, detector.clone(), Some(53), FAST);
    drop(ctx);
    for hook in parts.shutdown.drain(..) {
        hook(false).await;
    }
    let (tx, _rx) = unbounded_channel();
    let rt = Runtime {
        handle: Handle::current(),
        control: Control::new(tx),
        corefile: None,
        listeners: vec![(Transport::Udp, "127.0.0.1:53".parse().unwrap())],
    };
    for hook in parts.startup.drain(..) {
        hook(&rt).unwrap();
    }
    assert!(detector.disabled());
}

/// The Corefile examples of the README.
fn readme_examples() -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in include_str!("../README.md").lines() {
        match (&mut current, line) {
            (None, "```corefile") => current = Some(String::new()),
            (Some(_), "```") => out.extend(current.take()),
            (Some(text), l) => {
                text.push_str(l);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

#[test]
fn readme_examples_set_up() {
    let examples = readme_examples();
    assert!(!examples.is_empty());
    for text in examples {
        if let Err(e) = testing::setup(&[PLUGIN], &text) {
            panic!("{text}: {e}");
        }
    }
}
