//! Zone transfers of an external zone for the *transfer* plugin (spec §20, CoreDNS's
//! `External.Transfer` over `Kubernetes.ExternalServices`).
//!
//! Only a configured zone itself is transferred. The records, in CoreDNS's order: the SOA
//! (alone for an IXFR whose serial is not older); the NS `ns1.<apex>.<zone>` and its
//! addresses; for every Service with external addresses, per address and port, the address
//! records, the bare SRV and the `_port._proto` SRV (each owner name's first SRV only); with
//! `headless`, for every headless Service without external addresses, its endpoint
//! addresses and SRV records under the Service name, the same per endpoint name, and the
//! `_port._proto` SRV records (CoreDNS sends the Service's and each endpoint's SRV records
//! twice, and so does this); and the SOA again.
//!
//! As in CoreDNS, namespaces are not filtered here, a load-balancer hostname gives a CNAME
//! (twice: for A and for AAAA) whose target is not looked up, and the `_port._proto` SRV of
//! a hostname loses the hostname's first two labels. CoreDNS lists the Services in no
//! particular order (and the headless names in a random one); here they are sorted by name,
//! then namespace, each Service's names together.

use std::net::IpAddr;

use signpost_kubernetes::ServiceView;
use signpost_transfer::{TransferError, Transferer};
use signpost_wire::text::{Record, RecordData};
use signpost_wire::{rtype, Name};

use crate::answer::{ns1, service_name, srv_weight};
use crate::handler::External;

/// CoreDNS's `msg.Service` as the transfer uses it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    host: Host,
    port: i32,
    /// The name the entry's key spells (SRV target of address hosts).
    key: Name,
    /// Labels stripped off SRV targets.
    strip: usize,
}

/// Where an entry points. (Names are inline, so the variants differ in size; entries are
/// few and short-lived.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Host {
    Ip(IpAddr),
    Name(Name),
}

/// CoreDNS's `targetStrip`: drop `n` leftmost labels, unless that leaves nothing.
fn strip(name: Name, n: usize) -> Name {
    if n == 0 || name.label_count() <= n {
        return name;
    }
    name.strip_labels(n)
}

struct Ttls {
    ttl: u32,
    k8s: u32,
}

impl Ttls {
    /// `External.a`/`aaaa` for `owner`: addresses of the family once each, a CNAME per
    /// hostname entry (its lookup fails during a transfer, as in CoreDNS).
    fn addresses(&self, entries: &[Entry], owner: Name, v4: bool) -> Vec<Record> {
        let mut out = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            match e.host {
                Host::Name(target) => out.push(Record::new_in(
                    owner,
                    self.k8s,
                    rtype::CNAME,
                    RecordData::Name(target),
                )),
                Host::Ip(ip) if ip.is_ipv4() == v4 => {
                    if entries[..i].iter().any(|x| x.host == e.host) {
                        continue;
                    }
                    let data = match ip {
                        IpAddr::V4(a) => RecordData::A(a),
                        IpAddr::V6(a) => RecordData::Aaaa(a),
                    };
                    let t = if v4 { rtype::A } else { rtype::AAAA };
                    out.push(Record::new_in(owner, self.ttl, t, data));
                }
                Host::Ip(_) => {}
            }
        }
        out
    }

    /// `External.srv` for `owner`: one SRV per entry with a port, `(target, port)` once.
    fn srv(&self, entries: &[Entry], owner: Name) -> Vec<Record> {
        let weight = srv_weight(entries.len());
        let mut out: Vec<Record> = Vec::new();
        for e in entries.iter().filter(|e| e.port != -1) {
            let target = match e.host {
                Host::Name(n) => strip(n, e.strip),
                Host::Ip(_) => strip(e.key, e.strip),
            };
            let port = e.port as u16;
            let dup = out.iter().any(|r| {
                matches!(&r.data, RecordData::Srv(_, _, p, t) if *p == port && t.wire() == target.wire())
            });
            if !dup {
                let data = RecordData::Srv(0, weight, port, target);
                out.push(Record::new_in(owner, self.k8s, rtype::SRV, data));
            }
        }
        out
    }
}

/// `_<name>._<proto>` (lower-cased, "_" for an empty part) in front of `base`.
fn port_name(name: &str, proto: &str, base: &Name) -> Option<Name> {
    let name = format!("_{}", name.to_ascii_lowercase());
    let proto = format!("_{}", proto.to_ascii_lowercase());
    base.prepend_label(proto.as_bytes())
        .ok()?
        .prepend_label(name.as_bytes())
        .ok()
}

impl External {
    /// The entries of a Service with external addresses: per address and port, the bare
    /// one and the `_port._proto` one.
    fn external_entries(svc: &ServiceView<'_>, zone: &Name) -> Vec<(Name, Entry)> {
        let Some(base) = service_name(svc, None, zone) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in svc.externals() {
            let host = match e.ip() {
                Some(ip) => Host::Ip(ip),
                None => match Name::from_text(e.text()) {
                    Ok(n) => Host::Name(n),
                    Err(_) => continue,
                },
            };
            for p in svc.ports() {
                let entry = Entry {
                    host,
                    port: p.port(),
                    key: base,
                    strip: 0,
                };
                out.push((base, entry));
                if let Some(name) = port_name(p.name(), p.protocol(), &base) {
                    out.push((
                        name,
                        Entry {
                            key: name,
                            strip: 2,
                            ..entry
                        },
                    ));
                }
            }
        }
        out
    }

