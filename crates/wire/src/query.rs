//! Reading a query: header checks, the one question, and the OPT record.
//!
//! The acceptance rules are those of miekg/dns's default accept function, which CoreDNS
//! uses: responses are ignored, unknown opcodes get NOTIMP, and a query must carry exactly one
//! question, at most one answer or authority record, and at most two additional records.

use crate::{class, name::NameError, opcode, rcode, rtype, Edns, Name, Rcode, HEADER_LEN};

/// A parsed query. Borrows the packet it came from.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The whole packet as received.
    pub packet: &'a [u8],
    /// Message ID.
    pub id: u16,
    /// The 16 flag bits of the header as received.
    pub flags: u16,
    /// Question name, lower-cased.
    pub qname: Name,
    /// Question type.
    pub qtype: u16,
    /// Question class.
    pub qclass: u16,
    /// Byte range of the question section in `packet` (copied verbatim into responses, so the
    /// client sees its own spelling back).
    pub question_end: usize,
    /// The client's OPT record, if any.
    pub edns: Option<Edns>,
}

/// Why a packet is not a servable query, and what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryError {
    /// Not worth an answer (shorter than a header, or a response): drop it.
    Drop,
    /// Answer with this rcode, echoing the ID (and the question if it could be read).
    Reply {
        /// Message ID to echo.
        id: u16,
        /// Flags of the query (opcode and RD are echoed).
        flags: u16,
        /// Response code to send.
        rcode: Rcode,
    },
}

impl<'a> Query<'a> {
    /// Parse and check a query packet.
    pub fn parse(packet: &'a [u8]) -> Result<Query<'a>, QueryError> {
        if packet.len() < HEADER_LEN {
            return Err(QueryError::Drop);
        }
        let id = u16::from_be_bytes([packet[0], packet[1]]);
        let flags = u16::from_be_bytes([packet[2], packet[3]]);
        if flags & 0x8000 != 0 {
            return Err(QueryError::Drop);
        }
        let reply = |rcode| QueryError::Reply { id, flags, rcode };
        let op = ((flags >> 11) & 0xF) as u8;
        if op != opcode::QUERY && op != opcode::NOTIFY {
            return Err(reply(rcode::NOTIMP));
        }
        let count = |i: usize| u16::from_be_bytes([packet[i], packet[i + 1]]);
        let (qd, an, ns, ar) = (count(4), count(6), count(8), count(10));
        if qd != 1 || an > 1 || ns > 1 || ar > 2 {
            return Err(reply(rcode::FORMERR));
        }
        let (mut qname, pos) =
            Name::read(packet, HEADER_LEN).map_err(|_: NameError| reply(rcode::FORMERR))?;
        let fixed = packet
            .get(pos..pos + 4)
            .ok_or_else(|| reply(rcode::FORMERR))?;
        let qtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let qclass = u16::from_be_bytes([fixed[2], fixed[3]]);
        let question_end = pos + 4;
        qname.make_lowercase();

        // Walk the remaining records only to find the OPT; anything malformed is FORMERR.
        let mut edns = None;
        let mut p = question_end;
        for i in 0..(an as usize + ns as usize + ar as usize) {
            let (_, after) = Name::read(packet, p).map_err(|_| reply(rcode::FORMERR))?;
            let head = packet
                .get(after..after + 10)
                .ok_or_else(|| reply(rcode::FORMERR))?;
            let t = u16::from_be_bytes([head[0], head[1]]);
            let rdlen = u16::from_be_bytes([head[8], head[9]]) as usize;
            let end = after + 10 + rdlen;
            if end > packet.len() {
                return Err(reply(rcode::FORMERR));
            }
            if t == rtype::OPT {
                let in_additional = i >= an as usize + ns as usize;
                if edns.is_some() || !in_additional || packet[p] != 0 {
                    return Err(reply(rcode::FORMERR));
                }
                edns = Some(Edns {
                    udp_size: u16::from_be_bytes([head[2], head[3]]),
                    version: head[5],
                    dnssec_ok: head[6] & 0x80 != 0,
                });
            }
            p = end;
        }
        Ok(Query {
            packet,
            id,
            flags,
            qname,
            qtype,
            qclass,
            question_end,
            edns,
        })
    }

    /// The opcode.
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xF) as u8
    }

    /// Recursion desired.
    pub fn rd(&self) -> bool {
        self.flags & 0x0100 != 0
    }

    /// Checking disabled.
    pub fn cd(&self) -> bool {
        self.flags & 0x0010 != 0
    }

    /// The DO bit of the OPT record.
    pub fn dnssec_ok(&self) -> bool {
        self.edns.is_some_and(|e| e.dnssec_ok)
    }

    /// The question section exactly as the client wrote it.
    pub fn question_wire(&self) -> &'a [u8] {
        &self.packet[HEADER_LEN..self.question_end]
    }

    /// Largest response the client accepts over UDP.
    pub fn max_udp(&self) -> usize {
        self.edns.map_or(512, |e| e.max_udp())
    }

    /// True for class IN (most plugins serve nothing else).
    pub fn is_class_in(&self) -> bool {
        self.qclass == class::IN
    }
}

/// Build a minimal query packet (for clients, health checks and tests).
pub fn build_query(id: u16, name: &Name, qtype: u16, rd: bool, edns_size: Option<u16>) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + name.len() + 4 + 11);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&(if rd { 0x0100u16 } else { 0 }).to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0]);
    out.extend_from_slice(&[0, edns_size.is_some() as u8]);
    out.extend_from_slice(name.wire());
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&class::IN.to_be_bytes());
    if let Some(size) = edns_size {
        out.extend_from_slice(&[0, 0, 41]);
        out.extend_from_slice(&size.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(name: &str, t: u16) -> Vec<u8> {
        build_query(7, &Name::from_text(name).unwrap(), t, true, Some(1232))
    }

    #[test]
    fn parses_a_query() {
        let p = q("WWW.Example.org.", rtype::A);
        let parsed = Query::parse(&p).unwrap();
        assert_eq!(parsed.id, 7);
        assert_eq!(
            parsed.qname.wire(),
            Name::from_text("www.example.org.").unwrap().wire()
        );
        assert_eq!(parsed.qtype, rtype::A);
        assert!(parsed.rd());
        assert_eq!(parsed.edns.unwrap().udp_size, 1232);
        assert_eq!(&parsed.question_wire()[1..4], b"WWW");
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(Query::parse(&[0; 5]).unwrap_err(), QueryError::Drop);
        let mut p = q("a.", rtype::A);
        p[2] |= 0x80; // a response
        assert_eq!(Query::parse(&p).unwrap_err(), QueryError::Drop);
        let mut p = q("a.", rtype::A);
        p[2] |= 5 << 3; // UPDATE
        assert!(matches!(
            Query::parse(&p),
            Err(QueryError::Reply {
                rcode: rcode::NOTIMP,
                ..
            })
        ));
        let mut p = q("a.", rtype::A);
        p[5] = 2; // two questions
        assert!(matches!(
            Query::parse(&p),
            Err(QueryError::Reply {
                rcode: rcode::FORMERR,
                ..
            })
        ));
        let p = q("example.org.", rtype::A);
        let cut = &p[..20];
        assert!(matches!(
            Query::parse(cut),
            Err(QueryError::Reply {
                rcode: rcode::FORMERR,
                ..
            })
        ));
        // Question name that points at itself.
        let mut p = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1];
        assert!(Query::parse(&p).is_err());
        p[13] = 14; // a forward pointer
        assert!(Query::parse(&p).is_err());
    }
}
