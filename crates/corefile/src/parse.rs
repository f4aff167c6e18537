//! Grouping tokens into server blocks and directives.
//!
//! This mirrors the Caddy v1 parser CoreDNS embeds, so that every Corefile
//! CoreDNS accepts is grouped the same way and errors carry the same text:
//!
//! * keys are the words of the block's first line; a key ending in `,`
//!   continues onto the next line; an empty `""` key is skipped;
//! * the block body is `{ ... }`; a Corefile with a single block may omit
//!   the braces (then the body runs to the end of the file);
//! * `(name) { ... }` at top level defines a snippet instead of a block;
//! * a directive is its line plus any `{ ... }` blocks (nesting allowed) that
//!   open on it;
//! * `import` at the start of a line (top level, directive position, or
//!   inside a directive's block) is replaced by the snippet or files named.
//!
//! Where Caddy's behaviour is an accident rather than a rule we are stricter
//! and say why: a stray top-level `}` or a block without keys is an error
//! (Caddy silently drops such blocks), quoted braces are plain words, and
//! import cycles are reported instead of expanded until a counter runs out.

use std::collections::HashMap;
use std::fs;
use std::rc::Rc;
use std::sync::Arc;

use crate::address::parse_key;
use crate::ast::{key_error, same_line, Directive, ServerBlock, Token};
use crate::env;
use crate::error::Error;
use crate::import::{self, Chain, Source};
use crate::lexer::tokenize;

/// Caddy's message for a `}` without a matching `{`.
const UNEXPECTED_CLOSE: &str = "Unexpected '}' because no matching opening brace";
/// Caps against exponential (non-cyclic) import fan-out; CoreDNS's numbers.
const MAX_SNIPPET_EXPANSIONS: usize = 10_000;
const MAX_FILE_EXPANSIONS: usize = 100_000;

/// A token and the import chain that produced it.
#[derive(Debug, Clone)]
struct PTok {
    tok: Token,
    chain: Rc<Chain>,
}

/// Parses the tokens of one top-level file.
pub(crate) fn parse_text(file: &str, text: &str) -> Result<Vec<ServerBlock>, Error> {
    let name: Arc<str> = Arc::from(file);
    let chain = Chain::root(file);
    let toks = tokenize(&name, text)
        .into_iter()
        .map(|tok| PTok {
            tok,
            chain: Rc::clone(&chain),
        })
        .collect();
    let mut p = Parser {
        toks,
        pos: 0,
        snippets: HashMap::new(),
        snippet_expansions: 0,
        file_expansions: 0,
        root: name,
    };
    let mut blocks = Vec::new();
    while p.pos < p.toks.len() {
        if let Some(block) = p.block()? {
            blocks.push(block);
        }
    }
    Ok(blocks)
}

struct Parser {
    toks: Vec<PTok>,
    /// Index of the token being looked at.
    pos: usize,
    snippets: HashMap<String, Vec<PTok>>,
    snippet_expansions: usize,
    file_expansions: usize,
    root: Arc<str>,
}

fn err_at(t: &Token, msg: impl Into<String>) -> Error {
    Error::new(&*t.file, t.line, msg)
}

fn syntax(t: &Token, expected: &str) -> Error {
    err_at(
        t,
        format!(
            "Syntax error: Unexpected token '{}', expecting '{expected}'",
            t.text
        ),
    )
}

fn substituted(t: &Token) -> Token {
    Token {
        text: env::expand(&t.text),
        ..t.clone()
    }
}

impl Parser {
    fn tok(&self, i: usize) -> Option<&Token> {
        self.toks.get(i).map(|p| &p.tok)
    }

    /// The last token, where Caddy reports running out of input.
    fn last(&self) -> Token {
        self.toks.last().map_or_else(
            || Token {
                text: String::new(),
                file: Arc::clone(&self.root),
                line: 0,
                quoted: false,
            },
            |p| p.tok.clone(),
        )
    }

