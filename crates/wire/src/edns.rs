//! EDNS(0): the OPT pseudo-record of a query (RFC 6891).

/// What the client said in its OPT record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edns {
    /// Requester's UDP payload size (values under 512 are treated as 512).
    pub udp_size: u16,
    /// EDNS version; only 0 is served, others get BADVERS.
    pub version: u8,
    /// The DNSSEC OK bit.
    pub dnssec_ok: bool,
}

impl Edns {
    /// Largest UDP answer this client accepts.
    pub fn max_udp(&self) -> usize {
        (self.udp_size as usize).max(512)
    }

    /// Wire bytes of the OPT record a response carries back: root owner, our payload size
    /// (the client's, as CoreDNS echoes it), extended rcode bits, version 0, the DO bit.
    pub fn response_opt(&self, rcode: u16) -> [u8; 11] {
        let size = self.udp_size.max(512);
        let ext = (rcode >> 4) as u8;
        let flags: u16 = if self.dnssec_ok { 0x8000 } else { 0 };
        [
            0,
            0,
            41,
            (size >> 8) as u8,
            size as u8,
            ext,
            0,
            (flags >> 8) as u8,
            flags as u8,
            0,
            0,
        ]
    }
}
