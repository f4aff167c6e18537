#![doc = include_str!("../README.md")]

mod cache;
mod classify;
mod config;
mod entry;
mod handler;
mod insert;
mod metrics;
mod refresh;
mod store;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use signpost_corefile::{Directive, Dispenser, Error};
use signpost_plugin::{PluginDef, SetupContext};

use crate::cache::Inner;
use crate::config::Config;
use crate::handler::Cache;

/// The `cache` plugin.
pub const PLUGIN: PluginDef = PluginDef {
    name: "cache",
    setup,
};

fn setup(ctx: &mut SetupContext<'_>, directives: &[Directive]) -> Result<(), Error> {
    if let Some(second) = directives.get(1) {
        // Point at the second `cache` line (`SetupContext::once` reports line 0).
        let mut d = Dispenser::new(second);
        d.next();
        return Err(d
            .err("this plugin can only be used once per Server Block")
            .with_plugin("cache"));
    }
    let directive = SetupContext::once("cache", directives)?;
    let cfg = Config::parse(directive, ctx.zones())?;
    let inner = Arc::new(Inner::new(cfg));
    // Keep the server's runtime: prefetches start from the sync path, which may run on a
    // thread outside it.
    let for_startup = Arc::clone(&inner);
    ctx.on_startup(move |rt| {
        let _ = for_startup.runtime.set(rt.handle.clone());
        Ok(())
    });
    #[cfg(test)]
    ctx.parts
        .shared::<tests::Instances>()
        .0
        .push(Arc::clone(&inner));
    ctx.add_plugin(Arc::new(Cache { inner }));
    Ok(())
}
