#![doc = include_str!("../README.md")]

mod families;
mod table;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use signpost_corefile::go_text::{seconds, split_host_port};
use signpost_corefile::{Directive, Dispenser, Error};
use signpost_metrics::registry;
use signpost_plugin::{HttpReply, Next, Outcome, Plugin, PluginDef, Request, SetupContext, Step};
use signpost_wire::Response;

pub use families::panics;
use table::{Sample, Tables};

/// The `prometheus` directive.
pub const PLUGIN: PluginDef = PluginDef {
    name: "prometheus",
    setup,
};

/// Where metrics are served unless an address is given.
pub const DEFAULT_ADDR: &str = "localhost:9153";

/// Content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

fn setup(ctx: &mut SetupContext<'_>, directives: &[Directive]) -> Result<(), Error> {
    let directive = SetupContext::once("prometheus", directives)?;
    let addr = parse(directive).map_err(|e| e.with_plugin("prometheus"))?;

    registry().register_process_collector();
    families::set_build_info();
    // Created now so that it is exported (at 0) before anything panics.
    let _ = panics();

    ctx.http_route(&addr, "/metrics", Arc::new(metrics_reply));
    ctx.add_plugin(Arc::new(Metrics::default()));
    Ok(())
}

/// `prometheus [ADDRESS] { runtime_metrics | tls CONFIG }`.
fn parse(directive: &Directive) -> Result<String, Error> {
    let mut d = Dispenser::new(directive);
    d.next();
    let args = d.remaining_args();
    let addr = match args.len() {
        0 => DEFAULT_ADDR.to_string(),
        1 => {
            split_host_port(&args[0]).map_err(|e| d.err(e))?;
            args[0].clone()
        }
        _ => return Err(d.arg_err()),
    };
    while d.next_block() {
        match d.val() {
            "runtime_metrics" => {
                if !d.remaining_args().is_empty() {
                    return Err(d.arg_err());
                }
            }
            "tls" => {
                if d.remaining_args().len() != 1 {
                    return Err(d.arg_err());
                }
                return Err(d.err("tls is not supported"));
            }
            other => return Err(d.err(format!("unknown option: {other}"))),
        }
    }
    Ok(addr)
}

/// The `/metrics` answer: the whole process-wide registry.
pub fn metrics_reply() -> HttpReply {
    HttpReply {
        status: 200,
        content_type: CONTENT_TYPE,
        body: registry().render().into_bytes(),
    }
}

/// Set `coredns_plugin_enabled{server, zone, view="", name}` to 1. The server calls this at
/// start-up for every block that has *prometheus*: for each listen address of the block
/// (`dns://:53`), each zone of its keys (`example.org.`) and each plugin in its chain.
pub fn mark_enabled(server: &str, zone: &str, name: &str) {
    families::plugin_enabled()
        .with(&[server, zone, "", name])
        .set(1.0);
}

/// Forget every `coredns_plugin_enabled` series (on reload, before marking the new
/// configuration's plugins, as CoreDNS does).
pub fn reset_enabled() {
    families::plugin_enabled().clear();
}

/// The chain handler: counts every query once the response is final.
#[derive(Debug, Default)]
pub struct Metrics {
    tables: Tables,
}

impl Plugin for Metrics {
    fn name(&self) -> &'static str {
        "prometheus"
    }

    fn serve(&self, _: &Request<'_>, _: &mut Response, _: Next<'_>) -> Step {
        Step::Next
    }

    fn after(&self, req: &Request<'_>, resp: &mut Response, outcome: &Outcome, _: bool) {
        let sample = Sample {
            transport: req.transport,
            ipv6: is_ipv6(req.client.ip()),
            qtype: req.qtype(),
            dnssec_ok: req.query.dnssec_ok(),
            seconds: seconds(req.start.elapsed()),
            request_size: req.query.packet.len(),
            response_size: resp.bytes().len(),
            rcode: outcome.rcode,
            plugin: outcome.plugin,
        };
        self.tables
            .with(&req.server.addr, &req.server.zone_text, |t| {
                t.record(&sample)
            });
    }
}

/// The `family` label is "2" only for real IPv6 clients: Go counts IPv4-mapped addresses
/// (dual-stack sockets) as IPv4.
fn is_ipv6(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(_) => false,
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().is_none(),
    }
}
