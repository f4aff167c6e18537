//! Per-(server, zone) tables of metric children, so counting a query never formats a label
//! or allocates.
//!
//! The first query for a server and zone builds its [`Table`]; every cell (one series) is
//! resolved from the metric family on first use and kept, so a series appears in `/metrics`
//! only once it has counted something, as with the Go client. Afterwards a query costs one
//! lock-free map load, two string-keyed lookups and a handful of atomic adds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use arc_swap::ArcSwap;
use signpost_log::mnemonic::rcode_name;
use signpost_metrics::{Counter, Histogram};
use signpost_plugin::Transport;
use signpost_wire::{rtype, Rcode};

use crate::families::families;

/// The query types CoreDNS gives their own `type` label (`vars.monitorType`); everything
/// else is counted as "other".
const MONITORED: [(u16, &str); 19] = [
    (rtype::A, "A"),
    (rtype::AAAA, "AAAA"),
    (rtype::CNAME, "CNAME"),
    (rtype::DNSKEY, "DNSKEY"),
    (rtype::DS, "DS"),
    (rtype::MX, "MX"),
    (rtype::NSEC3, "NSEC3"),
    (rtype::NSEC, "NSEC"),
    (rtype::NS, "NS"),
    (rtype::PTR, "PTR"),
    (rtype::RRSIG, "RRSIG"),
    (rtype::SOA, "SOA"),
    (rtype::SRV, "SRV"),
    (rtype::TXT, "TXT"),
    (rtype::HTTPS, "HTTPS"),
    (rtype::SVCB, "SVCB"),
    (rtype::IXFR, "IXFR"),
    (rtype::AXFR, "AXFR"),
    (rtype::ANY, "ANY"),
];

const TYPES: usize = MONITORED.len() + 1;

/// Index of a query type's `type` label (the last index is "other").
pub(crate) fn type_index(qtype: u16) -> usize {
    MONITORED
        .iter()
        .position(|&(t, _)| t == qtype)
        .unwrap_or(MONITORED.len())
}

fn type_label(i: usize) -> &'static str {
    MONITORED.get(i).map_or("other", |&(_, n)| n)
}

/// Rcodes with a name get a fixed cell; others (rare) a slower one.
const NAMED_RCODES: usize = 24;

/// The `rcode` label: miekg/dns's name, or `RCODE<n>`.
pub(crate) fn rcode_label(rc: Rcode) -> String {
    match rcode_name(rc) {
        Some(n) => n.to_string(),
        None => format!("RCODE{rc}"),
    }
}

fn proto_index(t: Transport) -> usize {
    match t {
        Transport::Udp => 0,
        Transport::Tcp => 1,
    }
}

const PROTOS: [&str; 2] = ["udp", "tcp"];
const FAMILIES: [&str; 2] = ["1", "2"];

type Cell<T> = OnceLock<Arc<T>>;

/// `coredns_dns_responses_total` cells of one plugin label.
#[derive(Debug)]
struct PluginRow {
    plugin: &'static str,
    named: [Cell<Counter>; NAMED_RCODES],
    other: Mutex<Vec<(Rcode, Arc<Counter>)>>,
}

/// All series of one server and zone.
#[derive(Debug)]
pub(crate) struct Table {
    server: String,
    zone: String,
    requests: [[[Cell<Counter>; TYPES]; 2]; 2],
    do_requests: Cell<Counter>,
    duration: Arc<Histogram>,
    request_size: [Cell<Histogram>; 2],
    response_size: [Cell<Histogram>; 2],
    rows: ArcSwap<Vec<Arc<PluginRow>>>,
    grow: Mutex<()>,
}

/// What one query reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) transport: Transport,
    pub(crate) ipv6: bool,
    pub(crate) qtype: u16,
    pub(crate) dnssec_ok: bool,
    pub(crate) seconds: f64,
    pub(crate) request_size: usize,
    pub(crate) response_size: usize,
    pub(crate) rcode: Rcode,
    pub(crate) plugin: &'static str,
}

