//! What a plugin implements to have its zones transferred, and where it says so.
//!
//! ```text
//!  setup of a zone plugin ──register──▶ Providers (block state) ◀──clone── setup of transfer
//!                                             │
//!  AXFR/IXFR over TCP ──▶ transfer ──asks each, in order──▶ Transferer::transfer(zone, serial, sink)
//! ```
//!
//! *transfer* runs before the plugins that hold zones (CoreDNS's order), so it cannot look
//! them up when it is set up. Instead both sides share one [`Providers`] list through the
//! server block's state: whichever plugin is set up first creates it, and *transfer* reads it
//! when a transfer is asked for, by which time every plugin of the block has registered.

use std::sync::{Arc, RwLock};

use signpost_wire::text::Record;
use signpost_wire::Name;

/// Why a provider did not transfer a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferError {
    /// The provider does not serve this zone: *transfer* asks the next one (CoreDNS's
    /// `ErrNotAuthoritative`). Must be returned before any record is emitted.
    NotAuthoritative,
    /// The provider serves the zone but cannot produce it: the client gets SERVFAIL.
    Failed(String),
}

impl std::fmt::Display for TransferError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransferError::NotAuthoritative => f.write_str("not authoritative for zone"),
            TransferError::Failed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for TransferError {}

/// A plugin whose zones can be transferred (CoreDNS's `transfer.Transferer`).
pub trait Transferer: Send + Sync {
    /// Emit the zone `zone` (the lower-cased question name of the AXFR/IXFR) through `emit`,
    /// record by record, in transfer order: the SOA first, then every other record (NS and
    /// their addresses included), and the SOA again last.
    ///
    /// `serial` is 0 for AXFR. For IXFR it is the client's serial: when the client is up to
    /// date (each provider decides what that means, as in CoreDNS), emit only the SOA; the
    /// client then gets a single SOA, which tells it nothing changed. Otherwise emit the whole
    /// zone (AXFR fallback).
    fn transfer(
        &self,
        zone: &Name,
        serial: u32,
        emit: &mut dyn FnMut(&Record),
    ) -> Result<(), TransferError>;
}

/// The transfer providers of one server block, in the order their plugins were set up.
///
/// Kept in the block's setup state: `ctx.block_state::<Providers>().register(plugin)`.
#[derive(Clone, Default)]
pub struct Providers {
    list: Arc<RwLock<Vec<Arc<dyn Transferer>>>>,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Providers({})", self.all().len())
    }
}

impl Providers {
    /// Offer a plugin's zones for transfer.
    pub fn register(&self, provider: Arc<dyn Transferer>) {
        self.list
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(provider);
    }

    /// Every provider, in registration order. Transfers are rare; a copy of the list keeps
    /// the lock out of the (long) transfer itself.
    pub fn all(&self) -> Vec<Arc<dyn Transferer>> {
        self.list.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
