//! Sockets to one upstream and a single query/answer exchange over them.
//!
//! Errors are worded like Go's `net` errors (`read udp 127.0.0.1:40000->127.0.0.1:53: i/o
//! timeout`, `dial tcp 127.0.0.1:53: connect: connection refused`), because CoreDNS hands
//! those texts to the `errors` plugin and operators search logs for them.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use tokio::time::{timeout, timeout_at, Instant};

use signpost_corefile::go_text::os_error_text;
use signpost_wire::HEADER_LEN;

/// The transport of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    /// Plain DNS over UDP.
    Udp = 0,
    /// Plain DNS over TCP.
    Tcp = 1,
}

impl Proto {
    /// `udp` / `tcp`, as Go and the metric labels spell it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Proto::Udp => "udp",
            Proto::Tcp => "tcp",
        }
    }
}

/// An open connection to an upstream.
#[derive(Debug)]
pub(crate) enum Conn {
    /// A connected UDP socket (its own ephemeral port).
    Udp(UdpSocket),
    /// A TCP stream.
    Tcp(TcpStream),
}

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExchangeError {
    /// A cached TCP connection had been closed by the upstream: try again on a new one.
    CachedClosed,
    /// Anything else, as Go would word it.
    Failed(String),
}

impl std::fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExchangeError::CachedClosed => f.write_str("cached connection was closed by peer"),
            ExchangeError::Failed(s) => f.write_str(s),
        }
    }
}

/// Go's `SocketAddr` text (`[::1]:53` for IPv6).
fn show(a: SocketAddr) -> String {
    a.to_string()
}

/// Go's wording of a socket error: `i/o timeout` or the OS text with the syscall.
fn op_err(
    op: &str,
    proto: Proto,
    local: Option<SocketAddr>,
    remote: SocketAddr,
    sys: &str,
    e: &io::Error,
) -> String {
    let ends = match local {
        Some(l) => format!("{}->{}", show(l), show(remote)),
        None => show(remote),
    };
    format!(
        "{op} {} {ends}: {sys}: {}",
        proto.as_str(),
        os_error_text(e)
    )
}

fn timeout_err(op: &str, proto: Proto, local: Option<SocketAddr>, remote: SocketAddr) -> String {
    let ends = match local {
        Some(l) => format!("{}->{}", show(l), show(remote)),
        None => show(remote),
    };
    format!("{op} {} {ends}: i/o timeout", proto.as_str())
}

/// The local address to bind: the configured source address, or any address of the
/// upstream's family.
fn local_for(remote: SocketAddr, source: Option<IpAddr>) -> SocketAddr {
    let ip = source.unwrap_or(match remote {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    });
    SocketAddr::new(ip, 0)
}

/// Open a new connection.
pub(crate) async fn dial(
    proto: Proto,
    remote: SocketAddr,
    source: Option<IpAddr>,
    limit: Duration,
) -> Result<Conn, String> {
    let local = local_for(remote, source);
    match proto {
        Proto::Udp => {
            let sock = UdpSocket::bind(local)
                .await
                .map_err(|e| op_err("dial", proto, None, remote, "bind", &e))?;
            sock.connect(remote)
                .await
                .map_err(|e| op_err("dial", proto, None, remote, "connect", &e))?;
            Ok(Conn::Udp(sock))
        }
        Proto::Tcp => {
            let sock = if remote.is_ipv4() {
                TcpSocket::new_v4()
            } else {
                TcpSocket::new_v6()
            }
            .map_err(|e| op_err("dial", proto, None, remote, "socket", &e))?;
            if source.is_some() {
                sock.bind(local)
                    .map_err(|e| op_err("dial", proto, None, remote, "bind", &e))?;
            }
            match timeout(limit, sock.connect(remote)).await {
                Err(_) => Err(timeout_err("dial", proto, None, remote)),
                Ok(Err(e)) => Err(op_err("dial", proto, None, remote, "connect", &e)),
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    Ok(Conn::Tcp(stream))
                }
            }
        }
    }
}

/// Limits of one exchange.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExchangeLimits {
    /// How long the write may take.
    pub(crate) write: Duration,
    /// How long to wait for the answer, from the end of the write.
    pub(crate) read: Duration,
    /// Largest UDP answer accepted as is (the client's size); a larger one comes back as an
    /// empty answer with TC set, as CoreDNS does with answers that overflow its buffer.
    pub(crate) udp_size: usize,
}

/// Send `query` (whose ID is `id`) and read until the answer with that ID arrives.
/// Answers with other IDs (late answers to earlier queries) are skipped.
pub(crate) async fn exchange(
    conn: &mut Conn,
    remote: SocketAddr,
    query: &[u8],
    id: u16,
    cached: bool,
    limits: ExchangeLimits,
) -> Result<Vec<u8>, ExchangeError> {
    match conn {
        Conn::Udp(sock) => exchange_udp(sock, remote, query, id, limits).await,
        Conn::Tcp(stream) => exchange_tcp(stream, remote, query, id, cached, limits).await,
    }
}

