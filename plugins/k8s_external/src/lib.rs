#![doc = include_str!("../README.md")]

mod answer;
mod handler;
mod lookup;
mod setup;
#[cfg(test)]
mod tests;
mod xfr;

/// The plugin as the server knows it.
pub const PLUGIN: signpost_plugin::PluginDef = signpost_plugin::PluginDef {
    name: setup::NAME,
    setup: setup::setup,
};
