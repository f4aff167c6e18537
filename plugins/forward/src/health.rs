//! In-band health checking of one upstream.
//!
//! A failed query starts a probe (at most one per upstream): it sends `. IN NS` (or the
//! configured `domain`, with RD unless `no_rec`) on a fresh connection, and repeats every
//! `health_check` interval until one gets any reply. Every failed check adds one to the
//! upstream's failure count; the first success resets it. An upstream is down while the count
//! is above `max_fails`. Any reply counts as healthy, whatever its rcode: only I/O failures
//! mean trouble.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use signpost_wire::{build_query, rtype, Name, HEADER_LEN};

use crate::random;
use crate::transport::{dial, exchange, ExchangeLimits, Proto};

/// How health checks are sent.
#[derive(Debug, Clone)]
pub(crate) struct HealthCheck {
    /// Pause between failed checks (`health_check DURATION`, default 0.5s).
    pub(crate) interval: Duration,
    /// The name asked for (`domain`, default the root).
    pub(crate) domain: Name,
    /// Recursion desired (cleared by `no_rec`).
    pub(crate) recursion_desired: bool,
    /// TCP instead of UDP (with `force_tcp`).
    pub(crate) tcp: bool,
    /// Dial timeout (miekg/dns's client default, 2s).
    pub(crate) dial_timeout: Duration,
    /// Read and write timeouts (CoreDNS sets 1s).
    pub(crate) io_timeout: Duration,
    /// Source address, if configured.
    pub(crate) source: Option<IpAddr>,
}

impl HealthCheck {
    /// One check: `Ok` if any DNS reply came back.
    pub(crate) async fn check(&self, addr: SocketAddr) -> Result<(), String> {
        let proto = if self.tcp { Proto::Tcp } else { Proto::Udp };
        let mut conn = dial(proto, addr, self.source, self.dial_timeout).await?;
        let id = random::query_id();
        let query = build_query(id, &self.domain, rtype::NS, self.recursion_desired, None);
        let limits = ExchangeLimits {
            write: self.io_timeout,
            read: self.io_timeout,
            udp_size: 512,
        };
        let reply = exchange(&mut conn, addr, &query, id, false, limits)
            .await
            .map_err(|e| e.to_string())?;
        // As CoreDNS: a header that is a response, or a plain query opcode, is good enough.
        let flags = u16::from_be_bytes([reply[2], reply[3]]);
        if reply.len() >= HEADER_LEN && (flags & 0x8000 != 0 || (flags >> 11) & 0xF == 0) {
            Ok(())
        } else {
            Err("dns: bad health check reply".into())
        }
    }
}
