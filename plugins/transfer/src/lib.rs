#![doc = include_str!("../README.md")]

mod handler;
mod provider;
mod setup;
mod stream;
#[cfg(test)]
mod tests;

pub use provider::{Providers, TransferError, Transferer};

/// The plugin as the server knows it.
pub const PLUGIN: signpost_plugin::PluginDef = signpost_plugin::PluginDef {
    name: setup::NAME,
    setup: setup::setup,
};
