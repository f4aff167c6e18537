//! What the index keeps per name. A Service is turned into exactly what answers need, with
//! its IPs parsed and its name in wire form. An EndpointSlice is kept as the watch packed it
//! (shared with the watch, not copied) and read in place when a query asks: its addresses
//! parsed and endpoint labels made on the stack, so answering still never allocates.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};

use signpost_k8s_model::{EndpointSlice, Port, Service, ServiceImport, ServiceType};
use signpost_kube::packed::{
    self, Endpoints, PackedEndpoint, PackedSlice, Ports, SharedBytes, Texts,
};
use signpost_kube::Packed;
use signpost_wire::Name;

/// Label naming the Service of an EndpointSlice.
pub(crate) const SERVICE_LABEL: &str = "kubernetes.io/service-name";

/// Label naming the Service of an MCS EndpointSlice.
pub(crate) const MCS_SERVICE_LABEL: &str = "multicluster.kubernetes.io/service-name";

/// A Service or ServiceImport port. Name and protocol are compared
/// case-insensitively with the `_port._proto` labels of a query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PortRec {
    /// Shared with the object (port names and protocols are interned on arrival).
    pub(crate) name: Arc<str>,
    pub(crate) proto: Arc<str>,
    /// The port, or -1 for "no ports".
    pub(crate) port: i32,
}

impl PortRec {
    fn from_model(p: &Port) -> PortRec {
        PortRec {
            name: p.name.clone(),
            proto: p.protocol.clone(),
            port: p.port,
        }
    }

    fn sentinel() -> PortRec {
        PortRec {
            name: signpost_k8s_model::empty(),
            proto: signpost_k8s_model::empty(),
            port: -1,
        }
    }

    /// CoreDNS's `matchPortAndProtocol`: an empty request part matches anything.
    #[inline]
    pub(crate) fn matches(&self, port: &[u8], proto: &[u8]) -> bool {
        self.as_ref().matches(port, proto)
    }

    /// Borrowed, as slice ports are read.
    pub(crate) fn as_ref(&self) -> PortRef<'_> {
        PortRef {
            name: &self.name,
            proto: &self.proto,
            port: self.port,
        }
    }
}

/// Ports of a Service, with the -1 sentinel when there are none.
fn ports_or_sentinel(ports: &[Port]) -> PortList {
    if ports.is_empty() {
        return shared_ports(vec![PortRec::sentinel()]);
    }
    shared_ports(ports.iter().map(PortRec::from_model).collect())
}

/// A shared port list, behind a thin pointer (one word in every Service).
pub(crate) type PortList = Arc<Vec<PortRec>>;

/// Port lists handed out, one per distinct list, and the pool's size after its last sweep.
struct PortPool {
    lists: HashSet<PortList>,
    swept_at: usize,
}

/// The one shared copy of a port list. Most Services of a cluster expose one of a handful
/// of port lists (`http` 80/TCP, `https` 443/TCP, ...), so sharing them saves an allocation
/// per Service. (Slices need no copy: their ports are read from the watch's bytes.) Lists no record holds any more are
/// dropped whenever the pool has doubled since its last sweep.
fn shared_ports(mut list: Vec<PortRec>) -> PortList {
    static POOL: OnceLock<Mutex<PortPool>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        Mutex::new(PortPool {
            lists: HashSet::new(),
            swept_at: 0,
        })
    });
    let mut p = pool.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(l) = p.lists.get(&list) {
        return Arc::clone(l);
    }
    if p.lists.len() >= 1024 && p.lists.len() >= 2 * p.swept_at {
        p.lists.retain(|l| Arc::strong_count(l) > 1);
        p.swept_at = p.lists.len();
    }
    list.shrink_to_fit();
    let l = Arc::new(list);
    p.lists.insert(Arc::clone(&l));
    l
}

/// An IPv4-mapped IPv6 address as the IPv4 address it maps, as Go's `To4` sees it.
pub(crate) fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Parse an IP as Go's `net.ParseIP` + `To4` see it: an IPv4-mapped IPv6 address is IPv4.
pub(crate) fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse().ok().map(unmapped)
}

/// `ip` as text (the form Go prints too), written on the stack.
pub(crate) fn ip_text(ip: IpAddr, buf: &mut [u8; 64]) -> Option<&[u8]> {
    use std::io::Write;
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    write!(cursor, "{ip}").ok()?;
    let n = cursor.position() as usize;
    Some(&buf[..n])
}

