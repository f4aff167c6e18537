//! The Corefile language, read exactly as CoreDNS reads it.
//!
//! CoreDNS configuration files are Caddy v1 "caddyfiles". This crate turns
//! one into [`ServerBlock`]s: each has its keys (zones, like `.:53` or
//! `tls://example.org`) and its [`Directive`]s in order, each directive
//! being all its tokens (name first, braces included). Nothing here knows
//! which directives exist; callers validate names and hand each directive
//! to its plugin, which reads it with a [`Dispenser`] (Caddy's cursor API).
//!
//! ```text
//! # comment
//! (common) {                      # snippet, pasted by `import common`
//!     errors
//! }
//! example.org:1053, example.net { # several keys; a trailing comma continues
//!     import common               # or a file/glob relative to this file
//!     hosts {$HOSTS_FILE} {       # {$VAR}, {%VAR%} and {env.VAR} substitution
//!         fallthrough
//!     }
//!     log "a quoted word"
//! }
//! ```
//!
//! Server block keys are validated while parsing; [`parse_key`] gives their
//! meaning ([`ZoneAddr`]), expanding CIDRs into reverse zones as CoreDNS does,
//! and [`normalize_zone`] does the same for zone arguments of plugins.
//!
//! Every error is an [`Error`] whose `Display` is CoreDNS's text, e.g.
//! `plugin/hosts: Corefile:7 - Error during parsing: unknown property 'ttls'`.
//!
//! Plugins read option values (durations, integers, addresses) with [`go_text`], Go's
//! parsers and error texts, because CoreDNS passes those texts through to the user.

mod address;
mod ast;
mod dispenser;
mod env;
mod error;
mod glob;
pub mod go_text;
mod import;
mod lexer;
mod parse;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use address::{normalize_zone, parse_key, Transport, ZoneAddr};
pub use ast::{Directive, ServerBlock, Token};
pub use dispenser::Dispenser;
pub use error::Error;

/// Parses Corefile text. `file` is the name used in messages (e.g.
/// "Corefile", or a path as given on the command line); relative `import`
/// paths resolve against the directory of `file` (or the current directory
/// if it has none).
pub fn parse(file: &str, text: &str) -> Result<Vec<ServerBlock>, Error> {
    parse::parse_text(file, text)
}

/// Reads and parses the Corefile at `path`.
pub fn parse_file(path: &Path) -> Result<Vec<ServerBlock>, Error> {
    let name = path.to_string_lossy();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::new(&*name, 0, format!("Could not read file: {e}")))?;
    parse(&name, &text)
}
