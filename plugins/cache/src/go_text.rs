//! Go's number and duration grammar, with Go's error wording.
//!
//! CoreDNS reads `cache` options with `strconv.Atoi` and `time.ParseDuration` and passes their
//! errors through unchanged, so a Corefile that CoreDNS rejects is rejected here with the same
//! words, and one it accepts (`0`, `1h30m`, `+5`, `.5s`) is accepted here too.

/// A Go `time.Duration`: signed nanoseconds.
pub(crate) type GoDuration = i64;

/// One second as a [`GoDuration`].
pub(crate) const SECOND: GoDuration = 1_000_000_000;

/// Nanoseconds per unit, for the units `time.ParseDuration` knows.
const UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{00b5}s", 1_000),
    ("\u{03bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// `1 << 63`, the bound Go checks its unsigned accumulators against.
const LIMIT: u64 = 1 << 63;

/// `time.ParseDuration`.
pub(crate) fn parse_duration(orig: &str) -> Result<GoDuration, String> {
    let invalid = || format!("time: invalid duration {}", quote_time(orig));
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some(&c) = s.first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = &s[1..];
        }
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        // Integer part.
        let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut v: u64 = 0;
        for &c in &s[..digits] {
            if v > LIMIT / 10 {
                return Err(invalid());
            }
            v = v * 10 + u64::from(c - b'0');
            if v > LIMIT {
                return Err(invalid());
            }
        }
        let pre = digits > 0;
        s = &s[digits..];
        // Fraction part: digits past what fits are read but ignored, as Go does.
        let mut f: u64 = 0;
        let mut scale = 1f64;
        let mut post = false;
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
            post = digits > 0;
            let mut overflow = false;
            for &c in &s[..digits] {
                if overflow {
                    continue;
                }
                if f > (LIMIT - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let y = f * 10 + u64::from(c - b'0');
                if y > LIMIT {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10.0;
            }
            s = &s[digits..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                quote_time(orig)
            ));
        }
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let Some(&(_, per)) = UNITS.iter().find(|(u, _)| u.as_bytes() == unit) else {
            return Err(format!(
                "time: unknown unit {} in duration {}",
                quote_time(&String::from_utf8_lossy(unit)),
                quote_time(orig)
            ));
        };
        if v > LIMIT / per {
            return Err(invalid());
        }
        v *= per;
        if f > 0 {
            v += (f as f64 * (per as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total += v;
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((total as i64).wrapping_neg());
    }
    if total > LIMIT - 1 {
        return Err(invalid());
    }
    Ok(total as i64)
}

/// `strconv.Atoi` (64-bit `int`).
pub(crate) fn atoi(s: &str) -> Result<i64, String> {
    use std::num::IntErrorKind;
    // Rust's parser takes a leading '+' or '-' exactly like Go's ParseInt with base 10.
    s.parse::<i64>().map_err(|e| {
        let why = match e.kind() {
            IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => "value out of range",
            _ => "invalid syntax",
        };
        format!("strconv.Atoi: parsing {}: {why}", quote(s))
    })
}

/// The `time` package's own quoting: non-ASCII and control bytes as `\xNN`.
fn quote_time(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s.as_bytes() {
        if !(b' '..0x80).contains(&b) {
            out.push_str(&format!("\\x{b:02x}"));
        } else {
            if b == b'"' || b == b'\\' {
                out.push('\\');
            }
            out.push(b as char);
        }
    }
    out.push('"');
    out
}

/// `strconv.Quote` (`%q` of a string).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        escape_into(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// `strconv.QuoteRune` (`%q` of a byte or rune).
pub(crate) fn quote_rune(c: char) -> String {
    let mut out = String::from('\'');
    escape_into(&mut out, c, '\'');
    out.push('\'');
    out
}

fn escape_into(out: &mut String, c: char, quote: char) {
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if c == ' ' || !(c.is_control() || c.is_whitespace() || c == '\u{ad}') => out.push(c),
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_go() {
        let ok = [
            ("0", 0),
            ("-0", 0),
            ("1s", SECOND),
            ("+5m", 300 * SECOND),
            ("1h20m", 4800 * SECOND),
            ("1.5s", 1_500_000_000),
            (".5s", 500_000_000),
            ("100ms", 100_000_000),
            ("1\u{00b5}s", 1_000),
            ("-1s", -SECOND),
            ("0m", 0),
            ("4294967295s", 4_294_967_295 * SECOND),
        ];
        for (text, want) in ok {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
        let bad = [
            ("", "time: invalid duration \"\""),
            ("aa", "time: invalid duration \"aa\""),
            ("20", "time: missing unit in duration \"20\""),
            ("1x", "time: unknown unit \"x\" in duration \"1x\""),
            (".s", "time: invalid duration \".s\""),
            ("-", "time: invalid duration \"-\""),
            (
                "9999999999999999999h",
                "time: invalid duration \"9999999999999999999h\"",
            ),
            ("3000000h", "time: invalid duration \"3000000h\""),
            (
                "1\u{e9}",
                "time: unknown unit \"\\xc3\\xa9\" in duration \"1\\xc3\\xa9\"",
            ),
        ];
        for (text, want) in bad {
            assert_eq!(parse_duration(text), Err(want.to_string()), "{text}");
        }
    }

    #[test]
    fn atoi_like_go() {
        assert_eq!(atoi("10"), Ok(10));
        assert_eq!(atoi("+7"), Ok(7));
        assert_eq!(atoi("-1"), Ok(-1));
        assert_eq!(
            atoi("aaa"),
            Err("strconv.Atoi: parsing \"aaa\": invalid syntax".into())
        );
        assert_eq!(
            atoi(""),
            Err("strconv.Atoi: parsing \"\": invalid syntax".into())
        );
        assert_eq!(
            atoi("99999999999999999999"),
            Err("strconv.Atoi: parsing \"99999999999999999999\": value out of range".into())
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a\"b\\c\td"), "\"a\\\"b\\\\c\\td\"");
        assert_eq!(quote_rune('x'), "'x'");
        assert_eq!(quote_rune('\''), "'\\''");
        assert_eq!(quote_rune('\u{0}'), "'\\x00'");
        assert_eq!(quote_rune('\u{a0}'), "'\\u00a0'");
        assert_eq!(quote_rune('\u{e9}'), "'\u{e9}'");
    }
}
