#![doc = include_str!("../README.md")]

pub mod probe;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use signpost_corefile::go_text::{format_std_duration, parse_std_duration, split_host_port};
use signpost_corefile::{Directive, Dispenser, Error};
use signpost_log::output;
use signpost_plugin::{HttpReply, PluginDef, SetupContext};
use tokio::task::AbortHandle;

use probe::{ProbeMetrics, Target};

/// The `health` directive.
pub const PLUGIN: PluginDef = PluginDef {
    name: "health",
    setup,
};

/// Where `/health` is served unless an address is given.
pub const DEFAULT_ADDR: &str = ":8080";

/// How often the process probes itself.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// What a block's `health` directives configure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Listen address as written.
    pub addr: String,
    /// How long to keep serving after a shutdown was asked for.
    pub lameduck: Duration,
}

fn setup(ctx: &mut SetupContext<'_>, directives: &[Directive]) -> Result<(), Error> {
    let config = parse(directives).map_err(|e| e.with_plugin("health"))?;
    let metrics = ProbeMetrics::get();
    let (host, port) = split_host_port(&config.addr).unwrap_or(("", ""));
    let target = Target::for_addr(host, port, &config.addr);

    ctx.http_route(&config.addr, "/health", Arc::new(health_reply));

    let running: Arc<Mutex<Option<AbortHandle>>> = Arc::default();
    let slot = Arc::clone(&running);
    ctx.on_startup(move |rt| {
        if let Some(t) = target {
            let task = rt.handle.spawn(probe::run(t, metrics, PROBE_EVERY));
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(task.abort_handle());
        }
        Ok(())
    });
    let lameduck = config.lameduck;
    ctx.on_shutdown(move |final_shutdown| {
        Box::pin(async move {
            if final_shutdown && !lameduck.is_zero() {
                output::text(&format!(
                    "[INFO] plugin/health: Going into lameduck mode for {}",
                    format_std_duration(lameduck)
                ));
                tokio::time::sleep(lameduck).await;
            }
            if let Some(task) = running.lock().unwrap_or_else(|e| e.into_inner()).take() {
                task.abort();
            }
        })
    });
    Ok(())
}

/// The `/health` answer: always 200 `OK` while the process runs (also during lameduck).
pub fn health_reply() -> HttpReply {
    HttpReply::text(200, "OK")
}

/// Parse every `health` directive of a block; the last address and lameduck given win.
pub fn parse(directives: &[Directive]) -> Result<Config, Error> {
    let mut config = Config {
        addr: DEFAULT_ADDR.to_string(),
        lameduck: Duration::ZERO,
    };
    for directive in directives {
        let mut d = Dispenser::new(directive);
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
                "lameduck" => {
                    let args = d.remaining_args();
                    if args.len() != 1 {
                        return Err(d.arg_err());
                    }
                    config.lameduck = parse_std_duration(&args[0]).map_err(|e| {
                        d.err(format!(
                            "unable to parse lameduck duration value: '{}' : {e}",
                            args[0]
                        ))
                    })?;
                }
                other => return Err(d.err(format!("unknown property '{other}'"))),
            }
        }
    }
    Ok(config)
}
