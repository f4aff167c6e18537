//! The compact form a watch keeps its objects in.
//!
//! A watch must keep every object it has seen: a plugin that subscribes later (a reload, a
//! second stanza) gets the current set without a new list, and a delete event carries the
//! object's last state. Kept as model objects, a Service and its EndpointSlice are about
//! twenty small allocations and a kilobyte; a subscriber keeps what it derives from them
//! besides. Packed, each object is one byte string: lengths as varints, numbers as zigzag
//! varints, and the strings Kubernetes repeats everywhere (label keys, protocols, address
//! types, well-known namespaces) as one- or two-byte references into [`COMMON`]. An object is
//! unpacked again only when it is handed out (relist, late subscriber, delete) to a
//! subscriber of model objects; a subscriber of [`Packed`] objects shares the watch's
//! allocation ([`SharedBytes`]) and may read fields in place ([`PackedSlice`]).
//!
//! Packing is deterministic and injective: equal objects give equal bytes and different
//! objects different bytes, so "did this object change" is a byte comparison. Every packed
//! object starts with its [`ObjectKey`], so the key can be read without unpacking the rest.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

mod shared;
mod slice;

pub use shared::SharedBytes;
pub use slice::{Endpoints, PackedEndpoint, PackedPort, PackedSlice, Ports, Texts};

use signpost_k8s_model::{
    empty, shared, DnsEndpoint, DnsRecord, Endpoint, EndpointSlice, Gateway, GatewayAddress,
    GrpcRoute, HttpRoute, Ingress, Labels, LoadBalancerIngress, Namespace, Node, NodeAddress,
    ObjectKey, ParentRef, Pod, Port, Route, Service, ServiceImport, ServiceType, TlsRoute,
};

/// Texts written as a reference: one byte for the first 64, two after. Packed objects live
/// only in memory, so the list may change between versions; keep the most frequent first.
const COMMON: &[&str] = &[
    "",
    "TCP",
    "UDP",
    "SCTP",
    "IPv4",
    "IPv6",
    "FQDN",
    "Pod",
    "Node",
    "Service",
    "None",
    "http",
    "https",
    "grpc",
    "dns",
    "dns-tcp",
    "metrics",
    "ClusterSetIP",
    "Headless",
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "Running",
    "Pending",
    "Succeeded",
    "Failed",
    "Unknown",
    "true",
    "false",
    "kubernetes.io/service-name",
    "endpointslice.kubernetes.io/managed-by",
    "endpointslice-controller.k8s.io",
    "endpointslicemirroring-controller.k8s.io",
    "multicluster.kubernetes.io/service-name",
    "multicluster.kubernetes.io/source-cluster",
    "kubernetes.io/metadata.name",
    "kubernetes.io/cluster-service",
    "kubernetes.io/name",
    "kubernetes.io/hostname",
    "service.kubernetes.io/headless",
    "endpoints.kubernetes.io/managed-by",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "statefulset.kubernetes.io/pod-name",
    "pod-template-hash",
    "controller-revision-hash",
    "pod-template-generation",
    "app",
    "k8s-app",
    "component",
    "tier",
    "release",
    "heritage",
    "Helm",
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/version",
    "helm.sh/chart",
    "Gateway",
    "gateway.networking.k8s.io",
    "InternalIP",
    "ExternalIP",
    "Hostname",
    "IPAddress",
    "A",
    "AAAA",
    "TXT",
    "CNAME",
];

/// The common texts as shared strings, and their indexes by text.
struct Dictionary {
    texts: Vec<Arc<str>>,
    index: HashMap<&'static str, u32>,
}

fn dictionary() -> &'static Dictionary {
    static D: OnceLock<Dictionary> = OnceLock::new();
    D.get_or_init(|| Dictionary {
        texts: COMMON
            .iter()
            .map(|t| if t.is_empty() { empty() } else { shared(t) })
            .collect(),
        index: COMMON
            .iter()
            .enumerate()
            .map(|(i, t)| (*t, i as u32))
            .collect(),
    })
}

/// Reads a packed object front to back.
#[derive(Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    /// What is left to read.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.rest.len() {
            return None;
        }
        let (b, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(b)
    }

    /// One string as written: a reference into [`COMMON`], or the text itself.
    fn string(&mut self) -> Option<Text<'a>> {
        let v = self.varint()?;
        let n = usize::try_from(v >> 1).ok()?;
        if v & 1 == 1 {
            return (n < COMMON.len()).then_some(Text::Common(n));
        }
        std::str::from_utf8(self.bytes(n)?).ok().map(Text::Inline)
    }

    /// One string without making an `Arc` (a borrowed text or a common one).
    pub fn text(&mut self) -> Option<&'a str> {
        Some(match self.string()? {
            Text::Common(i) => COMMON[i],
            Text::Inline(t) => t,
        })
    }
}

