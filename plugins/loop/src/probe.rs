//! Sending the probe to ourselves.
//!
//! As in CoreDNS: once the server listens, the probe goes to the block's own UDP address,
//! at most once a second for 30 seconds, until one try gets any answer. A try that gets no
//! answer (the server was not ready, or the probe is still going round a loop) forgets the
//! arrivals counted so far. When a try is answered, or the 30 seconds are over, the detector
//! turns itself off.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use signpost_plugin::Transport;
use signpost_wire::{build_query, rtype, Name};
use tokio::net::UdpSocket;
use tokio::time::{sleep, timeout, Instant};

use crate::detector::{random_below_2_62, Loop};

/// How long probes are tried.
pub(crate) const WINDOW: Duration = Duration::from_secs(30);
/// How long one try waits for its answer (the `dns.Exchange` default).
pub(crate) const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause after a try without an answer.
pub(crate) const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Where to send the probe and how to name that place in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Address the probe is sent to (a loopback address for a wildcard listener).
    pub(crate) send_to: SocketAddr,
    /// The address as CoreDNS prints it: `:PORT` without `bind`, `HOST:PORT` with it.
    pub(crate) shown: String,
}

/// Picks the UDP listener of the block (same port) among the server's listeners, or the
/// first UDP listener when none has the block's port. `None` when there is no UDP listener.
pub(crate) fn target(listeners: &[(Transport, SocketAddr)], port: Option<u16>) -> Option<Target> {
    let udp = || {
        listeners
            .iter()
            .filter(|(t, _)| *t == Transport::Udp)
            .map(|&(_, a)| a)
    };
    let addr = udp()
        .find(|a| Some(a.port()) == port)
        .or_else(|| udp().next())?;
    if !addr.ip().is_unspecified() {
        return Some(Target {
            send_to: addr,
            shown: addr.to_string(),
        });
    }
    let loopback = match addr.ip() {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    };
    Some(Target {
        send_to: SocketAddr::new(loopback, addr.port()),
        shown: format!(":{}", addr.port()),
    })
}

/// Timing of the probing, shortened in tests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) window: Duration,
    pub(crate) exchange: Duration,
    pub(crate) pause: Duration,
}

impl Timing {
    /// CoreDNS's timing.
    pub(crate) const STANDARD: Timing = Timing {
        window: WINDOW,
        exchange: EXCHANGE_TIMEOUT,
        pause: RETRY_PAUSE,
    };
}

/// Probes until answered or out of time, then turns the detector off.
pub(crate) async fn run(detector: Arc<Loop>, target: Target, timing: Timing) {
    detector.set_address(target.shown.clone());
    let deadline = Instant::now() + timing.window;
    while Instant::now() < deadline {
        if exchange(target.send_to, detector.qname(), timing.exchange).await {
            break;
        }
        detector.reset();
        sleep(timing.pause).await;
    }
    detector.disable();
}

/// Sends one HINFO query for `qname` to `to` and waits for its answer, whatever its rcode.
async fn exchange(to: SocketAddr, qname: &Name, wait: Duration) -> bool {
    let local: SocketAddr = match to {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let Ok(sock) = UdpSocket::bind(local).await else {
        return false;
    };
    if sock.connect(to).await.is_err() {
        return false;
    }
    let id = (random_below_2_62() & 0xffff) as u16;
    let query = build_query(id, qname, rtype::HINFO, true, None);
    if sock.send(&query).await.is_err() {
        return false;
    }
    timeout(wait, answer(&sock, id)).await.unwrap_or(false)
}

/// Reads until a response with `id` comes (true) or the socket fails (false).
async fn answer(sock: &UdpSocket, id: u16) -> bool {
    let mut buf = [0u8; 512];
    loop {
        match sock.recv(&mut buf).await {
            Ok(n) if n >= 12 && buf[..2] == id.to_be_bytes() && buf[2] & 0x80 != 0 => return true,
            Ok(_) => continue,
            Err(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(t: Transport, a: &str) -> (Transport, SocketAddr) {
        (t, a.parse().unwrap())
    }

    #[test]
    fn picks_the_blocks_udp_listener() {
        let listeners = [
            l(Transport::Tcp, "0.0.0.0:53"),
            l(Transport::Udp, "0.0.0.0:1053"),
            l(Transport::Udp, "0.0.0.0:53"),
        ];
        assert_eq!(
            target(&listeners, Some(53)),
            Some(Target {
                send_to: "127.0.0.1:53".parse().unwrap(),
                shown: ":53".into()
            })
        );
        assert_eq!(
            target(&listeners, Some(5353)).unwrap().send_to,
            "127.0.0.1:1053".parse().unwrap(),
            "falls back to the first UDP listener"
        );
        assert_eq!(target(&[l(Transport::Tcp, "0.0.0.0:53")], Some(53)), None);
        assert_eq!(target(&[], None), None);
    }

    #[test]
    fn wildcard_becomes_loopback_and_bound_addresses_stay() {
        assert_eq!(
            target(&[l(Transport::Udp, "[::]:53")], Some(53)),
            Some(Target {
                send_to: "[::1]:53".parse().unwrap(),
                shown: ":53".into()
            })
        );
        assert_eq!(
            target(&[l(Transport::Udp, "127.0.0.1:1053")], Some(1053)),
            Some(Target {
                send_to: "127.0.0.1:1053".parse().unwrap(),
                shown: "127.0.0.1:1053".into()
            })
        );
        assert_eq!(
            target(&[l(Transport::Udp, "[::1]:53")], Some(53))
                .unwrap()
                .shown,
            "[::1]:53"
        );
    }
}
