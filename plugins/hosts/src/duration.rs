//! Go's `time.ParseDuration`, which CoreDNS uses for `reload`: a sign, then one or more
//! decimal numbers (with an optional fraction) each followed by a unit (`ns`, `us`, `µs`,
//! `ms`, `s`, `m`, `h`), e.g. `300ms`, `1.5h`, `2h45m`; a bare `0` is allowed.

/// Nanoseconds, negative for negative durations; `None` when Go would reject the text.
pub(crate) fn parse(text: &str) -> Option<i128> {
    const MAX: u128 = 1 << 63;
    let (neg, mut s) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    while !s.is_empty() {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        let whole: u128 = if digits == 0 {
            0
        } else {
            let v: u128 = s[..digits].parse().ok()?;
            if v > MAX {
                return None;
            }
            v
        };
        s = &s[digits..];
        let mut fraction = 0.0f64;
        let mut has_fraction = false;
        if let Some(rest) = s.strip_prefix('.') {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            has_fraction = n > 0;
            let mut scale = 1.0f64;
            for b in rest[..n].bytes() {
                scale /= 10.0;
                fraction += f64::from(b - b'0') * scale;
            }
            s = &rest[n..];
        } else if digits == 0 {
            return None;
        }
        if digits == 0 && !has_fraction {
            return None;
        }
        let unit_len = s
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        let unit: u128 = match &s[..unit_len] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        s = &s[unit_len..];
        let mut v = whole.checked_mul(unit).filter(|&v| v <= MAX)?;
        v += (fraction * unit as f64) as u128;
        total += v;
        if v > MAX || total > MAX {
            return None;
        }
    }
    if neg {
        Some(-(total as i128))
    } else if total > MAX - 1 {
        None
    } else {
        Some(total as i128)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_go() {
        let s = 1_000_000_000i128;
        let table: &[(&str, Option<i128>)] = &[
            ("0", Some(0)),
            ("-0", Some(0)),
            ("5s", Some(5 * s)),
            ("300ms", Some(300_000_000)),
            ("1.5h", Some(5400 * s)),
            ("2h45m", Some((2 * 3600 + 45 * 60) * s)),
            (".5s", Some(s / 2)),
            ("1.s", Some(s)),
            ("+10s", Some(10 * s)),
            ("-1s", Some(-s)),
            ("1µs", Some(1000)),
            ("1μs", Some(1000)),
            ("1us1ns", Some(1001)),
            ("0s", Some(0)),
            ("", None),
            ("-", None),
            ("s", None),
            (".s", None),
            ("5", None),
            ("0.0", None),
            ("5 s", None),
            ("5sec", None),
            ("1d", None),
            ("3000000h", None),
        ];
        for (text, want) in table {
            assert_eq!(parse(text), *want, "{text:?}");
        }
    }
}
