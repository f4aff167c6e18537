//! What the index keeps per name: the slim objects turned into exactly what answers need,
//! with strings already parsed (IPs), lower-cased where they are compared, and names in wire
//! form, so answering never parses or allocates.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};

use signpost_k8s_model::{EndpointSlice, ObjectKey, Port, Service, ServiceImport, ServiceType};
use signpost_wire::Name;

/// A Service, ServiceImport or EndpointSlice port. Name and protocol are compared
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
        (port.is_empty() || self.name.as_bytes().eq_ignore_ascii_case(port))
            && (proto.is_empty() || self.proto.as_bytes().eq_ignore_ascii_case(proto))
    }
}

/// Ports of a slice or Service, with the -1 sentinel when there are none.
fn ports_or_sentinel(ports: &[Port]) -> Arc<[PortRec]> {
    if ports.is_empty() {
        return shared_ports(vec![PortRec::sentinel()]);
    }
    shared_ports(ports.iter().map(PortRec::from_model).collect())
}

/// Port lists handed out, one per distinct list, and the pool's size after its last sweep.
struct PortPool {
    lists: HashSet<Arc<[PortRec]>>,
    swept_at: usize,
}

/// The one shared copy of a port list. Most Services of a cluster expose one of a handful
/// of port lists (`http` 80/TCP, `https` 443/TCP, ...), and every slice repeats its Service's,
/// so sharing them saves two allocations per object. Lists no record holds any more are
/// dropped whenever the pool has doubled since its last sweep.
fn shared_ports(list: Vec<PortRec>) -> Arc<[PortRec]> {
    static POOL: OnceLock<Mutex<PortPool>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        Mutex::new(PortPool {
            lists: HashSet::new(),
            swept_at: 0,
        })
    });
    let mut p = pool.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(l) = p.lists.get(&list[..]) {
        return Arc::clone(l);
    }
    if p.lists.len() >= 1024 && p.lists.len() >= 2 * p.swept_at {
        p.lists.retain(|l| Arc::strong_count(l) > 1);
        p.swept_at = p.lists.len();
    }
    let l: Arc<[PortRec]> = list.into();
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

/// How an address is listed in the reverse map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PtrForm {
    /// Not listed: not an IP written as Go prints it.
    No,
    /// Under `ip`.
    Ip,
    /// Under `ip` as an IPv4-mapped IPv6 address (written `::ffff:a.b.c.d`).
    Mapped,
}

/// One ready endpoint address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AddrRec {
    /// The address, when it is an IP (FQDN-type slices carry names, which are not served).
    pub(crate) ip: Option<IpAddr>,
    ptr: PtrForm,
    /// The endpoint's DNS label (spec §6.3), as written.
    pub(crate) host: Label,
    /// What few addresses have; `None` when all of it is empty.
    extra: Option<Box<AddrExtra>>,
}

/// The parts of an address most do not have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct AddrExtra {
    /// The address as written, when that is not the IP in Go's form (then the IP and the
    /// form say how it was written). Only compared, to tell changed slices apart.
    odd_text: Option<Arc<str>>,
    /// Lower-cased topology zone ("" when unset or `zonal` is off).
    zone: Box<str>,
}

impl AddrRec {
    fn new(text: &Arc<str>, host: Box<[u8]>, zone: Box<str>) -> AddrRec {
        let ip = parse_ip(text);
        let ptr = match (canonical(text), ip) {
            (Some(c), Some(ip)) if c == ip => PtrForm::Ip,
            (Some(_), Some(_)) => PtrForm::Mapped,
            _ => PtrForm::No,
        };
        let extra = AddrExtra {
            odd_text: (ptr == PtrForm::No).then(|| text.clone()),
            zone,
        };
        AddrRec {
            ip,
            ptr,
            host: Label::new(host),
            extra: (extra != AddrExtra::default()).then(|| Box::new(extra)),
        }
    }

    /// Lower-cased topology zone ("" when unset or `zonal` is off).
    pub(crate) fn zone(&self) -> &str {
        self.extra.as_ref().map_or("", |e| &e.zone)
    }

    /// The IP the reverse map lists this address under (the address exactly as written).
    pub(crate) fn ptr_ip(&self) -> Option<IpAddr> {
        match (self.ptr, self.ip) {
            (PtrForm::Ip, ip) => ip,
            (PtrForm::Mapped, Some(IpAddr::V4(v4))) => Some(IpAddr::V6(v4.to_ipv6_mapped())),
            _ => None,
        }
    }

    /// Same address, written the same way.
    pub(crate) fn same_text(&self, o: &AddrRec) -> bool {
        let odd = |a: &AddrRec| a.extra.as_ref().and_then(|e| e.odd_text.clone());
        self.ip == o.ip && self.ptr == o.ptr && odd(self) == odd(o)
    }
}

/// Bytes kept inline when short (an IPv4 address with dashes, most hostnames), else boxed.
#[derive(Debug, Clone)]
pub(crate) enum Label {
    Inline { len: u8, bytes: [u8; 22] },
    Boxed(Box<[u8]>),
}

impl Label {
    fn new(b: Box<[u8]>) -> Label {
        if b.len() <= 22 {
            let mut bytes = [0u8; 22];
            bytes[..b.len()].copy_from_slice(&b);
            Label::Inline {
                len: b.len() as u8,
                bytes,
            }
        } else {
            Label::Boxed(b)
        }
    }
}