impl Table {
    fn new(server: &str, zone: &str) -> Table {
        Table {
            server: server.to_string(),
            zone: zone.to_string(),
            requests: Default::default(),
            do_requests: OnceLock::new(),
            duration: families().duration.with(&[server, zone, ""]),
            request_size: Default::default(),
            response_size: Default::default(),
            rows: ArcSwap::from_pointee(Vec::new()),
            grow: Mutex::new(()),
        }
    }

    /// Count one query.
    pub(crate) fn record(&self, s: &Sample) {
        let f = families();
        let (server, zone) = (self.server.as_str(), self.zone.as_str());
        let p = proto_index(s.transport);
        let fam = usize::from(s.ipv6);
        let t = type_index(s.qtype);
        if s.dnssec_ok {
            self.do_requests
                .get_or_init(|| f.do_requests.with(&[server, zone, ""]))
                .inc();
        }
        self.requests[p][fam][t]
            .get_or_init(|| {
                f.requests
                    .with(&[server, zone, "", PROTOS[p], FAMILIES[fam], type_label(t)])
            })
            .inc();
        self.duration.observe(s.seconds);
        self.response_size[p]
            .get_or_init(|| f.response_size.with(&[server, zone, "", PROTOS[p]]))
            .observe(s.response_size as f64);
        self.request_size[p]
            .get_or_init(|| f.request_size.with(&[server, zone, "", PROTOS[p]]))
            .observe(s.request_size as f64);
        self.count_response(s.plugin, s.rcode);
    }

    /// Count a response of `plugin` with `rc`. The row lookup runs under the map guard so
    /// no reference count is touched on the common path.
    fn count_response(&self, plugin: &'static str, rc: Rcode) {
        if let Some(row) = self.rows.load().iter().find(|r| r.plugin == plugin) {
            self.bump(row, rc);
            return;
        }
        let row = self.add_row(plugin);
        self.bump(&row, rc);
    }

    fn add_row(&self, plugin: &'static str) -> Arc<PluginRow> {
        let _g = self.grow.lock().unwrap_or_else(|e| e.into_inner());
        let rows = self.rows.load();
        if let Some(r) = rows.iter().find(|r| r.plugin == plugin) {
            return Arc::clone(r);
        }
        let row = Arc::new(PluginRow {
            plugin,
            named: Default::default(),
            other: Mutex::new(Vec::new()),
        });
        let mut next = Vec::clone(&rows);
        next.push(Arc::clone(&row));
        self.rows.store(Arc::new(next));
        row
    }

    fn bump(&self, row: &PluginRow, rc: Rcode) {
        let make = || {
            families()
                .responses
                .with(&[&self.server, &self.zone, "", &rcode_label(rc), row.plugin])
        };
        if let Some(cell) = row.named.get(usize::from(rc)) {
            cell.get_or_init(make).inc();
            return;
        }
        let mut other = row.other.lock().unwrap_or_else(|e| e.into_inner());
        match other.iter().find(|(r, _)| *r == rc) {
            Some((_, c)) => c.inc(),
            None => {
                let c = make();
                c.inc();
                other.push((rc, c));
            }
        }
    }
}

/// The tables of one plugin instance, keyed by server then zone.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    map: ArcSwap<HashMap<String, HashMap<String, Arc<Table>>>>,
    grow: Mutex<()>,
}

impl Tables {
    /// Run `f` on the table of `server` and `zone`, creating it on first use.
    pub(crate) fn with(&self, server: &str, zone: &str, f: impl FnOnce(&Table)) {
        if let Some(t) = self.map.load().get(server).and_then(|z| z.get(zone)) {
            f(t);
            return;
        }
        let table = {
            let _g = self.grow.lock().unwrap_or_else(|e| e.into_inner());
            let map = self.map.load();
            match map.get(server).and_then(|z| z.get(zone)) {
                Some(t) => Arc::clone(t),
                None => {
                    let t = Arc::new(Table::new(server, zone));
                    let mut next = HashMap::clone(&map);
                    next.entry(server.to_string())
                        .or_default()
                        .insert(zone.to_string(), Arc::clone(&t));
                    self.map.store(Arc::new(next));
                    t
                }
            }
        };
        f(&table);
    }
}
