//! A read-only view of the index for the plugins that serve the cluster's objects in other
//! ways (*k8s_external*): Services by name with their ports, external addresses and ready
//! endpoints, namespaces, and the reverse map of external IPs.
//!
//! A view holds one snapshot: everything read through it is consistent, and it never
//! blocks the watches (they publish newer snapshots meanwhile). Getting a view is one atomic
//! load; reading through it does not allocate.

use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::Guard;
use signpost_k8s_model::ObjectKey;

use crate::index::records::{
    AddrRec, ExternalHost, Host, PortRef, SlicePorts, SliceRec, SvcData, SvcEntry, SvcKind,
};
use crate::index::{Index, Snapshot};

/// One snapshot of an index.
pub struct IndexView {
    snap: Guard<Arc<Snapshot>>,
}

impl std::fmt::Debug for IndexView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IndexView({} entries)", self.snap.entries.len())
    }
}

impl Index {
    /// The current contents, for reading.
    pub fn view(&self) -> IndexView {
        IndexView {
            snap: self.snapshot(),
        }
    }
}

/// `<name><namespace>` as two lower-case wire labels, on the stack.
fn key(name: &[u8], namespace: &[u8], buf: &mut [u8; 128]) -> Option<usize> {
    let (n, s) = (name.len(), namespace.len());
    if n == 0 || s == 0 || n > 63 || s > 63 {
        return None;
    }
    buf[0] = n as u8;
    buf[1..1 + n].copy_from_slice(name);
    buf[1 + n] = s as u8;
    buf[2 + n..2 + n + s].copy_from_slice(namespace);
    buf[..2 + n + s].make_ascii_lowercase();
    Some(2 + n + s)
}

impl IndexView {
    /// Does the namespace exist (after `namespace_labels`)? `name` in lower case.
    pub fn namespace_exists(&self, name: &[u8]) -> bool {
        self.snap.namespaces.contains(name)
    }

    /// The Service `name` in `namespace` (compared case-insensitively).
    pub fn service(&self, name: &[u8], namespace: &[u8]) -> Option<ServiceView<'_>> {
        let mut buf = [0u8; 128];
        let len = key(name, namespace, &mut buf)?;
        let entry = self.snap.entries.get(&buf[..len])?;
        ServiceView::of(entry, self.pod_names())
    }

    fn pod_names(&self) -> bool {
        self.snap.endpoint_pod_names
    }

    /// Every Service, in no particular order.
    pub fn services(&self) -> impl Iterator<Item = ServiceView<'_>> {
        self.snap
            .entries
            .iter()
            .filter_map(|e| ServiceView::of(e, self.pod_names()))
    }

    /// The Services listing `ip` among their external addresses, in the order they arrived.
    pub fn external_ip_owners(&self, ip: IpAddr) -> &[ObjectKey] {
        self.snap.ext_ptr.get(&ip).map_or(&[], |l| &l[..])
    }

    /// The addresses to publish for this server in an external zone (CoreDNS's
    /// `ExternalAddress`): the external IPs of the Services whose endpoints are this server,
    /// or, with `headless`, the endpoint addresses of such headless Services; this server's
    /// own addresses when no Service selects them.
    pub fn external_nameservers(&self, headless: bool) -> &[IpAddr] {
        if headless {
            &self.snap.ns_external_headless
        } else {
            &self.snap.ns_external
        }
    }
}

/// A Service and its EndpointSlices.
#[derive(Debug, Clone, Copy)]
pub struct ServiceView<'a> {
    entry: &'a SvcEntry,
    svc: &'a SvcData,
    pod_names: bool,
}

impl<'a> ServiceView<'a> {
    fn of(entry: &'a SvcEntry, pod_names: bool) -> Option<ServiceView<'a>> {
        entry.service.as_ref().map(|svc| ServiceView {
            entry,
            svc,
            pod_names,
        })
    }

    /// The name (lower case).
    pub fn name(&self) -> &'a [u8] {
        let k = &self.entry.key;
        &k[1..1 + k[0] as usize]
    }