    /// The records of a headless Service without external addresses.
    fn headless_records(
        &self,
        svc: &ServiceView<'_>,
        zone: &Name,
        t: &Ttls,
        out: &mut Vec<Record>,
    ) {
        let Some(base) = service_name(svc, None, zone) else {
            return;
        };
        let mut endpoints: Vec<Entry> = Vec::new();
        let mut ports: Vec<(Name, Vec<Entry>)> = Vec::new();
        for s in svc.slices() {
            for a in s.addresses() {
                let (Some(ip), Some(host)) = (a.ip(), service_name(svc, Some(&a.host()), zone))
                else {
                    continue;
                };
                for p in s.ports() {
                    endpoints.push(Entry {
                        host: Host::Ip(ip),
                        port: p.port(),
                        key: host,
                        strip: 0,
                    });
                    if p.name().is_empty() {
                        continue;
                    }
                    let Some(name) = port_name(p.name(), p.protocol(), &base) else {
                        continue;
                    };
                    let entry = Entry {
                        host: Host::Name(host),
                        port: p.port(),
                        key: name,
                        strip: 0,
                    };
                    match ports.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, list)) => list.push(entry),
                        None => ports.push((name, vec![entry])),
                    }
                }
            }
        }
        if !endpoints.is_empty() {
            out.extend(t.addresses(&endpoints, base, true));
            out.extend(t.addresses(&endpoints, base, false));
            let srv = t.srv(&endpoints, base);
            out.extend(srv.iter().cloned());
            out.extend(srv);
            for e in &endpoints {
                let one = std::slice::from_ref(e);
                out.extend(t.addresses(one, e.key, true));
                out.extend(t.addresses(one, e.key, false));
                let srv = t.srv(one, e.key);
                out.extend(srv.iter().cloned());
                out.extend(srv);
            }
        }
        for (name, list) in &ports {
            out.extend(t.srv(list, *name));
        }
    }
}

impl Transferer for External {
    fn transfer(
        &self,
        zone: &Name,
        serial: u32,
        emit: &mut dyn FnMut(&Record),
    ) -> Result<(), TransferError> {
        if self.zone_of(zone).is_none_or(|z| z.wire() != zone.wire()) {
            return Err(TransferError::NotAuthoritative);
        }
        let Some(source) = self.slot.get() else {
            return Err(TransferError::NotAuthoritative);
        };
        let t = Ttls {
            ttl: self.config.ttl,
            k8s: source.ttl(),
        };
        let apex = &self.config.apex;
        let (Ok(apex_zone), Some(ns_name)) = (apex.concat(zone), ns1(apex, zone)) else {
            return Err(TransferError::NotAuthoritative);
        };
        let Ok(rname) = apex_zone.prepend_label(b"hostmaster") else {
            return Err(TransferError::NotAuthoritative);
        };
        let current = source.serial();
        let soa = Record::new_in(
            *zone,
            t.ttl,
            rtype::SOA,
            RecordData::Soa(ns_name, rname, current, 7200, 1800, 86400, t.ttl),
        );
        emit(&soa);
        if serial != 0 && serial >= current {
            return Ok(());
        }
        emit(&Record::new_in(
            *zone,
            t.ttl,
            rtype::NS,
            RecordData::Name(ns_name),
        ));
        let view = source.view();
        for ip in view.external_nameservers(self.config.headless) {
            let data = match ip {
                IpAddr::V4(a) => (rtype::A, RecordData::A(*a)),
                IpAddr::V6(a) => (rtype::AAAA, RecordData::Aaaa(*a)),
            };
            emit(&Record::new_in(ns_name, t.ttl, data.0, data.1));
        }

        let mut services: Vec<ServiceView<'_>> = view.services().collect();
        services.sort_by(|a, b| {
            a.name()
                .cmp(b.name())
                .then(a.namespace().cmp(b.namespace()))
        });
        let mut seen: Vec<Name> = Vec::new();
        let mut headless: Vec<&ServiceView<'_>> = Vec::new();
        for svc in &services {
            if self.config.headless && svc.externals().next().is_none() && svc.is_headless() {
                headless.push(svc);
                continue;
            }
            for (name, entry) in Self::external_entries(svc, zone) {
                let one = std::slice::from_ref(&entry);
                if entry.strip == 0 {
                    for rec in t.addresses(one, name, true) {
                        emit(&rec);
                    }
                    for rec in t.addresses(one, name, false) {
                        emit(&rec);
                    }
                }
                for rec in t.srv(one, name) {
                    if !seen.contains(&rec.name) {
                        seen.push(rec.name);
                        emit(&rec);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for svc in headless {
            self.headless_records(svc, zone, &t, &mut out);
        }
        for rec in &out {
            emit(rec);
        }
        emit(&soa);
        Ok(())
    }
}
