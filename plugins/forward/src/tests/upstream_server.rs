//! A tiny DNS server on 127.0.0.1 (UDP and TCP on one port) that answers from a fixed table,
//! for forwarding tests. Nothing here talks to anything but loopback.
//!
//! | name            | answer                                                         |
//! |-----------------|----------------------------------------------------------------|
//! | `. NS`          | NOERROR, empty (health checks)                                 |
//! | `big.example.`  | UDP: TC set, no records; TCP: three A records                   |
//! | `huge.example.` | 60 A records over any transport, never TC (too big for 512)     |
//! | `nx.example.`   | NXDOMAIN                                                       |
//! | `nodata.example.` | NOERROR, no records                                          |
//! | `wrong.example.`| an answer for `other.example.` (a mismatched question)         |
//! | `late.example.` | first an answer with the wrong ID, then the right one          |
//! | anything else   | one A record: the server's own tag address                     |

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use signpost_wire::{rcode, rtype, Name, Owner, Query, RData, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

/// What the server saw of one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) tcp: bool,
    pub(crate) qname: String,
    pub(crate) qtype: u16,
    pub(crate) rd: bool,
    pub(crate) edns: bool,
}

/// Shared state and knobs.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Drop every query without answering.
    pub(crate) silent: AtomicBool,
    /// Answer everything but health checks with this rcode instead (0: off).
    pub(crate) rcode_override: AtomicU16,
    /// TCP connections accepted.
    pub(crate) tcp_conns: AtomicUsize,
    /// Every query received.
    pub(crate) seen: Mutex<Vec<Seen>>,
}

impl State {
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Queries other than health checks.
    pub(crate) fn queries(&self) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.qname != ".").collect()
    }

    pub(crate) fn health_checks(&self) -> usize {
        self.seen().iter().filter(|s| s.qtype == rtype::NS).count()
    }
}

/// A running test upstream; stops when dropped.
pub(crate) struct TestUpstream {
    pub(crate) addr: SocketAddr,
    pub(crate) state: Arc<State>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for TestUpstream {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl TestUpstream {
    /// Start a server whose default answer is `tag`.
    pub(crate) async fn start(tag: Ipv4Addr) -> TestUpstream {
        let (tcp, udp) = loop {
            let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = tcp.local_addr().unwrap().port();
            if let Ok(udp) = UdpSocket::bind(("127.0.0.1", port)).await {
                break (tcp, udp);
            }
        };
        let addr = tcp.local_addr().unwrap();
        let state = Arc::new(State::default());
        let udp_task = tokio::spawn(serve_udp(udp, tag, state.clone()));
        let tcp_task = tokio::spawn(serve_tcp(tcp, tag, state.clone()));
        TestUpstream {
            addr,
            state,
            tasks: vec![udp_task, tcp_task],
        }
    }

    /// The address as a Corefile TO argument.
    pub(crate) fn to(&self) -> String {
        self.addr.to_string()
    }
}

/// A loopback port with nothing listening (UDP gets ICMP refused, TCP a reset).
pub(crate) async fn closed_port() -> SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    s.local_addr().unwrap()
}

async fn serve_udp(sock: UdpSocket, tag: Ipv4Addr, state: Arc<State>) {
    let mut buf = vec![0u8; 65535];
    loop {
        let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
            continue;
        };
        for reply in answers(&buf[..n], false, tag, &state) {
            let _ = sock.send_to(&reply, peer).await;
        }
    }
}

async fn serve_tcp(listener: TcpListener, tag: Ipv4Addr, state: Arc<State>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        state.tcp_conns.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(serve_conn(stream, tag, state.clone()));
    }
}

async fn serve_conn(mut stream: TcpStream, tag: Ipv4Addr, state: Arc<State>) {
    loop {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).await.is_err() {
            return;
        }
        let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
        if stream.read_exact(&mut msg).await.is_err() {
            return;
        }
        for reply in answers(&msg, true, tag, &state) {
            let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&reply);
            if stream.write_all(&framed).await.is_err() {
                return;
            }
        }
    }
}

/// The replies to one query (none when silent).
fn answers(packet: &[u8], tcp: bool, tag: Ipv4Addr, state: &State) -> Vec<Vec<u8>> {
    let Ok(q) = Query::parse(packet) else {
        return Vec::new();
    };
    state.seen.lock().unwrap().push(Seen {
        tcp,
        qname: q.qname.to_string(),
        qtype: q.qtype,
        rd: q.rd(),
        edns: q.edns.is_some(),
    });
    if state.silent.load(Ordering::SeqCst) {
        return Vec::new();
    }
    let mut r = Response::new();
    let name = q.qname.to_string();
    let forced = state.rcode_override.load(Ordering::SeqCst);
    if forced != 0 && name != "." {
        r.start(&q, forced);
        return vec![finish(r, &q)];
    }
    match name.as_str() {
        "." => r.start(&q, rcode::NOERROR),
        "nx.example." => r.start(&q, rcode::NXDOMAIN),
        "nodata.example." => r.start(&q, rcode::NOERROR),
        "big.example." if !tcp => {
            r.start(&q, rcode::NOERROR);
            r.set_truncated(true);
        }
        "big.example." => {
            r.start(&q, rcode::NOERROR);
            for i in 1..=3 {
                r.answer(Owner::Question, 300, &RData::A(Ipv4Addr::new(10, 1, 0, i)));
            }
        }
        "huge.example." => {
            r.start(&q, rcode::NOERROR);
            for i in 1..=60 {
                r.answer(Owner::Question, 300, &RData::A(Ipv4Addr::new(10, 2, 0, i)));
            }
        }
        "wrong.example." => {
            let other = signpost_wire::build_query(
                q.id,
                &Name::from_text("other.example.").unwrap(),
                q.qtype,
                true,
                None,
            );
            let oq = Query::parse(&other).unwrap();
            r.start(&oq, rcode::NOERROR);
        }
        "late.example." => {
            let mut early = Response::new();
            early.start(&q, rcode::NOERROR);
            early.answer(
                Owner::Question,
                300,
                &RData::A(Ipv4Addr::new(192, 0, 2, 99)),
            );
            early.set_id(q.id.wrapping_add(1));
            r.start(&q, rcode::NOERROR);
            r.answer(Owner::Question, 300, &RData::A(tag));
            return vec![early.bytes().to_vec(), finish(r, &q)];
        }
        _ => {
            r.start(&q, rcode::NOERROR);
            r.answer(Owner::Question, 300, &RData::A(tag));
        }
    }
    vec![finish(r, &q)]
}

/// Add an OPT record when the query had one (the forwarder must strip it).
fn finish(mut r: Response, q: &Query<'_>) -> Vec<u8> {
    r.set_recursion_available(true);
    r.finalize(q, 65535);
    r.bytes().to_vec()
}
