//! Go's quoting: `strconv.Quote` (what `%q` prints), `strconv.QuoteRune`, the `time`
//! package's simpler quoting inside duration errors, and the wording of OS errors.

use std::fmt::Write as _;

/// `strconv.Quote` (`%q` of a string): double quotes, `"` and `\` escaped, `\n`-style
/// escapes for the C escapes, `\xNN` for other ASCII controls, `\uNNNN`/`\UNNNNNNNN` for
/// characters that are not printable.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        escape_into(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// `strconv.QuoteRune` (`%q` of a byte or rune): `'x'`, `'\''`, `'\x00'`.
pub fn quote_rune(c: char) -> String {
    let mut out = String::with_capacity(6);
    out.push('\'');
    escape_into(&mut out, c, '\'');
    out.push('\'');
    out
}

/// One character as `strconv.Quote` writes it between `quote` characters.
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
        c if is_print(c) => out.push(c),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if (c as u32) <= 0xFFFF => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

/// Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII
/// space. Exact for Latin-1; above it, controls, spaces other than U+0020, the common
/// format characters, private use and noncharacters are treated as unprintable (Rust's
/// standard library has no Unicode category table for unassigned code points).
fn is_print(c: char) -> bool {
    let u = c as u32;
    if u <= 0xFF {
        return (0x20..=0x7E).contains(&u) || (0xA1..=0xFF).contains(&u) && u != 0xAD;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(u,
            0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF
            | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF)
        || u & 0xFFFE == 0xFFFE)
}

/// The `time` package's quoting, used in `time.ParseDuration` errors: double quotes, `"`
/// and `\` escaped, and every byte of a control or non-ASCII character written as `\xNN`.
pub(super) fn quote_time(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c < ' ' || !c.is_ascii() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "\\x{b:02x}");
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

/// The text Go gives an OS error (`no such file or directory`), from Rust's
/// (`No such file or directory (os error 2)`): the errno suffix dropped and the first
/// letter lower-cased, as in Go's `syscall.Errno` strings.
pub fn os_error_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" (os error ") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
