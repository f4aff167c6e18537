//! Splitting Corefile text into tokens.
//!
//! This follows the Caddy v1 lexer that CoreDNS uses, quirks included, so
//! that any Corefile CoreDNS accepts yields the same words here:
//!
//! * words are separated by whitespace; `\r` is ignored;
//! * a word starting with `"` runs to the next unescaped `"` and may contain
//!   whitespace and newlines; inside it `\"` is a quote and any other
//!   backslash is kept literally; the closing quote ends the word even if
//!   more text follows (`"a"b` is two words);
//! * `#` outside quotes starts a comment: at the start of a word it runs to
//!   the end of the line, in the middle of a word it cuts off the rest of
//!   that word only (Caddy resets the comment state whenever it emits a
//!   word, so `foo#bar baz` yields `foo` and `baz`);
//! * `{` and `}` are only braces when they stand alone as words;
//! * a leading byte order mark is dropped; lines count from 1.

use std::sync::Arc;

use crate::ast::Token;

/// Lexes `text` (read from `file`) into tokens.
pub(crate) fn tokenize(file: &Arc<str>, text: &str) -> Vec<Token> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lx = Lexer {
        file,
        out: Vec::new(),
        val: String::new(),
        start: 1,
        was_quoted: false,
        comment: false,
    };
    let mut line: u32 = 1;
    let mut in_quotes = false;
    let mut escaped = false;

    for ch in text.chars() {
        if in_quotes {
            if !escaped {
                if ch == '\\' {
                    escaped = true;
                    continue;
                }
                if ch == '"' {
                    in_quotes = false;
                    lx.emit();
                    continue;
                }
            }
            if ch == '\n' {
                line += 1;
            }
            if escaped && ch != '"' {
                lx.val.push('\\');
            }
            lx.val.push(ch);
            escaped = false;
            continue;
        }
        if ch.is_whitespace() {
            if ch == '\r' {
                continue;
            }
            if ch == '\n' {
                line += 1;
                lx.comment = false;
            }
            if !lx.val.is_empty() {
                lx.emit();
            }
            continue;
        }
        if ch == '#' {
            lx.comment = true;
        }
        if lx.comment {
            continue;
        }
        if lx.val.is_empty() {
            lx.start = line;
            if ch == '"' {
                in_quotes = true;
                lx.was_quoted = true;
                continue;
            }
        }
        lx.val.push(ch);
    }
    if !lx.val.is_empty() {
        lx.emit();
    }
    lx.out
}

/// State of the word being built.
struct Lexer<'a> {
    file: &'a Arc<str>,
    out: Vec<Token>,
    val: String,
    start: u32,
    was_quoted: bool,
    comment: bool,
}

impl Lexer<'_> {
    /// Finishes the current word and resets per-word state.
    fn emit(&mut self) {
        self.out.push(Token {
            text: std::mem::take(&mut self.val),
            file: Arc::clone(self.file),
            line: self.start,
            quoted: self.was_quoted,
        });
        self.was_quoted = false;
        self.comment = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(text: &str) -> Vec<(String, u32, bool)> {
        tokenize(&Arc::from("t"), text)
            .into_iter()
            .map(|t| (t.text, t.line, t.quoted))
            .collect()
    }

    fn words(text: &str) -> Vec<String> {
        lex(text).into_iter().map(|t| t.0).collect()
    }

    #[test]
    fn words_and_lines() {
        assert_eq!(
            lex(".:53 {\n  errors\r\n\n  log a b\n}"),
            vec![
                (".:53".into(), 1, false),
                ("{".into(), 1, false),
                ("errors".into(), 2, false),
                ("log".into(), 4, false),
                ("a".into(), 4, false),
                ("b".into(), 4, false),
                ("}".into(), 5, false),
            ]
        );
    }

    #[test]
    fn quotes() {
        let cases: &[(&str, &[&str])] = &[
            (r#"a "b c" d"#, &["a", "b c", "d"]),
            (r#""say \"hi\"""#, &[r#"say "hi""#]),
            (r#""a\nb""#, &[r"a\nb"]),
            (r#""a\\" x"#, &[r"a\\", "x"]),
            (r#""""#, &[""]),
            (r#""a"b"#, &["a", "b"]),
            (r#"a"b c""#, &["a\"b", "c\""]),
            (r#""unterminated"#, &["unterminated"]),
            ("\"{\"", &["{"]),
        ];
        for (input, want) in cases {
            assert_eq!(words(input), *want, "input {input:?}");
        }
        assert!(lex("\"{\"")[0].2);
    }

    #[test]
    fn quoted_newlines_count_lines() {
        assert_eq!(
            lex("\"a\nb\" c\nd"),
            vec![
                ("a\nb".into(), 1, true),
                ("c".into(), 2, false),
                ("d".into(), 3, false)
            ]
        );
    }

    #[test]
    fn comments() {
        let cases: &[(&str, &[&str])] = &[
            ("# all of it\nx", &["x"]),
            ("a # b c\nd", &["a", "d"]),
            ("a#b c\nd", &["a", "c", "d"]),
            ("\"a#b\" c", &["a#b", "c"]),
            ("a #", &["a"]),
        ];
        for (input, want) in cases {
            assert_eq!(words(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn bom_and_unicode_space() {
        assert_eq!(words("\u{feff}a\u{a0}b\tc"), vec!["a", "b", "c"]);
    }
}
