#![doc = include_str!("../README.md")]

mod handler;
mod pather;
mod setup;
mod startup;
#[cfg(test)]
mod tests;

/// The plugin as the server knows it.
pub const PLUGIN: signpost_plugin::PluginDef = signpost_plugin::PluginDef {
    name: "kubernetai",
    setup: setup::setup,
};
