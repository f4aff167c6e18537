//! Setup: parse the stanza, build the index and the handler, register readiness, and (at
//! start-up) learn the server's own addresses and start the watches.

use std::sync::Arc;

use signpost_plugin::{CorefileError, Directive, Dispenser, SetupContext};

use crate::config::{parse_stanza, KubernetesConfig};
use crate::handler::Kubernetes;
use crate::index::{Index, IndexOptions};
use crate::local_ips;

pub(crate) const NAME: &str = "kubernetes";

/// Parse the only `kubernetes` directive of a block.
pub(crate) fn parse(
    directives: &[Directive],
    block_zones: &[signpost_wire::Name],
) -> Result<KubernetesConfig, CorefileError> {
    let directive = SetupContext::once(NAME, directives)?;
    let mut d = Dispenser::new(directive);
    d.next();
    parse_stanza(&mut d, block_zones).map_err(|e| e.with_plugin(NAME))
}

pub(crate) fn setup(
    ctx: &mut SetupContext<'_>,
    directives: &[Directive],
) -> Result<(), CorefileError> {
    let config = parse(directives, ctx.zones())?;
    let index = Index::new(IndexOptions::from_config(&config));
    let plugin = Arc::new(Kubernetes::new(&config, Arc::clone(&index)));
    ctx.add_plugin(plugin);

    let ready = Arc::clone(&index);
    ctx.ready(
        NAME,
        Arc::new(move || {
            if ready.is_synced() {
                Ok(())
            } else {
                Err(String::new())
            }
        }),
    );

    // The addresses we answer on become the NS records (spec §11).
    let ports: Vec<u16> = ctx.block.keys.iter().map(|k| k.port).collect();
    let local = Arc::clone(&index);
    ctx.on_startup(move |rt| {
        let mine: Vec<_> = rt
            .listeners
            .iter()
            .map(|(_, a)| *a)
            .filter(|a| ports.contains(&a.port()))
            .collect();
        let addrs = if mine.is_empty() {
            rt.listeners.iter().map(|(_, a)| *a).collect()
        } else {
            mine
        };
        local.set_local_ips(local_ips::bound_ips(&addrs));
        Ok(())
    });

    crate::watch::register(ctx, &config, &index);
    Ok(())
}