/// A string as packed.
enum Text<'a> {
    /// Index into [`COMMON`].
    Common(usize),
    Inline(&'a str),
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    match dictionary().index.get(text) {
        Some(&i) => put_varint(out, (u64::from(i) << 1) | 1),
        None => {
            put_varint(out, (text.len() as u64) << 1);
            out.extend_from_slice(text.as_bytes());
        }
    }
}

/// A type with a packed form.
pub trait Pack: Sized {
    /// Appends the packed form.
    fn pack(&self, out: &mut Vec<u8>);
    /// Reads what [`Pack::pack`] wrote; `None` on bytes it did not write.
    fn unpack(r: &mut Reader<'_>) -> Option<Self>;
}

impl Pack for Arc<str> {
    fn pack(&self, out: &mut Vec<u8>) {
        put_text(out, self)
    }

    fn unpack(r: &mut Reader<'_>) -> Option<Self> {
        Some(match r.string()? {
            Text::Common(i) => Arc::clone(&dictionary().texts[i]),
            Text::Inline(t) => Arc::from(t),
        })
    }
}

impl Pack for bool {
    fn pack(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self))
    }

    fn unpack(r: &mut Reader<'_>) -> Option<Self> {
        match r.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

impl Pack for i32 {
    fn pack(&self, out: &mut Vec<u8>) {
        put_varint(out, u64::from(((*self << 1) ^ (*self >> 31)) as u32))
    }

    fn unpack(r: &mut Reader<'_>) -> Option<Self> {
        let z = u32::try_from(r.varint()?).ok()?;
        Some(((z >> 1) as i32) ^ -((z & 1) as i32))
    }
}

impl<T: Pack> Pack for Option<T> {
    fn pack(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.pack(out)
            }
        }
    }

    fn unpack(r: &mut Reader<'_>) -> Option<Self> {
        match r.byte()? {
            0 => Some(None),
            1 => Some(Some(T::unpack(r)?)),
            _ => None,
        }
    }
}

impl<T: Pack> Pack for Vec<T> {
    fn pack(&self, out: &mut Vec<u8>) {
        put_varint(out, self.len() as u64);
        for v in self {
            v.pack(out)
        }
    }

    fn unpack(r: &mut Reader<'_>) -> Option<Self> {
        let n = usize::try_from(r.varint()?).ok()?;
        // Every element takes at least one byte: a corrupt length cannot reserve more.
        let mut v = Vec::with_capacity(n.min(r.rest.len()));
        for _ in 0..n {
            v.push(T::unpack(r)?);
        }
        Some(v)
    }
}

impl Pack for Labels {
    fn pack(&self, out: &mut Vec<u8>) {
        put_varint(out, self.len() as u64);
        for (k, v) in self.iter() {
            put_text(out, k);
            put_text(out, v);
        }
    }

    fn unpack(r: &mut Reader<'_>) -> Option<Self> {
        let n = usize::try_from(r.varint()?).ok()?;
        let mut pairs = Vec::with_capacity(n.min(r.rest.len()));
        for _ in 0..n {
            pairs.push((r.text()?, r.text()?));
        }
        // Through `FromIterator`, so keys and values are shared as on arrival.
        Some(pairs.into_iter().collect())
    }
}

impl Pack for ObjectKey {
    fn pack(&self, out: &mut Vec<u8>) {
        put_text(out, &self.namespace);
        put_text(out, &self.name);
    }

    fn unpack(r: &mut Reader<'_>) -> Option<Self> {
        let namespace = r.text()?;
        let name = Arc::<str>::unpack(r)?;
        Some(ObjectKey {
            // Namespaces repeat across objects: one shared copy, as on arrival.
            namespace: if namespace.is_empty() {
                empty()
            } else {
                shared(namespace)
            },
            name,
        })
    }
}

impl Pack for ServiceType {
    fn pack(&self, out: &mut Vec<u8>) {
        out.push(match self {
            ServiceType::ClusterIp => 0,
            ServiceType::NodePort => 1,
            ServiceType::LoadBalancer => 2,
            ServiceType::ExternalName => 3,
        })
    }

    fn unpack(r: &mut Reader<'_>) -> Option<Self> {
        Some(match r.byte()? {
            0 => ServiceType::ClusterIp,
            1 => ServiceType::NodePort,
            2 => ServiceType::LoadBalancer,
            3 => ServiceType::ExternalName,
            _ => return None,
        })
    }
}

