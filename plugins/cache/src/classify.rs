//! What kind of answer a message is, and how long it may be cached: CoreDNS's
//! `response.Typify`, the cache's own refinements of it (CNAME chains that do not answer,
//! NXDOMAIN without SOA) and `dnsutil.MinimalTTLWithMaximum`.
//!
//! This runs only when an answer goes into the cache (the miss path), so it decodes freely.

use signpost_corefile::go_text::{GoDuration, SECOND};
use signpost_wire::{class, opcode, rcode, records, rtype, Name, RecordRef, Section, HEADER_LEN};

/// CoreDNS's `response.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    /// A positive answer.
    NoError,
    /// NXDOMAIN.
    NameError,
    /// SERVFAIL or NOTIMP.
    ServerError,
    /// The name exists, the type does not (SOA in the authority section).
    NoData,
    /// A referral.
    Delegation,
    /// NOTIFY or a zone transfer.
    Meta,
    /// A dynamic update.
    Update,
    /// Anything else; never cached.
    OtherError,
}

/// One record of a message, decoded as far as classification needs.
#[derive(Debug, Clone)]
struct Rr {
    at: RecordRef,
    owner: Name,
    /// The target of a CNAME.
    target: Option<Name>,
}

/// A message taken apart once for all the checks.
#[derive(Debug)]
pub(crate) struct View<'m> {
    msg: &'m [u8],
    /// Header flags.
    flags: u16,
    /// Response code, extended bits included.
    pub rcode: u16,
    /// Number of questions.
    qdcount: u16,
    /// The first question, if any.
    pub question: Option<(Name, u16, u16)>,
    /// Offset just past the question section.
    pub question_end: usize,
    rrs: Vec<Rr>,
}