    /// The namespace (lower case).
    pub fn namespace(&self) -> &'a [u8] {
        let k = &self.entry.key;
        &k[2 + k[0] as usize..]
    }

    /// A headless Service (cluster IP `None`).
    pub fn is_headless(&self) -> bool {
        self.svc.kind == SvcKind::Headless
    }

    /// An ExternalName Service.
    pub fn is_external_name(&self) -> bool {
        self.svc.kind == SvcKind::ExternalName
    }

    /// `spec.externalIPs`, then each load-balancer ingress (its IP, else its hostname).
    pub fn externals(&self) -> impl Iterator<Item = ExternalAddress<'a>> + 'a {
        self.svc.externals().iter().map(ExternalAddress)
    }

    /// The Service's ports (one with port -1 when it has none, as CoreDNS keeps it).
    pub fn ports(&self) -> impl Iterator<Item = PortView<'a>> + 'a {
        self.svc.ports.iter().map(|p| PortView(p.as_ref()))
    }

    /// The Service's EndpointSlices (sorted by name).
    pub fn slices(&self) -> impl Iterator<Item = SliceView<'a>> + 'a {
        let pod_names = self.pod_names;
        self.entry.slices.iter().map(move |s| SliceView {
            s,
            pod_names,
            ports: s.ports(),
        })
    }
}

/// One external address of a Service.
#[derive(Debug, Clone, Copy)]
pub struct ExternalAddress<'a>(&'a ExternalHost);

impl<'a> ExternalAddress<'a> {
    /// As written.
    pub fn text(&self) -> &'a str {
        &self.0.text
    }

    /// The address, when the text is an IP; `None` for a hostname.
    pub fn ip(&self) -> Option<IpAddr> {
        self.0.ip
    }
}

/// A Service or slice port.
#[derive(Debug, Clone, Copy)]
pub struct PortView<'a>(PortRef<'a>);

impl<'a> PortView<'a> {
    /// Its name ("" when unnamed).
    pub fn name(&self) -> &'a str {
        self.0.name
    }

    /// Its protocol as written (`TCP`, `UDP`, `SCTP`; "" when unset).
    pub fn protocol(&self) -> &'a str {
        self.0.proto
    }

    /// The port number, -1 for "no ports".
    pub fn port(&self) -> i32 {
        self.0.port
    }

    /// CoreDNS's `matchPortAndProtocol`: an empty part matches anything, others compare
    /// case-insensitively with the name and the protocol.
    pub fn matches(&self, port: &[u8], protocol: &[u8]) -> bool {
        self.0.matches(port, protocol)
    }
}

/// An EndpointSlice: ready addresses and ports.
#[derive(Clone)]
pub struct SliceView<'a> {
    s: &'a SliceRec,
    pod_names: bool,
    /// The ports, found once (they follow the endpoints in the slice's bytes).
    ports: SlicePorts<'a>,
}

impl std::fmt::Debug for SliceView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SliceView").field(self.s).finish()
    }
}

impl<'a> SliceView<'a> {
    /// The slice's ports (one with port -1 when it has none).
    pub fn ports(&self) -> impl Iterator<Item = PortView<'a>> + 'a {
        self.ports.clone().map(PortView)
    }

    /// Ready addresses, in slice order.
    pub fn addresses(&self) -> impl Iterator<Item = EndpointAddress<'a>> + 'a {
        self.s.addrs(self.pod_names).map(EndpointAddress)
    }

    /// Number of ready addresses.
    pub fn len(&self) -> usize {
        self.s.addr_count()
    }

    /// True without ready addresses.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One ready endpoint address.
#[derive(Debug, Clone, Copy)]
pub struct EndpointAddress<'a>(AddrRec<'a>);

/// An endpoint's DNS label (see [`EndpointAddress::host`]): bytes, borrowed from the slice
/// or made on the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EndpointHost<'a>(Host<'a>);

impl std::ops::Deref for EndpointHost<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl<'a> EndpointAddress<'a> {
    /// The address; `None` for the names of FQDN-type slices (not served).
    pub fn ip(&self) -> Option<IpAddr> {
        self.0.ip
    }

    /// The endpoint's DNS label: its hostname, else (with `endpoint_pod_names`) its pod's
    /// name, else the address with dashes.
    pub fn host(&self) -> EndpointHost<'a> {
        EndpointHost(self.0.host)
    }
}
