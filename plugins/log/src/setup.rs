//! Reading `log` directives into rules, exactly as CoreDNS does: one argument is always a
//! name, two or more end with a format if the last one contains `{`, and a block lists the
//! classes of responses to log.

use std::sync::Arc;

use signpost_corefile::{Directive, Dispenser, Error};
use signpost_wire::Name;

use crate::classify::{Class, Classes};
use crate::format::{Format, COMBINED, COMMON};

/// One logging rule: queries for names under `scope` whose response class is in `classes`
/// are logged with `format`.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The names this rule covers.
    pub scope: Name,
    /// Which responses it logs.
    pub classes: Classes,
    /// How it logs them.
    pub format: Arc<Format>,
}

/// `dns.Fqdn` then a name; CoreDNS takes any text as a scope, so only names too long for
/// DNS are refused.
fn scope(d: &Dispenser<'_>, arg: &str) -> Result<Name, Error> {
    let text = if arg.ends_with('.') {
        arg.to_string()
    } else {
        format!("{arg}.")
    };
    Name::from_text(&text).map_err(|e| d.err(format!("invalid name '{arg}': {e}")))
}

/// Parse every `log` directive of a block into rules, in order.
pub(crate) fn parse(directives: &[Directive]) -> Result<Vec<Rule>, Error> {
    let mut rules = Vec::new();
    for directive in directives {
        let mut d = Dispenser::new(directive);
        d.next();
        let args = d.remaining_args();
        let mut format = COMMON.to_string();
        let names: &[String] = match args.len() {
            0 => &[],
            1 => &args[..],
            n => {
                if args[n - 1].contains('{') {
                    format = args[n - 1]
                        .replace("{common}", COMMON)
                        .replace("{combined}", COMBINED);
                    &args[..n - 1]
                } else {
                    &args[..]
                }
            }
        };
        let mut scopes = Vec::new();
        for n in names {
            scopes.push(scope(&d, n)?);
        }
        if args.is_empty() {
            scopes.push(Name::root());
        }

        let mut classes = Classes::default();
        while d.next_block() {
            match d.val() {
                "class" => {
                    let list = d.remaining_args();
                    if list.is_empty() {
                        return Err(d.arg_err());
                    }
                    for c in &list {
                        classes.insert(Class::from_name(c).map_err(|e| d.err(e))?);
                    }
                }
                other => return Err(d.err(format!("unknown property '{other}'"))),
            }
        }

        let format = Arc::new(Format::parse(&format));
        rules.extend(scopes.into_iter().map(|scope| Rule {
            scope,
            classes,
            format: Arc::clone(&format),
        }));
    }
    Ok(rules)
}
