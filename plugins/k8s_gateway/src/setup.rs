//! Setup: parse, build the index and the handler, register readiness, the transfer provider
//! and (at start-up) the watches.

use std::sync::Arc;

use signpost_plugin::{CorefileError, Directive, SetupContext};
use signpost_transfer::Providers;

use crate::config::parse;
use crate::handler::K8sGateway;
use crate::index::Index;

pub(crate) const NAME: &str = "k8s_gateway";

pub(crate) fn setup(
    ctx: &mut SetupContext<'_>,
    directives: &[Directive],
) -> Result<(), CorefileError> {
    let config = parse(directives, ctx.zones()).map_err(|e| e.with_plugin(NAME))?;
    let index = Index::new(&config);
    crate::watch::register(ctx, &config, &index);
    let ready = Arc::clone(&index);
    ctx.ready_when(NAME, move || ready.is_synced());
    let plugin = Arc::new(K8sGateway::new(config, index));
    ctx.block_state::<Providers>().register(plugin.clone());
    ctx.add_plugin(plugin);
    Ok(())
}
