//! The compiled-in plugins in execution order — signpost's `plugin.cfg`.
//!
//! A query meets the plugins of its server block in this order, whatever order the Corefile
//! lists them in. The order is CoreDNS's, restricted to the plugins signpost has.

use signpost_plugin::PluginDef;

/// Every plugin, first to run first.
pub static PLUGINS: &[PluginDef] = &[
    signpost_reload::PLUGIN,
    signpost_bind::PLUGIN,
    signpost_k8s_api::PLUGIN,
    signpost_ready::PLUGIN,
    signpost_health::PLUGIN,
    signpost_prometheus::PLUGIN,
    signpost_errors::PLUGIN,
    signpost_log::PLUGIN,
    signpost_loadbalance::PLUGIN,
    signpost_autopath::PLUGIN,
    signpost_cache::PLUGIN,
    signpost_transfer::PLUGIN,
    signpost_hosts::PLUGIN,
    signpost_k8s_gateway::PLUGIN,
    signpost_k8s_external::PLUGIN,
    signpost_kubernetes::PLUGIN,
    signpost_kubernetai::PLUGIN,
    signpost_loop::PLUGIN,
    signpost_forward::PLUGIN,
    signpost_whoami::PLUGIN,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = PLUGINS.iter().map(|p| p.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
