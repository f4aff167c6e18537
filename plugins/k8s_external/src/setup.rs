//! `k8s_external [ZONES...] { apex APEX; ttl TTL; headless; fallthrough [ZONES...] }`, read
//! as CoreDNS reads it, and the plugin built from it.

use std::sync::Arc;

use signpost_kubernetes::ExternalSlot;
use signpost_plugin::{origins_from_args_or_block, ttl_option};
use signpost_plugin::{CorefileError, Directive, Dispenser, Fallthrough, SetupContext};
use signpost_transfer::Providers;
use signpost_wire::Name;

use crate::handler::External;

pub(crate) const NAME: &str = "k8s_external";

/// Everything the directive says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Config {
    /// Zones in the order given (the first names PTR targets).
    pub(crate) zones: Vec<Name>,
    /// `apex`, as a name relative to each zone (`dns.`).
    pub(crate) apex: Name,
    pub(crate) ttl: u32,
    pub(crate) headless: bool,
    pub(crate) fall: Fallthrough,
}

pub(crate) fn setup(
    ctx: &mut SetupContext<'_>,
    directives: &[Directive],
) -> Result<(), CorefileError> {
    let config = parse(directives, ctx.zones()).map_err(|e| e.with_plugin(NAME))?;
    // The kubernetes plugin is set up after this one and leaves its index in the slot.
    let slot = ctx.block_state::<ExternalSlot>().clone();
    let plugin = Arc::new(External::new(config, slot.clone()));
    ctx.add_plugin(plugin.clone());
    ctx.block_state::<Providers>().register(plugin);
    ctx.on_startup(move |_| match slot.get() {
        Some(_) => Ok(()),
        None => Err(format!("plugin/{NAME}: kubernetes plugin not loaded")),
    });
    Ok(())
}

/// Read the `k8s_external` directives of a block (a later one replaces the zones of an
/// earlier one, and adds its options, as in CoreDNS).
pub(crate) fn parse(directives: &[Directive], block: &[Name]) -> Result<Config, CorefileError> {
    let mut c = Config {
        zones: Vec::new(),
        apex: Name::from_text("dns").unwrap_or_default(),
        ttl: 5,
        headless: false,
        fall: Fallthrough::default(),
    };
    for directive in directives {
        let mut d = Dispenser::new(directive);
        d.next();
        let args = d.remaining_args();
        c.zones = origins_from_args_or_block(&args, block);
        while d.next_block() {
            match d.val() {
                "ttl" => c.ttl = ttl_option(&mut d)?,
                "apex" => {
                    let args = d.remaining_args();
                    let first = args.first().ok_or_else(|| d.arg_err())?;
                    let name = Name::from_text(first)
                        .ok()
                        .filter(|n| !n.is_root())
                        .ok_or_else(|| d.err(format!("invalid apex '{first}'")))?;
                    c.apex = name;
                }
                // Takes no arguments and, as in CoreDNS, consumes none.
                "headless" => c.headless = true,
                "fallthrough" => c.fall = Fallthrough::parse(&mut d)?,
                other => return Err(d.err(format!("unknown property '{other}'"))),
            }
        }
    }
    Ok(c)
}
