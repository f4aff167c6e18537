//! Go's own behaviour, case by case: the union of what the plugins' former copies checked.

use std::time::Duration;

use super::quote::quote_time;
use super::*;

const S: GoDuration = SECOND;

#[test]
fn parses_durations_like_go() {
    for (text, want) in [
        ("0", 0),
        ("-0", 0),
        ("+0", 0),
        ("0s", 0),
        ("0m", 0),
        ("1s", S),
        ("5s", 5 * S),
        ("10s", 10 * S),
        ("30s", 30 * S),
        ("+10s", 10 * S),
        ("+5m", 300 * S),
        ("5m", 300 * S),
        ("2h", 7200 * S),
        ("1m30s", 90 * S),
        ("1h20m", 4800 * S),
        ("1h30m", 5400 * S),
        ("2h45m", (2 * 3600 + 45 * 60) * S),
        ("1h2m3s", 3723 * S),
        ("1h1m1s1ms", 3661 * S + MILLISECOND),
        ("1.5s", 3 * S / 2),
        ("0.5s", S / 2),
        (".5s", S / 2),
        ("5.s", 5 * S),
        ("1.s", S),
        ("1.5h", 5400 * S),
        ("1.5ms", 1_500_000),
        (".5ms", 500_000),
        ("100ms", 100 * MILLISECOND),
        ("300ms", 300 * MILLISECOND),
        ("500ms", 500 * MILLISECOND),
        ("3ns", 3),
        ("7us", 7 * MICROSECOND),
        ("+2us", 2 * MICROSECOND),
        ("7\u{b5}s", 7 * MICROSECOND),
        ("100\u{b5}s", 100 * MICROSECOND),
        ("7\u{3bc}s", 7 * MICROSECOND),
        ("1us1ns", 1001),
        ("-1s", -S),
        ("-2s", -2 * S),
        ("-5s", -5 * S),
        ("4294967295s", 4_294_967_295 * S),
        ("9223372036854775807ns", i64::MAX),
        ("-9223372036854775808ns", i64::MIN),
        // Fraction digits past what fits are ignored.
        ("1.0000000000000000000001s", S),
    ] {
        assert_eq!(parse_duration(text), Ok(want), "{text:?}");
    }
}

