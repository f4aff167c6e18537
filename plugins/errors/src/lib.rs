#![doc = include_str!("../README.md")]

mod handler;
mod parse;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use signpost_corefile::{Directive, Error};
use signpost_plugin::{Next, Outcome, Plugin, PluginDef, Request, SetupContext, Step};
use signpost_wire::Response;

pub use handler::{Handler, Level, Pattern};

/// The `errors` directive.
pub const PLUGIN: PluginDef = PluginDef {
    name: "errors",
    setup,
};

fn setup(ctx: &mut SetupContext<'_>, directives: &[Directive]) -> Result<(), Error> {
    let directive = SetupContext::once("errors", directives)?;
    let config = parse::parse(directive).map_err(|e| e.with_plugin("errors"))?;
    let handler = Arc::new(Handler::new(config.patterns));
    if !handler.patterns().is_empty() {
        let h = Arc::clone(&handler);
        ctx.on_startup(move |rt| {
            h.set_runtime(rt.handle.clone());
            Ok(())
        });
        let h = Arc::clone(&handler);
        ctx.on_shutdown(move |_final| {
            h.stop();
            Box::pin(async {})
        });
    }
    ctx.add_plugin(Arc::new(Errors { handler }));
    Ok(())
}

/// The plugin: reports the error of every query that ended with one, after the chain ran.
#[derive(Debug)]
pub struct Errors {
    handler: Arc<Handler>,
}

impl Errors {
    /// The shared handler (for tests and the server).
    pub fn handler(&self) -> &Arc<Handler> {
        &self.handler
    }
}

impl Plugin for Errors {
    fn name(&self) -> &'static str {
        "errors"
    }

    fn serve(&self, _: &Request<'_>, _: &mut Response, _: Next<'_>) -> Step {
        Step::Next
    }

    fn after(&self, req: &Request<'_>, _: &mut Response, outcome: &Outcome, _: bool) {
        if let Some(error) = &outcome.error {
            self.handler
                .report(outcome.rcode, req.qname(), req.qtype(), error);
        }
    }
}
