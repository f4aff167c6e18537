#![doc = include_str!("../README.md")]

mod handler;
mod pather;
pub mod resolv;
mod setup;
#[cfg(test)]
mod tests;

pub use pather::{AutoPather, Pathers};

/// The plugin as the server knows it.
pub const PLUGIN: signpost_plugin::PluginDef = signpost_plugin::PluginDef {
    name: setup::NAME,
    setup: setup::setup,
};
