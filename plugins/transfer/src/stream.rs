//! Packing a transfer into DNS messages.
//!
//! An AXFR answer over TCP is a series of messages, each a reply to the query (ID and question
//! copied, AA set) carrying the next records in its answer section; the first record of the
//! first message and the last record of the last message are the SOA. CoreDNS starts a new
//! message once the current one holds about 63000 bytes of records; so does this. A transfer
//! whose records are a single SOA (an IXFR from a client that is up to date) is answered with
//! one plain reply holding that SOA, without AA, as CoreDNS does.
//!
//! The first message is the reply the chain returns; the rest go out as follow-up messages
//! on the same TCP connection (see [`deliver`]).

use signpost_plugin::{Request, Step};
use signpost_wire::text::Record;
use signpost_wire::{rcode, rtype, Query, Response, Section};

/// A new message is started once the current one is this long. Below 65535 by more than the
/// largest record this plugin is handed (an SOA with two 255-byte names and a 255-byte owner
/// is under 800 bytes) plus the OPT record the server may add.
const MESSAGE_LIMIT: usize = 63000;

/// Collects a transfer's records into messages.
pub(crate) struct Packer<'q> {
    query: &'q Query<'q>,
    messages: Vec<Response>,
    records: usize,
    first: Option<Record>,
    /// A record did not fit even an empty message (it is left out, and said so).
    oversized: usize,
}

impl<'q> Packer<'q> {
    pub(crate) fn new(query: &'q Query<'q>) -> Packer<'q> {
        Packer {
            query,
            messages: Vec::new(),
            records: 0,
            first: None,
            oversized: 0,
        }
    }

    fn start_message(&mut self) {
        let mut m = Response::new();
        m.start(self.query, rcode::NOERROR);
        m.set_authoritative(true);
        self.messages.push(m);
    }

    /// Add the next record.
    pub(crate) fn push(&mut self, rec: &Record) {
        if self.first.is_none() {
            self.first = Some(rec.clone());
        }
        self.records += 1;
        let full = self
            .messages
            .last()
            .is_none_or(|m| m.bytes().len() >= MESSAGE_LIMIT);
        if full {
            self.start_message();
        }
        if self.write_last(rec) {
            return;
        }
        // Did not fit what is left of this message: try a fresh one.
        if self.messages.last().is_some_and(|m| m.counts().0 > 0) {
            self.start_message();
            if self.write_last(rec) {
                return;
            }
        }
        self.oversized += 1;
    }

    fn write_last(&mut self, rec: &Record) -> bool {
        self.messages
            .last_mut()
            .is_some_and(|m| rec.write(m, Section::Answer))
    }

    /// The serial of the first SOA (for the log line).
    fn serial(&self) -> u32 {
        match self.first.as_ref().map(|r| &r.data) {
            Some(signpost_wire::text::RecordData::Soa(_, _, serial, ..)) => *serial,
            _ => 0,
        }
    }

    /// Records taken, and the size of each message (tests).
    #[cfg(test)]
    pub(crate) fn shape(&self) -> (usize, Vec<usize>) {
        let sizes = self.messages.iter().map(|m| m.bytes().len()).collect();
        (self.records, sizes)
    }

    /// A single SOA: the client is up to date.
    fn only_soa(&self) -> Option<&Record> {
        self.first
            .as_ref()
            .filter(|r| self.records == 1 && r.rtype == rtype::SOA)
    }
}

/// Hand the packed messages to the client: the first in `resp`; the others would follow on
/// the same connection, which the server cannot do yet.
pub(crate) fn deliver(packer: Packer<'_>, req: &Request<'_>, resp: &mut Response) -> Step {
    let zone = req.qname();
    let client = req.client.ip();
    if let Some(soa) = packer.only_soa() {
        resp.start(&req.query, rcode::NOERROR);
        soa.write(resp, Section::Answer);
        tracing::info!(
            "Outgoing noop, incremental transfer for up to date zone {:?} to {} for {} SOA serial",
            zone.to_string(),
            client,
            packer.serial()
        );
        return Step::Answered;
    }
    if packer.oversized > 0 {
        tracing::warn!(
            "{} records of zone {:?} do not fit a message and were left out",
            packer.oversized,
            zone.to_string()
        );
    }
    let serial = packer.serial();
    let count = packer.records - packer.oversized;
    let mut messages = packer.messages.into_iter();
    let Some(first) = messages.next() else {
        // Nothing to send (a provider that emitted no record); CoreDNS writes nothing either,
        // here the client gets an empty authoritative reply.
        resp.start(&req.query, rcode::NOERROR);
        resp.set_authoritative(true);
        return Step::Answered;
    };
    *resp = first;
    for m in messages {
        resp.push_follow_up(m.bytes().to_vec());
    }
    tracing::info!(
        "Outgoing transfer of {} records of zone {:?} to {} for {} SOA serial",
        count,
        zone.to_string(),
        client,
        serial
    );
    Step::Answered
}
