//! `transfer [ZONES...] { to ADDRESS...; source ADDRESS }`, read as CoreDNS reads it.

use std::net::IpAddr;
use std::sync::Arc;

use signpost_corefile::go_text::{quote, split_host_port};
use signpost_plugin::origins_from_args_or_block;
use signpost_plugin::{CorefileError, Directive, Dispenser, SetupContext, Zones};
use signpost_wire::Name;

use crate::handler::Transfer;
use crate::Providers;

pub(crate) const NAME: &str = "transfer";

/// Who may transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Peer {
    /// `to *`: anyone.
    Any,
    /// One address (a port, if given, is ignored for the check, as in CoreDNS).
    Ip(IpAddr),
}

/// One `transfer` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Xfr {
    pub(crate) zones: Zones,
    pub(crate) to: Vec<Peer>,
    /// `source`: the address NOTIFY messages would come from (validated; see the README).
    pub(crate) source: Option<IpAddr>,
}

pub(crate) fn setup(
    ctx: &mut SetupContext<'_>,
    directives: &[Directive],
) -> Result<(), CorefileError> {
    let xfrs = parse(directives, ctx.zones()).map_err(|e| e.with_plugin(NAME))?;
    let providers = ctx.block_state::<Providers>().clone();
    ctx.add_plugin(Arc::new(Transfer::new(xfrs, providers)));
    Ok(())
}

/// Read every `transfer` directive of a block (each is one zone set with its peers).
pub(crate) fn parse(directives: &[Directive], block: &[Name]) -> Result<Vec<Xfr>, CorefileError> {
    let mut out = Vec::new();
    for directive in directives {
        let mut d = Dispenser::new(directive);
        d.next();
        let args = d.remaining_args();
        let mut x = Xfr {
            zones: Zones::new(origins_from_args_or_block(&args, block)),
            to: Vec::new(),
            source: None,
        };
        while d.next_block() {
            match d.val() {
                "to" => {
                    let hosts = d.remaining_args();
                    if hosts.is_empty() {
                        return Err(d.arg_err());
                    }
                    for h in &hosts {
                        x.to.push(peer(h).map_err(|m| d.err(m))?);
                    }
                }
                "source" => {
                    let args = d.remaining_args();
                    let [addr] = args.as_slice() else {
                        return Err(d.arg_err());
                    };
                    if x.source.is_some() {
                        return Err(d.err("source already specified"));
                    }
                    let ip = addr
                        .parse()
                        .map_err(|_| d.err(format!("invalid source address {}", quote(addr))))?;
                    x.source = Some(ip);
                }
                other => return Err(d.err(format!("unknown property {}", quote(other)))),
            }
        }
        if x.to.is_empty() {
            return Err(d.err("'to' is required"));
        }
        out.push(x);
    }
    Ok(out)
}

/// CoreDNS's `parse.HostPort(host, "53")` for a `to` argument: an IP, `IP:port` or
/// `[IPv6]:port` (a `%zone` is allowed and ignored), or `*`.
fn peer(host: &str) -> Result<Peer, String> {
    if host == "*" {
        return Ok(Peer::Any);
    }
    let addr = match split_host_port(host) {
        Ok((addr, _port)) => addr,
        Err(_) => host,
    };
    let bare = addr.rsplit_once('%').map_or(addr, |(ip, _zone)| ip);
    bare.parse::<IpAddr>()
        .map(|ip| Peer::Ip(unmap(ip)))
        .map_err(|_| format!("must specify an IP address: `{addr}'"))
}

/// An IPv4-mapped IPv6 address is the IPv4 address (as Go prints it).
pub(crate) fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}
