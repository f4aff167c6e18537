//! A cursor over one directive's tokens, for plugin setup code.
//!
//! CoreDNS plugins read their configuration through Caddy v1's `Dispenser`
//! (`c.Next()`, `c.NextArg()`, `c.NextBlock()`, `c.RemainingArgs()`,
//! `c.ArgErr()`); porting a plugin is far less error prone when the same
//! calls exist with the same meaning and produce the same error text.
//!
//! Differences from Caddy, all of which only make configurations work that
//! Caddy would reject: `next_arg` never steps onto an unquoted brace (so
//! `health { lameduck 5s }` on one line reads `5s` as the only argument),
//! and `next_block` enters a nested `{ ... }` that opens on the current line,
//! so plugins can have blocks within blocks.

use crate::ast::{same_line, Directive, Token};
use crate::error::Error;

/// Cursor over one [`Directive`]'s tokens, like Caddy v1's `Dispenser`.
#[derive(Debug, Clone)]
pub struct Dispenser<'a> {
    tokens: &'a [Token],
    /// Index of the current token; `None` before the first.
    cursor: Option<usize>,
    /// How many blocks `next_block` has entered and not yet left.
    nesting: usize,
    file: &'a str,
}

impl<'a> Dispenser<'a> {
    /// A cursor before the first token (the directive name).
    pub fn new(directive: &'a Directive) -> Self {
        Dispenser {
            tokens: &directive.tokens,
            cursor: None,
            nesting: 0,
            file: directive.file(),
        }
    }

    fn next_index(&self) -> usize {
        self.cursor.map_or(0, |c| c + 1)
    }

