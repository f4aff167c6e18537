//! Plugins that know a client's search path (CoreDNS's `AutoPather`), and where they say so.
//!
//! ```text
//!  setup of kubernetes ──register("kubernetes", ..)──▶ Pathers (block state) ◀── setup of autopath
//!                                                          │ (looked up at the first query)
//!  query from a pod ──▶ autopath ──search_path(req)──▶ [ns.svc.zone, svc.zone, zone, ..., .]
//! ```
//!
//! *autopath* runs before the plugin it asks (CoreDNS's order), so the two meet through a
//! registry kept in the server block's state, created by whichever is set up first.

use std::sync::{Arc, RwLock};

use signpost_plugin::Request;
use signpost_wire::Name;

/// A plugin that can tell the search path of the client behind a query.
pub trait AutoPather: Send + Sync {
    /// Fill `path` (it arrives empty) with the client's search path, most specific domain
    /// first and the root last (the root stands for CoreDNS's "" entry: the name as asked),
    /// and return true; return false when this query gets no autopath (the name is not in
    /// the plugin's zones, the client is unknown, ...).
    ///
    /// Called for every query in *autopath*'s zones; it should not allocate beyond `path`,
    /// which is reused between queries.
    fn search_path(&self, req: &Request<'_>, path: &mut Vec<Name>) -> bool;
}

/// The search-path providers of one server block, by directive name.
///
/// Kept in the block's setup state:
/// `ctx.block_state::<Pathers>().register("kubernetes", plugin)`.
#[derive(Clone, Default)]
pub struct Pathers {
    list: Arc<RwLock<Vec<Named>>>,
}

/// A provider and the directive name it is known by.
type Named = (String, Arc<dyn AutoPather>);

impl std::fmt::Debug for Pathers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = self.list.read().unwrap_or_else(|e| e.into_inner());
        f.debug_list().entries(list.iter().map(|(n, _)| n)).finish()
    }
}

impl Pathers {
    /// Offer the search paths of the plugin `name` (what `autopath @name` refers to).
    pub fn register(&self, name: &str, pather: Arc<dyn AutoPather>) {
        self.list
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push((name.to_string(), pather));
    }

    /// The provider registered under `name`, if any.
    pub fn get(&self, name: &str) -> Option<Arc<dyn AutoPather>> {
        self.list
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| Arc::clone(p))
    }
}
