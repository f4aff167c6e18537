//! A query as the chain sees it: the parsed message plus where it came from.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use signpost_wire::{Name, Query, QueryError};

/// Transport the query arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// Plain DNS over UDP.
    Udp,
    /// Plain DNS over TCP.
    Tcp,
}

impl Transport {
    /// Label value CoreDNS uses (`proto="udp"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// The server block (and key zone) a query was routed to.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    /// CoreDNS's server address label, e.g. `dns://:53` or `dns://127.0.0.1:1053`.
    pub addr: String,
    /// The key zone that matched, e.g. `.` or `example.org.`.
    pub zone: Name,
    /// The same zone as text (metric label).
    pub zone_text: String,
    /// Port the block serves on.
    pub port: u16,
}

/// One query in flight.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The parsed query.
    pub query: Query<'a>,
    /// Client address.
    pub client: SocketAddr,
    /// Local address the query arrived on.
    pub local: SocketAddr,
    /// Transport.
    pub transport: Transport,
    /// Routing result.
    pub server: &'a ServerInfo,
    /// When the server read the query.
    pub start: Instant,
}

impl Request<'_> {
    /// The lower-cased question name.
    pub fn qname(&self) -> &Name {
        &self.query.qname
    }

    /// Question type.
    pub fn qtype(&self) -> u16 {
        self.query.qtype
    }

    /// Largest response this client takes on its transport.
    pub fn max_size(&self) -> usize {
        match self.transport {
            Transport::Udp => self.query.max_udp(),
            Transport::Tcp => u16::MAX as usize,
        }
    }

    /// IP family label CoreDNS uses: "1" for IPv4, "2" for IPv6.
    pub fn family(&self) -> &'static str {
        match self.client.ip() {
            std::net::IpAddr::V4(_) => "1",
            // Go sees an IPv4-mapped client on a dual-stack socket as IPv4.
            std::net::IpAddr::V6(ip) if ip.to_ipv4_mapped().is_some() => "1",
            std::net::IpAddr::V6(_) => "2",
        }
    }

    /// An owned copy, for work that outlives the request (async path, prefetch).
    pub fn to_owned_request(&self, server: Arc<ServerInfo>) -> OwnedRequest {
        OwnedRequest {
            packet: self.query.packet.to_vec(),
            client: self.client,
            local: self.local,
            transport: self.transport,
            server,
            start: self.start,
        }
    }
}

/// A request that owns its packet.
#[derive(Debug, Clone)]
pub struct OwnedRequest {
    /// Raw query.
    pub packet: Vec<u8>,
    /// Client address.
    pub client: SocketAddr,
    /// Local address.
    pub local: SocketAddr,
    /// Transport.
    pub transport: Transport,
    /// Routing result.
    pub server: Arc<ServerInfo>,
    /// When the server read the query.
    pub start: Instant,
}

impl OwnedRequest {
    /// Borrow as a [`Request`] (parses the packet again; it was valid once).
    pub fn request(&self) -> Result<Request<'_>, QueryError> {
        Ok(Request {
            query: Query::parse(&self.packet)?,
            client: self.client,
            local: self.local,
            transport: self.transport,
            server: &self.server,
            start: self.start,
        })
    }
}
