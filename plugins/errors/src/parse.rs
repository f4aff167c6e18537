//! Reading the `errors` directive with CoreDNS's checks and messages.

use regex_lite::Regex;
use signpost_corefile::go_text::parse_duration;
use signpost_corefile::{Directive, Dispenser, Error};

use crate::handler::{Level, Pattern};

/// Longest REGEXP accepted (CoreDNS's guard against huge patterns).
const MAX_REGEXP_LEN: usize = 10_000;

/// What an `errors` directive configures.
#[derive(Debug, Default)]
pub(crate) struct Config {
    pub(crate) patterns: Vec<Pattern>,
    /// `stacktrace` was given (accepted for compatibility; see the README).
    pub(crate) stacktrace: bool,
}

pub(crate) fn parse(directive: &Directive) -> Result<Config, Error> {
    let mut d = Dispenser::new(directive);
    let mut config = Config::default();
    d.next();
    let args = d.remaining_args();
    match args.len() {
        0 => {}
        1 if args[0] == "stdout" => {}
        1 => return Err(d.err(format!("invalid log file: {}", args[0]))),
        _ => return Err(d.arg_err()),
    }
    while d.next_block() {
        match d.val() {
            "stacktrace" => config.stacktrace = true,
            "consolidate" => config.patterns.push(consolidate(&mut d)?),
            other => return Err(d.syntax_err(&format!("Unknown field {other}"))),
        }
    }
    Ok(config)
}

/// `consolidate DURATION REGEXP [LEVEL] [show_first]`.
fn consolidate(d: &mut Dispenser<'_>) -> Result<Pattern, Error> {
    let args = d.remaining_args();
    if !(2..=4).contains(&args.len()) {
        return Err(d.arg_err());
    }
    let period = parse_duration(&args[0]).map_err(|e| d.err(e))?;
    if args[1].len() > MAX_REGEXP_LEN {
        return Err(d.err(format!(
            "regex pattern too long: {} > {MAX_REGEXP_LEN}",
            args[1].len()
        )));
    }
    let regex = Regex::new(&args[1]).map_err(|e| d.err(e.to_string()))?;
    let mut level = None;
    let mut show_first = false;
    for a in &args[2..] {
        if let Some(l) = Level::from_name(a) {
            if level.is_some() {
                return Err(d.err("multiple log levels specified in consolidate"));
            }
            if show_first {
                return Err(d.err("log level must come before show_first in consolidate"));
            }
            level = Some(l);
        } else if a == "show_first" {
            show_first = true;
        } else {
            return Err(d.err(format!("unknown option in consolidate: {a}")));
        }
    }
    Ok(Pattern::new(
        period,
        regex,
        level.unwrap_or(Level::Error),
        show_first,
    ))
}
