//! From parsed Corefile blocks to a runnable configuration: every block's plugins set up in
//! the fixed execution order, chains built, and zones grouped by the address they listen on.
//!
//! Errors are collected rather than returned at the first one, so `-validate` can print every
//! mistake in a Corefile at once.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use signpost_corefile::{
    parse_key, Error, ServerBlock, Token, Transport as KeyTransport, ZoneAddr,
};
use signpost_metrics::registry;
use signpost_plugin::{BlockInfo, Chain, ConfigParts, PluginDef, ServerInfo, SetupContext};
use signpost_wire::Name;

use crate::router::{Route, Router};

/// How to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Compiled-in plugins, in execution order.
    pub plugins: &'static [PluginDef],
    /// Port for keys without one (`-dns.port`).
    pub default_port: u16,
    /// The Corefile's path, when read from a file.
    pub corefile: Option<PathBuf>,
    /// Listen on this address instead of what the Corefile says, with ephemeral ports (used
    /// to start documentation examples on loopback).
    pub listen_override: Option<IpAddr>,
}

/// One DNS listening address (UDP and TCP) and the zones it serves.
#[derive(Debug)]
pub struct ListenerSpec {
    /// Address as configured (identity across reloads).
    pub key: SocketAddr,
    /// Address to bind (differs from `key` under a listen override).
    pub bind: SocketAddr,
    /// Zones served there.
    pub router: Router,
}

/// A built configuration, ready to serve.
#[derive(Debug)]
pub struct Config {
    /// DNS listeners.
    pub listeners: Vec<ListenerSpec>,
    /// Hooks, readiness checks and HTTP routes of all blocks.
    pub parts: ConfigParts,
}

/// The wildcard address: dual-stack IPv6 when the host has IPv6, else IPv4.
fn wildcard() -> IpAddr {
    let v6 = std::net::UdpSocket::bind((Ipv6Addr::UNSPECIFIED, 0)).is_ok();
    if v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

fn server_label(bind: Option<IpAddr>, port: u16) -> String {
    match bind {
        None => format!("dns://:{port}"),
        Some(IpAddr::V4(ip)) => format!("dns://{ip}:{port}"),
        Some(IpAddr::V6(ip)) => format!("dns://[{ip}]:{port}"),
    }
}

/// Build a configuration from parsed blocks.
pub fn build(blocks: &[ServerBlock], opts: &BuildOptions) -> Result<Config, Vec<Error>> {
    let mut errors = Vec::new();
    let mut parts = ConfigParts::default();
    parts.corefile = opts.corefile.clone();
    let known: HashSet<&str> = opts.plugins.iter().map(|p| p.name).collect();
    let mut listeners: BTreeMap<SocketAddr, ListenerSpec> = BTreeMap::new();
    let mut defined: HashSet<(String, IpAddr, u16)> = HashSet::new();
    let enabled = registry().gauge_vec(
        "coredns_plugin_enabled",
        "A metric that indicates whether a plugin is enabled on per server and zone basis.",
        &["server", "zone", "view", "name"],
    );
    let wild = wildcard();

    for (index, block) in blocks.iter().enumerate() {
        let mut keyed: Vec<(ZoneAddr, &Token)> = Vec::new();
        let mut keys_ok = true;
        for tok in &block.keys {
            match parse_key(&tok.text, opts.default_port) {
                Ok(addrs) => keyed.extend(addrs.into_iter().map(|a| (a, tok))),
                Err(e) => {
                    errors.push(Error::new(
                        &*tok.file,
                        tok.line,
                        format!("Unable to parse server block key '{}': {e}", tok.text),
                    ));
                    keys_ok = false;
                }
            }
        }
        if !keys_ok {
            continue;
        }
        let keys: Vec<ZoneAddr> = keyed.iter().map(|(k, _)| k.clone()).collect();
        let mut block_ok = true;
        for (key, tok) in &keyed {
            if key.transport != KeyTransport::Dns {
                errors.push(Error::new(
                    &*tok.file,
                    tok.line,
                    format!(
                        "transport '{}' is not supported; only dns:// is served",
                        key.transport.as_str()
                    ),
                ));
                block_ok = false;
            }
        }
        for d in &block.directives {
            if !known.contains(d.name()) {
                errors.push(d.err(format!("Unknown directive '{}'", d.name())));
                block_ok = false;
            }
        }
        let mut zones: Vec<Name> = Vec::new();
        for k in &keys {
            match Name::from_text(&k.zone) {
                Ok(z) if !zones.contains(&z) => zones.push(z),
                Ok(_) => {}
                Err(e) => {
                    errors.push(Error::new(
                        "Corefile",
                        0,
                        format!("bad zone '{}': {e}", k.zone),
                    ));
                    block_ok = false;
                }
            }
        }
        let info = BlockInfo {
            keys: keys.clone(),
            zones,
            index,
        };
        let mut ctx = SetupContext::new(&info, &mut parts);
        for def in opts.plugins {
            let ds: Vec<_> = block
                .directives
                .iter()
                .filter(|d| d.name() == def.name)
                .cloned()
                .collect();
            if ds.is_empty() {
                continue;
            }
            if let Err(e) = (def.setup)(&mut ctx, &ds) {
                let e = if e.plugin.is_none() {
                    e.with_plugin(def.name)
                } else {
                    e
                };
                errors.push(e);
                block_ok = false;
            }
        }
        let (plugins, bind) = ctx.finish();
        if !block_ok {
            continue;
        }
        let chain = Chain::new(plugins);
        let ips: Vec<Option<IpAddr>> = if bind.is_empty() {
            vec![None]
        } else {
            bind.into_iter().map(Some).collect()
        };
        for (key, tok) in &keyed {
            for ip in &ips {
                let listen_ip = ip.unwrap_or(wild);
                if !defined.insert((key.zone.clone(), listen_ip, key.port)) {
                    errors.push(Error::new(
                        &*tok.file,
                        tok.line,
                        format!("cannot serve {key} - it is already defined"),
                    ));
                    continue;
                }
                let label = server_label(*ip, key.port);
                let zone = Name::from_text(&key.zone).unwrap_or_default();
                for name in chain.names() {
                    enabled.with(&[&label, &key.zone, "", name]).set(1.0);
                }
                let info = Arc::new(ServerInfo {
                    addr: label,
                    zone,
                    zone_text: key.zone.clone(),
                    port: key.port,
                });
                let key_addr = SocketAddr::new(listen_ip, key.port);
                let bind_addr = match opts.listen_override {
                    Some(o) => SocketAddr::new(o, 0),
                    None => key_addr,
                };
                listeners
                    .entry(key_addr)
                    .or_insert_with(|| ListenerSpec {
                        key: key_addr,
                        bind: bind_addr,
                        router: Router::default(),
                    })
                    .router
                    .push(Route {
                        info,
                        chain: chain.clone(),
                    });
            }
        }
    }
    if blocks.is_empty() {
        errors.push(Error::new("Corefile", 0, "no server blocks"));
    }
    if errors.is_empty() {
        Ok(Config {
            listeners: listeners.into_values().collect(),
            parts,
        })
    } else {
        Err(errors)
    }
}
