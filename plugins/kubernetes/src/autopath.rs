//! Search paths for *autopath* (`autopath @kubernetes`, CoreDNS's `Kubernetes.AutoPath`).
//!
//! For a query in one of the plugin's zones from a pod this plugin knows (`pods verified`),
//! the pod's resolver searches `<namespace>.svc.<zone>`, `svc.<zone>`, `<zone>`, then the
//! domains of the node's resolv.conf; that list (the matched zone, and the `search` line of
//! this server's own `/etc/resolv.conf`, as CoreDNS assumes) ends with the root, standing for
//! the name as asked.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use signpost_autopath::AutoPather;
use signpost_plugin::Request;
use signpost_wire::Name;

use crate::config::{KubernetesConfig, PodMode};
use crate::index::records;
use crate::index::Index;

/// The search-path provider of one `kubernetes` stanza.
pub(crate) struct PodSearchPath {
    zones: Vec<Name>,
    verified: bool,
    index: Arc<Index>,
    /// The `search` line of this server's resolv.conf, read at start-up.
    resolv: Arc<OnceLock<Vec<Name>>>,
}

impl PodSearchPath {
    pub(crate) fn new(
        config: &KubernetesConfig,
        index: Arc<Index>,
        resolv: Arc<OnceLock<Vec<Name>>>,
    ) -> PodSearchPath {
        PodSearchPath {
            zones: config.zones.clone(),
            verified: config.pods == PodMode::Verified,
            index,
            resolv,
        }
    }
}

/// The client address as Go prints it (an IPv4-mapped address as IPv4), on the stack.
fn ip_text(ip: IpAddr, buf: &mut [u8; 64]) -> Option<&[u8]> {
    records::ip_text(records::unmapped(ip), buf)
}

/// `<namespace>.svc.<zone>` (lower case) for the pod with the address `client` in `index`,
/// the first search domain of that pod's resolver; `None` when `index` knows no such pod
/// (it knows pods only with `pods verified`). Allocates nothing.
pub fn client_search_domain(index: &Index, client: IpAddr, zone: &Name) -> Option<Name> {
    let mut buf = [0u8; 64];
    let ip = ip_text(client, &mut buf)?;
    let snap = index.snapshot();
    let pod = snap.pods.get(ip).and_then(|pods| pods.first())?;
    let svc = zone.prepend_label(b"svc").ok()?;
    let first = svc.prepend_label(pod.namespace.as_bytes()).ok()?;
    Some(first.lowercase())
}

impl AutoPather for PodSearchPath {
    fn search_path(&self, req: &Request<'_>, path: &mut Vec<Name>) -> bool {
        let qname = req.qname();
        let Some(zone) = self
            .zones
            .iter()
            .filter(|z| qname.is_subdomain_of(z))
            .max_by_key(|z| z.len())
        else {
            return false;
        };
        if !self.verified {
            return false;
        }
        let Some(first) = client_search_domain(&self.index, req.client.ip(), zone) else {
            return false;
        };
        let Ok(svc) = zone.prepend_label(b"svc") else {
            return false;
        };
        path.push(first);
        path.push(svc);
        path.push(*zone);
        if let Some(search) = self.resolv.get() {
            path.extend_from_slice(search);
        }
        path.push(Name::root());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_addresses_as_go_prints_them() {
        let mut buf = [0u8; 64];
        let t = |ip: &str, buf: &mut [u8; 64]| {
            String::from_utf8(ip_text(ip.parse().unwrap(), buf).unwrap().to_vec()).unwrap()
        };
        assert_eq!(t("10.1.2.3", &mut buf), "10.1.2.3");
        assert_eq!(t("::ffff:10.1.2.3", &mut buf), "10.1.2.3");
        assert_eq!(t("fd00:0::1", &mut buf), "fd00::1");
    }
}