async fn exchange_udp(
    sock: &UdpSocket,
    remote: SocketAddr,
    query: &[u8],
    id: u16,
    limits: ExchangeLimits,
) -> Result<Vec<u8>, ExchangeError> {
    let local = sock.local_addr().ok();
    let failed = ExchangeError::Failed;
    match timeout(limits.write, sock.send(query)).await {
        Err(_) => return Err(failed(timeout_err("write", Proto::Udp, local, remote))),
        Ok(Err(e)) => {
            return Err(failed(op_err(
                "write",
                Proto::Udp,
                local,
                remote,
                "write",
                &e,
            )))
        }
        Ok(Ok(_)) => {}
    }
    let deadline = Instant::now() + limits.read;
    let size = limits.udp_size.max(512);
    // One byte more than accepted, to tell an oversized answer from one that fits.
    let mut buf = vec![0u8; size + 1];
    loop {
        let n = match timeout_at(deadline, sock.recv(&mut buf)).await {
            Err(_) => return Err(failed(timeout_err("read", Proto::Udp, local, remote))),
            Ok(Err(e)) => {
                return Err(failed(op_err(
                    "read",
                    Proto::Udp,
                    local,
                    remote,
                    "read",
                    &e,
                )))
            }
            Ok(Ok(n)) => n,
        };
        if n < HEADER_LEN || u16::from_be_bytes([buf[0], buf[1]]) != id {
            continue; // short read or an answer to someone else: keep waiting
        }
        if n > size || !well_formed(&buf[..n]) {
            return Ok(truncated(&buf[..n.min(size)]));
        }
        buf.truncate(n);
        return Ok(buf);
    }
}

async fn exchange_tcp(
    stream: &mut TcpStream,
    remote: SocketAddr,
    query: &[u8],
    id: u16,
    cached: bool,
    limits: ExchangeLimits,
) -> Result<Vec<u8>, ExchangeError> {
    let local = stream.local_addr().ok();
    let failed = ExchangeError::Failed;
    let closed = |e: &io::Error| {
        cached
            && matches!(
                e.kind(),
                io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionAborted
            )
    };
    let mut framed = Vec::with_capacity(query.len() + 2);
    framed.extend_from_slice(&(query.len() as u16).to_be_bytes());
    framed.extend_from_slice(query);
    match timeout(limits.write, stream.write_all(&framed)).await {
        Err(_) => return Err(failed(timeout_err("write", Proto::Tcp, local, remote))),
        Ok(Err(e)) if closed(&e) => return Err(ExchangeError::CachedClosed),
        Ok(Err(e)) => {
            return Err(failed(op_err(
                "write",
                Proto::Tcp,
                local,
                remote,
                "write",
                &e,
            )))
        }
        Ok(Ok(())) => {}
    }
    let deadline = Instant::now() + limits.read;
    loop {
        let mut len = [0u8; 2];
        match timeout_at(deadline, stream.read_exact(&mut len)).await {
            Err(_) => return Err(failed(timeout_err("read", Proto::Tcp, local, remote))),
            Ok(Err(e)) if closed(&e) => return Err(ExchangeError::CachedClosed),
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(failed("EOF".into()))
            }
            Ok(Err(e)) => {
                return Err(failed(op_err(
                    "read",
                    Proto::Tcp,
                    local,
                    remote,
                    "read",
                    &e,
                )))
            }
            Ok(Ok(_)) => {}
        }
        let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
        match timeout_at(deadline, stream.read_exact(&mut msg)).await {
            Err(_) => return Err(failed(timeout_err("read", Proto::Tcp, local, remote))),
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(failed("unexpected EOF".into()))
            }
            Ok(Err(e)) => {
                return Err(failed(op_err(
                    "read",
                    Proto::Tcp,
                    local,
                    remote,
                    "read",
                    &e,
                )))
            }
            Ok(Ok(_)) => {}
        }
        if msg.len() < HEADER_LEN {
            return Err(failed("dns: short read".into()));
        }
        if u16::from_be_bytes([msg[0], msg[1]]) != id {
            continue; // an answer to an earlier query on this connection
        }
        if !well_formed(&msg) {
            return Err(failed("dns: overflow unpacking message".into()));
        }
        return Ok(msg);
    }
}

/// Does every record of `msg` parse?
fn well_formed(msg: &[u8]) -> bool {
    signpost_wire::records(msg).all(|r| r.is_ok()) && question_end(msg).is_some()
}

/// Offset just past the question section, if it parses.
fn question_end(msg: &[u8]) -> Option<usize> {
    let qd = u16::from_be_bytes([*msg.get(4)?, *msg.get(5)?]);
    let mut p = HEADER_LEN;
    for _ in 0..qd {
        let (_, end) = signpost_wire::Name::read(msg, p).ok()?;
        p = end + 4;
        if p > msg.len() {
            return None;
        }
    }
    Some(p)
}

/// An answer that did not fit (or did not parse): its header and question only, every
/// record count zero and TC set, so the client retries over TCP.
fn truncated(msg: &[u8]) -> Vec<u8> {
    let keep = question_end(msg).unwrap_or(HEADER_LEN);
    let mut out = msg[..keep].to_vec();
    if keep == HEADER_LEN {
        out[4..6].fill(0);
    }
    out[6..12].fill(0);
    out[2] |= 0x02; // TC
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_wire::{build_query, rtype, Name};

    #[test]
    fn truncation_keeps_header_and_question() {
        let mut q = build_query(
            7,
            &Name::from_text("a.example.").unwrap(),
            rtype::A,
            true,
            None,
        );
        q[2] |= 0x80;
        q[7] = 3; // claims three answers that are not there
        assert!(!well_formed(&q));
        let t = truncated(&q);
        assert_eq!(t.len(), q.len());
        assert_eq!(&t[4..12], &[0, 1, 0, 0, 0, 0, 0, 0]);
        assert_ne!(t[2] & 0x02, 0);
        let t = truncated(&q[..14]);
        assert_eq!(t.len(), HEADER_LEN);
        assert_eq!(&t[4..6], &[0, 0]);
    }
}