    /// Advances to the next token, on any line. False at the end (the
    /// cursor then stays where it was).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> bool {
        let n = self.next_index();
        if n < self.tokens.len() {
            self.cursor = Some(n);
            true
        } else {
            false
        }
    }

    /// Advances only if the next token is on the current line and is not a
    /// brace. Before the first token it loads the first token.
    pub fn next_arg(&mut self) -> bool {
        let Some(c) = self.cursor else {
            return self.next();
        };
        match self.tokens.get(c + 1) {
            Some(t) if same_line(&self.tokens[c], t) && !t.is_open() && !t.is_close() => {
                self.cursor = Some(c + 1);
                true
            }
            _ => false,
        }
    }

    /// Use as `while d.next_block() { match d.val() { ... } }`.
    ///
    /// If the next token is a `{` on the current line, enters that block.
    /// Inside a block, advances to the next token; returns true while there
    /// is one, false on the block's closing `}` (which leaves the block).
    pub fn next_block(&mut self) -> bool {
        if let Some(c) = self.cursor {
            if let Some(t) = self.tokens.get(c + 1) {
                if t.is_open() && same_line(&self.tokens[c], t) {
                    self.cursor = Some(c + 1);
                    self.nesting += 1;
                    return self.step_in_block();
                }
            }
        }
        if self.nesting > 0 {
            return self.step_in_block();
        }
        false
    }

    fn step_in_block(&mut self) -> bool {
        if !self.next() {
            return false;
        }
        if self.token().is_some_and(Token::is_close) {
            self.nesting -= 1;
            return false;
        }
        true
    }

    /// Text of the current token ("" if none).
    pub fn val(&self) -> &str {
        self.token().map_or("", |t| t.text.as_str())
    }

    /// The current token.
    pub fn token(&self) -> Option<&Token> {
        self.cursor.and_then(|c| self.tokens.get(c))
    }

    /// Line of the current token (0 if none).
    pub fn line(&self) -> u32 {
        self.token().map_or(0, |t| t.line)
    }

    /// File of the current token (the directive's file if none).
    pub fn file(&self) -> &str {
        self.token().map_or(self.file, |t| &*t.file)
    }

    /// All remaining arguments on the current line (stops before a brace).
    pub fn remaining_args(&mut self) -> Vec<String> {
        let mut args = Vec::new();
        while self.next_arg() {
            args.push(self.val().to_string());
        }
        args
    }

    /// Caddy's "wrong argument count" error at the current token.
    pub fn arg_err(&self) -> Error {
        if self.token().is_some_and(Token::is_open) {
            return self.err("Unexpected token '{', expecting argument");
        }
        self.err(format!(
            "Wrong argument count or unexpected line ending after '{}'",
            self.val()
        ))
    }

    /// An error with message `msg` at the current token.
    pub fn err(&self, msg: impl Into<String>) -> Error {
        Error::new(self.file(), self.line(), msg)
    }

    /// Caddy's syntax error: the current token was found, `expected` was wanted.
    pub fn syntax_err(&self, expected: &str) -> Error {
        self.err(format!(
            "Syntax error: Unexpected token '{}', expecting '{expected}'",
            self.val()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    /// The directives of the single block in `text`.
    fn directives(text: &str) -> Vec<Directive> {
        let mut blocks = parse("Corefile", text).unwrap();
        assert_eq!(blocks.len(), 1);
        blocks.remove(0).directives
    }

    #[test]
    fn health_block_multi_line_and_one_line() {
        for text in [
            ". {\n health {\n  lameduck 5s\n }\n}",
            ". {\n health { lameduck 5s }\n}",
        ] {
            let dirs = directives(text);
            let mut d = Dispenser::new(&dirs[0]);
            assert_eq!(d.val(), "");
            assert!(d.next());
            assert_eq!(d.val(), "health");
            assert_eq!(d.line(), 2);
            assert!(d.remaining_args().is_empty());
            assert!(d.next_block());
            assert_eq!(d.val(), "lameduck");
            assert_eq!(d.remaining_args(), vec!["5s"]);
            assert!(!d.next_block());
            assert_eq!(d.val(), "}");
            assert!(!d.next());
        }
    }

    #[test]
    fn forward_block() {
        let dirs = directives(". {\n forward . /etc/resolv.conf {\n  max_concurrent 1000\n }\n}");
        let mut d = Dispenser::new(&dirs[0]);
        assert!(d.next());
        assert_eq!(d.val(), "forward");
        assert!(d.next_arg());
        assert_eq!(d.val(), ".");
        assert_eq!(d.remaining_args(), vec!["/etc/resolv.conf"]);
        assert!(!d.next_arg());
        let mut props = Vec::new();
        while d.next_block() {
            let name = d.val().to_string();
            props.push((name, d.remaining_args(), d.line()));
        }
        assert_eq!(
            props,
            vec![("max_concurrent".to_string(), vec!["1000".to_string()], 3)]
        );
        assert!(!d.next_block());
    }

    #[test]
    fn cache_block_and_errors() {
        let dirs =
            directives(". {\n cache 30 {\n  disable success cluster.local\n  prefetch\n }\n}");
        let mut d = Dispenser::new(&dirs[0]);
        assert!(d.next());
        assert!(d.next_arg());
        assert_eq!(d.val(), "30");
        assert!(d.next_block());
        assert_eq!(d.val(), "disable");
        assert_eq!(d.remaining_args(), vec!["success", "cluster.local"]);
        assert!(d.next_block());
        assert_eq!(d.val(), "prefetch");
        assert!(!d.next_arg());
        assert_eq!(
            d.arg_err().with_plugin("cache").to_string(),
            "plugin/cache: Corefile:4 - Error during parsing: \
             Wrong argument count or unexpected line ending after 'prefetch'"
        );
        assert_eq!(
            d.err("unknown property 'prefetch'").to_string(),
            "Corefile:4 - Error during parsing: unknown property 'prefetch'"
        );
        assert_eq!(
            d.syntax_err("}").to_string(),
            "Corefile:4 - Syntax error: Unexpected token 'prefetch', expecting '}'"
        );
        assert!(!d.next_block());
        assert_eq!(d.line(), 5);
    }

    #[test]
    fn block_without_args_and_empty_block() {
        let dirs = directives(". {\n errors\n log {\n }\n}");
        let mut d = Dispenser::new(&dirs[0]);
        assert!(d.next());
        assert!(!d.next_block());
        assert!(!d.next());
        let mut d = Dispenser::new(&dirs[1]);
        assert!(d.next());
        assert!(!d.next_block());
        assert_eq!(d.val(), "}");
    }

    #[test]
    fn nested_blocks() {
        let dirs = directives(". {\n p {\n  a {\n   b 1\n  }\n  c\n }\n}");
        let mut d = Dispenser::new(&dirs[0]);
        assert!(d.next());
        let mut seen = Vec::new();
        while d.next_block() {
            seen.push(d.val().to_string());
            if d.val() == "a" {
                while d.next_block() {
                    seen.push(format!("a/{}", d.val()));
                    d.remaining_args();
                }
            }
        }
        assert_eq!(seen, vec!["a", "a/b", "c"]);
    }

    #[test]
    fn next_arg_before_first_and_quoted_brace() {
        let dirs = directives(". {\n tpl \"{\" x\n}");
        let mut d = Dispenser::new(&dirs[0]);
        assert!(d.next_arg());
        assert_eq!(d.val(), "tpl");
        assert_eq!(d.remaining_args(), vec!["{", "x"]);
        assert_eq!(d.file(), "Corefile");
    }
}