/// Packs a struct field by field, in the order listed. Unpacking builds the struct with a
/// literal, so a field added to the model and missing here fails to compile.
macro_rules! pack_struct {
    ($($t:ident { $($f:ident),* $(,)? })*) => {$(
        impl Pack for $t {
            fn pack(&self, out: &mut Vec<u8>) {
                $(self.$f.pack(out);)*
            }

            fn unpack(r: &mut Reader<'_>) -> Option<Self> {
                Some($t { $($f: Pack::unpack(r)?,)* })
            }
        }
    )*};
}

/// The same for a newtype around a packed type.
macro_rules! pack_newtype {
    ($($t:ident),*) => {$(
        impl Pack for $t {
            fn pack(&self, out: &mut Vec<u8>) {
                self.0.pack(out)
            }

            fn unpack(r: &mut Reader<'_>) -> Option<Self> {
                Some($t(Pack::unpack(r)?))
            }
        }
    )*};
}

// Every top-level kind starts with its key (see `key_len`).
pack_struct! {
    Port { name, protocol, port }
    LoadBalancerIngress { ip, hostname }
    Service {
        key, service_type, cluster_ips, external_name, ports, external_ips, load_balancer,
        labels, annotations,
    }
    Endpoint { addresses, ready, hostname, node_name, target_ref_name, target_ref_kind, zone }
    EndpointSlice { key, service_name, source_cluster, address_type, endpoints, ports, labels }
    Pod { key, pod_ip, pod_ips, deleting, phase, labels }
    Namespace { key, labels }
    ServiceImport { key, import_type, ips, ports, labels }
    Ingress { key, class, hosts, load_balancer, ignored }
    GatewayAddress { kind, value }
    Gateway { key, class, addresses }
    ParentRef { group, kind, namespace, name }
    Route { key, hostnames, parents, ignored }
    DnsRecord { dns_name, record_type, targets }
    DnsEndpoint { key, endpoints, ignored }
    NodeAddress { kind, address }
    Node { key, addresses, ignored }
}

pack_newtype!(HttpRoute, GrpcRoute, TlsRoute);

/// An object as a watch keeps it: packed, in one allocation that the watch and every
/// subscriber keeping the object share. A subscriber that reads what it needs from the
/// bytes (see [`PackedSlice`]) holds no copy of its own.
pub struct Packed<T> {
    bytes: SharedBytes,
    _kind: PhantomData<fn() -> T>,
}

impl<T> Clone for Packed<T> {
    fn clone(&self) -> Self {
        Packed {
            bytes: self.bytes.clone(),
            _kind: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Packed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (namespace, name) = key_texts(&self.bytes);
        write!(f, "Packed({namespace}/{name}, {} bytes)", self.bytes.len())
    }
}

impl<T: Pack> Packed<T> {
    /// `v`, packed.
    pub fn new(v: &T) -> Packed<T> {
        Packed::from_bytes(pack_shared(v))
    }

    /// The object again; `None` only if the bytes were not made by [`Packed::new`].
    pub fn unpack(&self) -> Option<T> {
        unpack(&self.bytes)
    }
}

impl<T> Packed<T> {
    pub(crate) fn from_bytes(bytes: SharedBytes) -> Packed<T> {
        Packed {
            bytes,
            _kind: PhantomData,
        }
    }

    /// The packed bytes (shared).
    pub fn bytes(&self) -> &SharedBytes {
        &self.bytes
    }

    /// Namespace and name, borrowed from the bytes.
    pub fn key_texts(&self) -> (&str, &str) {
        key_texts(&self.bytes)
    }

    /// Namespace and name.
    pub fn key(&self) -> ObjectKey {
        let (namespace, name) = self.key_texts();
        ObjectKey {
            namespace: if namespace.is_empty() {
                empty()
            } else {
                shared(namespace)
            },
            name: Arc::from(name),
        }
    }
}

/// The packed form of `v`, in an allocation of its own that holders share.
pub fn pack_shared<T: Pack>(v: &T) -> SharedBytes {
    let mut out = Vec::with_capacity(64);
    v.pack(&mut out);
    SharedBytes::new(&out)
}

/// The object packed in `bytes`; `None` when they are not a whole packed `T`.
pub fn unpack<T: Pack>(bytes: &[u8]) -> Option<T> {
    let mut r = Reader::new(bytes);
    let v = T::unpack(&mut r)?;
    r.rest().is_empty().then_some(v)
}

/// The packed form of a key: what every packed object starts with.
pub fn pack_key(key: &ObjectKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.namespace.len() + key.name.len() + 4);
    key.pack(&mut out);
    out
}

