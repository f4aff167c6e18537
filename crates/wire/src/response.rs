//! Building a response in wire format, in place.
//!
//! A [`Response`] owns one growable buffer that is cleared, not freed, between queries, so a
//! warm worker writes answers without allocating. The header and question are copied from the
//! query (keeping the client's spelling of the name); records are appended section by section
//! with name compression against names already written.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::{class, rcode, records, rtype, Name, Query, Rcode, Section, HEADER_LEN};

/// Owner name of a record being written.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    /// The question name (written as a 2-byte pointer to it).
    Question,
    /// Any other name.
    Name(&'a Name),
}

/// Record data to write.
#[derive(Debug, Clone, Copy)]
pub enum RData<'a> {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// Canonical name.
    Cname(&'a Name),
    /// Name server.
    Ns(&'a Name),
    /// Pointer.
    Ptr(&'a Name),
    /// Mail exchange.
    Mx {
        /// Preference.
        preference: u16,
        /// Exchange host.
        exchange: &'a Name,
    },
    /// Service location; the target is never compressed (RFC 2782).
    Srv {
        /// Priority.
        priority: u16,
        /// Weight.
        weight: u16,
        /// Port.
        port: u16,
        /// Target host.
        target: &'a Name,
    },
    /// Text; each string longer than 255 bytes is split into several character-strings.
    Txt(&'a [String]),
    /// Start of authority.
    Soa {
        /// Primary name server.
        mname: &'a Name,
        /// Responsible mailbox.
        rname: &'a Name,
        /// Serial.
        serial: u32,
        /// Refresh.
        refresh: u32,
        /// Retry.
        retry: u32,
        /// Expire.
        expire: u32,
        /// Negative TTL.
        minimum: u32,
    },
    /// Any type, data already in wire form with no compressed names.
    Raw {
        /// Record type.
        rtype: u16,
        /// Record data.
        data: &'a [u8],
    },
}

impl RData<'_> {
    /// The record type this data is for.
    pub fn rtype(&self) -> u16 {
        match self {
            RData::A(_) => rtype::A,
            RData::Aaaa(_) => rtype::AAAA,
            RData::Cname(_) => rtype::CNAME,
            RData::Ns(_) => rtype::NS,
            RData::Ptr(_) => rtype::PTR,
            RData::Mx { .. } => rtype::MX,
            RData::Srv { .. } => rtype::SRV,
            RData::Txt(_) => rtype::TXT,
            RData::Soa { .. } => rtype::SOA,
            RData::Raw { rtype, .. } => *rtype,
        }
    }
}

/// How many name positions are remembered for compression. Answers with more distinct names
/// than this still come out right, just less compressed.
const MAX_TARGETS: usize = 64;

/// A response under construction (or received from elsewhere, see [`Response::set_bytes`]).
#[derive(Debug, Clone)]
pub struct Response {
    buf: Vec<u8>,
    section: Section,
    ext_rcode: u8,
    targets: [u16; MAX_TARGETS],
    ntargets: usize,
    follow_ups: Vec<Vec<u8>>,
}

impl Default for Response {
    fn default() -> Self {
        Response::new()
    }
}

impl Response {
    /// An empty response with room for a full TCP message, so it never grows while answering.
    pub fn new() -> Response {
        Response {
            buf: Vec::with_capacity(4096),
            section: Section::Answer,
            ext_rcode: 0,
            targets: [0; MAX_TARGETS],
            ntargets: 0,
            follow_ups: Vec::new(),
        }
    }

    /// Forget everything written (keeps the buffer).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.section = Section::Answer;
        self.ext_rcode = 0;
        self.ntargets = 0;
        self.follow_ups.clear();
    }

    /// Queue a complete message to send after this one on the same TCP connection (a zone
    /// transfer is a series of messages). Follow-ups are sent as they are, without an OPT
    /// record; over UDP they are not sent.
    pub fn push_follow_up(&mut self, msg: Vec<u8>) {
        self.follow_ups.push(msg);
    }

    /// The queued follow-up messages.
    pub fn follow_ups(&self) -> &[Vec<u8>] {
        &self.follow_ups
    }

    /// True when nothing has been written since the last clear.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Begin a reply to `q`: header (ID, opcode, RD and CD echoed; QR set) and the question as
    /// the client wrote it.
    pub fn start(&mut self, q: &Query<'_>, rcode: Rcode) {
        self.clear();
        let flags = 0x8000 | (q.flags & 0x7800) | (q.flags & 0x0110);
        self.buf.extend_from_slice(&q.id.to_be_bytes());
        self.buf.extend_from_slice(&flags.to_be_bytes());
        self.buf.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
        self.buf.extend_from_slice(q.question_wire());
        self.set_rcode(rcode);
        // The question name and each of its suffixes are compression targets.
        let mut p = HEADER_LEN;
        while p < self.buf.len() && self.buf[p] != 0 && self.buf[p] & 0xC0 == 0 {
            self.add_target(p);
            p += 1 + self.buf[p] as usize;
        }
    }

    /// A reply carrying only an rcode (FORMERR, SERVFAIL, REFUSED, ...).
    pub fn error(&mut self, q: &Query<'_>, rcode: Rcode) {
        self.start(q, rcode);
    }

    /// A reply for a packet whose question could not be read: header only.
    pub fn header_only(&mut self, id: u16, query_flags: u16, rcode: Rcode) {
        self.clear();
        let flags = 0x8000 | (query_flags & 0x7800) | (query_flags & 0x0110);
        self.buf.extend_from_slice(&id.to_be_bytes());
        self.buf.extend_from_slice(&flags.to_be_bytes());
        self.buf.extend_from_slice(&[0; 8]);
        self.set_rcode(rcode);
    }

    /// Replace the whole message with `msg` (an upstream answer or a cached one).
    pub fn set_bytes(&mut self, msg: &[u8]) {
        self.clear();
        self.buf.extend_from_slice(msg);
        self.section = Section::Additional;
    }

    /// The message so far.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The message, writable (for patching IDs and TTLs in place).
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    fn flags(&self) -> u16 {
        if self.buf.len() < 4 {
            return 0;
        }
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }

    fn set_flags(&mut self, f: u16) {
        if self.buf.len() >= 4 {
            self.buf[2..4].copy_from_slice(&f.to_be_bytes());
        }
    }

    fn set_flag(&mut self, bit: u16, on: bool) {
        let f = self.flags();
        self.set_flags(if on { f | bit } else { f & !bit });
    }

    /// Set or clear AA.
    pub fn set_authoritative(&mut self, on: bool) {
        self.set_flag(0x0400, on);
    }

    /// Set or clear RA.
    pub fn set_recursion_available(&mut self, on: bool) {
        self.set_flag(0x0080, on);
    }

    /// Set or clear TC.
    pub fn set_truncated(&mut self, on: bool) {
        self.set_flag(0x0200, on);
    }

    /// TC bit.
    pub fn truncated(&self) -> bool {
        self.flags() & 0x0200 != 0
    }

    /// AA bit.
    pub fn authoritative(&self) -> bool {
        self.flags() & 0x0400 != 0
    }

    /// Set the response code (values over 15 go to the OPT record at finalize).
    pub fn set_rcode(&mut self, rcode: Rcode) {
        self.ext_rcode = (rcode >> 4) as u8;
        let f = (self.flags() & !0x000F) | (rcode & 0x000F);
        self.set_flags(f);
    }

    /// The response code (header bits plus any extended bits set here).
    pub fn rcode(&self) -> Rcode {
        ((self.ext_rcode as u16) << 4) | (self.flags() & 0x000F)
    }

    /// Message ID.
    pub fn id(&self) -> u16 {
        if self.buf.len() < 2 {
            return 0;
        }
        u16::from_be_bytes([self.buf[0], self.buf[1]])
    }

    /// Set the message ID.
    pub fn set_id(&mut self, id: u16) {
        if self.buf.len() >= 2 {
            self.buf[0..2].copy_from_slice(&id.to_be_bytes());
        }
    }

    /// Record counts: (answer, authority, additional).
    pub fn counts(&self) -> (u16, u16, u16) {
        if self.buf.len() < HEADER_LEN {
            return (0, 0, 0);
        }
        let c = |i: usize| u16::from_be_bytes([self.buf[i], self.buf[i + 1]]);
        (c(6), c(8), c(10))
    }

    fn bump(&mut self, section: Section) {
        let at = match section {
            Section::Answer => 6,
            Section::Authority => 8,
            Section::Additional => 10,
        };
        let v = u16::from_be_bytes([self.buf[at], self.buf[at + 1]]) + 1;
        self.buf[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }

    /// Append an IN record to the answer section.
    pub fn answer(&mut self, owner: Owner<'_>, ttl: u32, rdata: &RData<'_>) -> bool {
        self.push(Section::Answer, owner, class::IN, ttl, rdata)
    }

    /// Append an IN record to the authority section.
    pub fn authority(&mut self, owner: Owner<'_>, ttl: u32, rdata: &RData<'_>) -> bool {
        self.push(Section::Authority, owner, class::IN, ttl, rdata)
    }

    /// Append an IN record to the additional section.
    pub fn additional(&mut self, owner: Owner<'_>, ttl: u32, rdata: &RData<'_>) -> bool {
        self.push(Section::Additional, owner, class::IN, ttl, rdata)
    }

    /// Append a record. Sections must be written in order; a record for an earlier section
    /// than one already written, or one that would push the message past 65535 bytes, is
    /// refused (returns false) and nothing is written.
    pub fn push(
        &mut self,
        section: Section,
        owner: Owner<'_>,
        class: u16,
        ttl: u32,
        rdata: &RData<'_>,
    ) -> bool {
        if self.buf.len() < HEADER_LEN || section < self.section {
            return false;
        }
        self.section = section;
        let mark = self.buf.len();
        let saved_targets = self.ntargets;
        match owner {
            Owner::Question => self.buf.extend_from_slice(&[0xC0, HEADER_LEN as u8]),
            Owner::Name(n) => self.write_name(n, true),
        }
        self.buf.extend_from_slice(&rdata.rtype().to_be_bytes());
        self.buf.extend_from_slice(&class.to_be_bytes());
        self.buf.extend_from_slice(&ttl.to_be_bytes());
        let len_at = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        self.write_rdata(rdata);
        let rdlen = self.buf.len() - len_at - 2;
        if rdlen > u16::MAX as usize || self.buf.len() > u16::MAX as usize {
            self.buf.truncate(mark);
            self.ntargets = saved_targets;
            return false;
        }
        self.buf[len_at..len_at + 2].copy_from_slice(&(rdlen as u16).to_be_bytes());
        self.bump(section);
        true
    }

    fn write_rdata(&mut self, rdata: &RData<'_>) {
        match rdata {
            RData::A(ip) => self.buf.extend_from_slice(&ip.octets()),
            RData::Aaaa(ip) => self.buf.extend_from_slice(&ip.octets()),
            RData::Cname(n) | RData::Ns(n) | RData::Ptr(n) => self.write_name(n, true),
            RData::Mx {
                preference,
                exchange,
            } => {
                self.buf.extend_from_slice(&preference.to_be_bytes());
                self.write_name(exchange, true);
            }
            RData::Srv {
                priority,
                weight,
                port,
                target,
            } => {
                self.buf.extend_from_slice(&priority.to_be_bytes());
                self.buf.extend_from_slice(&weight.to_be_bytes());
                self.buf.extend_from_slice(&port.to_be_bytes());
                self.write_name(target, false);
            }
            RData::Txt(strings) => {
                for s in strings.iter() {
                    let b = s.as_bytes();
                    if b.is_empty() {
                        self.buf.push(0);
                    }
                    for chunk in b.chunks(255) {
                        self.buf.push(chunk.len() as u8);
                        self.buf.extend_from_slice(chunk);
                    }
                }
            }
            RData::Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            } => {
                self.write_name(mname, true);
                self.write_name(rname, true);
                for v in [serial, refresh, retry, expire, minimum] {
                    self.buf.extend_from_slice(&v.to_be_bytes());
                }
            }
            RData::Raw { data, .. } => self.buf.extend_from_slice(data),
        }
    }

    fn add_target(&mut self, at: usize) {
        if self.ntargets < MAX_TARGETS && at < 0x4000 {
            self.targets[self.ntargets] = at as u16;
            self.ntargets += 1;
        }
    }

    /// Write `name`, ending in a pointer to an earlier copy of its longest known suffix.
    fn write_name(&mut self, name: &Name, compress: bool) {
        let wire = name.wire();
        let mut at = 0usize;
        while wire[at] != 0 {
            if compress {
                let suffix = &wire[at..];
                let found = self.targets[..self.ntargets]
                    .iter()
                    .copied()
                    .find(|&t| suffix_matches(&self.buf, t as usize, suffix));
                if let Some(t) = found {
                    self.buf.extend_from_slice(&(0xC000 | t).to_be_bytes());
                    return;
                }
            }
            let l = wire[at] as usize;
            let here = self.buf.len();
            self.add_target(here);
            self.buf.extend_from_slice(&wire[at..at + 1 + l]);
            at += 1 + l;
        }
        self.buf.push(0);
    }

    /// Make the message ready to send to a client whose query was `q`: add our OPT record if
    /// the query had one, and cut the message at a record boundary to fit `max_len`, setting TC
    /// when answer or authority records had to go (additional records are dropped silently, as
    /// miekg/dns's `Truncate` does).
    pub fn finalize(&mut self, q: &Query<'_>, max_len: usize) {
        let opt_len = if q.edns.is_some() { 11 } else { 0 };
        if self.buf.len() + opt_len > max_len {
            self.truncate_to(max_len.saturating_sub(opt_len));
        }
        if let Some(edns) = q.edns {
            let opt = edns.response_opt(self.rcode());
            self.buf.extend_from_slice(&opt);
            let ar = self.counts().2;
            self.buf[10..12].copy_from_slice(&(ar + 1).to_be_bytes());
        }
    }

    fn truncate_to(&mut self, limit: usize) {
        let (an, ns, ar) = self.counts();
        let mut keep = [0u16; 3];
        let mut cut = None;
        for rec in records(&self.buf) {
            let Ok(rec) = rec else { break };
            if rec.end > limit {
                cut = Some(rec.start);
                break;
            }
            keep[rec.section as usize] += 1;
        }
        let Some(cut) = cut else { return };
        self.buf.truncate(cut);
        for (i, v) in keep.iter().enumerate() {
            self.buf[6 + 2 * i..8 + 2 * i].copy_from_slice(&v.to_be_bytes());
        }
        if keep[0] < an || keep[1] < ns {
            self.set_truncated(true);
        }
        let _ = ar;
    }

    /// Remove any OPT record (an upstream's), so the server can add its own for this client.
    pub fn remove_opt(&mut self) {
        let found = records(&self.buf)
            .filter_map(Result::ok)
            .find(|r| r.rtype == rtype::OPT && r.section == Section::Additional);
        if let Some(r) = found {
            // The upstream's extended rcode lives in the OPT TTL field's first byte.
            self.ext_rcode = self.buf[r.ttl_offset()];
            self.buf.drain(r.start..r.end);
            let ar = self.counts().2;
            self.buf[10..12].copy_from_slice(&(ar - 1).to_be_bytes());
        }
    }

    /// True when this is a NOERROR with no answer records (NODATA) or an NXDOMAIN.
    pub fn is_negative(&self) -> bool {
        let rc = self.rcode();
        rc == rcode::NXDOMAIN || (rc == rcode::NOERROR && self.counts().0 == 0)
    }
}

/// Does the name at `at` in `msg` (possibly compressed) equal the uncompressed `suffix`, byte
/// for byte?
fn suffix_matches(msg: &[u8], mut at: usize, suffix: &[u8]) -> bool {
    let mut i = 0usize;
    let mut jumps = 0;
    loop {
        let Some(&l) = msg.get(at) else { return false };
        if l & 0xC0 == 0xC0 {
            let Some(&low) = msg.get(at + 1) else {
                return false;
            };
            at = (((l & 0x3F) as usize) << 8) | low as usize;
            jumps += 1;
            if jumps > 32 {
                return false;
            }
            continue;
        }
        let l = l as usize;
        if suffix.get(i) != Some(&(l as u8)) {
            return false;
        }
        if l == 0 {
            return true;
        }
        let (Some(a), Some(b)) = (msg.get(at + 1..at + 1 + l), suffix.get(i + 1..i + 1 + l)) else {
            return false;
        };
        // Byte-exact, as miekg/dns compresses: a name spelled differently from the question
        // keeps its own spelling instead of taking the question's.
        if a != b {
            return false;
        }
        at += 1 + l;
        i += 1 + l;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build_query;

    fn name(s: &str) -> Name {
        Name::from_text(s).unwrap()
    }

    #[test]
    fn answers_with_compression() {
        let p = build_query(
            1,
            &name("Svc.ns.svc.cluster.local."),
            rtype::SRV,
            true,
            None,
        );
        let q = Query::parse(&p).unwrap();
        let mut r = Response::new();
        r.start(&q, rcode::NOERROR);
        r.set_authoritative(true);
        let target = name("ep1.svc.ns.svc.cluster.local.");
        assert!(r.answer(
            Owner::Question,
            5,
            &RData::Srv {
                priority: 0,
                weight: 100,
                port: 80,
                target: &target
            }
        ));
        assert!(r.additional(
            Owner::Name(&target),
            5,
            &RData::A(Ipv4Addr::new(10, 0, 0, 1))
        ));
        let text: Vec<String> = crate::text::message_records(r.bytes())
            .unwrap()
            .into_iter()
            .map(|x| x.to_string())
            .collect();
        assert_eq!(
            text,
            [
                "Svc.ns.svc.cluster.local.\t5\tIN\tSRV\t0 100 80 ep1.svc.ns.svc.cluster.local.",
                "ep1.svc.ns.svc.cluster.local.\t5\tIN\tA\t10.0.0.1",
            ]
        );
        // The additional owner is "ep1" + a pointer (SRV targets are not compressed).
        assert_eq!(r.counts(), (1, 0, 1));
        // Sections out of order are refused.
        assert!(!r.answer(Owner::Question, 5, &RData::A(Ipv4Addr::LOCALHOST)));
    }

    #[test]
    fn finalize_adds_opt_and_truncates() {
        let p = build_query(9, &name("big.example."), rtype::A, false, None);
        let q = Query::parse(&p).unwrap();
        let mut r = Response::new();
        r.start(&q, rcode::NOERROR);
        for i in 0..100u8 {
            r.answer(Owner::Question, 60, &RData::A(Ipv4Addr::new(10, 0, 0, i)));
        }
        r.finalize(&q, 512);
        assert!(r.bytes().len() <= 512);
        assert!(r.truncated());
        let (an, _, _) = r.counts();
        assert!(an > 0 && an < 100);

        let p = build_query(9, &name("big.example."), rtype::A, false, Some(4096));
        let q = Query::parse(&p).unwrap();
        r.start(&q, rcode::BADVERS);
        r.finalize(&q, q.max_udp());
        assert_eq!(r.counts(), (0, 0, 1));
        let opt = &r.bytes()[r.bytes().len() - 11..];
        assert_eq!(opt[2], 41);
        assert_eq!(opt[5], 1, "extended rcode bits of BADVERS");
    }
}
