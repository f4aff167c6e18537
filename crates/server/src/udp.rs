//! UDP listeners: one SO_REUSEPORT socket per worker thread, each reading and answering in
//! batches with `recvmmsg`/`sendmmsg` (plain `recv_from` elsewhere). Workers block in the
//! kernel; a short receive timeout lets them notice when their listener is retired.
//!
//! Answers that need I/O (forwarding) are handed to the async runtime, which sends them from
//! the same socket when they are ready; the worker moves on to the next packet meanwhile.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use arc_swap::ArcSwap;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::runtime::Handle;

use signpost_plugin::Transport;
use signpost_wire::Response;

use crate::handle::{answer_async, handle, owned_request, Handled};
use crate::router::Router;

/// Largest query read; longer datagrams are dropped (no real query comes close).
const MAX_QUERY: usize = 4096;
/// How often a blocked worker wakes up to check whether it should stop.
const STOP_POLL: Duration = Duration::from_millis(250);

/// Bound UDP sockets, not yet served.
pub(crate) struct UdpSockets {
    /// Address actually bound.
    pub(crate) addr: SocketAddr,
    sockets: Vec<UdpSocket>,
}

impl UdpSockets {
    /// Start a worker thread on each socket.
    pub(crate) fn start(self, router: Arc<ArcSwap<Router>>, rt: Handle) -> io::Result<UdpListener> {
        let bound = self.addr;
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for (i, sock) in self.sockets.into_iter().enumerate() {
            let (stop, router, rt) = (stop.clone(), router.clone(), rt.clone());
            let sock = Arc::new(sock);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("udp-{}-{i}", bound.port()))
                    .spawn(move || worker(sock, bound, router, stop, rt))?,
            );
        }
        Ok(UdpListener {
            addr: bound,
            stop,
            threads,
        })
    }
}

/// A running UDP listener.
pub(crate) struct UdpListener {
    /// Address actually bound.
    pub(crate) addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl UdpListener {
    /// Bind `workers` sockets on `addr` (port 0 picks one port for all). Nothing is read
    /// until [`UdpSockets::start`], so the caller can bind TCP on the same port first.
    pub(crate) fn bind(addr: SocketAddr, workers: usize) -> io::Result<UdpSockets> {
        let first = bind(addr)?;
        let bound = first.local_addr()?;
        let mut sockets = vec![first];
        for _ in 1..workers.max(1) {
            sockets.push(bind(bound)?);
        }
        Ok(UdpSockets {
            addr: bound,
            sockets,
        })
    }

    /// Tell the workers to stop; they exit within one receive timeout and close their
    /// sockets. Does not wait (it is called from async code).
    pub(crate) fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        drop(self.threads);
    }
}

fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        // A wildcard IPv6 socket serves IPv4 too, as Go's ":53" does.
        s.set_only_v6(!addr.ip().is_unspecified())?;
    }
    s.set_reuse_address(true)?;
    #[cfg(unix)]
    s.set_reuse_port(true)?;
    s.set_read_timeout(Some(STOP_POLL))?;
    s.bind(&addr.into())?;
    Ok(s.into())
}

/// Hand a query to the runtime and send its answer from `sock` when done.
fn spawn_async(
    rt: &Handle,
    sock: &Arc<UdpSocket>,
    handled: Handled,
    packet: &[u8],
    client: SocketAddr,
    local: SocketAddr,
) {
    let Handled::Async(chain, info) = handled else {
        return;
    };
    let owned = owned_request(packet, client, local, Transport::Udp, info);
    let sock = Arc::clone(sock);
    rt.spawn(async move {
        let mut resp = Response::new();
        if answer_async(chain, owned, &mut resp).await {
            let _ = sock.send_to(resp.bytes(), client);
        }
    });
}

