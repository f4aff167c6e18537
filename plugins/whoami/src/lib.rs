#![doc = include_str!("../README.md")]

mod answer;
mod setup;
#[cfg(test)]
mod tests;

pub use answer::Whoami;

/// The plugin as the server knows it.
pub const PLUGIN: signpost_plugin::PluginDef = signpost_plugin::PluginDef {
    name: "whoami",
    setup: setup::setup,
};
