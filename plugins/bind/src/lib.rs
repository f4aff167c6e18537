#![doc = include_str!("../README.md")]

use std::net::IpAddr;

use signpost_corefile::go_text::quote as go_quote;
use signpost_corefile::{Directive, Dispenser, Error};
use signpost_plugin::{PluginDef, SetupContext};

use signpost_plugin::interfaces::{host_interfaces, IfAddr};

/// The `bind` directive.
pub const PLUGIN: PluginDef = PluginDef {
    name: "bind",
    setup,
};

const NAME: &str = "bind";

/// Addresses or interface names as written, with the position to blame.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Args {
    file: String,
    line: u32,
    names: Vec<String>,
}

/// One `bind` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bind {
    addrs: Args,
    except: Vec<Args>,
}

fn parse(directive: &Directive) -> Result<Bind, Error> {
    let mut d = Dispenser::new(directive);
    d.next();
    let args = |d: &Dispenser<'_>, names| Args {
        file: d.file().to_string(),
        line: d.line(),
        names,
    };
    let names = d.remaining_args();
    if names.is_empty() {
        return Err(d.err("at least one address or interface name is expected"));
    }
    let addrs = args(&d, names);
    let mut except = Vec::new();
    while d.next_block() {
        match d.val() {
            "except" => {
                let names = d.remaining_args();
                if names.is_empty() {
                    return Err(d.err(
                        "at least one address or interface must be given to except subdirective",
                    ));
                }
                except.push(args(&d, names));
            }
            other => return Err(d.err(format!("invalid option {}", go_quote(other)))),
        }
    }
    Ok(Bind { addrs, except })
}

/// The host's interfaces, read on first need (most configurations bind to IP addresses and
/// never need them). A failure is logged once and leaves the list empty, as in CoreDNS.
struct Host {
    list: Option<Vec<IfAddr>>,
    read: fn() -> std::io::Result<Vec<IfAddr>>,
}

impl Host {
    fn new(read: fn() -> std::io::Result<Vec<IfAddr>>) -> Host {
        Host { list: None, read }
    }

    fn interfaces(&mut self) -> &[IfAddr] {
        let read = self.read;
        self.list.get_or_insert_with(|| {
            read().unwrap_or_else(|e| {
                tracing::warn!(
                    "plugin/bind: failed to get interfaces list, cannot bind by interface name: {e}"
                );
                Vec::new()
            })
        })
    }
}

/// The IP addresses `args` stand for, in order: an IP address as itself, an interface name
/// as every address it has.
fn resolve(args: &Args, host: &mut Host) -> Result<Vec<IpAddr>, Error> {
    let mut out = Vec::new();
    for name in &args.names {
        if let Ok(ip) = name.parse::<IpAddr>() {
            out.push(ip.to_canonical());
            continue;
        }
        let mut found = false;
        for entry in host.interfaces().iter().filter(|e| e.name == *name) {
            found = true;
            out.extend(entry.ip.filter(bindable_without_scope));
        }
        if !found {
            return Err(Error::new(
                &*args.file,
                args.line,
                format!(
                    "not a valid IP address or interface name: {}",
                    go_quote(name)
                ),
            ));
        }
    }
    Ok(out)
}

/// IPv6 link-local addresses need the interface as scope to be bound, which a plain IP
/// address cannot carry; they are left out of an interface's addresses.
fn bindable_without_scope(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(_) => true,
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
    }
}

/// The addresses one directive binds to: its addresses minus its exceptions.
fn addresses(bind: &Bind, host: &mut Host) -> Result<Vec<IpAddr>, Error> {
    let ips = resolve(&bind.addrs, host)?;
    let mut except = Vec::new();
    for e in &bind.except {
        except.extend(resolve(e, host)?);
    }
    Ok(ips.into_iter().filter(|ip| !except.contains(ip)).collect())
}

fn setup(ctx: &mut SetupContext<'_>, directives: &[Directive]) -> Result<(), Error> {
    setup_with(ctx, directives, Host::new(host_interfaces))
}

/// Every `bind` of the block adds up; each one's `except` applies to that one only.
fn setup_with(
    ctx: &mut SetupContext<'_>,
    directives: &[Directive],
    mut host: Host,
) -> Result<(), Error> {
    for directive in directives {
        let bind = parse(directive).map_err(|e| e.with_plugin(NAME))?;
        for ip in addresses(&bind, &mut host).map_err(|e| e.with_plugin(NAME))? {
            ctx.add_bind(ip);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
