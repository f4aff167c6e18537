//! Zone transfers of the cluster zones for the *transfer* plugin (spec §10, CoreDNS's
//! `Kubernetes.Transfer`).
//!
//! The records, in CoreDNS's order: the SOA; one NS per distinct nameserver name and the
//! nameserver addresses (TTL 0); then the Services sorted by name, unexposed namespaces left
//! out: a ClusterIP Service gives its addresses, a bare SRV per port and a `_port._proto` SRV
//! per named port; a headless one (or one without a cluster IP) gives, per EndpointSlice and
//! ready address, the address under the Service name and under the endpoint name and a
//! `_port._proto` SRV per named slice port; an ExternalName Service its CNAME; and the SOA
//! again. Multicluster zones transfer their ServiceImports the same way (endpoint names
//! without the cluster label, as CoreDNS writes them).
//!
//! As in CoreDNS, any name inside the plugin's zones can be transferred, and the records are
//! then named below that name (`svc.ns.svc.<asked name>`); the SOA always carries the
//! internal serial (CoreDNS asks for it without a zone, which never matches a multicluster
//! one); and an IXFR from a client at exactly the current serial gets the SOA alone.

use std::net::IpAddr;
use std::sync::Arc;

use signpost_transfer::{TransferError, Transferer};
use signpost_wire::text::{Record, RecordData};
use signpost_wire::{rtype, Name};

use crate::answer::{srv_weight, NameBuf};
use crate::config::KubernetesConfig;
use crate::index::records::{SvcEntry, SvcKind};
use crate::index::{Index, SerialKind};

const SVC: &[u8] = b"\x03svc";

/// The transfer provider of one `kubernetes` stanza.
pub struct ZoneTransfer {
    zones: Vec<Name>,
    multicluster: Vec<Name>,
    namespaces: Vec<Box<[u8]>>,
    ttl: u32,
    index: Arc<Index>,
}

impl ZoneTransfer {
    /// The provider of `config`'s zones, from `index`.
    pub fn new(config: &KubernetesConfig, index: Arc<Index>) -> ZoneTransfer {
        ZoneTransfer {
            zones: config.zones.clone(),
            multicluster: config.multicluster.clone(),
            namespaces: crate::setup::namespaces(config),
            ttl: config.ttl,
            index,
        }
    }

    fn exposed(&self, ns: &[u8], namespaces: &crate::index::snapshot::NameSet) -> bool {
        (self.namespaces.is_empty() || self.namespaces.iter().any(|n| &**n == ns))
            && namespaces.contains(ns)
    }
}

fn address(name: Name, ttl: u32, ip: IpAddr) -> Record {
    match ip {
        IpAddr::V4(v4) => Record::new_in(name, ttl, rtype::A, RecordData::A(v4)),
        IpAddr::V6(v6) => Record::new_in(name, ttl, rtype::AAAA, RecordData::Aaaa(v6)),
    }
}

fn srv(name: Name, ttl: u32, weight: u16, port: i32, target: Name) -> Record {
    // A port of -1 (no ports) wraps as in CoreDNS.
    let data = RecordData::Srv(0, weight, port as u16, target);
    Record::new_in(name, ttl, rtype::SRV, data)
}

/// `_<port>._<proto>` in front of `base`, both lower-cased.
fn port_name(port: &str, proto: &str, base: &Name) -> Option<Name> {
    let port = format!("_{}", port.to_ascii_lowercase());
    let proto = format!("_{}", proto.to_ascii_lowercase());
    NameBuf::new()
        .label(port.as_bytes())
        .label(proto.as_bytes())
        .wire(&base.wire()[..base.len() - 1])
        .zone(&Name::root())
}

