//! The parsed shape of a Corefile: tokens, server blocks and directives.
//!
//! The parser deliberately stops at this level (like Caddy v1, which CoreDNS
//! embeds): it groups tokens but knows nothing about which directives exist
//! or what their arguments mean. Every token keeps its file and line so that
//! whoever interprets it later can report errors where the user wrote them.

use std::sync::Arc;

use crate::address::{parse_key, ZoneAddr};
use crate::error::Error;

/// One word of a Corefile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The text, without surrounding quotes, after environment substitution.
    pub text: String,
    /// The file the token was read from (as given, or the imported file's path).
    pub file: Arc<str>,
    /// 1-based line the token starts on.
    pub line: u32,
    /// Whether the token was written in double quotes. A quoted `"{"` is a
    /// plain word, not a brace.
    pub quoted: bool,
}

impl Token {
    /// Whether this is the unquoted word `word`.
    pub(crate) fn is_word(&self, word: &str) -> bool {
        !self.quoted && self.text == word
    }

    /// Whether this token opens a block.
    pub(crate) fn is_open(&self) -> bool {
        self.is_word("{")
    }

    /// Whether this token closes a block.
    pub(crate) fn is_close(&self) -> bool {
        self.is_word("}")
    }

    /// Line on which this token ends (quoted tokens may span lines).
    fn end_line(&self) -> u32 {
        if !self.quoted {
            return self.line;
        }
        let breaks = self.text.bytes().filter(|&b| b == b'\n').count();
        self.line
            .saturating_add(u32::try_from(breaks).unwrap_or(u32::MAX))
    }
}

/// Whether `next` continues the line `prev` is on. Tokens from different
/// files (imports) never share a line.
pub(crate) fn same_line(prev: &Token, next: &Token) -> bool {
    prev.file == next.file && prev.end_line() == next.line
}

/// One server block: its keys (zones/addresses) and its directives in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerBlock {
    /// Keys as written (env substituted, trailing commas removed).
    pub keys: Vec<Token>,
    /// Directive occurrences in the order written.
    pub directives: Vec<Directive>,
}

impl ServerBlock {
    /// All keys parsed with [`parse_key`], in order, reverse CIDR keys
    /// expanded. Errors name the offending key's position.
    pub fn zone_addrs(&self, default_dns_port: u16) -> Result<Vec<ZoneAddr>, Error> {
        let mut out = Vec::new();
        for key in &self.keys {
            out.extend(parse_key(&key.text, default_dns_port).map_err(|e| key_error(key, &e))?);
        }
        Ok(out)
    }
}

/// The error for an unparseable server block key.
pub(crate) fn key_error(key: &Token, reason: &str) -> Error {
    Error::new(
        &*key.file,
        key.line,
        format!("Unable to parse server block key '{}': {reason}", key.text),
    )
}

/// One occurrence of a directive in a block: its name token and every token
/// of it, name first, including any nested `{ ... }` block tokens (braces are
/// tokens with text "{" / "}").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// All tokens, name first.
    pub tokens: Vec<Token>,
}

impl Directive {
    /// The directive name ("" for an empty directive, which the parser never makes).
    pub fn name(&self) -> &str {
        self.tokens.first().map_or("", |t| t.text.as_str())
    }

    /// Line of the directive name.
    pub fn line(&self) -> u32 {
        self.tokens.first().map_or(0, |t| t.line)
    }

    /// File of the directive name.
    pub fn file(&self) -> &str {
        self.tokens.first().map_or("", |t| &*t.file)
    }

    /// An error positioned at the directive name.
    pub fn err(&self, message: impl Into<String>) -> Error {
        Error::new(self.file(), self.line(), message)
    }
}
