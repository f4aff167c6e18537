//! `loadbalance [round_robin] { prefer CIDR... }`, read as CoreDNS reads it.

use std::sync::Arc;

use signpost_plugin::{CorefileError, Directive, Dispenser, SetupContext};

use crate::cidr::Cidr;
use crate::LoadBalance;

const ROUND_ROBIN: &str = "round_robin";
const WEIGHTED: &str = "weighted";

/// Every occurrence in the block adds its `prefer` subnets to one handler, as in CoreDNS
/// (which reads all occurrences in one setup call).
pub(crate) fn setup(
    ctx: &mut SetupContext<'_>,
    directives: &[Directive],
) -> Result<(), CorefileError> {
    let mut prefer = Vec::new();
    for directive in directives {
        parse(directive, &mut prefer).map_err(|e| e.with_plugin("loadbalance"))?;
    }
    ctx.add_plugin(Arc::new(LoadBalance::new(prefer)));
    Ok(())
}

fn parse(directive: &Directive, prefer: &mut Vec<Cidr>) -> Result<(), CorefileError> {
    let mut d = Dispenser::new(directive);
    d.next();
    let args = d.remaining_args();
    match args.first().map(String::as_str) {
        None => {}
        Some(ROUND_ROBIN) if args.len() == 1 => {}
        Some(ROUND_ROBIN) => {
            return Err(d.err(format!("unknown property for {ROUND_ROBIN}")));
        }
        Some(WEIGHTED) => {
            return Err(d.err(format!(
                "policy '{WEIGHTED}' is not supported, only '{ROUND_ROBIN}' is"
            )));
        }
        Some(other) => return Err(d.err(format!("unknown policy: {other}"))),
    }
    while d.next_block() {
        match d.val() {
            "prefer" => {
                for cidr in d.remaining_args() {
                    let subnet = Cidr::parse(&cidr)
                        .map_err(|e| d.err(format!("invalid CIDR {cidr:?}: {e}")))?;
                    prefer.push(subnet);
                }
            }
            other => return Err(d.err(format!("unknown property '{other}'"))),
        }
    }
    Ok(())
}
