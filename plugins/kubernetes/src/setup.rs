//! Setup: parse the stanza, build the index and the handler, register readiness, offer the
//! index to the companion plugins (*transfer*, *autopath*, *k8s_external*), and (at start-up)
//! learn the server's own addresses and start the watches.

use std::sync::{Arc, OnceLock};

use signpost_autopath::resolv::read_search_list;
use signpost_autopath::Pathers;
use signpost_plugin::{CorefileError, Directive, Dispenser, SetupContext};
use signpost_transfer::Providers;
use signpost_wire::Name;

use crate::autopath::PodSearchPath;
use crate::config::{parse_stanza, KubernetesConfig};
use crate::external::{ExternalSlot, ExternalSource};
use crate::handler::Kubernetes;
use crate::index::{Index, IndexOptions};
use crate::local_ips;
use crate::xfr::ZoneTransfer;

pub(crate) const NAME: &str = "kubernetes";

/// Where autopath's search domains after the cluster's come from (CoreDNS reads the same).
const RESOLV_CONF: &str = "/etc/resolv.conf";

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
    let resolv = Arc::new(OnceLock::new());
    build(ctx, &config, &index, Arc::clone(&resolv));
    // The search line of our own resolv.conf ends autopath's search paths; read at start.
    ctx.on_startup(move |_| {
        let _ = resolv.set(read_search_list(RESOLV_CONF).unwrap_or_default());
        Ok(())
    });
    crate::watch::register(ctx, &config, &index);
    Ok(())
}

/// Everything but the watches: the handler, readiness, the NS addresses, and what the
/// companion plugins read. `resolv` holds the search domains autopath appends.
pub(crate) fn build(
    ctx: &mut SetupContext<'_>,
    config: &KubernetesConfig,
    index: &Arc<Index>,
    resolv: Arc<OnceLock<Vec<Name>>>,
) {
    let plugin = Arc::new(Kubernetes::new(config, Arc::clone(index)));
    ctx.add_plugin(plugin);

    let ready = Arc::clone(index);
    ctx.ready_when(NAME, move || ready.is_synced());

    register_local_ips(ctx, index);

    ctx.block_state::<Providers>()
        .register(Arc::new(ZoneTransfer::new(config, Arc::clone(index))));
    ctx.block_state::<Pathers>().register(
        NAME,
        Arc::new(PodSearchPath::new(config, Arc::clone(index), resolv)),
    );
    ctx.block_state::<ExternalSlot>().set(ExternalSource::new(
        Arc::clone(index),
        namespaces(config),
        config.ttl,
    ));
}

/// At start-up, give `index` the addresses this block answers on: they become the NS records
/// and `ns.dns.<zone>` (spec §11).
pub fn register_local_ips(ctx: &mut SetupContext<'_>, index: &Arc<Index>) {
    let ports: Vec<u16> = ctx.block.keys.iter().map(|k| k.port).collect();
    let local = Arc::clone(index);
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
}

/// The `namespaces` list as exact byte strings.
pub(crate) fn namespaces(config: &KubernetesConfig) -> Vec<Box<[u8]>> {
    config
        .namespaces
        .iter()
        .map(|n| n.as_bytes().into())
        .collect()
}
