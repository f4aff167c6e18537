//! `autopath [ZONE...] RESOLV-CONF`, read as CoreDNS reads it.

use std::sync::{Arc, OnceLock};

use signpost_plugin::origins_from_args_or_block;
use signpost_plugin::{CorefileError, Directive, Dispenser, SetupContext, Zones};
use signpost_wire::Name;

use crate::handler::AutoPath;
use crate::resolv::read_search_list;
use crate::Pathers;

pub(crate) const NAME: &str = "autopath";

/// What the directives say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Config {
    pub(crate) zones: Zones,
    /// A `resolv.conf` whose search list is used (read at start-up).
    pub(crate) file: Option<String>,
    /// `@PLUGIN`: the plugin asked for each query's search path.
    pub(crate) plugin: Option<String>,
}

pub(crate) fn setup(
    ctx: &mut SetupContext<'_>,
    directives: &[Directive],
) -> Result<(), CorefileError> {
    let config = parse(directives, ctx.zones()).map_err(|e| e.with_plugin(NAME))?;
    let search: Arc<OnceLock<Vec<Name>>> = Arc::default();
    let pathers = config
        .plugin
        .as_ref()
        .map(|name| (name.clone(), ctx.block_state::<Pathers>().clone()));
    ctx.add_plugin(Arc::new(AutoPath::new(
        config.zones,
        Arc::clone(&search),
        pathers,
    )));
    if let Some(path) = config.file {
        // The file is read when the server starts (setup does no I/O); a file that cannot
        // be read stops the start, as CoreDNS's setup error does.
        ctx.on_startup(move |_| {
            let mut list = read_search_list(&path).map_err(|e| format!("plugin/{NAME}: {e}"))?;
            // CoreDNS's sentinel "": the name as asked.
            list.push(Name::root());
            let _ = search.set(list);
            Ok(())
        });
    }
    Ok(())
}

/// Read the `autopath` directives of a block. As in CoreDNS, a later directive replaces the
/// zones and the file of an earlier one, and `@PLUGIN` stays once given.
pub(crate) fn parse(directives: &[Directive], block: &[Name]) -> Result<Config, CorefileError> {
    let mut c = Config {
        zones: Zones::default(),
        file: None,
        plugin: None,
    };
    for directive in directives {
        let mut d = Dispenser::new(directive);
        d.next();
        let mut args = d.remaining_args();
        let Some(resolv) = args.pop() else {
            return Err(d.err("no resolv-conf specified"));
        };
        match resolv.strip_prefix('@') {
            Some(plugin) => c.plugin = Some(plugin.to_string()),
            None => c.file = Some(resolv),
        }
        c.zones = Zones::new(origins_from_args_or_block(&args, block));
    }
    Ok(c)
}