impl<'m> View<'m> {
    /// Take `msg` apart; `None` if it is malformed. `rcode` is the full response code (the
    /// header holds only its low bits).
    pub(crate) fn parse(msg: &'m [u8], rcode: u16) -> Option<View<'m>> {
        if msg.len() < HEADER_LEN {
            return None;
        }
        let flags = u16::from_be_bytes([msg[2], msg[3]]);
        let qdcount = u16::from_be_bytes([msg[4], msg[5]]);
        let mut pos = HEADER_LEN;
        let mut question = None;
        for i in 0..qdcount {
            let (name, end) = Name::read(msg, pos).ok()?;
            let fixed = msg.get(end..end + 4)?;
            if i == 0 {
                question = Some((
                    name,
                    u16::from_be_bytes([fixed[0], fixed[1]]),
                    u16::from_be_bytes([fixed[2], fixed[3]]),
                ));
            }
            pos = end + 4;
        }
        let mut rrs = Vec::new();
        for r in records(msg) {
            let at = r.ok()?;
            let owner = at.owner(msg);
            let target = if at.rtype == rtype::CNAME {
                Some(Name::read(msg, at.rdata_offset()).ok()?.0)
            } else {
                None
            };
            rrs.push(Rr { at, owner, target });
        }
        Some(View {
            msg,
            flags,
            rcode,
            qdcount,
            question,
            question_end: pos,
            rrs,
        })
    }

    fn section(&self, s: Section) -> impl Iterator<Item = &Rr> {
        self.rrs.iter().filter(move |r| r.at.section == s)
    }

    fn answer(&self) -> impl Iterator<Item = &Rr> {
        self.section(Section::Answer)
    }

    fn answer_count(&self) -> usize {
        self.answer().count()
    }

    /// TC bit.
    pub(crate) fn truncated(&self) -> bool {
        self.flags & 0x0200 != 0
    }

    fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xF) as u8
    }

    /// Record positions (OPT excluded): where TTLs live.
    pub(crate) fn records(&self) -> impl Iterator<Item = &RecordRef> {
        self.rrs
            .iter()
            .map(|r| &r.at)
            .filter(|r| r.rtype != rtype::OPT)
    }

    /// Byte ranges of OPT records.
    pub(crate) fn opt_ranges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.rrs
            .iter()
            .filter(|r| r.at.rtype == rtype::OPT)
            .map(|r| (r.at.start, r.at.end))
    }

    /// An SOA in the authority section.
    pub(crate) fn has_soa(&self) -> bool {
        self.section(Section::Authority)
            .any(|r| r.at.rtype == rtype::SOA)
    }

    /// CoreDNS's `Request.Match`: one question, QR set, same name, type and class.
    pub(crate) fn matches(&self, qname: &Name, qtype: u16, qclass: u16) -> bool {
        self.qdcount == 1
            && self.is_response()
            && self
                .question
                .as_ref()
                .is_some_and(|(n, t, c)| n == qname && *t == qtype && *c == qclass)
    }

    /// `response.Typify`. `dnssec_ok` decides whether expired signatures make the answer
    /// unusable; `now_unix` is the wall clock.
    pub(crate) fn typify(&self, dnssec_ok: bool, now_unix: i64) -> Type {
        match self.opcode() {
            opcode::UPDATE => return Type::Update,
            opcode::NOTIFY => return Type::Meta,
            _ => {}
        }
        if let Some((_, qtype, _)) = self.question {
            if qtype == rtype::AXFR || qtype == rtype::IXFR {
                return Type::Meta;
            }
        }
        if dnssec_ok && self.has_expired_signature(now_unix) {
            return Type::OtherError;
        }
        let answers = self.answer_count();
        if answers > 0 && self.rcode == rcode::NOERROR {
            return Type::NoError;
        }
        if answers > 0 && self.rcode == rcode::NXDOMAIN {
            return Type::OtherError;
        }
        let soa = self.has_soa();
        let ns = self
            .section(Section::Authority)
            .filter(|r| r.at.rtype == rtype::NS)
            .count();
        match self.rcode {
            rcode::NOERROR if soa => Type::NoData,
            rcode::NXDOMAIN => Type::NameError,
            rcode::SERVFAIL | rcode::NOTIMP => Type::ServerError,
            rcode::NOERROR if ns > 0 => Type::Delegation,
            rcode::NOERROR => Type::NoError,
            _ => Type::OtherError,
        }
    }

    /// The type the cache files an answer under: [`View::typify`], except that a NOERROR
    /// whose answer section does not answer the question, with an SOA, is a NODATA.
    pub(crate) fn cache_type(&self, dnssec_ok: bool, now_unix: i64) -> Type {
        let t = self.typify(dnssec_ok, now_unix);
        if t == Type::NoError && self.has_soa() && self.is_nodata() {
            return Type::NoData;
        }
        t
    }

    /// Whether an answer of type `t` may be cached at all (CoreDNS's `key` function).
    pub(crate) fn cacheable(&self, t: Type) -> bool {
        if self.truncated() {
            return false;
        }
        match t {
            Type::OtherError | Type::Meta | Type::Update => false,
            // Negative caching needs an SOA for its TTL.
            Type::NameError => self.has_soa(),
            // A CNAME chain that does not reach the asked type, without SOA, is an SOA-less
            // NODATA (RFC 2308 §5: should not be cached).
            Type::NoError => self.has_soa() || !self.is_nodata(),
            _ => true,
        }
    }

    /// A usable positive answer: complete, NOERROR, answering the question.
    pub(crate) fn usable_answer(&self, dnssec_ok: bool, now_unix: i64) -> bool {
        !self.truncated()
            && self.cache_type(dnssec_ok, now_unix) == Type::NoError
            && self.answers_question()
    }

    /// A non-empty answer section that does not answer the question.
    fn is_nodata(&self) -> bool {
        self.answer_count() > 0 && !self.answers_question()
    }

    /// Does the answer section hold the asked type at the end of the CNAME chain from the
    /// question name (any record at the name for ANY, a CNAME for CNAME)?
    pub(crate) fn answers_question(&self) -> bool {
        let Some((qname, qtype, qclass)) = &self.question else {
            return false;
        };
        if self.rcode != rcode::NOERROR || self.answer_count() == 0 {
            return false;
        }
        let class_ok = |c: u16| *qclass == class::ANY || c == *qclass;
        if *qtype == rtype::ANY {
            return self
                .answer()
                .any(|r| class_ok(r.at.class) && r.owner == *qname);
        }
        if *qtype == rtype::CNAME {
            return matches!(self.cname_target(qname, *qclass), Some(Some(_)));
        }
        let Some(terminal) = self.canonical_name(qname, *qclass) else {
            return false;
        };
        self.answer()
            .any(|r| r.at.rtype == *qtype && class_ok(r.at.class) && r.owner == terminal)
    }

    /// The one CNAME target of `owner`: `Some(None)` when it has none, `None` when it has
    /// several different ones.
    fn cname_target(&self, owner: &Name, qclass: u16) -> Option<Option<Name>> {
        let mut target: Option<Name> = None;
        for r in self.answer() {
            let Some(t) = &r.target else { continue };
            if !(qclass == class::ANY || r.at.class == qclass) || r.owner != *owner {
                continue;
            }
            match &target {
                Some(have) if have != t => return None,
                _ => target = Some(*t),
            }
        }
        Some(target)
    }

    /// Follow the CNAME chain from `name`; `None` for a loop or an ambiguous alias.
    fn canonical_name(&self, name: &Name, qclass: u16) -> Option<Name> {
        let mut seen: Vec<Name> = Vec::new();
        let mut name = *name;
        loop {
            if seen.contains(&name) {
                return None;
            }
            seen.push(name);
            match self.cname_target(&name, qclass)? {
                None => return Some(name),
                Some(t) => name = t,
            }
        }
    }

    /// Any RRSIG outside its validity period (miekg/dns `ValidityPeriod`, with serial
    /// number arithmetic over 68-year windows).
    fn has_expired_signature(&self, now_unix: i64) -> bool {
        const YEAR68: i64 = 1 << 31;
        self.rrs
            .iter()
            .filter(|r| r.at.rtype == rtype::RRSIG)
            .any(|r| {
                let rd = r.at.rdata(self.msg);
                if rd.len() < 16 {
                    return false;
                }
                let expiration = i64::from(u32::from_be_bytes([rd[8], rd[9], rd[10], rd[11]]));
                let inception = i64::from(u32::from_be_bytes([rd[12], rd[13], rd[14], rd[15]]));
                let modi = (inception - now_unix) / YEAR68;
                let mode = (expiration - now_unix) / YEAR68;
                let ti = inception + modi * YEAR68;
                let te = expiration + mode * YEAR68;
                !(ti <= now_unix && now_unix <= te)
            })
    }

    /// `dnsutil.MinimalTTLWithMaximum`: the lowest TTL in the message, at most `max`; 5s for
    /// other types and for messages without records.
    pub(crate) fn minimal_ttl(&self, t: Type, max: GoDuration) -> GoDuration {
        const MINIMAL: GoDuration = 5 * SECOND;
        if !matches!(t, Type::NoError | Type::NameError | Type::NoData) {
            return MINIMAL;
        }
        let an_ns = self
            .rrs
            .iter()
            .filter(|r| r.at.section != Section::Additional)
            .count();
        let extra: Vec<&Rr> = self.section(Section::Additional).collect();
        if an_ns == 0 && (extra.is_empty() || (extra.len() == 1 && extra[0].at.rtype == rtype::OPT))
        {
            return MINIMAL;
        }
        // Go compares against the maximum truncated to a uint32 of seconds.
        let mut min = max;
        for r in &self.rrs {
            if r.at.section == Section::Additional && r.at.rtype == rtype::OPT {
                continue;
            }
            let max_secs = (min / SECOND).clamp(0, i64::from(u32::MAX)) as u32;
            if r.at.ttl < max_secs {
                min = i64::from(r.at.ttl) * SECOND;
            }
        }
        min
    }
}

/// `computeTTL`: `msg` raised to `min`, then capped at `max`.
pub(crate) fn compute_ttl(msg: GoDuration, min: GoDuration, max: GoDuration) -> GoDuration {
    msg.max(min).min(max)
}

#[cfg(test)]
mod tests;
