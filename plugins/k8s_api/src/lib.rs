#![doc = include_str!("../README.md")]

use std::sync::Arc;

use signpost_corefile::{Directive, Dispenser, Error};
use signpost_kube::{registry, BlockDefault, Connection};
use signpost_plugin::{PluginDef, SetupContext};

/// The `k8s_api` directive.
pub const PLUGIN: PluginDef = PluginDef { name: NAME, setup };

const NAME: &str = "k8s_api";

/// Parses the block into a connection.
fn parse(directive: &Directive) -> Result<Connection, Error> {
    let mut d = Dispenser::new(directive);
    d.next();
    if d.next_arg() {
        return Err(d.arg_err().with_plugin(NAME));
    }
    let mut conn = Connection::default();
    while d.next_block() {
        if !conn.parse_line(&mut d).map_err(|e| e.with_plugin(NAME))? {
            return Err(d
                .err(format!("unknown property '{}'", d.val()))
                .with_plugin(NAME));
        }
        if !conn.manifests.is_empty()
            && (conn.endpoint.is_some() || conn.tls.is_some() || conn.kubeconfig.is_some())
        {
            return Err(d
                .err("manifests cannot be combined with endpoint, tls or kubeconfig")
                .with_plugin(NAME));
        }
    }
    Ok(conn)
}

/// Stores the block's connection for the Kubernetes plugins and registers the cluster's
/// readiness. Nothing connects here: watches start when a plugin subscribes at start-up.
fn setup(ctx: &mut SetupContext<'_>, directives: &[Directive]) -> Result<(), Error> {
    let directive = SetupContext::once(NAME, directives)?;
    let conn = parse(directive)?;
    let cluster = registry().cluster(&conn);
    ctx.block_state::<BlockDefault>().0 = Some(conn);
    ctx.ready(
        NAME,
        Arc::new(move || {
            if cluster.is_synced() {
                Ok(())
            } else {
                Err(cluster.name())
            }
        }),
    );
    Ok(())
}

#[cfg(test)]
mod tests;
