//! The query path: the stanzas in Corefile order, each one a complete *kubernetes* instance.
//!
//! ```text
//!  query ─▶ stanza 1 ─Next─▶ stanza 2 ─Next─▶ … ─▶ stanza n ─Next─▶ next plugin of the block
//! ```
//!
//! A stanza passes a query on ([`Step::Next`]) when its zones do not hold the name, or when
//! the name does not exist there (or its cluster is not synced yet) and its `fallthrough`
//! covers the name. Everything else (an answer, NODATA, NXDOMAIN without fallthrough,
//! SERVFAIL) ends the query at that stanza. Nothing here allocates.
//!
//! The target of an ExternalName Service outside a stanza's zones is looked up through all
//! the stanzas and the plugins after them, so a target in another cluster's zone is answered
//! by that cluster.

use signpost_kubernetes::Kubernetes;
use signpost_plugin::{BoxFuture, Next, Plugin, Request, Step};
use signpost_wire::Response;

/// The `kubernetai` plugin of one server block.
pub(crate) struct Kubernetai {
    stanzas: Vec<Kubernetes>,
}

impl Kubernetai {
    pub(crate) fn new(stanzas: Vec<Kubernetes>) -> Kubernetai {
        Kubernetai { stanzas }
    }
}

impl Plugin for Kubernetai {
    fn name(&self) -> &'static str {
        crate::setup::NAME
    }

    fn serve(&self, req: &Request<'_>, resp: &mut Response, next: Next<'_>) -> Step {
        for stanza in &self.stanzas {
            match stanza.serve_via(self, req, resp, next) {
                Step::Next => continue,
                // An answer, an error, or the async path (an ExternalName target to look up
                // elsewhere; the stanzas leave no trace, so the re-run starts over).
                other => return other,
            }
        }
        Step::Next
    }

    fn serve_async<'a>(
        &'a self,
        req: &'a Request<'a>,
        resp: &'a mut Response,
        next: Next<'a>,
    ) -> BoxFuture<'a, Step> {
        Box::pin(async move {
            for stanza in &self.stanzas {
                match stanza.serve_async_via(self, req, resp, next).await {
                    Step::Next => continue,
                    other => return other,
                }
            }
            Step::Next
        })
    }
}
