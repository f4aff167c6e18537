#![doc = include_str!("../README.md")]

mod cidr;
mod order;
mod plugin;
mod pointers;
mod rewrite;
mod rng;
mod setup;
#[cfg(test)]
mod tests;

pub use plugin::LoadBalance;

/// The plugin as the server knows it.
pub const PLUGIN: signpost_plugin::PluginDef = signpost_plugin::PluginDef {
    name: "loadbalance",
    setup: setup::setup,
};