#[cfg(not(target_os = "linux"))]
fn worker(
    sock: Arc<UdpSocket>,
    local: SocketAddr,
    router: Arc<ArcSwap<Router>>,
    stop: Arc<AtomicBool>,
    rt: Handle,
) {
    let mut buf = vec![0u8; MAX_QUERY];
    let mut resp = Response::new();
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, client)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let routes = router.load();
        match handle(&routes, &buf[..n], client, local, Transport::Udp, &mut resp) {
            Handled::Reply => {
                let _ = sock.send_to(resp.bytes(), client);
            }
            Handled::Drop => {}
            h @ Handled::Async(..) => spawn_async(&rt, &sock, h, &buf[..n], client, local),
        }
    }
}

#[cfg(target_os = "linux")]
fn worker(
    sock: Arc<UdpSocket>,
    local: SocketAddr,
    router: Arc<ArcSwap<Router>>,
    stop: Arc<AtomicBool>,
    rt: Handle,
) {
    use std::os::fd::AsRawFd;

    use crate::sockaddr::{from_storage, to_storage};

    const BATCH: usize = 32;
    let fd = sock.as_raw_fd();
    let mut bufs = vec![[0u8; MAX_QUERY]; BATCH];
    // SAFETY (all zeroed below): these are plain C structs for which all-zero is valid.
    let mut addrs: Vec<libc::sockaddr_storage> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut iovs: Vec<libc::iovec> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut hdrs: Vec<libc::mmsghdr> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut out_iovs: Vec<libc::iovec> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut out_hdrs: Vec<libc::mmsghdr> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut resps: Vec<Response> = (0..BATCH).map(|_| Response::new()).collect();

    while !stop.load(Ordering::Relaxed) {
        for i in 0..BATCH {
            iovs[i] = libc::iovec {
                iov_base: bufs[i].as_mut_ptr().cast(),
                iov_len: MAX_QUERY,
            };
            let h = &mut hdrs[i].msg_hdr;
            h.msg_name = (&mut addrs[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_iov = &mut iovs[i];
            h.msg_iovlen = 1;
            h.msg_control = std::ptr::null_mut();
            h.msg_controllen = 0;
            h.msg_flags = 0;
            hdrs[i].msg_len = 0;
        }
        // SAFETY: every header points at live buffers of the stated sizes.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                hdrs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n <= 0 {
            continue; // timeout (checks `stop`), EINTR, or a transient error
        }
        let routes = router.load();
        let mut out = 0usize;
        for i in 0..n as usize {
            let len = hdrs[i].msg_len as usize;
            if hdrs[i].msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                continue;
            }
            let Some(client) = from_storage(&addrs[i]) else {
                continue;
            };
            let packet = &bufs[i][..len];
            match handle(
                &routes,
                packet,
                client,
                local,
                Transport::Udp,
                &mut resps[i],
            ) {
                Handled::Reply => {
                    let bytes = resps[i].bytes();
                    out_iovs[out] = libc::iovec {
                        iov_base: bytes.as_ptr() as *mut libc::c_void,
                        iov_len: bytes.len(),
                    };
                    let namelen = to_storage(client, &mut addrs[i]);
                    let h = &mut out_hdrs[out].msg_hdr;
                    h.msg_name = (&mut addrs[i] as *mut libc::sockaddr_storage).cast();
                    h.msg_namelen = namelen;
                    h.msg_iov = &mut out_iovs[out];
                    h.msg_iovlen = 1;
                    h.msg_control = std::ptr::null_mut();
                    h.msg_controllen = 0;
                    h.msg_flags = 0;
                    out += 1;
                }
                Handled::Drop => {}
                h @ Handled::Async(..) => spawn_async(&rt, &sock, h, packet, client, local),
            }
        }
        let mut sent = 0usize;
        while sent < out {
            // SAFETY: headers [sent, out) point at live response buffers and addresses.
            let r = unsafe {
                libc::sendmmsg(
                    fd,
                    out_hdrs[sent..].as_mut_ptr(),
                    (out - sent) as libc::c_uint,
                    0,
                )
            };
            if r <= 0 {
                // Skip the message that failed (e.g. an unreachable client) and go on.
                sent += 1;
            } else {
                sent += r as usize;
            }
        }
    }
}
