//! Reading a packed EndpointSlice in place.
//!
//! An index that answers from the watch's own bytes keeps no second copy of a slice: it holds
//! the packed object and reads the fields a query needs straight out of it, without
//! unpacking or allocating. The layout read here is the one `pack_struct!` writes for
//! `EndpointSlice` and `Endpoint`; the tests below check the two agree field for field.

use super::{Pack, Reader};

/// The head of a packed EndpointSlice (everything before its endpoints), and readers for
/// the endpoints, ports and labels that follow.
#[derive(Debug, Clone, Copy)]
pub struct PackedSlice<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    /// The model's `service_name` (the MCS label, else `kubernetes.io/service-name`).
    pub service_name: &'a str,
    pub source_cluster: &'a str,
    pub address_type: &'a str,
    /// Number of endpoints, and the bytes from the first one on.
    endpoints: (usize, &'a [u8]),
}

impl<'a> PackedSlice<'a> {
    /// A slice with nothing in it (what a reader falls back to on bytes that are not one).
    pub fn empty() -> PackedSlice<'a> {
        PackedSlice {
            namespace: "",
            name: "",
            service_name: "",
            source_cluster: "",
            address_type: "",
            endpoints: (0, &[]),
        }
    }

    /// Reads the head of a packed EndpointSlice; `None` when the bytes are not one.
    pub fn read(bytes: &'a [u8]) -> Option<PackedSlice<'a>> {
        let mut r = Reader::new(bytes);
        let namespace = r.text()?;
        let name = r.text()?;
        let service_name = r.text()?;
        let source_cluster = r.text()?;
        let address_type = r.text()?;
        let n = usize::try_from(r.varint()?).ok()?;
        Some(PackedSlice {
            namespace,
            name,
            service_name,
            source_cluster,
            address_type,
            endpoints: (n, r.rest()),
        })
    }

    /// The endpoints, in order.
    pub fn endpoints(&self) -> Endpoints<'a> {
        Endpoints {
            left: self.endpoints.0,
            r: Reader::new(self.endpoints.1),
        }
    }

    /// The ports, in order (none for a slice without ports).
    pub fn ports(&self) -> Ports<'a> {
        let mut e = self.endpoints();
        for _ in e.by_ref() {}
        let mut r = e.r;
        let left = if e.left == 0 {
            r.varint()
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(0)
        } else {
            0
        };
        Ports { left, r }
    }

    /// The number of labels and a reader at the first; `None` on bytes that are not a
    /// packed slice.
    fn labels(&self) -> Option<(u64, Reader<'a>)> {
        let mut p = self.ports();
        for _ in p.by_ref() {}
        if p.left != 0 {
            return None;
        }
        let mut r = p.r;
        Some((r.varint()?, r))
    }

    /// The value of label `key`.
    pub fn label(&self, key: &str) -> Option<&'a str> {
        let (n, mut r) = self.labels()?;
        for _ in 0..n {
            let (k, v) = (r.text()?, r.text()?);
            if k == key {
                return Some(v);
            }
        }
        None
    }

    /// True when the slice has no labels at all.
    pub fn has_no_labels(&self) -> bool {
        self.labels().is_some_and(|(n, _)| n == 0)
    }
}

/// The endpoints of a [`PackedSlice`]. Stops early on bytes that are not a packed slice.
#[derive(Clone)]
pub struct Endpoints<'a> {
    left: usize,
    r: Reader<'a>,
}

/// One endpoint of a packed slice.
#[derive(Debug, Clone, Copy)]
pub struct PackedEndpoint<'a> {
    /// Number of addresses, and the bytes from the first one on.
    addresses: (usize, &'a [u8]),
    /// `conditions.ready` (`None` = unset, which counts as ready).
    pub ready: Option<bool>,
    pub hostname: &'a str,
    pub node_name: &'a str,
    pub target_ref_name: &'a str,
    pub target_ref_kind: &'a str,
    pub zone: &'a str,
}

impl<'a> PackedEndpoint<'a> {
    /// Ready when the condition is true or unset.
    pub fn is_ready(&self) -> bool {
        self.ready.unwrap_or(true)
    }

    /// The addresses, as written.
    pub fn addresses(&self) -> Texts<'a> {
        Texts {
            left: self.addresses.0,
            r: Reader::new(self.addresses.1),
        }
    }
}

/// The next of `left` items read by `read`. On bytes that are not what was packed it stops
/// for good: the reader is emptied and `left` stays non-zero, so nothing after the list is
/// read either.
fn next_of<'a, T>(
    left: &mut usize,
    r: &mut Reader<'a>,
    read: fn(&mut Reader<'a>) -> Option<T>,
) -> Option<T> {
    if *left == 0 {
        return None;
    }
    match read(r) {
        Some(v) => {
            *left -= 1;
            Some(v)
        }
        None => {
            *r = Reader::new(&[]);
            None
        }
    }
}

impl<'a> Endpoints<'a> {
    fn read_one_from(r: &mut Reader<'a>) -> Option<PackedEndpoint<'a>> {
        let n = usize::try_from(r.varint()?).ok()?;
        let start = r.rest();
        for _ in 0..n {
            r.text()?;
        }
        Some(PackedEndpoint {
            addresses: (n, start),
            ready: Option::<bool>::unpack(r)?,
            hostname: r.text()?,
            node_name: r.text()?,
            target_ref_name: r.text()?,
            target_ref_kind: r.text()?,
            zone: r.text()?,
        })
    }
}

impl<'a> Iterator for Endpoints<'a> {
    type Item = PackedEndpoint<'a>;

