//! Zone transfers (AXFR, IXFR answered as AXFR) of the configured zones for the *transfer*
//! plugin — not in upstream k8s_gateway, asked for by its users.
//!
//! A forward zone sends: SOA; the NS records and the glue of NS hosts inside the zone; every
//! name the index serves in the zone (relative keys under the zone, full keys inside it),
//! the first kind in `resources` order winning a name as in lookups, sorted by name; SOA. A
//! reverse zone sends the PTR records of the served addresses inside it.

use std::collections::BTreeMap;

use signpost_transfer::{TransferError, Transferer};
use signpost_wire::text::{Record, RecordData};
use signpost_wire::{rtype, Name};

use crate::data::Data;
use crate::handler::{K8sGateway, ZoneInfo, FIXED_TTL};
use crate::index::Snapshot;
use crate::keys::reverse_name;

fn soa(z: &ZoneInfo, serial: u32) -> Record {
    Record::new_in(
        z.zone,
        FIXED_TTL,
        rtype::SOA,
        RecordData::Soa(z.ns, z.rname, serial, 7200, 1800, 86400, 60),
    )
}

fn addresses(name: Name, ttl: u32, d: &Data, emit: &mut dyn FnMut(&Record)) {
    for a in &d.v4 {
        emit(&Record::new_in(name, ttl, rtype::A, RecordData::A(*a)));
    }
    for a in &d.v6 {
        emit(&Record::new_in(
            name,
            ttl,
            rtype::AAAA,
            RecordData::Aaaa(*a),
        ));
    }
}

impl K8sGateway {
    /// Every name served in `zone` with the winning kind's records, sorted by name.
    fn names<'s>(snap: &'s Snapshot, zone: &Name) -> BTreeMap<String, (Name, &'s Data)> {
        let mut out: BTreeMap<String, (Name, &Data)> = BTreeMap::new();
        for map in &snap.kinds {
            for (key, d) in map.iter() {
                let owner = if key.is_subdomain_of(zone) {
                    *key
                } else {
                    match key.concat(zone) {
                        Ok(n) => n,
                        Err(_) => continue,
                    }
                };
                out.entry(owner.to_string()).or_insert((owner, d));
            }
        }
        out
    }

    fn forward(&self, z: &ZoneInfo, snap: &Snapshot, emit: &mut dyn FnMut(&Record)) {
        let ttl = self.config.ttl;
        let hosts = [Some(z.ns), z.ns2];
        for h in hosts.iter().flatten() {
            emit(&Record::new_in(
                z.zone,
                FIXED_TTL,
                rtype::NS,
                RecordData::Name(*h),
            ));
        }
        for (h, glue) in hosts.iter().zip(&snap.glue) {
            if let Some(h) = h.filter(|h| h.is_subdomain_of(&z.zone)) {
                addresses(h, FIXED_TTL, glue, emit);
            }
        }
        for (owner, d) in Self::names(snap, &z.zone).into_values() {
            if d.v4.is_empty() && d.v6.is_empty() && d.txt.is_empty() {
                if let Some(t) = d.cname {
                    emit(&Record::new_in(
                        owner,
                        ttl,
                        rtype::CNAME,
                        RecordData::Name(t),
                    ));
                }
                continue;
            }
            addresses(owner, ttl, d, emit);
            for t in &d.txt {
                emit(&Record::new_in(
                    owner,
                    ttl,
                    rtype::TXT,
                    RecordData::Txt(vec![t.clone()]),
                ));
            }
        }
    }

    fn reverse_zone(&self, z: &ZoneInfo, snap: &Snapshot, emit: &mut dyn FnMut(&Record)) {
        emit(&Record::new_in(
            z.zone,
            FIXED_TTL,
            rtype::NS,
            RecordData::Name(z.ns),
        ));
        let mut ptrs: BTreeMap<String, (Name, &Vec<Name>)> = BTreeMap::new();
        for (ip, names) in &snap.reverse {
            let owner = reverse_name(*ip);
            if owner.is_subdomain_of(&z.zone) {
                ptrs.insert(owner.to_string(), (owner, names));
            }
        }
        for (owner, names) in ptrs.into_values() {
            for n in names {
                emit(&Record::new_in(
                    owner,
                    self.config.ttl,
                    rtype::PTR,
                    RecordData::Name(*n),
                ));
            }
        }
    }
}

impl Transferer for K8sGateway {
    fn transfer(
        &self,
        zone: &Name,
        serial: u32,
        emit: &mut dyn FnMut(&Record),
    ) -> Result<(), TransferError> {
        let Some(z) = self.zones.iter().find(|z| z.zone == *zone) else {
            return Err(TransferError::NotAuthoritative);
        };
        if !self.index.is_synced() {
            return Err(TransferError::Failed(
                "plugin/k8s_gateway: could not sync required resources".into(),
            ));
        }
        let snap = self.index.load();
        emit(&soa(z, snap.serial));
        if serial != 0 && serial >= snap.serial {
            return Ok(());
        }
        if z.reverse {
            self.reverse_zone(z, &snap, emit);
        } else {
            self.forward(z, &snap, emit);
        }
        emit(&soa(z, snap.serial));
        Ok(())
    }
}