impl Transferer for ZoneTransfer {
    fn transfer(
        &self,
        zone: &Name,
        serial: u32,
        emit: &mut dyn FnMut(&Record),
    ) -> Result<(), TransferError> {
        if !self.zones.iter().any(|z| zone.is_subdomain_of(z)) {
            return Err(TransferError::NotAuthoritative);
        }
        let (Some(mname), Some(rname)) = (
            NameBuf::new().label(b"ns").label(b"dns").zone(zone),
            NameBuf::new().label(b"hostmaster").zone(zone),
        ) else {
            return Err(TransferError::NotAuthoritative);
        };
        let current = self.index.serial(SerialKind::Internal);
        let soa = Record::new_in(
            *zone,
            self.ttl.min(300),
            rtype::SOA,
            RecordData::Soa(mname, rname, current, 7200, 1800, 86400, self.ttl),
        );
        emit(&soa);
        if serial != 0 && serial == current {
            return Ok(());
        }
        let snap = self.index.snapshot();
        let ttl = self.ttl;

        // Nameservers: NS per distinct name, then every address with TTL 0.
        let ns: Vec<(Name, IpAddr)> = snap
            .ns_addrs
            .iter()
            .filter_map(|a| Some((NameBuf::new().wire(&a.rel).zone(zone)?, a.ip)))
            .collect();
        for (i, (name, _)) in ns.iter().enumerate() {
            if !ns[..i].iter().any(|(n, _)| n.wire() == name.wire()) {
                emit(&Record::new_in(
                    *zone,
                    ttl,
                    rtype::NS,
                    RecordData::Name(*name),
                ));
            }
        }
        for (name, ip) in &ns {
            emit(&address(*name, 0, *ip));
        }

        let mc = self.multicluster.iter().any(|m| zone.is_subdomain_of(m));
        let entries = if mc { &snap.mc_entries } else { &snap.entries };
        let mut services: Vec<&SvcEntry> = entries
            .iter()
            .map(|e| &**e)
            .filter(|e| e.service.is_some())
            .collect();
        // CoreDNS sorts by name only; ties between namespaces are put in namespace order.
        services.sort_by(|a, b| {
            label(&a.key, 0)
                .cmp(label(&b.key, 0))
                .then(a.key.cmp(&b.key))
        });
        for entry in services {
            if self.exposed(label(&entry.key, 1), &snap.namespaces) {
                service_records(entry, zone, ttl, snap.endpoint_pod_names, emit);
            }
        }
        emit(&soa);
        Ok(())
    }
}

/// Label `i` (0 or 1) of a `<name><namespace>` key.
fn label(key: &[u8], i: usize) -> &[u8] {
    let first = key[0] as usize;
    if i == 0 {
        &key[1..1 + first]
    } else {
        &key[2 + first..]
    }
}

/// The records of one Service (or ServiceImport).
fn service_records(
    entry: &SvcEntry,
    zone: &Name,
    ttl: u32,
    pod_names: bool,
    emit: &mut dyn FnMut(&Record),
) {
    let Some(svc) = &entry.service else { return };
    let Some(base) = NameBuf::new().wire(&entry.key).wire(SVC).zone(zone) else {
        return;
    };
    match svc.kind {
        SvcKind::ClusterIp if !svc.cluster_ips.is_empty() => {
            for ip in svc.cluster_ips.iter() {
                emit(&address(base, ttl, *ip));
            }
            for p in svc.ports.iter() {
                emit(&srv(base, ttl, 100, p.port, base));
                if p.name.is_empty() {
                    continue;
                }
                if let Some(name) = port_name(&p.name, &p.proto, &base) {
                    emit(&srv(name, ttl, 100, p.port, base));
                }
            }
        }
        SvcKind::ClusterIp | SvcKind::Headless => {
            for slice in entry.slices.iter() {
                let weight = srv_weight(slice.addr_count());
                let ports = slice.ports();
                for a in slice.addrs(pod_names) {
                    let Some(ip) = a.ip else { continue };
                    emit(&address(base, ttl, ip));
                    let Some(host) = NameBuf::new()
                        .label(&a.host)
                        .wire(&base.wire()[..base.len() - 1])
                        .zone(&Name::root())
                    else {
                        continue;
                    };
                    emit(&address(host, ttl, ip));
                    for p in ports.clone().filter(|p| !p.name.is_empty()) {
                        if let Some(name) = port_name(p.name, p.proto, &base) {
                            emit(&srv(name, ttl, weight, p.port, host));
                        }
                    }
                }
            }
        }
        SvcKind::ExternalName => {
            if let Some(target) = svc.external().and_then(|w| Name::from_wire(w).ok()) {
                emit(&Record::new_in(
                    base,
                    ttl,
                    rtype::CNAME,
                    RecordData::Name(target),
                ));
            }
        }
    }
}