/// The text Go prints for an IP; reverse lookups only find addresses written that way.
pub(crate) fn canonical(text: &str) -> Option<IpAddr> {
    let ip: IpAddr = text.parse().ok()?;
    let mut buf = [0u8; 64];
    (ip_text(ip, &mut buf)? == text.as_bytes()).then_some(ip)
}

/// One ready endpoint address of a slice, read out of the packed slice.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AddrRec<'a> {
    /// The address, when it is an IP (FQDN-type slices carry names, which are not served).
    pub(crate) ip: Option<IpAddr>,
    /// The address as written.
    pub(crate) text: &'a str,
    /// The endpoint's DNS label (spec §6.3).
    pub(crate) host: Host<'a>,
    /// The endpoint's topology zone, as written.
    zone: &'a str,
}

impl<'a> AddrRec<'a> {
    fn new(text: &'a str, ep: &PackedEndpoint<'a>, pod_names: bool) -> AddrRec<'a> {
        AddrRec {
            ip: parse_ip(text),
            text,
            host: endpoint_host(ep.hostname, ep.target_ref_name, text, pod_names),
            zone: ep.zone,
        }
    }

    /// The topology zone as written (compare it case-insensitively).
    pub(crate) fn zone(&self) -> &'a str {
        self.zone
    }

    /// The IP the reverse map lists this address under: the address exactly as written,
    /// when that is an IP as Go prints it (an IPv4-mapped address stays IPv6).
    pub(crate) fn ptr_ip(&self) -> Option<IpAddr> {
        canonical(self.text)
    }
}

/// An endpoint's DNS label: borrowed from the slice (its hostname or pod name), or its IP
/// with dashes, made on the stack.
#[derive(Clone, Copy)]
pub(crate) enum Host<'a> {
    Text(&'a [u8]),
    Dashed { len: u8, bytes: [u8; 47] },
}

impl std::fmt::Debug for Host<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

impl std::ops::Deref for Host<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Host::Text(t) => t,
            Host::Dashed { len, bytes } => &bytes[..*len as usize],
        }
    }
}

impl PartialEq for Host<'_> {
    fn eq(&self, o: &Host<'_>) -> bool {
        **self == **o
    }
}

impl Eq for Host<'_> {}

impl std::hash::Hash for Host<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (**self).hash(h)
    }
}

/// The label an endpoint answers to: its `hostname`, else (with `endpoint_pod_names`) its
/// pod's name when shorter than 64, else its IP with dashes (`10-0-0-1`, `fd00--1`, and a
/// trailing `-` completed to `-0`). A name-type address too long to dash in place gets no
/// label (names are never served).
pub(crate) fn endpoint_host<'a>(
    hostname: &'a str,
    target_ref: &'a str,
    addr: &str,
    pod_names: bool,
) -> Host<'a> {
    if !hostname.is_empty() {
        return Host::Text(hostname.as_bytes());
    }
    if pod_names && !target_ref.is_empty() && target_ref.len() < 64 {
        return Host::Text(target_ref.as_bytes());
    }
    let (from, trailing) = if addr.contains('.') {
        (b'.', false)
    } else if addr.contains(':') {
        (b':', addr.ends_with(':'))
    } else {
        return Host::Text(b"");
    };
    let mut bytes = [0u8; 47];
    let n = addr.len() + usize::from(trailing);
    if n > bytes.len() {
        return Host::Text(b"");
    }
    for (o, &b) in bytes.iter_mut().zip(addr.as_bytes()) {
        *o = if b == from { b'-' } else { b };
    }
    if trailing {
        bytes[n - 1] = b'0';
    }
    Host::Dashed {
        len: n as u8,
        bytes,
    }
}

/// A port of a slice (read from its packed form) or of a Service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PortRef<'a> {
    pub(crate) name: &'a str,
    pub(crate) proto: &'a str,
    /// The port, or -1 for "no ports".
    pub(crate) port: i32,
}

impl PortRef<'_> {
    /// CoreDNS's `matchPortAndProtocol`: an empty request part matches anything.
    #[inline]
    pub(crate) fn matches(&self, port: &[u8], proto: &[u8]) -> bool {
        (port.is_empty() || self.name.as_bytes().eq_ignore_ascii_case(port))
            && (proto.is_empty() || self.proto.as_bytes().eq_ignore_ascii_case(proto))
    }
}

/// An EndpointSlice (plain or MCS) as the watch keeps it: its packed bytes, shared with the
/// watch. At 100,000 slices a reduced copy per slice was the index's largest cost; instead,
/// what a query needs (ready addresses, their labels, the ports) is read out of the bytes
/// in place when it asks, without allocating.
#[derive(Clone)]
pub(crate) struct SliceRec(SharedBytes);

