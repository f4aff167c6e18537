//! Log formats: the placeholder language of CoreDNS's replacer (`{type}`, `{>id}`,
//! `{/log/class}`, ...), parsed once at setup into a list of pieces and rendered per query
//! straight into the output buffer.

use std::io::Write;
use std::net::IpAddr;
use std::time::Duration;

use signpost_corefile::go_text::seconds;
use signpost_plugin::Request;
use signpost_wire::Rcode;

use crate::classify::Kind;
use crate::mnemonic::{rcode_name, ClassText, TypeText};

/// CoreDNS's Common Log Format.
pub const COMMON: &str = "{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} {>do} {>bufsize}\" {rcode} {>rflags} {rsize} {duration}";

/// The Common Log Format followed by the query opcode.
pub const COMBINED: &str = "{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} {>do} {>bufsize}\" {rcode} {>rflags} {rsize} {duration} \"{>opcode}\"";

/// What an unknown value prints as.
const EMPTY: &[u8] = b"-";

/// A placeholder the replacer knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Type,
    Name,
    Class,
    Proto,
    Size,
    Remote,
    Port,
    Local,
    Id,
    Opcode,
    Do,
    Bufsize,
    Rcode,
    Rsize,
    Duration,
    Rflags,
}

impl Label {
    fn from_text(s: &str) -> Option<Label> {
        Some(match s {
            "{type}" => Label::Type,
            "{name}" => Label::Name,
            "{class}" => Label::Class,
            "{proto}" => Label::Proto,
            "{size}" => Label::Size,
            "{remote}" => Label::Remote,
            "{port}" => Label::Port,
            "{local}" => Label::Local,
            "{>id}" => Label::Id,
            "{>opcode}" => Label::Opcode,
            "{>do}" => Label::Do,
            "{>bufsize}" => Label::Bufsize,
            "{rcode}" => Label::Rcode,
            "{rsize}" => Label::Rsize,
            "{duration}" => Label::Duration,
            "{>rflags}" => Label::Rflags,
            _ => return None,
        })
    }
}

/// One piece of a parsed format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Label(Label),
    /// `{/log/type}`: the response type.
    LogType,
    /// `{/log/class}`: the response class.
    LogClass,
    /// Any other metadata label: always `-` here.
    Metadata,
}

/// A parsed log format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    pieces: Vec<Piece>,
}

/// What one log line is about.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a, 'r> {
    /// The query.
    pub req: &'a Request<'r>,
    /// The response as the chain finished it.
    pub msg: &'a [u8],
    /// Its response code (extended bits included).
    pub rcode: Rcode,
    /// Time since the server read the query.
    pub elapsed: Duration,
    /// Its type, when the rule needed to classify it.
    pub kind: Option<Kind>,
}

impl Format {
    /// Parse a format the way CoreDNS's replacer does: each `}` closes the nearest `{` before
    /// it; known labels and `{/metadata}` become placeholders, anything else stays literal.
    pub fn parse(mut s: &str) -> Format {
        let mut f = Format { pieces: Vec::new() };
        while let Some(j) = s.find('}') {
            let Some(i) = s[..j].rfind('{') else {
                f.literal(&s[..=j]);
                s = &s[j + 1..];
                continue;
            };
            let val = &s[i..=j];
            let piece = match Label::from_text(val) {
                Some(label) => Some(Piece::Label(label)),
                None => val
                    .strip_prefix("{/")
                    .map(|meta| match &meta[..meta.len() - 1] {
                        "log/type" => Piece::LogType,
                        "log/class" => Piece::LogClass,
                        _ => Piece::Metadata,
                    }),
            };
            match piece {
                Some(p) => {
                    f.literal(&s[..i]);
                    f.pieces.push(p);
                }
                None => f.literal(&s[..=j]),
            }
            s = &s[j + 1..];
        }
        f.literal(s);
        f
    }

    fn literal(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(Piece::Literal(prev)) = self.pieces.last_mut() {
            prev.push_str(s);
        } else {
            self.pieces.push(Piece::Literal(s.to_string()));
        }
    }

    /// True when rendering needs the response type (`{/log/type}` or `{/log/class}`).
    pub fn needs_kind(&self) -> bool {
        self.pieces
            .iter()
            .any(|p| matches!(p, Piece::LogType | Piece::LogClass))
    }

    /// Append the rendered format to `out`.
    pub fn render(&self, out: &mut Vec<u8>, e: &Entry<'_, '_>) {
        for p in &self.pieces {
            match p {
                Piece::Literal(s) => out.extend_from_slice(s.as_bytes()),
                Piece::Label(l) => render_label(out, *l, e),
                Piece::LogType => match e.kind {
                    Some(k) => out.extend_from_slice(k.as_str().as_bytes()),
                    None => out.extend_from_slice(EMPTY),
                },
                Piece::LogClass => match e.kind {
                    Some(k) => out.extend_from_slice(k.class().as_str().as_bytes()),
                    None => out.extend_from_slice(EMPTY),
                },
                Piece::Metadata => out.extend_from_slice(EMPTY),
            }
        }
    }
}