    fn next(&mut self) -> Option<PackedEndpoint<'a>> {
        next_of(&mut self.left, &mut self.r, Self::read_one_from)
    }
}

/// A list of texts (an endpoint's addresses).
#[derive(Clone)]
pub struct Texts<'a> {
    left: usize,
    r: Reader<'a>,
}

impl<'a> Iterator for Texts<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        self.r.text()
    }
}

/// One port of a packed slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedPort<'a> {
    pub name: &'a str,
    pub protocol: &'a str,
    pub port: i32,
}

/// The ports of a [`PackedSlice`].
#[derive(Clone)]
pub struct Ports<'a> {
    left: usize,
    r: Reader<'a>,
}

impl<'a> Ports<'a> {
    fn read_one_from(r: &mut Reader<'a>) -> Option<PackedPort<'a>> {
        Some(PackedPort {
            name: r.text()?,
            protocol: r.text()?,
            port: i32::unpack(r)?,
        })
    }
}

impl<'a> Iterator for Ports<'a> {
    type Item = PackedPort<'a>;

    fn next(&mut self) -> Option<PackedPort<'a>> {
        next_of(&mut self.left, &mut self.r, Self::read_one_from)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use signpost_k8s_model::{empty, shared, Endpoint, EndpointSlice, ObjectKey, Port};

    use super::*;
    use crate::packed::pack_shared;

    fn slice() -> EndpointSlice {
        EndpointSlice {
            key: ObjectKey {
                namespace: shared("ns"),
                name: Arc::from("web-abcde"),
            },
            service_name: shared("web"),
            source_cluster: shared("east"),
            address_type: shared("IPv4"),
            endpoints: vec![
                Endpoint {
                    addresses: vec![Arc::from("10.0.0.1"), Arc::from("10.0.0.2")],
                    ready: None,
                    hostname: Arc::from("web-0"),
                    node_name: shared("node-1"),
                    target_ref_name: Arc::from("web-0"),
                    target_ref_kind: shared("Pod"),
                    zone: Arc::from("Zone-A"),
                },
                Endpoint {
                    addresses: vec![Arc::from("10.0.0.3")],
                    ready: Some(false),
                    hostname: empty(),
                    node_name: empty(),
                    target_ref_name: empty(),
                    target_ref_kind: empty(),
                    zone: empty(),
                },
            ],
            ports: vec![
                Port {
                    name: shared("http"),
                    protocol: shared("TCP"),
                    port: 8080,
                },
                Port {
                    name: Arc::from("odd-name"),
                    protocol: shared("UDP"),
                    port: -1,
                },
            ],
            labels: [("kubernetes.io/service-name", "web"), ("team", "a")]
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn reads_what_pack_wrote() {
        let s = slice();
        let b = pack_shared(&s);
        let p = PackedSlice::read(&b).unwrap();
        assert_eq!((p.namespace, p.name), ("ns", "web-abcde"));
        assert_eq!((p.service_name, p.source_cluster), ("web", "east"));
        assert_eq!(p.address_type, "IPv4");
        let eps: Vec<PackedEndpoint<'_>> = p.endpoints().collect();
        assert_eq!(eps.len(), 2);
        for (got, want) in eps.iter().zip(&s.endpoints) {
            let addrs: Vec<&str> = got.addresses().collect();
            let want_addrs: Vec<&str> = want.addresses.iter().map(|a| &**a).collect();
            assert_eq!(addrs, want_addrs);
            assert_eq!(got.ready, want.ready);
            assert_eq!(got.hostname, &*want.hostname);
            assert_eq!(got.node_name, &*want.node_name);
            assert_eq!(got.target_ref_name, &*want.target_ref_name);
            assert_eq!(got.target_ref_kind, &*want.target_ref_kind);
            assert_eq!(got.zone, &*want.zone);
        }
        let ports: Vec<PackedPort<'_>> = p.ports().collect();
        let want: Vec<PackedPort<'_>> = s
            .ports
            .iter()
            .map(|q| PackedPort {
                name: &q.name,
                protocol: &q.protocol,
                port: q.port,
            })
            .collect();
        assert_eq!(ports, want);
        assert_eq!(p.label("kubernetes.io/service-name"), Some("web"));
        assert_eq!(p.label("team"), Some("a"));
        assert_eq!(p.label("absent"), None);
        assert!(!p.has_no_labels());
    }

    #[test]
    fn an_empty_slice_reads_empty() {
        let mut s = slice();
        s.endpoints.clear();
        s.ports.clear();
        s.labels = Default::default();
        let b = pack_shared(&s);
        let p = PackedSlice::read(&b).unwrap();
        assert_eq!(p.endpoints().count(), 0);
        assert_eq!(p.ports().count(), 0);
        assert!(p.has_no_labels());
    }

    #[test]
    fn cut_bytes_read_short_but_never_panic() {
        let b = pack_shared(&slice());
        for cut in 0..b.len() {
            if let Some(p) = PackedSlice::read(&b[..cut]) {
                let _ = p.endpoints().flat_map(|e| e.addresses()).count();
                let _ = p.ports().count();
                assert!(p.label("team").is_none(), "cut at {cut}");
            }
        }
    }
}
