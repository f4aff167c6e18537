//! What every signpost plugin is written against.
//!
//! ```text
//!  Corefile block ──setup(ctx, directives)──▶ plugin instance ─┐
//!                                                              ▼
//!  query ──▶ Chain: p0.serve ─Next─▶ p1.serve ─Next─▶ ... ─▶ pk answers (Step::Answered)
//!                   p0.after ◀────── p1.after ◀────── ... ◀── pk.after
//! ```
//!
//! A plugin's [`Plugin::serve`] either answers, passes on ([`Step::Next`]), fails with an rcode
//! ([`Step::Error`]) or, when it needs I/O (forwarding), asks for the async path
//! ([`Step::Async`]); the server then runs the whole chain again with
//! [`Plugin::serve_async`]. Post-processing (logging, metrics, caching, load balancing) happens
//! in [`Plugin::after`], called in reverse order for every plugin the query passed through, so a
//! plugin never needs to wrap the rest of the chain to see the answer. The execution order is
//! fixed by one list in the binary, never by Corefile order.

mod chain;
mod fallthrough;
pub mod interfaces;
pub mod lifecycle;
mod options;
pub mod ready;
mod request;
mod setup;
pub mod subquery;
pub mod testing;
mod zones;

pub use chain::{BoxFuture, Chain, Next, Outcome, OwnedNext, Plugin, Step};
pub use fallthrough::Fallthrough;
pub use lifecycle::{Control, ControlMsg, HttpHandler, HttpReply, HttpRoute, Runtime};
pub use options::ttl_option;
pub use request::{OwnedRequest, Request, ServerInfo, Transport};
pub use setup::{BlockInfo, ConfigParts, PluginDef, SetupContext};
pub use zones::{origins_from_args_or_block, Zones};

pub use signpost_corefile::{Directive, Dispenser, Error as CorefileError};