/// An address as CoreDNS prints it: IPv6 in brackets, IPv4-mapped IPv6 as plain IPv4 (Go
/// prints those in dotted form).
fn write_ip(out: &mut Vec<u8>, ip: IpAddr) {
    let _ = match ip {
        IpAddr::V4(v4) => write!(out, "{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => write!(out, "{v4}"),
            None => write!(out, "[{v6}]"),
        },
    };
}

/// The header flags CoreDNS lists, in its order.
const FLAGS: [(u16, &str); 8] = [
    (0x8000, "qr"),
    (0x0400, "aa"),
    (0x0200, "tc"),
    (0x0100, "rd"),
    (0x0080, "ra"),
    (0x0040, "z"),
    (0x0020, "ad"),
    (0x0010, "cd"),
];

fn render_label(out: &mut Vec<u8>, label: Label, e: &Entry<'_, '_>) {
    let q = &e.req.query;
    // Writing to a Vec cannot fail.
    let _ = match label {
        Label::Type => write!(out, "{}", TypeText(q.qtype)),
        Label::Name => write!(out, "{}", q.qname),
        Label::Class => write!(out, "{}", ClassText(q.qclass)),
        Label::Proto => write!(out, "{}", e.req.transport.as_str()),
        Label::Size => write!(out, "{}", q.packet.len()),
        Label::Remote => {
            write_ip(out, e.req.client.ip());
            Ok(())
        }
        Label::Port => write!(out, "{}", e.req.client.port()),
        Label::Local => {
            write_ip(out, e.req.local.ip());
            Ok(())
        }
        Label::Id => write!(out, "{}", q.id),
        Label::Opcode => write!(out, "{}", q.opcode()),
        Label::Do => write!(out, "{}", q.dnssec_ok()),
        Label::Bufsize => write!(out, "{}", e.req.max_size()),
        Label::Rcode => match rcode_name(e.rcode) {
            Some(n) => write!(out, "{n}"),
            None => write!(out, "{}", e.rcode),
        },
        Label::Rsize => write!(out, "{}", e.msg.len()),
        Label::Duration => write!(out, "{}s", seconds(e.elapsed)),
        Label::Rflags => {
            if e.msg.len() < 4 {
                out.extend_from_slice(EMPTY);
                return;
            }
            let flags = u16::from_be_bytes([e.msg[2], e.msg[3]]);
            let mut first = true;
            for (bit, name) in FLAGS {
                if flags & bit != 0 {
                    if !first {
                        out.push(b',');
                    }
                    out.extend_from_slice(name.as_bytes());
                    first = false;
                }
            }
            Ok(())
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Piece {
        Piece::Literal(s.into())
    }

    #[test]
    fn parses_like_the_replacer() {
        assert_eq!(
            Format::parse("A {type} B").pieces,
            vec![lit("A "), Piece::Label(Label::Type), lit(" B")]
        );
        // The nearest `{` before a `}` wins; unknown labels stay literal text.
        assert_eq!(
            Format::parse("{ {name} }").pieces,
            vec![lit("{ "), Piece::Label(Label::Name), lit(" }")]
        );
        assert_eq!(
            Format::parse("A } {foo} {>id}").pieces,
            vec![lit("A } {foo} "), Piece::Label(Label::Id)]
        );
        assert_eq!(
            Format::parse("{/log/class}{/log/type}{/other}").pieces,
            vec![Piece::LogClass, Piece::LogType, Piece::Metadata]
        );
        assert!(Format::parse("{/log/type}").needs_kind());
        assert!(!Format::parse(COMMON).needs_kind());
        assert_eq!(Format::parse("{TYPE}").pieces, vec![lit("{TYPE}")]);
    }

    #[test]
    fn seconds_like_go() {
        let s = |ns: u64| {
            let mut v = Vec::new();
            let _ = write!(v, "{}s", seconds(Duration::from_nanos(ns)));
            String::from_utf8(v).unwrap()
        };
        assert_eq!(s(66_103), "0.000066103s");
        assert_eq!(s(37_990_251), "0.037990251s");
        assert_eq!(s(1_500_000_000), "1.5s");
        assert_eq!(s(2_000_000_000), "2s");
        assert_eq!(s(0), "0s");
        assert_eq!(s(100), "0.0000001s");
    }

    #[test]
    fn addresses_like_go() {
        let ip = |s: &str| {
            let mut v = Vec::new();
            write_ip(&mut v, s.parse().unwrap());
            String::from_utf8(v).unwrap()
        };
        assert_eq!(ip("10.0.0.1"), "10.0.0.1");
        assert_eq!(ip("::1"), "[::1]");
        assert_eq!(ip("::ffff:10.0.0.1"), "10.0.0.1");
    }
}
