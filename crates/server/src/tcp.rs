//! TCP listeners (RFC 7766): length-prefixed messages, several queries in flight per
//! connection (answers from memory go out in order at once; forwarded ones when they are
//! ready), an idle timeout, and a bound on open connections.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener as TokioListener, TcpStream};
use tokio::sync::{Mutex, Semaphore};
use tokio::task::JoinHandle;

use signpost_plugin::Transport;
use signpost_wire::Response;

use crate::handle::{answer_async, handle, owned_request, Handled};
use crate::router::Router;

/// Limits of the TCP side.
#[derive(Debug, Clone, Copy)]
pub struct TcpLimits {
    /// Open connections at most; more are closed at once.
    pub max_connections: usize,
    /// Time a connection may sit idle between queries.
    pub idle_timeout: Duration,
    /// Time to read the rest of a message once its length arrived.
    pub read_timeout: Duration,
    /// Queries answered asynchronously at once on one connection.
    pub max_in_flight: usize,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            max_connections: 10_000,
            idle_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(3),
            max_in_flight: 128,
        }
    }
}

/// A running TCP listener.
pub(crate) struct TcpListener {
    /// Address actually bound.
    pub(crate) addr: SocketAddr,
    task: JoinHandle<()>,
}

impl TcpListener {
    /// Bind `addr` and listen, without accepting yet (see [`TcpListener::start`]).
    pub(crate) fn bind(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
        let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        if addr.is_ipv6() {
            s.set_only_v6(!addr.ip().is_unspecified())?;
        }
        s.set_reuse_address(true)?;
        s.set_nonblocking(true)?;
        s.bind(&addr.into())?;
        s.listen(1024)?;
        Ok(s.into())
    }

    /// Start accepting on a bound socket. Must run inside the runtime.
    pub(crate) fn start(
        std_listener: std::net::TcpListener,
        router: Arc<ArcSwap<Router>>,
        limits: TcpLimits,
    ) -> io::Result<TcpListener> {
        let listener = TokioListener::from_std(std_listener)?;
        let bound = listener.local_addr()?;
        let conns = Arc::new(Semaphore::new(limits.max_connections));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, client)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let Ok(permit) = conns.clone().try_acquire_owned() else {
                    drop(stream);
                    continue;
                };
                let router = router.clone();
                tokio::spawn(async move {
                    let _ = connection(stream, client, bound, router, limits).await;
                    drop(permit);
                });
            }
        });
        Ok(TcpListener { addr: bound, task })
    }

    /// Stop accepting (open connections finish their current queries).
    pub(crate) fn stop(self) {
        self.task.abort();
    }
}

/// Write a reply and any follow-up messages (zone transfers) under one lock, so answers to
/// other queries on the connection cannot land in between.
async fn write_framed(w: &Mutex<OwnedWriteHalf>, resp: &Response) -> io::Result<()> {
    let mut w = w.lock().await;
    for msg in std::iter::once(resp.bytes()).chain(resp.follow_ups().iter().map(Vec::as_slice)) {
        let len = (msg.len() as u16).to_be_bytes();
        w.write_all(&len).await?;
        w.write_all(msg).await?;
    }
    Ok(())
}

async fn connection(
    stream: TcpStream,
    client: SocketAddr,
    local: SocketAddr,
    router: Arc<ArcSwap<Router>>,
    limits: TcpLimits,
) -> io::Result<()> {
    let _ = stream.set_nodelay(true);
    let (mut rd, wr) = stream.into_split();
    let wr = Arc::new(Mutex::new(wr));
    let in_flight = Arc::new(Semaphore::new(limits.max_in_flight));
    let mut buf = vec![0u8; 2048];
    let mut resp = Response::new();
    loop {
        let mut len = [0u8; 2];
        match tokio::time::timeout(limits.idle_timeout, rd.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            _ => return Ok(()),
        }
        let n = u16::from_be_bytes(len) as usize;
        if buf.len() < n {
            buf.resize(n, 0);
        }
        match tokio::time::timeout(limits.read_timeout, rd.read_exact(&mut buf[..n])).await {
            Ok(Ok(_)) => {}
            _ => return Ok(()),
        }
        let packet = &buf[..n];
        let handled = {
            let routes = router.load();
            handle(&routes, packet, client, local, Transport::Tcp, &mut resp)
        };
        match handled {
            Handled::Reply => write_framed(&wr, &resp).await?,
            Handled::Drop => {}
            Handled::Async(chain, info) => {
                let permit = in_flight.clone().acquire_owned().await.ok();
                let owned = owned_request(packet, client, local, Transport::Tcp, info);
                let wr = wr.clone();
                tokio::spawn(async move {
                    let mut resp = Response::new();
                    if answer_async(chain, owned, &mut resp).await {
                        let _ = write_framed(&wr, &resp).await;
                    }
                    drop(permit);
                });
            }
        }
    }
}
