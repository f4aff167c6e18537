#![doc = include_str!("../README.md")]

pub mod classify;
pub mod format;
pub mod mnemonic;
pub mod output;
mod setup;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use signpost_corefile::{Directive, Error};
use signpost_plugin::{Next, Outcome, Plugin, PluginDef, Request, SetupContext, Step};
use signpost_wire::Response;

use crate::classify::typify;
use crate::format::Entry;
pub use crate::setup::Rule;

/// The `log` directive.
pub const PLUGIN: PluginDef = PluginDef { name: "log", setup };

fn setup(ctx: &mut SetupContext<'_>, directives: &[Directive]) -> Result<(), Error> {
    let rules = setup::parse(directives).map_err(|e| e.with_plugin("log"))?;
    ctx.add_plugin(Arc::new(Logger { rules }));
    Ok(())
}

/// The query logger: writes one line per query in `after`, when the final response is known.
#[derive(Debug)]
pub struct Logger {
    rules: Vec<Rule>,
}

impl Logger {
    /// A logger with these rules (the first rule whose scope holds the name decides).
    pub fn new(rules: Vec<Rule>) -> Logger {
        Logger { rules }
    }

    /// The rule and details for a query's line; `None` when no rule logs it.
    pub fn entry<'a, 'r>(
        &'a self,
        req: &'a Request<'r>,
        resp: &'a Response,
        outcome: &Outcome,
    ) -> Option<(&'a Rule, Entry<'a, 'r>)> {
        let rule = self
            .rules
            .iter()
            .find(|r| req.qname().is_subdomain_of(&r.scope))?;
        let msg = resp.bytes();
        let kind = (!rule.classes.is_all() || rule.format.needs_kind())
            .then(|| typify(msg, outcome.rcode, req.qtype(), req.query.dnssec_ok()));
        if kind.is_some_and(|k| !rule.classes.matches(k.class())) {
            return None;
        }
        let entry = Entry {
            req,
            msg,
            rcode: outcome.rcode,
            elapsed: req.start.elapsed(),
            kind,
        };
        Some((rule, entry))
    }
}

/// Append `[INFO] ` and the rendered rule format (no newline).
pub fn render_line(out: &mut Vec<u8>, rule: &Rule, entry: &Entry<'_, '_>) {
    out.extend_from_slice(b"[INFO] ");
    rule.format.render(out, entry);
}

impl Plugin for Logger {
    fn name(&self) -> &'static str {
        "log"
    }

    fn serve(&self, _: &Request<'_>, _: &mut Response, _: Next<'_>) -> Step {
        Step::Next
    }

    fn after(&self, req: &Request<'_>, resp: &mut Response, outcome: &Outcome, _: bool) {
        if let Some((rule, entry)) = self.entry(req, resp, outcome) {
            output::line(|buf| render_line(buf, rule, &entry));
        }
    }
}
