#![doc = include_str!("../README.md")]

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use signpost_corefile::go_text::{quote, split_host_port};
use signpost_corefile::{Directive, Dispenser, Error};
use signpost_log::output;
use signpost_plugin::{HttpReply, PluginDef, SetupContext};

/// The `ready` directive.
pub const PLUGIN: PluginDef = PluginDef {
    name: "ready",
    setup,
};

/// Where `/ready` is served unless an address is given.
pub const DEFAULT_ADDR: &str = ":8181";

/// How readiness is watched once a plugin has reported ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Monitor {
    /// A plugin that was ready once is never asked again (the default).
    UntilReady,
    /// Every request asks every plugin.
    Continuously,
}

/// What a `ready` directive configures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Listen address as written.
    pub addr: String,
    /// Monitoring mode.
    pub monitor: Monitor,
}

fn setup(ctx: &mut SetupContext<'_>, directives: &[Directive]) -> Result<(), Error> {
    let directive = SetupContext::once("ready", directives)?;
    let config = parse(directive).map_err(|e| e.with_plugin("ready"))?;
    let readiness = Arc::new(Readiness::new(config.monitor));
    let r = Arc::clone(&readiness);
    ctx.http_route(&config.addr, "/ready", Arc::new(move || r.reply()));
    ctx.on_shutdown(move |_| {
        readiness.shut_down();
        Box::pin(async {})
    });
    Ok(())
}

/// Parse `ready [ADDRESS] { monitor until-ready|continuously }`.
pub fn parse(directive: &Directive) -> Result<Config, Error> {
    let mut d = Dispenser::new(directive);
    let mut config = Config {
        addr: DEFAULT_ADDR.to_string(),
        monitor: Monitor::UntilReady,
    };
    d.next();
    let args = d.remaining_args();
    match args.len() {
        0 => {}
        1 => {
            split_host_port(&args[0]).map_err(|e| d.err(e))?;
            config.addr = args[0].clone();
        }
        _ => return Err(d.arg_err()),
    }
    while d.next_block() {
        match d.val() {
            "monitor" => {
                let args = d.remaining_args();
                if args.len() != 1 {
                    return Err(d.arg_err());
                }
                config.monitor = match args[0].as_str() {
                    "until-ready" => Monitor::UntilReady,
                    "continuously" => Monitor::Continuously,
                    other => return Err(d.err(format!("monitor type '{other}' not supported"))),
                };
            }
            other => return Err(d.err(format!("unknown property '{other}'"))),
        }
    }
    Ok(config)
}

/// The state behind one `/ready` endpoint.
#[derive(Debug)]
pub struct Readiness {
    monitor: Monitor,
    /// For `until-ready`: the plugins that have not been ready at any check so far (`None`
    /// before the first check). A plugin leaves this set the first time it is ready.
    pending: Mutex<Option<BTreeSet<String>>>,
    shutting_down: AtomicBool,
}

impl Readiness {
    /// Fresh state (a new configuration starts over, as in CoreDNS).
    pub fn new(monitor: Monitor) -> Readiness {
        Readiness {
            monitor,
            pending: Mutex::new(None),
            shutting_down: AtomicBool::new(false),
        }
    }

    /// From now on answer 503 `Shutting down`.
    pub fn shut_down(&self) {
        self.shutting_down.store(true, Ordering::Release);
    }

    /// Names of the plugins not ready now, sorted, each once (the details some checks add
    /// after `: ` are left out, as CoreDNS only lists names).
    fn not_ready_now() -> BTreeSet<String> {
        signpost_plugin::ready::not_ready()
            .into_iter()
            .map(|s| match s.split_once(": ") {
                Some((name, _)) => name.to_string(),
                None => s,
            })
            .collect()
    }

    /// The plugins to report as not ready.
    pub fn not_ready(&self) -> BTreeSet<String> {
        let now = Self::not_ready_now();
        if self.monitor == Monitor::Continuously {
            return now;
        }
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let still = match pending.take() {
            None => now,
            Some(before) => before.intersection(&now).cloned().collect(),
        };
        *pending = Some(still.clone());
        still
    }

    /// The `/ready` answer: 200 `OK`, or 503 with the comma-separated names of the plugins
    /// that are not ready (`Shutting down` once the configuration is being retired).
    pub fn reply(&self) -> HttpReply {
        if self.shutting_down.load(Ordering::Acquire) {
            return HttpReply::text(503, "Shutting down");
        }
        let names = self.not_ready();
        if names.is_empty() {
            return HttpReply::text(200, "OK");
        }
        let list = names.into_iter().collect::<Vec<_>>().join(",");
        output::text(&format!(
            "[INFO] plugin/ready: Plugins not ready: {}",
            quote(&list)
        ));
        HttpReply::text(503, list)
    }
}