    /// Whether token `i` is the first on its line.
    fn starts_line(&self, i: usize) -> bool {
        i == 0 || !same_line(&self.toks[i - 1].tok, &self.toks[i].tok)
    }

    /// Parses one top-level entry: a server block (returned) or a snippet.
    fn block(&mut self) -> Result<Option<ServerBlock>, Error> {
        let mut keys: Vec<Token> = Vec::new();
        let mut expecting = false;
        let mut first = true;
        loop {
            let Some(t) = self.tok(self.pos) else {
                if expecting {
                    return Err(err_at(&self.last(), "Unexpected EOF"));
                }
                // Only keys up to the end of the file: a block without body.
                return self.finish_keys(keys).map(|keys| {
                    keys.map(|keys| ServerBlock {
                        keys,
                        directives: Vec::new(),
                    })
                });
            };
            if !first && !expecting && self.starts_line(self.pos) {
                break;
            }
            first = false;
            if t.is_word("import") && self.starts_line(self.pos) {
                self.import(self.pos)?;
                first = true;
                continue;
            }
            if t.is_open() {
                if expecting {
                    return Err(err_at(
                        t,
                        "Expected another address but had '{' - check for extra comma",
                    ));
                }
                break;
            }
            if t.is_close() {
                return Err(err_at(t, UNEXPECTED_CLOSE));
            }
            let mut key = substituted(t);
            if !key.text.is_empty() {
                expecting = key.text.ends_with(',');
                if expecting {
                    key.text.pop();
                }
                keys.push(key);
            }
            self.pos += 1;
        }

        let here = self.toks[self.pos].tok.clone();
        if let [only] = keys.as_slice() {
            let k = &only.text;
            if k.len() >= 2 && k.starts_with('(') && k.ends_with(')') {
                let name = k[1..k.len() - 1].to_string();
                self.snippet(name)?;
                return Ok(None);
            }
        }
        if keys.is_empty() {
            return Err(err_at(&here, "Missing server block key"));
        }
        let Some(keys) = self.finish_keys(keys)? else {
            return Ok(None);
        };

        let braced = here.is_open();
        if braced {
            self.pos += 1;
        }
        let mut directives = Vec::new();
        loop {
            let Some(t) = self.tok(self.pos) else {
                if braced {
                    return Err(syntax(&self.last(), "}"));
                }
                break;
            };
            if t.is_close() {
                if !braced {
                    return Err(err_at(t, UNEXPECTED_CLOSE));
                }
                self.pos += 1;
                break;
            }
            if t.is_word("import") {
                self.import(self.pos)?;
                continue;
            }
            directives.push(self.directive()?);
        }
        Ok(Some(ServerBlock { keys, directives }))
    }

    /// Validates collected keys; `None` if there are none.
    fn finish_keys(&self, keys: Vec<Token>) -> Result<Option<Vec<Token>>, Error> {
        if keys.is_empty() {
            return Ok(None);
        }
        for key in &keys {
            if key.text.is_empty() {
                return Err(err_at(key, "Empty server block key"));
            }
            parse_key(&key.text, 53).map_err(|e| key_error(key, &e))?;
        }
        Ok(Some(keys))
    }

    /// Reads a snippet body; the current token must be its `{`.
    fn snippet(&mut self, name: String) -> Result<(), Error> {
        let open = &self.toks[self.pos].tok;
        if self.snippets.contains_key(&name) {
            return Err(err_at(
                open,
                format!("redeclaration of previously declared snippet {name}"),
            ));
        }
        if !open.is_open() {
            return Err(syntax(open, "{"));
        }
        self.pos += 1;
        let start = self.pos;
        let mut depth = 1usize;
        while let Some(t) = self.tok(self.pos) {
            if t.is_close() {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            } else if t.is_open() {
                depth += 1;
            }
            self.pos += 1;
        }
        if depth != 0 {
            return Err(syntax(&self.last(), "}"));
        }
        let body = self.toks[start..self.pos].to_vec();
        self.pos += 1;
        self.snippets.insert(name, body);
        Ok(())
    }

