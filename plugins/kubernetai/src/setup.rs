//! Setup: every `kubernetai` directive of the block is one stanza, read by the *kubernetes*
//! plugin's own parser; each gets its own index and handler. The block gets one chain
//! handler, one readiness check per cluster, a transfer provider per stanza (in Corefile
//! order: the first stanza serving the asked zone transfers it), and one search-path provider
//! for *autopath*.

use std::sync::{Arc, OnceLock};

use signpost_autopath::resolv::read_search_list;
use signpost_autopath::Pathers;
use signpost_kube::{BlockDefault, Connection};
use signpost_kubernetes::{
    parse_stanza, register_local_ips, Index, IndexOptions, Kubernetes, KubernetesConfig, WatchPlan,
    ZoneTransfer,
};
use signpost_plugin::{CorefileError, Directive, Dispenser, SetupContext};
use signpost_transfer::Providers;
use signpost_wire::Name;

use crate::handler::Kubernetai;
use crate::pather::{PathStanza, SearchPaths};

pub(crate) const NAME: &str = "kubernetai";

/// Where autopath's search domains after the clusters' come from (CoreDNS reads the same).
const RESOLV_CONF: &str = "/etc/resolv.conf";

/// Read every stanza, in Corefile order.
pub(crate) fn parse(
    directives: &[Directive],
    block_zones: &[Name],
) -> Result<Vec<KubernetesConfig>, CorefileError> {
    directives
        .iter()
        .map(|directive| {
            let mut d = Dispenser::new(directive);
            d.next();
            parse_stanza(&mut d, block_zones).map_err(|e| e.with_plugin(NAME))
        })
        .collect()
}

/// One stanza: what it says, its index, and how it reaches its cluster.
pub(crate) struct Stanza {
    pub(crate) config: KubernetesConfig,
    pub(crate) index: Arc<Index>,
    pub(crate) plan: WatchPlan,
}

pub(crate) fn setup(
    ctx: &mut SetupContext<'_>,
    directives: &[Directive],
) -> Result<(), CorefileError> {
    let configs = parse(directives, ctx.zones())?;
    let block_default: Option<Connection> = ctx
        .get_block_state::<BlockDefault>()
        .and_then(|b| b.0.clone());
    let stanzas: Vec<Stanza> = configs
        .into_iter()
        .map(|config| Stanza {
            index: Index::new(IndexOptions::from_config(&config)),
            plan: WatchPlan::new(&config, block_default.as_ref()),
            config,
        })
        .collect();
    let resolv = Arc::new(OnceLock::new());
    build(ctx, &stanzas, Arc::clone(&resolv));
    // The search line of our own resolv.conf ends autopath's search paths; read at start.
    ctx.on_startup(move |_| {
        let _ = resolv.set(read_search_list(RESOLV_CONF).unwrap_or_default());
        Ok(())
    });
    crate::startup::register(ctx, stanzas);
    Ok(())
}

/// Everything but the watches: the handler, readiness, the NS addresses, and what
/// *transfer* and *autopath* read.
pub(crate) fn build(
    ctx: &mut SetupContext<'_>,
    stanzas: &[Stanza],
    resolv: Arc<OnceLock<Vec<Name>>>,
) {
    let handlers = stanzas
        .iter()
        .map(|s| Kubernetes::named(NAME, &s.config, Arc::clone(&s.index)))
        .collect();
    ctx.add_plugin(Arc::new(Kubernetai::new(handlers)));

    for (cluster, indexes) in by_cluster(stanzas) {
        ctx.ready_when(ready_name(&cluster), move || {
            indexes.iter().all(|i| i.is_synced())
        });
    }

    for s in stanzas {
        register_local_ips(ctx, &s.index);
        ctx.block_state::<Providers>()
            .register(Arc::new(ZoneTransfer::new(&s.config, Arc::clone(&s.index))));
    }
    let paths = stanzas
        .iter()
        .map(|s| PathStanza::new(&s.config, Arc::clone(&s.index)))
        .collect();
    ctx.block_state::<Pathers>()
        .register(NAME, Arc::new(SearchPaths::new(paths, resolv)));
}

/// The name `ready` reports while a cluster has not delivered its first lists.
pub(crate) fn ready_name(cluster: &str) -> String {
    format!("{NAME}({cluster})")
}

/// The stanzas' indexes grouped by connection (named as in logs and metrics), clusters in
/// order of first mention.
fn by_cluster(stanzas: &[Stanza]) -> Vec<(String, Vec<Arc<Index>>)> {
    let mut out: Vec<(&Connection, Vec<Arc<Index>>)> = Vec::new();
    for s in stanzas {
        let conn = s.plan.connection();
        match out.iter_mut().find(|(c, _)| *c == conn) {
            Some((_, v)) => v.push(Arc::clone(&s.index)),
            None => out.push((conn, vec![Arc::clone(&s.index)])),
        }
    }
    out.into_iter().map(|(c, v)| (c.name(), v)).collect()
}