#[test]
fn duration_errors_are_gos() {
    for (text, want) in [
        ("", r#"time: invalid duration """#),
        ("-", r#"time: invalid duration "-""#),
        (".", r#"time: invalid duration ".""#),
        ("s", r#"time: invalid duration "s""#),
        (".s", r#"time: invalid duration ".s""#),
        ("aa", r#"time: invalid duration "aa""#),
        ("abc", r#"time: invalid duration "abc""#),
        ("5", r#"time: missing unit in duration "5""#),
        ("10", r#"time: missing unit in duration "10""#),
        ("20", r#"time: missing unit in duration "20""#),
        ("0.0", r#"time: missing unit in duration "0.0""#),
        ("1s2", r#"time: missing unit in duration "1s2""#),
        ("1..2s", r#"time: missing unit in duration "1..2s""#),
        ("1x", r#"time: unknown unit "x" in duration "1x""#),
        ("5x", r#"time: unknown unit "x" in duration "5x""#),
        ("5q", r#"time: unknown unit "q" in duration "5q""#),
        ("10x", r#"time: unknown unit "x" in duration "10x""#),
        ("1d", r#"time: unknown unit "d" in duration "1d""#),
        ("5 s", r#"time: unknown unit " s" in duration "5 s""#),
        ("5sec", r#"time: unknown unit "sec" in duration "5sec""#),
        ("10sec", r#"time: unknown unit "sec" in duration "10sec""#),
        ("1\"s", r#"time: unknown unit "\"s" in duration "1\"s""#),
        (
            "1\u{e9}",
            r#"time: unknown unit "\xc3\xa9" in duration "1\xc3\xa9""#,
        ),
        ("3000000h", r#"time: invalid duration "3000000h""#),
        ("9999999999h", r#"time: invalid duration "9999999999h""#),
        (
            "9223372036854775808ns",
            r#"time: invalid duration "9223372036854775808ns""#,
        ),
        (
            "9999999999999999999h",
            r#"time: invalid duration "9999999999999999999h""#,
        ),
        (
            "99999999999999999999s",
            r#"time: invalid duration "99999999999999999999s""#,
        ),
        // The number overflows before the unit is looked at.
        (
            "99999999999999999999x",
            r#"time: invalid duration "99999999999999999999x""#,
        ),
    ] {
        assert_eq!(parse_duration(text), Err(want.to_string()), "{text:?}");
    }
}

#[test]
fn std_durations() {
    assert_eq!(parse_std_duration("1.5s"), Ok(Duration::from_millis(1500)));
    assert_eq!(parse_std_duration("-1s"), Ok(Duration::ZERO));
    assert_eq!(
        parse_std_duration("1"),
        Err(r#"time: missing unit in duration "1""#.to_string())
    );
    assert_eq!(to_std(-S), Duration::ZERO);
    assert_eq!(to_std(90 * S), Duration::from_secs(90));
    assert_eq!(from_std(Duration::from_micros(3)), 3 * MICROSECOND);
    assert_eq!(from_std(Duration::MAX), GoDuration::MAX);
    assert_eq!((MINUTE, HOUR, NANOSECOND), (60 * S, 3600 * S, 1));
}

#[test]
fn formats_durations_like_go() {
    for (nanos, want) in [
        (0, "0s"),
        (1, "1ns"),
        (12, "12ns"),
        (15, "15ns"),
        (1_500, "1.5\u{b5}s"),
        (1_000, "1\u{b5}s"),
        (1_500_000, "1.5ms"),
        (10 * MILLISECOND, "10ms"),
        (500 * MILLISECOND, "500ms"),
        (S, "1s"),
        (30 * S, "30s"),
        (90 * S, "1m30s"),
        (300 * S, "5m0s"),
        (3600 * S, "1h0m0s"),
        (5400 * S + S / 2, "1h30m0.5s"),
        (66_103, "66.103\u{b5}s"),
        (S + 1, "1.000000001s"),
        (-2 * S, "-2s"),
        (-3 * S / 2, "-1.5s"),
        (-10 * MILLISECOND, "-10ms"),
        (i64::MAX, "2562047h47m16.854775807s"),
        (i64::MIN, "-2562047h47m16.854775808s"),
    ] {
        assert_eq!(format_duration(nanos), want, "{nanos}");
    }
    assert_eq!(format_std_duration(Duration::from_millis(1500)), "1.5s");
    assert_eq!(
        format_std_duration(Duration::MAX),
        "2562047h47m16.854775807s"
    );
}

#[test]
fn seconds_like_go() {
    assert_eq!(
        seconds(Duration::from_nanos(66_103)).to_string(),
        "0.000066103"
    );
    assert_eq!(seconds(Duration::from_millis(1500)), 1.5);
    assert_eq!(seconds(Duration::ZERO).to_string(), "0");
}

#[test]
fn atoi_like_go() {
    for (text, want) in [
        ("10", 10),
        ("+7", 7),
        ("-1", -1),
        ("-5", -5),
        ("007", 7),
        ("9223372036854775807", i64::MAX),
        ("-9223372036854775808", i64::MIN),
    ] {
        assert_eq!(atoi(text), Ok(want), "{text:?}");
    }
    for (text, why) in [
        ("", "invalid syntax"),
        ("+", "invalid syntax"),
        ("-", "invalid syntax"),
        ("x", "invalid syntax"),
        ("aaa", "invalid syntax"),
        ("1_000", "invalid syntax"),
        (" 1", "invalid syntax"),
        ("+-1", "invalid syntax"),
        ("0x10", "invalid syntax"),
        ("9223372036854775808", "value out of range"),
        ("-9223372036854775809", "value out of range"),
        ("99999999999999999999", "value out of range"),
        // Go reads the magnitude as a uint64 first: this one fits, so the `x` decides.
        ("9223372036854775808x", "invalid syntax"),
        // ... and this one overflows before the `x` is reached.
        ("99999999999999999999x", "value out of range"),
    ] {
        let want = format!("strconv.Atoi: parsing {}: {why}", quote(text));
        assert_eq!(atoi(text), Err(want), "{text:?}");
    }
}

#[test]
fn parse_int_and_uint_like_go() {
    assert_eq!(parse_int("-128", 8), Ok(-128));
    assert_eq!(parse_int("127", 8), Ok(127));
    assert_eq!(parse_int("42", 0), Ok(42));
    assert_eq!(
        parse_int("128", 8),
        Err(r#"strconv.ParseInt: parsing "128": value out of range"#.into())
    );
    assert_eq!(
        parse_int("300x", 8),
        Err(r#"strconv.ParseInt: parsing "300x": value out of range"#.into())
    );
    assert_eq!(
        parse_int("1e3", 32),
        Err(r#"strconv.ParseInt: parsing "1e3": invalid syntax"#.into())
    );
    assert_eq!(parse_uint("3", 32), Ok(3));
    assert_eq!(parse_uint("4294967295", 32), Ok(u64::from(u32::MAX)));
    assert_eq!(parse_uint("18446744073709551615", 64), Ok(u64::MAX));
    for (text, why) in [
        ("", "invalid syntax"),
        ("-1", "invalid syntax"),
        ("+1", "invalid syntax"),
        ("4294967296", "value out of range"),
        // The bound is checked digit by digit, before the `x`.
        ("4294967296x", "value out of range"),
    ] {
        let want = format!("strconv.ParseUint: parsing {}: {why}", quote(text));
        assert_eq!(parse_uint(text, 32), Err(want), "{text:?}");
    }
}

#[test]
fn quotes_like_strconv() {
    assert_eq!(quote(""), r#""""#);
    assert_eq!(quote("success"), r#""success""#);
    assert_eq!(quote("a\"b\\c\td"), r#""a\"b\\c\td""#);
    assert_eq!(quote("a'b"), r#""a'b""#);
    assert_eq!(quote("\n\r\u{7}\u{8}\u{c}\u{b}"), r#""\n\r\a\b\f\v""#);
    assert_eq!(quote("\u{1}\u{7f}"), r#""\x01\x7f""#);
    assert_eq!(quote("\u{80}\u{a0}\u{ad}"), r#""\u0080\u00a0\u00ad""#);
    assert_eq!(quote("caf\u{e9} \u{65e5}"), "\"caf\u{e9} \u{65e5}\"");
    assert_eq!(quote("\u{200b}\u{feff}"), r#""\u200b\ufeff""#);
    assert_eq!(quote("\u{10ffff}"), r#""\U0010ffff""#);
    assert_eq!(quote_rune('x'), "'x'");
    assert_eq!(quote_rune('"'), "'\"'");
    assert_eq!(quote_rune('\''), r"'\''");
    assert_eq!(quote_rune('\u{0}'), r"'\x00'");
    assert_eq!(quote_rune('\u{a0}'), r"'\u00a0'");
    assert_eq!(quote_rune('\u{e9}'), "'\u{e9}'");
}

#[test]
fn quotes_like_the_time_package() {
    assert_eq!(quote_time("a\"b"), r#""a\"b""#);
    assert_eq!(quote_time("a\\b"), r#""a\\b""#);
    assert_eq!(quote_time("\u{1}"), r#""\x01""#);
    assert_eq!(quote_time("\n"), r#""\x0a""#);
    assert_eq!(quote_time("\u{e9}"), r#""\xc3\xa9""#);
    assert_eq!(quote_time("\u{7f}"), "\"\u{7f}\"");
}

#[test]
fn splits_host_port_like_go() {
    for (text, host, port) in [
        (":8080", "", "8080"),
        ("localhost:9153", "localhost", "9153"),
        ("127.0.0.1:53", "127.0.0.1", "53"),
        ("[::1]:53", "::1", "53"),
        ("[fe80::1%eth0]:53", "fe80::1%eth0", "53"),
        ("localhost:", "localhost", ""),
        ("[::1]:", "::1", ""),
        (":", "", ""),
    ] {
        assert_eq!(split_host_port(text), Ok((host, port)), "{text:?}");
    }
    for (text, want) in [
        ("", "missing port in address"),
        ("localhost", "address localhost: missing port in address"),
        ("::1:53", "address ::1:53: too many colons in address"),
        ("[::1:53", "address [::1:53: missing ']' in address"),
        ("[::1]", "address [::1]: missing port in address"),
        ("[::1]53:1", "address [::1]53:1: missing port in address"),
        (
            "[::1]:53:1",
            "address [::1]:53:1: too many colons in address",
        ),
        ("[[::1]:53", "address [[::1]:53: unexpected '[' in address"),
        ("a[:53", "address a[:53: unexpected '[' in address"),
        ("a:[53", "address a:[53: unexpected '[' in address"),
        ("a]:53", "address a]:53: unexpected ']' in address"),
        ("[::1]:5]3", "address [::1]:5]3: unexpected ']' in address"),
    ] {
        assert_eq!(split_host_port(text), Err(want.to_string()), "{text:?}");
    }
}

#[test]
fn joins_host_port_like_go() {
    assert_eq!(join_host_port("::1", "53"), "[::1]:53");
    assert_eq!(join_host_port("10.0.0.1", "53"), "10.0.0.1:53");
    assert_eq!(join_host_port("", "8080"), ":8080");
}

#[test]
fn os_errors_read_like_go() {
    let e = std::io::Error::from_raw_os_error(2);
    assert_eq!(os_error_text(&e), "no such file or directory");
    let e = std::io::Error::other("Custom text");
    assert_eq!(os_error_text(&e), "custom text");
}
