//! Search paths for `autopath @kubernetai`, across the stanzas.
//!
//! The client pod is looked up by its address in every stanza that watches pods
//! (`pods verified`), in Corefile order; the first stanza that knows it is the pod's home
//! cluster. The path then starts as the pod's own resolver searches: `<ns>.svc.<zone>`,
//! `svc.<zone>`, `<zone>` for the home stanza's zone (the one holding the name asked, else its
//! first non-reverse zone). The same three names follow for every other forward zone of
//! every stanza, in Corefile order (repeats left out), so a short name of another cluster
//! resolves too; then the `search` line of this server's resolv.conf, then the root (the
//! name as asked).
//!
//! Upstream kubernetai instead needs the pod in *every* stanza's cluster (else no autopath),
//! puts the last stanza's zones first, and includes reverse zones; see the README.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use signpost_autopath::AutoPather;
use signpost_kubernetes::{client_search_domain, Index, KubernetesConfig, PodMode};
use signpost_plugin::Request;
use signpost_wire::Name;

/// What the search paths need of one stanza.
pub(crate) struct PathStanza {
    /// Every zone (reverse ones included: a query in them is still "in the stanza").
    zones: Vec<Name>,
    /// The forward zones, in the order given.
    forward: Vec<Name>,
    /// The first forward zone.
    primary: Name,
    /// Whether the stanza knows pods (`pods verified`).
    verified: bool,
    index: Arc<Index>,
}

impl PathStanza {
    pub(crate) fn new(config: &KubernetesConfig, index: Arc<Index>) -> PathStanza {
        let forward: Vec<Name> = config
            .zones
            .iter()
            .filter(|z| !is_reverse(z))
            .copied()
            .collect();
        PathStanza {
            zones: config.zones.clone(),
            primary: config.zones[config.primary_zone],
            forward,
            verified: config.pods == PodMode::Verified,
            index,
        }
    }

    /// The stanza's zone holding `qname` (the longest), if any.
    fn zone_of(&self, qname: &Name) -> Option<&Name> {
        self.zones
            .iter()
            .filter(|z| qname.is_subdomain_of(z))
            .max_by_key(|z| z.len())
    }
}

fn is_reverse(name: &Name) -> bool {
    let arpa = [
        b"\x07in-addr\x04arpa\x00".as_slice(),
        b"\x03ip6\x04arpa\x00",
    ];
    arpa.iter().any(|root| {
        Name::from_wire(root)
            .map(|r| name.is_subdomain_of(&r))
            .unwrap_or(false)
    })
}

/// The search-path provider of the whole `kubernetai` plugin.
pub(crate) struct SearchPaths {
    stanzas: Vec<PathStanza>,
    /// The `search` line of this server's resolv.conf, read at start-up.
    resolv: Arc<OnceLock<Vec<Name>>>,
}

impl SearchPaths {
    pub(crate) fn new(stanzas: Vec<PathStanza>, resolv: Arc<OnceLock<Vec<Name>>>) -> SearchPaths {
        SearchPaths { stanzas, resolv }
    }

    /// The home stanza of the client: its index, and the zone its path starts with.
    fn home(&self, qname: &Name, client: IpAddr) -> Option<(&Arc<Index>, Name, Name)> {
        self.stanzas.iter().filter(|s| s.verified).find_map(|s| {
            let zone = match s.zone_of(qname) {
                Some(z) if !is_reverse(z) => *z,
                _ => s.primary,
            };
            client_search_domain(&s.index, client, &zone).map(|first| (&s.index, zone, first))
        })
    }
}

/// Push `name` unless the path already has it.
fn push_new(path: &mut Vec<Name>, name: Name) {
    if !path.contains(&name) {
        path.push(name);
    }
}

impl AutoPather for SearchPaths {
    fn search_path(&self, req: &Request<'_>, path: &mut Vec<Name>) -> bool {
        let qname = req.qname();
        if !self.stanzas.iter().any(|s| s.zone_of(qname).is_some()) {
            return false;
        }
        let client = req.client.ip();
        let Some((home, zone, first)) = self.home(qname, client) else {
            return false;
        };
        let Ok(svc) = zone.prepend_label(b"svc") else {
            return false;
        };
        path.push(first);
        path.push(svc);
        path.push(zone);
        for z in self.stanzas.iter().flat_map(|s| s.forward.iter()) {
            if let (Some(first), Ok(svc)) = (
                client_search_domain(home, client, z),
                z.prepend_label(b"svc"),
            ) {
                push_new(path, first);
                push_new(path, svc);
                push_new(path, *z);
            }
        }
        if let Some(search) = self.resolv.get() {
            path.extend_from_slice(search);
        }
        path.push(Name::root());
        true
    }
}
