//! Readiness: plugins that need time before they can answer (watches syncing, hosts files
//! loaded) register a check; the `ready` plugin reports 200 only when every check of the
//! running configuration passes.

use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;

/// Returns `Ok` when ready, or `Err` with what is still missing (e.g. cluster names).
pub type ReadyFn = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// One registered check.
#[derive(Clone)]
pub struct ReadyCheck {
    /// Plugin name (what `/ready` prints when this one is not ready).
    pub name: String,
    /// The check.
    pub check: ReadyFn,
}

impl std::fmt::Debug for ReadyCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadyCheck")
            .field("name", &self.name)
            .finish()
    }
}

fn current() -> &'static ArcSwap<Vec<ReadyCheck>> {
    static CURRENT: OnceLock<ArcSwap<Vec<ReadyCheck>>> = OnceLock::new();
    CURRENT.get_or_init(|| ArcSwap::from_pointee(Vec::new()))
}

/// Make `checks` the running configuration's checks (called by the server on start and
/// reload).
pub fn install(checks: Vec<ReadyCheck>) {
    current().store(Arc::new(checks));
}

/// Names (with detail) of everything not ready; empty when all are.
pub fn not_ready() -> Vec<String> {
    current()
        .load()
        .iter()
        .filter_map(|c| match (c.check)() {
            Ok(()) => None,
            Err(detail) if detail.is_empty() => Some(c.name.clone()),
            Err(detail) => Some(format!("{}: {}", c.name, detail)),
        })
        .collect()
}
