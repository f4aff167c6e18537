#![doc = include_str!("../README.md")]

mod detector;
mod probe;

use std::sync::{Arc, Mutex};

use signpost_corefile::{Directive, Dispenser, Error};
use signpost_plugin::{PluginDef, Runtime, SetupContext};
use signpost_wire::Name;
use tokio::task::AbortHandle;

use detector::Loop;
use probe::Timing;

/// The `loop` directive.
pub const PLUGIN: PluginDef = PluginDef {
    name: "loop",
    setup,
};

const NAME: &str = "loop";
/// CoreDNS's `plugin.ErrOnce`.
const ONCE: &str = "this plugin can only be used once per Server Block";

fn parse(directive: &Directive) -> Result<(), Error> {
    let mut d = Dispenser::new(directive);
    d.next();
    if d.next_arg() {
        return Err(d.arg_err());
    }
    if d.next_block() {
        return Err(d.err(format!("unknown property '{}'", d.val())));
    }
    Ok(())
}

fn setup(ctx: &mut SetupContext<'_>, directives: &[Directive]) -> Result<(), Error> {
    if let Some(second) = directives.get(1) {
        return Err(second.err(ONCE).with_plugin(NAME));
    }
    let Some(directive) = directives.first() else {
        return Ok(());
    };
    parse(directive).map_err(|e| e.with_plugin(NAME))?;
    // Only the block's first zone is probed.
    let zone = ctx.zones().first().cloned().unwrap_or_else(Name::root);
    let detector = Loop::new(zone).map_err(|e| {
        directive
            .err(format!("zone too long for a probe name: {e}"))
            .with_plugin(NAME)
    })?;
    let detector = Arc::new(detector);
    ctx.add_plugin(detector.clone());
    let port = ctx.block.keys.first().map(|k| k.port);
    register(ctx, detector, port, Timing::STANDARD);
    Ok(())
}

/// Starts the probing when the server starts, and stops it if the configuration is retired
/// before the probing is over.
fn register(ctx: &mut SetupContext<'_>, detector: Arc<Loop>, port: Option<u16>, timing: Timing) {
    let prober: Arc<Mutex<Prober>> = Arc::default();
    let started = Arc::clone(&prober);
    ctx.on_startup(move |rt: &Runtime| {
        detector.set_control(rt.control.clone());
        let mut prober = started.lock().unwrap_or_else(|p| p.into_inner());
        match probe::target(&rt.listeners, port) {
            Some(target) if !prober.retired => {
                let handle = rt.handle.spawn(probe::run(detector, target, timing));
                prober.task = Some(handle.abort_handle());
            }
            _ => detector.disable(),
        }
        Ok(())
    });
    ctx.on_shutdown(move |_final| {
        let mut prober = prober.lock().unwrap_or_else(|p| p.into_inner());
        prober.retired = true;
        if let Some(t) = prober.task.take() {
            t.abort();
        }
        Box::pin(async {})
    });
}

/// The probing task of one configuration.
#[derive(Default)]
struct Prober {
    task: Option<AbortHandle>,
    /// The configuration was retired (possibly before it started): never probe.
    retired: bool,
}

#[cfg(test)]
mod tests;
