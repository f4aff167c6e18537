//! DNS wire format, written for the query path.
//!
//! ```text
//!  packet ──Query::parse──▶ Query (header, lower-cased question name, EDNS)
//!                               │
//!  plugin answers ──▶ Response (header + question copied from the packet,
//!                               records appended in wire format, names compressed)
//!                               │
//!  server ──finalize──▶ OPT added, truncated to the client's size, TC set
//! ```
//!
//! Nothing here allocates once a [`Response`] buffer has grown to its working size: names live
//! in fixed 255-byte arrays, and records are written straight into the output buffer. The slow
//! paths (cache, forward, tests) walk finished messages with [`records`] and turn records into
//! zone-file text with [`text`].

mod consts;
mod edns;
mod name;
mod query;
mod records;
mod response;
pub mod text;

pub use consts::{class, opcode, rcode, rtype, Rcode};
pub use edns::Edns;
pub use name::{Name, NameError, MAX_LABEL_LEN, MAX_NAME_LEN};
pub use query::{build_query, Query, QueryError};
pub use records::{records, RecordRef, Records, Section};
pub use response::{Owner, RData, Response};

/// Size of the fixed DNS header.
pub const HEADER_LEN: usize = 12;
