//! Go's `time.Duration`: read as `time.ParseDuration` reads it, written as its `String`
//! method writes it.

use std::fmt::Write as _;
use std::time::Duration;

use super::quote::quote_time;

/// A Go `time.Duration`: signed nanoseconds. Kept signed (rather than a std [`Duration`])
/// because CoreDNS checks the sign of what the user wrote and says so in its own words
/// (`invalid negative duration for serve_stale`), and some options use negative values.
pub type GoDuration = i64;

/// One nanosecond.
pub const NANOSECOND: GoDuration = 1;
/// One microsecond.
pub const MICROSECOND: GoDuration = 1_000 * NANOSECOND;
/// One millisecond.
pub const MILLISECOND: GoDuration = 1_000 * MICROSECOND;
/// One second.
pub const SECOND: GoDuration = 1_000 * MILLISECOND;
/// One minute.
pub const MINUTE: GoDuration = 60 * SECOND;
/// One hour.
pub const HOUR: GoDuration = 60 * MINUTE;

/// The unit suffixes Go accepts, in nanoseconds (both the micro sign and the Greek mu).
const UNITS: [(&str, u64); 8] = [
    ("ns", NANOSECOND as u64),
    ("us", MICROSECOND as u64),
    ("\u{b5}s", MICROSECOND as u64),
    ("\u{3bc}s", MICROSECOND as u64),
    ("ms", MILLISECOND as u64),
    ("s", SECOND as u64),
    ("m", MINUTE as u64),
    ("h", HOUR as u64),
];

/// `1 << 63`: the bound Go checks its unsigned accumulators against (the magnitude of
/// the most negative duration).
const LIMIT: u64 = 1 << 63;

/// `time.ParseDuration`: an optional sign, then one or more decimal numbers (with an
/// optional fraction) each followed by a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), e.g.
/// `300ms`, `-1.5h`, `2h45m`; a bare `0` needs no unit.
///
/// Errors are Go's: `time: invalid duration "abc"`, `time: missing unit in duration "10"`,
/// `time: unknown unit "x" in duration "10x"`. Fractions are computed in floating point,
/// as Go does, so values round alike.
pub fn parse_duration(text: &str) -> Result<GoDuration, String> {
    let invalid = || format!("time: invalid duration {}", quote_time(text));
    let (negative, mut s) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
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
        let (mut fraction, mut scale, mut had_fraction) = (0, 1.0, false);
        if let Some(rest) = s.strip_prefix('.') {
            let (f, sc, after) = leading_fraction(rest);
            had_fraction = after.len() != rest.len();
            (fraction, scale) = (f, sc);
            s = after;
        }
        if !had_whole && !had_fraction {
            return Err(invalid());
        }
        let unit_len = s
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                quote_time(text)
            ));
        }
        let (unit, rest) = s.split_at(unit_len);
        s = rest;
        let Some(&(_, per_unit)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(format!(
                "time: unknown unit {} in duration {}",
                quote_time(unit),
                quote_time(text)
            ));
        };
        if whole > LIMIT / per_unit {
            return Err(invalid());
        }
        let mut v = whole * per_unit;
        if fraction > 0 {
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
        // total <= 2^63, so the wrapping negation is exact (2^63 becomes i64::MIN).
        return Ok((total as i64).wrapping_neg());
    }
    GoDuration::try_from(total).map_err(|_| invalid())
}

/// Leading decimal digits of `s` and what follows; `None` past 2^63 (Go's `leadingInt`).
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

/// Digits after a decimal point: their value, 10^(digits kept) and what follows. Digits
/// that no longer fit are read but ignored (Go's `leadingFraction`).
fn leading_fraction(s: &str) -> (u64, f64, &str) {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (mut x, mut scale, mut overflow) = (0u64, 1.0f64, false);
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

/// [`parse_duration`] as a std [`Duration`]; a negative value becomes zero (what a timer
/// or a wait does with it in Go). Use [`parse_duration`] where the sign must be checked.
pub fn parse_std_duration(text: &str) -> Result<Duration, String> {
    parse_duration(text).map(to_std)
}

/// `d` as a std [`Duration`]; negative durations count as zero.
pub fn to_std(d: GoDuration) -> Duration {
    Duration::from_nanos(u64::try_from(d).unwrap_or(0))
}

/// `d` as a [`GoDuration`], saturating at Go's largest duration (about 292 years).
pub fn from_std(d: Duration) -> GoDuration {
    GoDuration::try_from(d.as_nanos()).unwrap_or(GoDuration::MAX)
}

/// `time.Duration.String`: `0s`, `15ns`, `1.5µs` (micro sign), `250ms`, `30s`, `1m30s`,
/// `1h0m0.5s`, `-2s`.
pub fn format_duration(d: GoDuration) -> String {
    let u = d.unsigned_abs();
    if u == 0 {
        return "0s".to_string();
    }
    let mut out = String::with_capacity(24);
    if d < 0 {
        out.push('-');
    }
    if u < SECOND as u64 {
        let (prec, unit) = match u {
            0..=999 => (0, "ns"),
            1_000..=999_999 => (3, "\u{b5}s"),
            _ => (6, "ms"),
        };
        push_fixed(&mut out, u, prec);
        out.push_str(unit);
        return out;
    }
    let (secs, nanos) = (u / SECOND as u64, u % SECOND as u64);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        let _ = write!(out, "{h}h{m}m");
    } else if m > 0 {
        let _ = write!(out, "{m}m");
    }
    push_fixed(&mut out, s * SECOND as u64 + nanos, 9);
    out.push('s');
    out
}

/// `v / 10^prec` with the fraction's trailing zeros (and a bare `.`) left out, as Go's
/// `fmtFrac` and `fmtInt` write it.
fn push_fixed(out: &mut String, v: u64, prec: u32) {
    let div = 10u64.pow(prec);
    let _ = write!(out, "{}", v / div);
    let fraction = v % div;
    if fraction != 0 {
        let digits = format!("{fraction:0width$}", width = prec as usize);
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// A std [`Duration`] written as [`format_duration`] writes it.
pub fn format_std_duration(d: Duration) -> String {
    format_duration(from_std(d))
}

/// Go's `Duration.Seconds()`: whole seconds plus the nanoseconds / 1e9, in float64, so the
/// value (and `{}` of it, which is Go's `FormatFloat(s, 'f', -1, 64)`, e.g. `0.000066103`)
/// is the one CoreDNS logs and observes.
pub fn seconds(d: Duration) -> f64 {
    d.as_secs() as f64 + f64::from(d.subsec_nanos()) / 1e9
}
