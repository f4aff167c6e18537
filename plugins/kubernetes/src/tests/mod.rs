//! Tests: builders for model objects, a harness that feeds them to an index and runs queries
//! through the plugin, and table-driven cases per area.

mod build;
mod companions;
mod index;
mod matrix;
mod options;
mod parse;
mod records;
mod wiring;

use std::sync::Arc;

use signpost_plugin::testing::{request, request_with, run, Case, NxDomain};
use signpost_plugin::{Chain, Dispenser, Transport};
use signpost_wire::text::message_sections;
use signpost_wire::Response;

use crate::config::{parse_stanza, KubernetesConfig};
use crate::handler::Kubernetes;
use crate::index::{Feeds, Index, IndexOptions};

pub(crate) use build::*;

/// A plugin on an index fed with a world, ending in a plugin that answers NXDOMAIN without
/// an SOA (so a fallthrough is visible).
pub(crate) struct Harness {
    pub(crate) chain: Arc<Chain>,
    pub(crate) index: Arc<Index>,
}

/// Parse a stanza (`kubernetes cluster.local { ... }`).
pub(crate) fn config(stanza: &str) -> KubernetesConfig {
    let text = format!(". {{\n{stanza}\n}}");
    let blocks = signpost_corefile::parse("Corefile", &text).unwrap();
    let d = &blocks[0].directives[0];
    let mut disp = Dispenser::new(d);
    disp.next();
    parse_stanza(&mut disp, &[signpost_wire::Name::root()]).unwrap()
}

impl Harness {
    pub(crate) fn new(stanza: &str, world: &World) -> Harness {
        Harness::with_tail(stanza, world, Arc::new(NxDomain))
    }

    /// The same with another plugin after kubernetes.
    pub(crate) fn with_tail(
        stanza: &str,
        world: &World,
        tail: Arc<dyn signpost_plugin::Plugin>,
    ) -> Harness {
        let cfg = config(stanza);
        let index = Index::new(IndexOptions::from_config(&cfg));
        index.set_clock(|| SERIAL);
        feed(&index, world);
        index.mark_synced(
            Feeds::SERVICES
                .with(Feeds::SLICES)
                .with(Feeds::PODS)
                .with(Feeds::NAMESPACES)
                .with(Feeds::IMPORTS)
                .with(Feeds::MCS_SLICES),
        );
        let k = Kubernetes::new(&cfg, Arc::clone(&index));
        Harness {
            chain: Chain::new(vec![Arc::new(k), tail]),
            index,
        }
    }

    /// Answer one query on the sync path.
    pub(crate) fn query(&self, name: &str, qtype: u16) -> Response {
        let req = request(name, qtype);
        run(&self.chain, &req).expect("sync path").1
    }

    /// Answer one query from a given client.
    #[allow(dead_code)]
    pub(crate) fn query_from(&self, name: &str, qtype: u16, client: &str) -> Response {
        let req = request_with(name, qtype, Transport::Udp, client);
        run(&self.chain, &req).expect("sync path").1
    }

    /// Check table-driven cases.
    pub(crate) fn check(&self, cases: &[Case]) {
        let mut failures = Vec::new();
        for c in cases {
            let resp = self.query(c.qname, c.qtype);
            if let Err(e) = c.check(&resp) {
                failures.push(e);
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }
}

/// Every section of a response as text (names keep their case), for case-sensitive checks.
pub(crate) fn texts(resp: &Response) -> Vec<String> {
    let sections = message_sections(resp.bytes()).unwrap();
    sections
        .iter()
        .flat_map(|s| s.iter().map(|r| r.to_string()))
        .collect()
}

/// The SOA line of cluster.local. in authority sections.
pub(crate) const SOA: &str =
    "cluster.local.	5	IN	SOA	ns.dns.cluster.local. hostmaster.cluster.local. 1499347823 7200 1800 86400 5";
