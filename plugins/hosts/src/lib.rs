#![doc = include_str!("../README.md")]

mod handler;
mod hostsfile;
mod reverse;
mod setup;
#[cfg(test)]
mod tests;
mod watch;

/// The plugin as the server knows it.
pub const PLUGIN: signpost_plugin::PluginDef = signpost_plugin::PluginDef {
    name: "hosts",
    setup: setup::setup,
};