impl PartialEq for Label {
    fn eq(&self, o: &Label) -> bool {
        **self == **o
    }
}

impl Eq for Label {}

impl std::hash::Hash for Label {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (**self).hash(h)
    }
}

impl std::ops::Deref for Label {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Label::Inline { len, bytes } => &bytes[..*len as usize],
            Label::Boxed(b) => b,
        }
    }
}

/// An EndpointSlice (plain or MCS), reduced: all the index keeps of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SliceRec {
    pub(crate) key: ObjectKey,
    /// The Service it belongs to (its service-name label; "" without one).
    pub(crate) service: Arc<str>,
    pub(crate) ports: Arc<[PortRec]>,
    /// Ready addresses, in slice order.
    pub(crate) addrs: Few<AddrRec>,
    /// MCS source cluster ("" when absent or not an MCS slice).
    pub(crate) cluster: Box<[u8]>,
}

/// How endpoint hostnames and zones are derived.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SliceOptions {
    pub(crate) endpoint_pod_names: bool,
    pub(crate) zonal: bool,
}

/// The label an endpoint answers to: its `hostname`, else (with `endpoint_pod_names`) its
/// pod's name when shorter than 64, else its IP with dashes (`10-0-0-1`, `fd00--1`, and a
/// trailing `-` completed to `-0`).
pub(crate) fn endpoint_host(
    hostname: &str,
    target_ref: &str,
    addr: &str,
    pod_names: bool,
) -> Box<[u8]> {
    if !hostname.is_empty() {
        return hostname.as_bytes().into();
    }
    if pod_names && !target_ref.is_empty() && target_ref.len() < 64 {
        return target_ref.as_bytes().into();
    }
    if addr.contains('.') {
        return addr.replace('.', "-").into_bytes().into();
    }
    if addr.contains(':') {
        let mut s = addr.replace(':', "-");
        if s.ends_with('-') {
            s.push('0');
        }
        return s.into_bytes().into();
    }
    Box::new([])
}

impl SliceRec {
    /// Reduce a slice: ready (or unset) endpoints only, one entry per address.
    pub(crate) fn build(
        slice: &EndpointSlice,
        service: Arc<str>,
        opts: SliceOptions,
        mcs: bool,
    ) -> SliceRec {
        let mut addrs = Vec::new();
        for ep in slice.endpoints.iter().filter(|e| e.is_ready()) {
            for a in &ep.addresses {
                let host = endpoint_host(
                    &ep.hostname,
                    &ep.target_ref_name,
                    a,
                    opts.endpoint_pod_names,
                );
                let zone = if opts.zonal {
                    ep.zone.to_ascii_lowercase().into()
                } else {
                    "".into()
                };
                addrs.push(AddrRec::new(a, host, zone));
            }
        }
        SliceRec {
            key: slice.key.clone(),
            service,
            ports: ports_or_sentinel(&slice.ports),
            addrs: addrs.into_iter().collect(),
            cluster: if mcs {
                slice.source_cluster.as_bytes().into()
            } else {
                Box::new([])
            },
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
    pub(crate) ports: Arc<[PortRec]>,
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

/// A list that is almost always one item long (a Service's cluster IPs, an entry's slices,
/// a slice's ready addresses): the one item is kept in place, more go to the heap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Few<T> {
    One(T),
    Many(Box<[T]>),
}

impl<T> Few<T> {
    pub(crate) fn none() -> Few<T> {
        Few::Many(Box::new([]))
    }
}

impl<T> FromIterator<T> for Few<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Few<T> {
        let mut v: Vec<T> = items.into_iter().collect();
        if v.len() == 1 {
            if let Some(one) = v.pop() {
                return Few::One(one);
            }
        }
        Few::Many(v.into())
    }
}

impl<T> std::ops::Deref for Few<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
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
    pub(crate) key: Arc<[u8]>,
    pub(crate) service: Option<SvcData>,
    /// Slices, sorted by name.
    pub(crate) slices: Few<Arc<SliceRec>>,
    /// Ready addresses over all slices (for `ignore empty_service`).
    pub(crate) ready_total: usize,
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
        key: Arc<[u8]>,
        service: Option<SvcData>,
        slices: Vec<Arc<SliceRec>>,
    ) -> SvcEntry {
        let ready_total = slices.iter().map(|s| s.addrs.len()).sum();
        let all = || slices.iter().flat_map(|s| s.addrs.iter());
        let ip = repeats(all().map(|a| a.ip));
        let host = repeats(all().map(|a| Some(&a.host)));
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

/// `<a><b>` as two lower-case wire labels; `None` when either is not a valid label.
pub(crate) fn wire_key(first: &str, second: &str) -> Option<Arc<[u8]>> {
    let ok = |s: &str| !s.is_empty() && s.len() <= 63;
    if !ok(first) || !ok(second) {
        return None;
    }
    let mut v = Vec::with_capacity(first.len() + second.len() + 2);
    v.push(first.len() as u8);
    v.extend(first.bytes().map(|b| b.to_ascii_lowercase()));
    v.push(second.len() as u8);
    v.extend(second.bytes().map(|b| b.to_ascii_lowercase()));
    Some(v.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_hosts() {
        let h = |host: &str, tr: &str, ip: &str, pn: bool| {
            String::from_utf8(endpoint_host(host, tr, ip, pn).into()).unwrap()
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
