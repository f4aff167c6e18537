//! Go's `strconv` integer parsing (base 10), with its `NumError` texts:
//! `strconv.Atoi: parsing "x": invalid syntax`, `... value out of range`.
//!
//! Go scans digits left to right and reports whichever problem it meets first, so
//! `99999999999999999999x` is out of range but `9223372036854775808x` is a syntax error
//! for `Atoi` (the magnitude is read as a `uint64` before the sign's bound is applied).
//! The parsers here follow that order rather than Rust's.

use super::quote::quote;

/// Why Go rejected a number (`strconv.ErrSyntax` or `strconv.ErrRange`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    Syntax,
    Range,
}

/// `strconv.NumError.Error()`: `strconv.FUNC: parsing "TEXT": WHY`.
fn num_error(func: &str, text: &str, problem: Problem) -> String {
    let why = match problem {
        Problem::Syntax => "invalid syntax",
        Problem::Range => "value out of range",
    };
    format!("strconv.{func}: parsing {}: {why}", quote(text))
}

/// Go's bit size: 0 means `int` (64 bits here); sizes past 64 are taken as 64.
fn bit_size(bits: u32) -> u32 {
    if bits == 0 || bits > 64 {
        64
    } else {
        bits
    }
}

/// Go's `ParseUint(s, 10, bits)` core: digits only, bounded by `2^bits - 1`.
fn unsigned(s: &str, bits: u32) -> Result<u64, Problem> {
    if s.is_empty() {
        return Err(Problem::Syntax);
    }
    let max = u64::MAX >> (64 - bit_size(bits));
    let mut n: u64 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return Err(Problem::Syntax);
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .filter(|&n| n <= max)
            .ok_or(Problem::Range)?;
    }
    Ok(n)
}

/// Go's `ParseInt(s, 10, bits)` core: an optional sign, then [`unsigned`] digits, bounded
/// by the signed range of `bits`.
fn signed(s: &str, bits: u32) -> Result<i64, Problem> {
    let bits = bit_size(bits);
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let magnitude = unsigned(digits, bits)?;
    let cutoff = 1u64 << (bits - 1);
    if negative {
        if magnitude > cutoff {
            return Err(Problem::Range);
        }
        Ok((magnitude as i64).wrapping_neg())
    } else if magnitude >= cutoff {
        Err(Problem::Range)
    } else {
        Ok(magnitude as i64)
    }
}

/// `strconv.Atoi` (Go's `int` is 64 bits): `+7`, `-1`, `10`; errors name `strconv.Atoi`.
pub fn atoi(s: &str) -> Result<i64, String> {
    signed(s, 64).map_err(|p| num_error("Atoi", s, p))
}

/// `strconv.ParseInt(s, 10, bits)` (`bits` 1 to 64, 0 for Go's `int`); errors name `strconv.ParseInt`.
pub fn parse_int(s: &str, bits: u32) -> Result<i64, String> {
    signed(s, bits).map_err(|p| num_error("ParseInt", s, p))
}

/// `strconv.ParseUint(s, 10, bits)` (`bits` 1 to 64, 0 for Go's `uint`; no sign
/// allowed); errors name
/// `strconv.ParseUint`.
pub fn parse_uint(s: &str, bits: u32) -> Result<u64, String> {
    unsigned(s, bits).map_err(|p| num_error("ParseUint", s, p))
}