impl std::fmt::Debug for SliceRec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SliceRec({}/{})", self.namespace(), self.name())
    }
}

impl PartialEq for SliceRec {
    fn eq(&self, o: &SliceRec) -> bool {
        self.0 == o.0
    }
}

impl Eq for SliceRec {}

impl SliceRec {
    /// The slice a watch delivered; `None` if its bytes are not a packed slice (never
    /// expected: they come from the watch's own packing).
    pub(crate) fn new(p: &Packed<EndpointSlice>) -> Option<SliceRec> {
        PackedSlice::read(p.bytes())?;
        Some(SliceRec(p.bytes().clone()))
    }

    /// The very same packed object (not merely equal bytes).
    pub(crate) fn same_bytes(&self, o: &SliceRec) -> bool {
        SharedBytes::ptr_eq(&self.0, &o.0)
    }

    fn head(&self) -> PackedSlice<'_> {
        PackedSlice::read(&self.0).unwrap_or_else(PackedSlice::empty)
    }

    /// The slice's packed key (what the writer finds it by).
    pub(crate) fn key_bytes(&self) -> &[u8] {
        &self.0[..packed::key_len(&self.0)]
    }

    pub(crate) fn namespace(&self) -> &str {
        packed::key_texts(&self.0).0
    }

    /// Namespace and name, as an object key.
    pub(crate) fn object_key(&self) -> signpost_k8s_model::ObjectKey {
        signpost_k8s_model::ObjectKey {
            namespace: signpost_k8s_model::shared(self.namespace()),
            name: Arc::from(self.name()),
        }
    }

    pub(crate) fn name(&self) -> &str {
        packed::key_texts(&self.0).1
    }

    /// The Service it belongs to: for an MCS slice its MCS service-name label; for a plain
    /// one its `kubernetes.io/service-name` label ("" without one, as CoreDNS indexes it;
    /// the model's `service_name` when the object came without any labels).
    pub(crate) fn service(&self, mcs: bool) -> &str {
        let h = self.head();
        if mcs {
            return h.label(MCS_SERVICE_LABEL).unwrap_or("");
        }
        match h.label(SERVICE_LABEL) {
            Some(name) => name,
            None if h.has_no_labels() => h.service_name,
            None => "",
        }
    }

    /// The value of label `key`.
    pub(crate) fn label(&self, key: &str) -> Option<&str> {
        self.head().label(key)
    }

    /// MCS source cluster ("" when absent).
    pub(crate) fn cluster(&self) -> &[u8] {
        self.head().source_cluster.as_bytes()
    }

    /// The ports (one with port -1 when the slice has none, as CoreDNS keeps it).
    pub(crate) fn ports(&self) -> SlicePorts<'_> {
        let ports = self.head().ports();
        let sentinel = ports.clone().next().is_none();
        SlicePorts { ports, sentinel }
    }

    /// Ready (or unset) addresses, in slice order.
    pub(crate) fn addrs(&self, pod_names: bool) -> Addrs<'_> {
        Addrs {
            endpoints: self.head().endpoints(),
            current: None,
            pod_names,
        }
    }

    /// Number of ready addresses.
    pub(crate) fn addr_count(&self) -> usize {
        self.head()
            .endpoints()
            .filter(|e| e.is_ready())
            .map(|e| e.addresses().count())
            .sum()
    }
}

/// The ports of a slice, with the -1 sentinel when it has none.
#[derive(Clone)]
pub(crate) struct SlicePorts<'a> {
    ports: Ports<'a>,
    sentinel: bool,
}

impl<'a> Iterator for SlicePorts<'a> {
    type Item = PortRef<'a>;

    fn next(&mut self) -> Option<PortRef<'a>> {
        if std::mem::take(&mut self.sentinel) {
            return Some(PortRef {
                name: "",
                proto: "",
                port: -1,
            });
        }
        self.ports.next().map(|p| PortRef {
            name: p.name,
            proto: p.protocol,
            port: p.port,
        })
    }
}

/// The ready addresses of a slice.
#[derive(Clone)]
pub(crate) struct Addrs<'a> {
    endpoints: Endpoints<'a>,
    current: Option<(PackedEndpoint<'a>, Texts<'a>)>,
    pod_names: bool,
}

impl<'a> Iterator for Addrs<'a> {
    type Item = AddrRec<'a>;

