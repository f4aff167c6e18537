//! Go standard-library texts CoreDNS users see from these plugins: durations as
//! `time.ParseDuration` reads them and `time.Duration.String` writes them (`5m0s`, `1.5s`,
//! `250ms`), and `net.SplitHostPort`'s address checks, each with Go's error texts.
//!
//! Shared by the log, errors, health, ready and prometheus plugins.

use std::time::Duration;

/// Units `time.ParseDuration` accepts, in nanoseconds.
const UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

const LIMIT: u64 = 1 << 63;

/// Go's `time` package quoting: `"` + text + `"`, with `"` and `\` escaped and control or
/// non-ASCII bytes written as `\xNN`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c < ' ' || !c.is_ascii() {
            let mut b = [0u8; 4];
            for byte in c.encode_utf8(&mut b).bytes() {
                out.push_str(&format!("\\x{byte:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Digits at the start of `s`; `None` on overflow (Go's `leadingInt`).
fn leading_int(s: &str) -> Option<(u64, &str)> {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let mut x: u64 = 0;
    for b in s[..end].bytes() {
        if x > LIMIT / 10 {
            return None;
        }
        x = x * 10 + u64::from(b - b'0');
        if x > LIMIT {
            return None;
        }
    }
    Some((x, &s[end..]))
}

/// Fraction digits after a `.`: value, scale (10^digits kept) and the rest. Digits past
/// what fits are ignored, as in Go's `leadingFraction`.
fn leading_fraction(s: &str) -> (u64, f64, &str) {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let (mut x, mut scale, mut overflow) = (0u64, 1.0f64, false);
    for b in s[..end].bytes() {
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
    (x, scale, &s[end..])
}

/// `time.ParseDuration`: signed nanoseconds, or Go's error text
/// (`time: invalid duration "x"`, `time: missing unit in duration "10"`,
/// `time: unknown unit "x" in duration "10x"`).
pub fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", quote(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(rest) = s.strip_prefix('-') {
        neg = true;
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
        let before = s.len();
        let (v, rest) = leading_int(s).ok_or_else(invalid)?;
        let pre = rest.len() != before;
        s = rest;
        let (mut f, mut scale, mut post) = (0u64, 1.0f64, false);
        if let Some(rest) = s.strip_prefix('.') {
            let (fv, sc, rest2) = leading_fraction(rest);
            post = rest2.len() != rest.len();
            (f, scale) = (fv, sc);
            s = rest2;
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = s
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", quote(orig)));
        }
        let (unit, rest) = s.split_at(unit_len);
        s = rest;
        let Some(&(_, per)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(format!(
                "time: unknown unit {} in duration {}",
                quote(unit),
                quote(orig)
            ));
        };
        if v > LIMIT / per {
            return Err(invalid());
        }
        let mut v = v * per;
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

/// A parsed Go duration as a std [`Duration`]; negative values become zero.
pub fn parse_std_duration(orig: &str) -> Result<Duration, String> {
    parse_duration(orig).map(|n| Duration::from_nanos(n.max(0) as u64))
}

/// `v / 10^prec` written as Go's `fmtFrac` does: `.` and the digits without trailing zeros,
/// nothing when the fraction is zero. Returns the integer part.
fn frac(out: &mut String, v: u64, prec: u32) -> u64 {
    let div = 10u64.pow(prec);
    let fraction = v % div;
    if fraction != 0 {
        let digits = format!("{fraction:0width$}", width = prec as usize);
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    v / div
}

/// `time.Duration.String` for signed nanoseconds: `0s`, `1.5µs`, `250ms`, `30s`, `5m0s`,
/// `1h0m0s`.
pub fn format_duration(nanos: i64) -> String {
    let u = nanos.unsigned_abs();
    let sign = if nanos < 0 { "-" } else { "" };
    if u == 0 {
        return "0s".into();
    }
    if u < 1_000_000_000 {
        let (prec, unit) = match u {
            0..=999 => (0, "ns"),
            1_000..=999_999 => (3, "\u{b5}s"),
            _ => (6, "ms"),
        };
        let mut tail = String::new();
        let whole = frac(&mut tail, u, prec);
        return format!("{sign}{whole}{tail}{unit}");
    }
    let mut tail = String::new();
    let secs = frac(&mut tail, u, 9);
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}{tail}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}{tail}s")
    } else {
        format!("{sign}{s}{tail}s")
    }
}

/// A std [`Duration`] written like Go's `Duration.String`.
pub fn format_std_duration(d: Duration) -> String {
    format_duration(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// `net.SplitHostPort`: host (brackets removed) and port, or Go's error text, e.g.
/// `address localhost: missing port in address`.
pub fn split_host_port(hostport: &str) -> Result<(&str, &str), String> {
    let err = |why: &str| format!("address {hostport}: {why}");
    let Some(i) = hostport.rfind(':') else {
        return Err(err("missing port in address"));
    };
    let (host, j, k);
    if hostport.starts_with('[') {
        let Some(end) = hostport.find(']') else {
            return Err(err("missing ']' in address"));
        };
        if end + 1 == hostport.len() {
            return Err(err("missing port in address"));
        }
        if end + 1 != i {
            if hostport.as_bytes()[end + 1] == b':' {
                return Err(err("too many colons in address"));
            }
            return Err(err("missing port in address"));
        }
        host = &hostport[1..end];
        (j, k) = (1, end + 1);
    } else {
        host = &hostport[..i];
        if host.contains(':') {
            return Err(err("too many colons in address"));
        }
        (j, k) = (0, 0);
    }
    if hostport[j..].contains('[') {
        return Err(err("unexpected '[' in address"));
    }
    if hostport[k..].contains(']') {
        return Err(err("unexpected ']' in address"));
    }
    Ok((host, &hostport[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_go() {
        let s = 1_000_000_000i64;
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("30s"), Ok(30 * s));
        assert_eq!(parse_duration("5m"), Ok(300 * s));
        assert_eq!(parse_duration("1h30m"), Ok(5400 * s));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration(".5ms"), Ok(500_000));
        assert_eq!(parse_duration("-2s"), Ok(-2 * s));
        assert_eq!(parse_duration("100\u{b5}s"), Ok(100_000));
        assert_eq!(
            parse_duration("5"),
            Err("time: missing unit in duration \"5\"".into())
        );
        assert_eq!(
            parse_duration("5x"),
            Err("time: unknown unit \"x\" in duration \"5x\"".into())
        );
        assert_eq!(
            parse_duration("abc"),
            Err("time: invalid duration \"abc\"".into())
        );
        assert_eq!(
            parse_duration(""),
            Err("time: invalid duration \"\"".into())
        );
        assert_eq!(
            parse_duration("."),
            Err("time: invalid duration \".\"".into())
        );
        assert_eq!(
            parse_duration("9999999999h"),
            Err("time: invalid duration \"9999999999h\"".into())
        );
    }

    #[test]
    fn formats_like_go() {
        let s = 1_000_000_000i64;
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(30 * s), "30s");
        assert_eq!(format_duration(300 * s), "5m0s");
        assert_eq!(format_duration(3600 * s), "1h0m0s");
        assert_eq!(format_duration(5400 * s + 500_000_000), "1h30m0.5s");
        assert_eq!(format_duration(1_500_000), "1.5ms");
        assert_eq!(format_duration(1_500), "1.5\u{b5}s");
        assert_eq!(format_duration(15), "15ns");
        assert_eq!(format_duration(-2 * s), "-2s");
    }

    #[test]
    fn splits_like_go() {
        assert_eq!(split_host_port(":8080"), Ok(("", "8080")));
        assert_eq!(split_host_port("localhost:9153"), Ok(("localhost", "9153")));
        assert_eq!(split_host_port("[::1]:53"), Ok(("::1", "53")));
        assert_eq!(split_host_port("localhost:"), Ok(("localhost", "")));
        assert_eq!(
            split_host_port("localhost"),
            Err("address localhost: missing port in address".into())
        );
        assert_eq!(
            split_host_port("::1:53"),
            Err("address ::1:53: too many colons in address".into())
        );
        assert_eq!(
            split_host_port("[::1:53"),
            Err("address [::1:53: missing ']' in address".into())
        );
        assert_eq!(
            split_host_port("[::1]"),
            Err("address [::1]: missing port in address".into())
        );
        assert_eq!(
            split_host_port("a]:53"),
            Err("address a]:53: unexpected ']' in address".into())
        );
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
        assert_eq!(quote("\u{1}"), "\"\\x01\"");
    }
}
