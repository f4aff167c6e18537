#![doc = include_str!("../README.md")]

mod answer;
mod config;
mod duration;
mod handler;
mod index;
mod local_ips;
mod lookup;
mod qname;
mod reverse;
mod selector;
mod setup;
#[cfg(test)]
mod tests;
mod watch;

pub use config::{parse_stanza, KubernetesConfig, PodMode, DEFAULT_STARTUP_TIMEOUT, DEFAULT_TTL};
pub use handler::Kubernetes;
pub use index::{Feeds, Index, IndexOptions, SerialKind};
pub use selector::Selector;

/// The plugin as the server knows it.
pub const PLUGIN: signpost_plugin::PluginDef = signpost_plugin::PluginDef {
    name: "kubernetes",
    setup: setup::setup,
};
