//! Which server block answers a query: the one whose key zone is the longest suffix of the
//! question name, among the blocks on the listener the query arrived at.

use std::sync::Arc;

use signpost_plugin::{Chain, ServerInfo};
use signpost_wire::{rtype, Name};

/// One zone served on a listener.
#[derive(Debug, Clone)]
pub struct Route {
    /// The block's identity for logs and metrics.
    pub info: Arc<ServerInfo>,
    /// The block's plugins.
    pub chain: Arc<Chain>,
}

/// All zones served on one listener.
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// A router over these routes.
    pub fn new(routes: Vec<Route>) -> Router {
        Router { routes }
    }

    /// Add a route.
    pub fn push(&mut self, route: Route) {
        self.routes.push(route);
    }

    /// The routes.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The block for `qname`. A DS query for a zone's apex belongs to the parent side, so it
    /// goes to the next-longest match when there is one (as CoreDNS does).
    pub fn lookup(&self, qname: &Name, qtype: u16) -> Option<&Route> {
        let mut best: Option<&Route> = None;
        let mut second: Option<&Route> = None;
        for r in &self.routes {
            if !qname.is_subdomain_of(&r.info.zone) {
                continue;
            }
            match best {
                Some(b) if b.info.zone.len() >= r.info.zone.len() => {
                    if second.is_none_or(|s| s.info.zone.len() < r.info.zone.len()) {
                        second = Some(r);
                    }
                }
                _ => {
                    second = best;
                    best = Some(r);
                }
            }
        }
        if qtype == rtype::DS {
            if let (Some(b), Some(s)) = (best, second) {
                if b.info.zone == *qname {
                    return Some(s);
                }
            }
        }
        best
    }
}
