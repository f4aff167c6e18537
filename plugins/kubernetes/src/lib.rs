#![doc = include_str!("../README.md")]

mod answer;
mod autopath;
mod config;
mod external;
mod handler;
mod index;
mod local_ips;
mod lookup;
mod qname;
mod reverse;
mod selector;
mod setup;
pub mod testing;
#[cfg(test)]
mod tests;
mod view;
mod watch;
mod xfr;

pub use autopath::client_search_domain;
pub use config::{parse_stanza, KubernetesConfig, PodMode, DEFAULT_STARTUP_TIMEOUT, DEFAULT_TTL};
pub use external::{ExternalSlot, ExternalSource};
pub use handler::Kubernetes;
pub use index::{Feeds, Index, IndexOptions, SerialKind};
pub use reverse::address as reverse_address;
pub use selector::Selector;
pub use setup::register_local_ips;
pub use view::{
    EndpointAddress, EndpointHost, ExternalAddress, IndexView, PortView, ServiceView, SliceView,
};
pub use watch::WatchPlan;
pub use xfr::ZoneTransfer;

/// The plugin as the server knows it.
pub const PLUGIN: signpost_plugin::PluginDef = signpost_plugin::PluginDef {
    name: "kubernetes",
    setup: setup::setup,
};
