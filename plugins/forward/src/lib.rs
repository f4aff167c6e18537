#![doc = include_str!("../README.md")]
//!
//! # Implementation
//!
//! ```text
//!  serve (sync): name under FROM and not excepted? ── no ──▶ Step::Next
//!                    │ yes
//!                    ▼
//!               Step::Async ──▶ serve_async: max_concurrent gate
//!                                  │
//!                                  ▼
//!               policy order ──▶ upstream: cached or new socket ──▶ answer (ID restored)
//!                   ▲  failure: probe health, next upstream         │
//!                   └───────────── until 5s or the attempt cap ◀────┘
//! ```
//!
//! Modules: `config` reads a stanza, `targets` the TO list, `forward` holds the plugin and
//! its retry loop, `upstream` one server (cache, failure count, probe), `transport` the wire
//! exchange, `pool` the connection cache, `health` the probe query, `policy` the order.

mod config;
mod forward;
mod health;
mod metrics;
mod policy;
mod pool;
mod random;
mod rcode_text;
mod targets;
mod transport;
mod upstream;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use signpost_corefile::{Dispenser, Error};
use signpost_plugin::{Directive, PluginDef, SetupContext};

use crate::forward::{Forward, Timeouts};

/// The plugin as the binary lists it.
pub const PLUGIN: PluginDef = PluginDef {
    name: "forward",
    setup,
};

/// Every `forward` stanza of a block becomes one handler, in the order written; each but the
/// last hands `next` RCODEs to the following one.
fn setup(ctx: &mut SetupContext<'_>, directives: &[Directive]) -> Result<(), Error> {
    let mut configs = Vec::with_capacity(directives.len());
    for directive in directives {
        let mut d = Dispenser::new(directive);
        configs.push(config::parse_stanza(&mut d)?);
    }
    let last = configs.len().saturating_sub(1);
    for (i, cfg) in configs.into_iter().enumerate() {
        let fwd = Arc::new(Forward::new(cfg, i < last, Timeouts::default()));
        ctx.add_plugin(fwd.clone());
        let started = fwd.clone();
        ctx.on_startup(move |rt| {
            started.start(&rt.handle);
            Ok(())
        });
        ctx.on_shutdown(move |_| {
            fwd.shutdown();
            Box::pin(async {})
        });
    }
    Ok(())
}