    fn next(&mut self) -> Option<AddrRec<'a>> {
        loop {
            if let Some((ep, texts)) = &mut self.current {
                if let Some(t) = texts.next() {
                    return Some(AddrRec::new(t, ep, self.pod_names));
                }
            }
            let ep = self.endpoints.next()?;
            if ep.is_ready() {
                self.current = Some((ep, ep.addresses()));
            }
        }
    }
}

/// What kind of answer a Service (or ServiceImport) gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SvcKind {
    /// Cluster IPs (ClusterIP, NodePort, LoadBalancer; MCS ClusterSetIP).
    ClusterIp,
    /// Endpoint addresses.
    Headless,
    /// A CNAME to `external`.
    ExternalName,
}

/// One external address of a Service, as CoreDNS lists them (`spec.externalIPs`, then each
/// load-balancer ingress: its IP, else its hostname), as written. Served by *k8s_external*.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExternalHost {
    pub(crate) text: Arc<str>,
    /// The address, when the text is an IP (else it is a hostname).
    pub(crate) ip: Option<IpAddr>,
}

/// A Service (or ServiceImport), reduced: all the index keeps of it, inside the entry of its
/// name (whose key holds its name and namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SvcData {
    pub(crate) kind: SvcKind,
    pub(crate) ports: PortList,
    /// Cluster IPs that parse, in order.
    pub(crate) cluster_ips: Few<IpAddr>,
    /// Some cluster IP is listed twice.
    pub(crate) ip_dups: bool,
    /// What few Services have; `None` when all of it is empty.
    extra: Option<Box<SvcExtra>>,
}

/// The parts of a Service that most do not have, boxed so those cost one pointer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct SvcExtra {
    /// ExternalName target in wire form, as written; `None` when it is empty, an IP (CoreDNS
    /// serves nothing then) or not a valid name.
    external: Option<Box<[u8]>>,
    /// External IPs and load-balancer ingress (Services only).
    externals: Box<[ExternalHost]>,
    /// `spec.externalName` as written (serials move when it changes).
    external_name: Box<str>,
    /// The IPs the reverse map lists this Service under (cluster IPs written as Go prints
    /// them), when that is not exactly `cluster_ips`.
    ptr_ips: Option<Box<[IpAddr]>>,
    /// The same for *k8s_external*'s reverse map (external addresses that are IPs).
    ext_ptr_ips: Box<[IpAddr]>,
}

/// A list that is almost always one item long (a Service's cluster IPs, an entry's slices):
/// the one item is kept in place, more go to the heap behind a thin pointer, so a list of
/// pointers is two words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Few<T> {
    Zero,
    One(T),
    // A `Box<[T]>` would be two words; behind one more pointer the list costs one.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<T>>),
}

impl<T> Few<T> {
    pub(crate) fn none() -> Few<T> {
        Few::Zero
    }
}

impl<T> FromIterator<T> for Few<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Few<T> {
        let mut v: Vec<T> = items.into_iter().collect();
        match v.len() {
            0 => Few::Zero,
            1 => v.pop().map_or(Few::Zero, Few::One),
            _ => {
                v.shrink_to_fit();
                Few::Many(Box::new(v))
            }
        }
    }
}

impl<T> std::ops::Deref for Few<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            Few::Zero => &[],
            Few::One(t) => std::slice::from_ref(t),
            Few::Many(v) => v,
        }
    }
}

fn has_dups<T: PartialEq>(v: &[T]) -> bool {
    v.iter()
        .enumerate()
        .any(|(i, a)| v[..i].iter().any(|b| b == a))
}

