//! `whoami` takes no arguments and no block.

use std::sync::Arc;

use signpost_plugin::{CorefileError, Directive, Dispenser, SetupContext};

use crate::Whoami;

/// CoreDNS reads only the first occurrence of the directive in a block, so later ones are
/// neither checked nor needed (one handler answers everything anyway).
pub(crate) fn setup(
    ctx: &mut SetupContext<'_>,
    directives: &[Directive],
) -> Result<(), CorefileError> {
    let Some(first) = directives.first() else {
        return Ok(());
    };
    check_no_args(first).map_err(|e| e.with_plugin("whoami"))?;
    ctx.add_plugin(Arc::new(Whoami));
    Ok(())
}

/// Any argument is an error; so is a block, because Caddy's `NextArg` (which CoreDNS calls)
/// steps onto an opening brace on the same line and then reports it as unexpected.
fn check_no_args(directive: &Directive) -> Result<(), CorefileError> {
    let mut d = Dispenser::new(directive);
    d.next();
    let (line, file) = (d.line(), d.file().to_string());
    let mut probe = d.clone();
    if d.next_arg() {
        return Err(d.arg_err());
    }
    if probe.next() && probe.val() == "{" && probe.line() == line && probe.file() == file {
        if let Some(t) = probe.token() {
            if !t.quoted {
                return Err(probe.arg_err());
            }
        }
    }
    Ok(())
}
