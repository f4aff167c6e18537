//! Walking the records of a finished message without decoding them.
//!
//! Used off the fast path: the cache finds TTLs to age, forward strips the upstream OPT,
//! the server cuts an oversized answer at a record boundary, tests print records as text.

use crate::{Name, NameError, HEADER_LEN};

/// Message section of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// Answer section.
    Answer,
    /// Authority section.
    Authority,
    /// Additional section.
    Additional,
}

/// Where one record sits in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef {
    /// Its section.
    pub section: Section,
    /// Offset of the owner name.
    pub start: usize,
    /// Offset just past the record.
    pub end: usize,
    /// Offset of the type field (owner name ends here).
    pub fixed: usize,
    /// Record type.
    pub rtype: u16,
    /// Record class.
    pub class: u16,
    /// Time to live.
    pub ttl: u32,
}

impl RecordRef {
    /// Offset of the 4-byte TTL field.
    pub fn ttl_offset(&self) -> usize {
        self.fixed + 4
    }

    /// Offset of the record data.
    pub fn rdata_offset(&self) -> usize {
        self.fixed + 10
    }

    /// The record data bytes (names inside may be compressed against `msg`).
    pub fn rdata<'m>(&self, msg: &'m [u8]) -> &'m [u8] {
        &msg[self.rdata_offset()..self.end]
    }

    /// The owner name.
    pub fn owner(&self, msg: &[u8]) -> Name {
        Name::read(msg, self.start)
            .map(|(n, _)| n)
            .unwrap_or_default()
    }
}

/// Iterator over every record after the question section.
pub struct Records<'m> {
    msg: &'m [u8],
    pos: usize,
    left: [u16; 3],
    section: usize,
    failed: bool,
}

/// Walk the records of `msg`. Yields `Err` once and stops if the message is malformed.
pub fn records(msg: &[u8]) -> Records<'_> {
    let mut r = Records {
        msg,
        pos: HEADER_LEN,
        left: [0; 3],
        section: 0,
        failed: false,
    };
    if msg.len() < HEADER_LEN {
        r.failed = true;
        return r;
    }
    let count = |i: usize| u16::from_be_bytes([msg[i], msg[i + 1]]);
    r.left = [count(6), count(8), count(10)];
    // Skip the questions.
    for _ in 0..count(4) {
        match Name::read(msg, r.pos) {
            Ok((_, end)) if end + 4 <= msg.len() => r.pos = end + 4,
            _ => {
                r.failed = true;
                break;
            }
        }
    }
    r
}

impl Iterator for Records<'_> {
    type Item = Result<RecordRef, NameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        while self.section < 3 && self.left[self.section] == 0 {
            self.section += 1;
        }
        if self.section >= 3 {
            return None;
        }
        self.left[self.section] -= 1;
        let start = self.pos;
        let fixed = match Name::read(self.msg, start) {
            Ok((_, end)) => end,
            Err(e) => {
                self.failed = true;
                return Some(Err(e));
            }
        };
        let Some(head) = self.msg.get(fixed..fixed + 10) else {
            self.failed = true;
            return Some(Err(NameError::Truncated));
        };
        let rdlen = u16::from_be_bytes([head[8], head[9]]) as usize;
        let end = fixed + 10 + rdlen;
        if end > self.msg.len() {
            self.failed = true;
            return Some(Err(NameError::Truncated));
        }
        self.pos = end;
        Some(Ok(RecordRef {
            section: [Section::Answer, Section::Authority, Section::Additional][self.section],
            start,
            end,
            fixed,
            rtype: u16::from_be_bytes([head[0], head[1]]),
            class: u16::from_be_bytes([head[2], head[3]]),
            ttl: u32::from_be_bytes([head[4], head[5], head[6], head[7]]),
        }))
    }
}