/// Length of the key at the start of a packed object (the whole input if it is cut short).
pub fn key_len(bytes: &[u8]) -> usize {
    let mut r = Reader::new(bytes);
    let ok = r.text().is_some() && r.text().is_some();
    if ok {
        bytes.len() - r.rest().len()
    } else {
        bytes.len()
    }
}

/// The namespace and name at the start of a packed object, borrowed.
pub fn key_texts(bytes: &[u8]) -> (&str, &str) {
    let mut r = Reader::new(bytes);
    (r.text().unwrap_or(""), r.text().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ns: &str, name: &str) -> ObjectKey {
        ObjectKey {
            namespace: shared(ns),
            name: Arc::from(name),
        }
    }

    fn roundtrip<T: Pack + PartialEq + std::fmt::Debug>(v: &T) -> usize {
        let b = pack_shared(v);
        assert_eq!(unpack::<T>(&b).as_ref(), Some(v));
        b.len()
    }

    fn slice() -> EndpointSlice {
        EndpointSlice {
            key: key("bench", "svc-1-0"),
            service_name: shared("svc-1"),
            source_cluster: empty(),
            address_type: shared("IPv4"),
            endpoints: vec![Endpoint {
                addresses: vec![Arc::from("10.128.0.2")],
                ready: Some(true),
                hostname: empty(),
                node_name: shared("node-1"),
                target_ref_name: Arc::from("web-7d4b9c-x2x9z"),
                target_ref_kind: shared("Pod"),
                zone: empty(),
            }],
            ports: vec![Port {
                name: shared("http"),
                protocol: shared("TCP"),
                port: 8080,
            }],
            labels: [
                ("kubernetes.io/service-name", "svc-1"),
                (
                    "endpointslice.kubernetes.io/managed-by",
                    "endpointslice-controller.k8s.io",
                ),
            ]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn objects_come_back_equal_and_small() {
        let s = slice();
        let n = roundtrip(&s);
        assert!(n < 80, "a one-endpoint slice packs into {n} bytes");
        let svc = Service {
            key: key("default", "web"),
            service_type: ServiceType::LoadBalancer,
            cluster_ips: vec![Arc::from("10.96.0.10"), Arc::from("fd00::a")],
            external_name: empty(),
            ports: vec![Port {
                name: empty(),
                protocol: empty(),
                port: -1,
            }],
            external_ips: vec![Arc::from("192.0.2.1")],
            load_balancer: vec![LoadBalancerIngress {
                ip: empty(),
                hostname: Arc::from("lb.example.com"),
            }],
            labels: [("app", "web")].into_iter().collect(),
            annotations: Labels::new(),
        };
        roundtrip(&svc);
        for port in [0, 1, -1, 80, 65535, i32::MAX, i32::MIN] {
            roundtrip(&port);
        }
        roundtrip(&HttpRoute(Route {
            key: key("default", "r"),
            hostnames: vec![Arc::from("a.example.com")],
            parents: vec![ParentRef {
                group: None,
                kind: Some(shared("Gateway")),
                namespace: None,
                name: Arc::from("gw"),
            }],
            ignored: false,
        }));
    }

    #[test]
    fn the_key_leads() {
        let b = pack_shared(&slice());
        assert_eq!(&b[..key_len(&b)], &pack_key(&key("bench", "svc-1-0"))[..]);
        assert_eq!(key_texts(&b), ("bench", "svc-1-0"));
        assert_eq!(key_texts(&pack_key(&key("", "node-a"))), ("", "node-a"));
    }

    #[test]
    fn bytes_it_did_not_write_are_refused() {
        let b = pack_shared(&slice());
        for cut in 0..b.len() {
            assert!(unpack::<EndpointSlice>(&b[..cut]).is_none(), "cut at {cut}");
        }
        let mut longer = b.to_vec();
        longer.push(0);
        assert!(unpack::<EndpointSlice>(&longer).is_none());
        assert!(unpack::<Vec<Port>>(&[0xff, 0xff, 0xff, 0xff, 0x0f]).is_none());
        assert!(
            unpack::<Arc<str>>(&[0xff, 0x01]).is_none(),
            "unknown common text"
        );
    }

    #[test]
    fn common_texts_are_one_byte_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for t in COMMON {
            assert!(seen.insert(t), "{t} listed twice");
        }
        for (i, t) in COMMON.iter().enumerate() {
            let mut out = Vec::new();
            put_text(&mut out, t);
            assert_eq!(out.len(), if i < 64 { 1 } else { 2 }, "{t}");
            assert_eq!(Reader::new(&out).text(), Some(*t));
        }
    }
}