impl SvcData {
    pub(crate) fn from_service(s: &Service) -> SvcData {
        let kind = if s.service_type == ServiceType::ExternalName {
            SvcKind::ExternalName
        } else if s.is_headless() {
            SvcKind::Headless
        } else {
            SvcKind::ClusterIp
        };
        let cluster_ips: Few<IpAddr> = if kind == SvcKind::ClusterIp {
            s.cluster_ips.iter().filter_map(|ip| parse_ip(ip)).collect()
        } else {
            Few::none()
        };
        let external = (kind == SvcKind::ExternalName
            && !s.external_name.is_empty()
            && parse_ip(&s.external_name).is_none())
        .then(|| Name::from_text(&s.external_name).ok())
        .flatten()
        .map(|n| n.wire().into());
        let externals: Box<[ExternalHost]> = s
            .external_ips
            .iter()
            .cloned()
            .chain(s.load_balancer.iter().map(|lb| {
                if lb.ip.is_empty() {
                    lb.hostname.clone()
                } else {
                    lb.ip.clone()
                }
            }))
            .map(|text| ExternalHost {
                ip: parse_ip(&text),
                text,
            })
            .collect();
        let ptr_ips: Box<[IpAddr]> = s.cluster_ips.iter().filter_map(|t| canonical(t)).collect();
        let ext_ptr_ips = externals
            .iter()
            .filter_map(|e| canonical(&e.text))
            .collect();
        let extra = SvcExtra {
            external,
            externals,
            external_name: s.external_name.as_ref().into(),
            ptr_ips: (*ptr_ips != *cluster_ips).then_some(ptr_ips),
            ext_ptr_ips,
        };
        SvcData {
            kind,
            ports: ports_or_sentinel(&s.ports),
            ip_dups: has_dups(&cluster_ips),
            cluster_ips,
            extra: (extra != SvcExtra::default()).then(|| Box::new(extra)),
        }
    }

    /// ExternalName target in wire form, as written; `None` when it is empty, an IP or not a
    /// valid name.
    pub(crate) fn external(&self) -> Option<&[u8]> {
        self.extra.as_ref()?.external.as_deref()
    }

    /// External IPs and load-balancer ingress, as CoreDNS lists them.
    pub(crate) fn externals(&self) -> &[ExternalHost] {
        self.extra.as_ref().map_or(&[], |e| &e.externals)
    }

    /// `spec.externalName` as written.
    pub(crate) fn external_name(&self) -> &str {
        self.extra.as_ref().map_or("", |e| &e.external_name)
    }

    /// The IPs the reverse map lists this Service under.
    pub(crate) fn ptr_ips(&self) -> &[IpAddr] {
        match self.extra.as_ref().and_then(|e| e.ptr_ips.as_deref()) {
            Some(ips) => ips,
            None => &self.cluster_ips,
        }
    }

    /// The IPs *k8s_external*'s reverse map lists this Service under.
    pub(crate) fn ext_ptr_ips(&self) -> &[IpAddr] {
        self.extra.as_ref().map_or(&[], |e| &e.ext_ptr_ips)
    }

    /// A headless Service (or ServiceImport).
    pub(crate) fn headless(&self) -> bool {
        self.kind == SvcKind::Headless
    }

    pub(crate) fn from_import(s: &ServiceImport) -> SvcData {
        let headless = &*s.import_type == "Headless";
        let cluster_ips: Few<IpAddr> = if headless {
            Few::none()
        } else {
            s.ips.iter().filter_map(|ip| parse_ip(ip)).collect()
        };
        SvcData {
            extra: None,
            kind: if headless {
                SvcKind::Headless
            } else {
                SvcKind::ClusterIp
            },
            // ServiceImports get no -1 sentinel (as in CoreDNS): no ports, no answers.
            ports: shared_ports(s.ports.iter().map(PortRec::from_model).collect()),
            ip_dups: has_dups(&cluster_ips),
            cluster_ips,
        }
    }
}

/// Everything under one `<service>.<namespace>` name: the Service (or ServiceImport) if one
/// exists, and every slice whose service-name label points here.
#[derive(Debug, Clone)]
pub(crate) struct SvcEntry {
    /// `<service><namespace>` as two lower-case wire labels.
    pub(crate) key: EntryKey,
    pub(crate) service: Option<SvcData>,
    /// Slices, sorted by name.
    pub(crate) slices: Few<SliceRec>,
    /// Ready addresses over all slices (for `ignore empty_service`).
    pub(crate) ready_total: u32,
    /// Which addresses repeat an earlier one; `None` when none does (the common case).
    repeat: Option<Box<Repeats>>,
}

/// Per address (flattened over the slices, in order): whether its IP, or its endpoint
/// label, already appeared at an earlier address. Empty when none does.
#[derive(Debug, Clone)]
struct Repeats {
    ip: Box<[bool]>,
    host: Box<[bool]>,
}

/// Flags marking items equal to an earlier one; empty when all are distinct.
fn repeats<T: std::hash::Hash + Eq>(items: impl Iterator<Item = Option<T>>) -> Box<[bool]> {
    let mut seen = std::collections::HashSet::new();
    let flags: Vec<bool> = items.map(|i| i.is_some_and(|v| !seen.insert(v))).collect();
    if flags.iter().any(|&f| f) {
        flags.into()
    } else {
        Box::new([])
    }
}

