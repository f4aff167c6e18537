//! Durations written the way Go's `time.ParseDuration` reads them (`30s`, `1m30s`, `1.5h`,
//! `500ms`), with its error texts, because that is what CoreDNS accepts for `reload` and
//! what its users see when they get it wrong.

const NANOS_PER_UNIT: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),  // micro sign
    ("\u{3bc}s", 1_000), // Greek small letter mu
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// The largest magnitude a duration may have before the sign is applied (Go allows -2^63).
const LIMIT: u64 = 1 << 63;

/// Parses `text` into signed nanoseconds. Errors are Go's, e.g.
/// `time: invalid duration "abc"`, `time: missing unit in duration "10"`,
/// `time: unknown unit "x" in duration "10x"`.
pub(crate) fn parse_go_duration(text: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", go_quote(text));
    let mut s = text;
    let mut negative = false;
    if let Some(rest) = s.strip_prefix('-') {
        negative = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !s.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(invalid());
        }
        let (whole, rest) = leading_int(s).ok_or_else(invalid)?;
        let had_whole = rest.len() != s.len();
        s = rest;
        let mut fraction = 0u64;
        let mut scale = 1.0f64;
        let mut had_fraction = false;
        if let Some(rest) = s.strip_prefix('.') {
            let (f, sc, rest2) = leading_fraction(rest);
            had_fraction = rest2.len() != rest.len();
            fraction = f;
            scale = sc;
            s = rest2;
        }
        if !had_whole && !had_fraction {
            return Err(invalid());
        }
        let unit_len = s
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", go_quote(text)));
        }
        let (unit, rest) = s.split_at(unit_len);
        s = rest;
        let per_unit = NANOS_PER_UNIT
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|&(_, n)| n)
            .ok_or_else(|| {
                format!(
                    "time: unknown unit {} in duration {}",
                    go_quote(unit),
                    go_quote(text)
                )
            })?;
        if whole > LIMIT / per_unit {
            return Err(invalid());
        }
        let mut v = whole * per_unit;
        if fraction > 0 {
            // Go computes this part in floating point, and so do we, to round alike.
            v += (fraction as f64 * (per_unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total += v;
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if negative {
        // total <= 2^63 here, so the wrapping negation is exact (2^63 becomes i64::MIN).
        return Ok((total as i64).wrapping_neg());
    }
    i64::try_from(total).map_err(|_| invalid())
}

/// Leading decimal digits of `s` and what follows; `None` on overflow past 2^63.
fn leading_int(s: &str) -> Option<(u64, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let mut x: u64 = 0;
    for b in s[..digits].bytes() {
        if x > LIMIT / 10 {
            return None;
        }
        x = x * 10 + u64::from(b - b'0');
        if x > LIMIT {
            return None;
        }
    }
    Some((x, &s[digits..]))
}

/// Digits after the decimal point: their value, 10^(digits used), and what follows. Digits
/// that would overflow are skipped, as Go does.
fn leading_fraction(s: &str) -> (u64, f64, &str) {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let mut x: u64 = 0;
    let mut scale = 1.0f64;
    let mut overflow = false;
    for b in s[..digits].bytes() {
        if overflow {
            continue;
        }
        if x > (LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(b - b'0');
        if y > LIMIT {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, &s[digits..])
}

/// Go's `time` package quoting: double quotes, `"` and `\` escaped, and every byte of a
/// non-ASCII or control character written as `\xNN`.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_ascii() && c >= ' ' {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn accepts_what_go_accepts() {
        for (text, want) in [
            ("0", 0),
            ("-0", 0),
            ("+0", 0),
            ("30s", 30 * S),
            ("10s", 10 * S),
            ("0s", 0),
            ("1m30s", 90 * S),
            ("1.5s", 3 * S / 2),
            (".5s", S / 2),
            ("5.s", 5 * S),
            ("2h", 7200 * S),
            ("500ms", S / 2),
            ("7us", 7_000),
            ("7\u{b5}s", 7_000),
            ("7\u{3bc}s", 7_000),
            ("3ns", 3),
            ("-5s", -5 * S),
            ("1h1m1s1ms", 3661 * S + 1_000_000),
            ("9223372036854775807ns", i64::MAX),
            ("-9223372036854775808ns", i64::MIN),
        ] {
            assert_eq!(parse_go_duration(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn errors_are_gos() {
        for (text, want) in [
            ("", r#"time: invalid duration """#),
            ("-", r#"time: invalid duration "-""#),
            ("abc", r#"time: invalid duration "abc""#),
            (".s", r#"time: invalid duration ".s""#),
            ("10", r#"time: missing unit in duration "10""#),
            ("1s2", r#"time: missing unit in duration "1s2""#),
            ("10x", r#"time: unknown unit "x" in duration "10x""#),
            ("10sec", r#"time: unknown unit "sec" in duration "10sec""#),
            ("1\"s", r#"time: unknown unit "\"s" in duration "1\"s""#),
            (
                "1é",
                r#"time: unknown unit "\xc3\xa9" in duration "1\xc3\xa9""#,
            ),
            (
                "9223372036854775808ns",
                r#"time: invalid duration "9223372036854775808ns""#,
            ),
            ("3000000h", r#"time: invalid duration "3000000h""#),
            (
                "99999999999999999999s",
                r#"time: invalid duration "99999999999999999999s""#,
            ),
        ] {
            assert_eq!(parse_go_duration(text), Err(want.to_string()), "{text}");
        }
    }
}
