#![doc = include_str!("../README.md")]

mod config;
mod data;
mod handler;
mod index;
mod keys;
mod setup;
#[cfg(test)]
mod tests;
mod watch;
mod xfr;

/// The plugin as the server knows it.
pub const PLUGIN: signpost_plugin::PluginDef = signpost_plugin::PluginDef {
    name: setup::NAME,
    setup: setup::setup,
};