impl SvcEntry {
    pub(crate) fn build(
        key: EntryKey,
        service: Option<SvcData>,
        slices: Vec<SliceRec>,
        pod_names: bool,
    ) -> SvcEntry {
        let ready_total = slices.iter().map(|s| s.addr_count()).sum::<usize>();
        let ready_total = u32::try_from(ready_total).unwrap_or(u32::MAX);
        let all = || slices.iter().flat_map(|s| s.addrs(pod_names));
        let ip = repeats(all().map(|a| a.ip));
        let host = repeats(all().map(|a| Some(a.host)));
        let repeat = (!ip.is_empty() || !host.is_empty()).then(|| Box::new(Repeats { ip, host }));
        SvcEntry {
            key,
            service,
            slices: slices.into_iter().collect(),
            ready_total,
            repeat,
        }
    }

    /// The Service's name (lower case), the first label of the key.
    pub(crate) fn name(&self) -> &[u8] {
        let k = &self.key;
        &k[1..1 + k[0] as usize]
    }

    /// The namespace (lower case), the second label of the key.
    pub(crate) fn namespace(&self) -> &[u8] {
        let k = &self.key;
        &k[2 + k[0] as usize..]
    }

    /// Address `k` (flattened) repeats an earlier IP.
    #[inline]
    pub(crate) fn ip_repeats(&self, k: usize) -> bool {
        self.repeat
            .as_ref()
            .is_some_and(|r| r.ip.get(k).copied().unwrap_or(false))
    }

    /// Address `k` (flattened) repeats an earlier endpoint label.
    #[inline]
    pub(crate) fn host_repeats(&self, k: usize) -> bool {
        self.repeat
            .as_ref()
            .is_some_and(|r| r.host.get(k).copied().unwrap_or(false))
    }
}

/// `<name><namespace>` as two lower-case wire labels: what an entry is found by. Kept in
/// the entry itself, inline when short (almost every name), so a Service's entry is one
/// allocation.
#[derive(Clone)]
pub(crate) enum EntryKey {
    Inline { len: u8, bytes: [u8; 30] },
    Boxed(Box<[u8]>),
}

impl std::ops::Deref for EntryKey {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            EntryKey::Inline { len, bytes } => &bytes[..*len as usize],
            EntryKey::Boxed(b) => b,
        }
    }
}

impl std::fmt::Debug for EntryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

/// `<a><b>` as two lower-case wire labels; `None` when either is not a valid label.
pub(crate) fn wire_key(first: &str, second: &str) -> Option<EntryKey> {
    let ok = |s: &str| !s.is_empty() && s.len() <= 63;
    if !ok(first) || !ok(second) {
        return None;
    }
    let mut buf = [0u8; 128];
    let n = first.len() + second.len() + 2;
    buf[0] = first.len() as u8;
    buf[1..1 + first.len()].copy_from_slice(first.as_bytes());
    buf[1 + first.len()] = second.len() as u8;
    buf[2 + first.len()..n].copy_from_slice(second.as_bytes());
    buf[..n].make_ascii_lowercase();
    Some(if n <= 30 {
        let mut bytes = [0u8; 30];
        bytes[..n].copy_from_slice(&buf[..n]);
        EntryKey::Inline {
            len: n as u8,
            bytes,
        }
    } else {
        EntryKey::Boxed(buf[..n].into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_hosts() {
        let h = |host: &str, tr: &str, ip: &str, pn: bool| {
            String::from_utf8(endpoint_host(host, tr, ip, pn).to_vec()).unwrap()
        };
        assert_eq!(h("web-0", "pod", "10.0.0.1", true), "web-0");
        assert_eq!(h("", "pod-a", "10.0.0.1", true), "pod-a");
        assert_eq!(h("", "pod-a", "10.0.0.1", false), "10-0-0-1");
        assert_eq!(h("", &"p".repeat(64), "10.0.0.1", true), "10-0-0-1");
        assert_eq!(
            h("", "", "2001:db8:3333:4444:5555:6666::", false),
            "2001-db8-3333-4444-5555-6666--0"
        );
        assert_eq!(h("", "", "5678:abcd::1", false), "5678-abcd--1");
    }

    #[test]
    fn ips_as_go_reads_them() {
        assert_eq!(parse_ip("::ffff:1.2.3.4"), "1.2.3.4".parse().ok());
        assert_eq!(parse_ip("fd00::1"), "fd00::1".parse().ok());
        assert_eq!(parse_ip("None"), None);
        assert_eq!(parse_ip(""), None);
    }
}