    /// Reads the directive starting at the current token.
    fn directive(&mut self) -> Result<Directive, Error> {
        let mut tokens = vec![substituted(&self.toks[self.pos].tok)];
        self.pos += 1;
        let mut nesting = 0usize;
        while let Some(t) = self.tok(self.pos) {
            if t.is_open() {
                nesting += 1;
                tokens.push(t.clone());
                self.pos += 1;
                continue;
            }
            let new_line = self.starts_line(self.pos);
            if new_line && nesting == 0 {
                break;
            }
            if t.is_close() {
                if nesting == 0 {
                    return Err(err_at(t, UNEXPECTED_CLOSE));
                }
                nesting -= 1;
                tokens.push(t.clone());
                self.pos += 1;
                continue;
            }
            if new_line && t.is_word("import") {
                self.import(self.pos)?;
                continue;
            }
            tokens.push(substituted(t));
            self.pos += 1;
        }
        if nesting > 0 {
            return Err(err_at(&self.last(), "Unexpected EOF"));
        }
        Ok(Directive { tokens })
    }

    /// Replaces the `import` line starting at token `i` by what it names.
    fn import(&mut self, i: usize) -> Result<(), Error> {
        let mut end = i + 1;
        while end < self.toks.len() && !self.starts_line(end) {
            end += 1;
        }
        let imp = self.toks[i].clone();
        let Some(pat_tok) = self.tok(i + 1).filter(|_| end > i + 1).cloned() else {
            return Err(err_at(
                &imp.tok,
                "Wrong argument count or unexpected line ending after 'import'",
            ));
        };
        let pattern = env::expand(&pat_tok.text);
        if pattern.is_empty() {
            return Err(err_at(&pat_tok, "Import requires a non-empty filepath"));
        }
        let args: Vec<String> = self.toks[i + 2..end]
            .iter()
            .map(|p| env::expand(&p.tok.text))
            .collect();
        let with_args = |tok: &Token, chain: &Rc<Chain>| PTok {
            tok: Token {
                text: env::expand_args(&tok.text, &args),
                ..tok.clone()
            },
            chain: Rc::clone(chain),
        };

        let mut imported = Vec::new();
        if let Some(body) = self.snippets.get(&pattern) {
            if self.snippet_expansions >= MAX_SNIPPET_EXPANSIONS {
                return Err(err_at(
                    &pat_tok,
                    format!("maximum snippet import depth ({MAX_SNIPPET_EXPANSIONS}) exceeded"),
                ));
            }
            self.snippet_expansions += 1;
            let chain = imp
                .chain
                .push(Source::snippet(&pattern))
                .map_err(|m| err_at(&pat_tok, m))?;
            imported.extend(body.iter().map(|p| with_args(&p.tok, &chain)));
        } else {
            if self.file_expansions >= MAX_FILE_EXPANSIONS {
                return Err(err_at(
                    &pat_tok,
                    format!("maximum file import depth ({MAX_FILE_EXPANSIONS}) exceeded"),
                ));
            }
            self.file_expansions += 1;
            let files =
                import::resolve(&pattern, &imp.tok.file).map_err(|m| err_at(&pat_tok, m))?;
            for path in files {
                let shown = path.to_string_lossy().into_owned();
                if path.is_dir() {
                    return Err(err_at(
                        &pat_tok,
                        format!("Could not import {shown}: is a directory"),
                    ));
                }
                let chain = imp
                    .chain
                    .push(Source::file(&path))
                    .map_err(|m| err_at(&pat_tok, m))?;
                let text = fs::read_to_string(&path)
                    .map_err(|e| err_at(&pat_tok, format!("Could not import {shown}: {e}")))?;
                let name: Arc<str> = Arc::from(shown);
                imported.extend(tokenize(&name, &text).iter().map(|t| with_args(t, &chain)));
            }
        }
        self.toks.splice(i..end, imported);
        Ok(())
    }
}
