//! signpost: a CoreDNS-compatible DNS server for Kubernetes.
//!
//! This crate is the binary's wiring: the command line ([`cli`]), the plugin order
//! ([`plugins::PLUGINS`]) and the run loop (start, reload on request or SIGUSR1, graceful
//! stop on SIGTERM). The server itself lives in `signpost-server`, each plugin in
//! `plugins/<directive>/`.

mod cli;
mod logging;
pub mod plugins;
mod run;

pub use run::{build_corefile, main};
