//! `hosts [FILE [ZONES...]] { ... }`, read as CoreDNS reads it, and the plugin built from it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use signpost_corefile::go_text::{parse_duration, to_std};
use signpost_plugin::{CorefileError, Directive, Dispenser, Fallthrough, SetupContext, Zones};
use signpost_wire::Name;

use crate::handler::{Hosts, Tables};
use crate::hostsfile::{self, HostsMap};
use crate::watch::Watch;

/// Everything the directive says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Config {
    /// The hosts file (relative paths already joined to the Corefile's directory).
    pub(crate) path: PathBuf,
    /// Names served; also what is kept from the file.
    pub(crate) zones: Zones,
    /// Hosts-file lines written in the block.
    pub(crate) inline: Vec<String>,
    pub(crate) ttl: u32,
    /// Whether PTR records are made from the entries (off with `no_reverse`).
    pub(crate) reverse: bool,
    /// How often the file is checked; zero disables.
    pub(crate) reload: Duration,
    pub(crate) fall: Fallthrough,
    pub(crate) fall_unsupported: bool,
}

pub(crate) fn setup(
    ctx: &mut SetupContext<'_>,
    directives: &[Directive],
) -> Result<(), CorefileError> {
    let directive = SetupContext::once("hosts", directives)?;
    // Relative paths are taken from the working directory, as CoreDNS does without `root`.
    let base: Option<&Path> = None;
    let config = parse(directive, ctx.zones(), base).map_err(|e| e.with_plugin("hosts"))?;

    let inline = config.inline.join("\n");
    let tables = Arc::new(Tables {
        file: ArcSwap::from_pointee(HostsMap::default()),
        inline: hostsfile::parse(inline.as_bytes(), &config.zones, config.reverse),
    });
    ctx.add_plugin(Arc::new(Hosts {
        zones: config.zones.clone(),
        fall: config.fall.clone(),
        fall_unsupported: config.fall_unsupported,
        ttl: config.ttl,
        tables: Arc::clone(&tables),
    }));

    let watch = Arc::new(Watch::new(
        config.path,
        config.zones,
        config.reverse,
        tables,
    ));
    let task = Arc::new(Mutex::new(None));
    let reload = config.reload;
    let started = Arc::clone(&task);
    ctx.on_startup(move |rt| watch.start(rt, reload, &started));
    ctx.on_shutdown(move |_| {
        if let Some(handle) = task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            handle.abort();
        }
        Box::pin(async {})
    });
    Ok(())
}

/// Read one `hosts` directive. `block_zones` are the server block's zones, `base` the
/// directory relative file names are taken from.
pub(crate) fn parse(
    directive: &Directive,
    block_zones: &[Name],
    base: Option<&Path>,
) -> Result<Config, CorefileError> {
    let mut d = Dispenser::new(directive);
    d.next();
    let mut args = d.remaining_args();
    let mut path = PathBuf::from("/etc/hosts");
    if !args.is_empty() {
        path = PathBuf::from(args.remove(0));
        if let Some(base) = base.filter(|_| path.is_relative()) {
            path = base.join(path);
        }
    }
    let zones = Zones::parse_or(&d, &args, block_zones)?;
    let mut c = Config {
        path,
        zones,
        inline: Vec::new(),
        ttl: 3600,
        reverse: true,
        reload: Duration::from_secs(5),
        fall: Fallthrough::default(),
        fall_unsupported: false,
    };
    while d.next_block() {
        let property = d.val().to_string();
        match property.as_str() {
            "fallthrough" => c.fall = Fallthrough::parse(&mut d)?,
            "fallthrough_unsupported" => {
                if !d.remaining_args().is_empty() {
                    return Err(d.arg_err());
                }
                c.fall_unsupported = true;
            }
            // Takes no arguments, and (as in CoreDNS) does not consume any either: a word after
            // it is read as the next property or inline line.
            "no_reverse" => c.reverse = false,
            "ttl" => c.ttl = ttl(&mut d)?,
            "reload" => c.reload = reload(&mut d)?,
            // Until `fallthrough` is seen, any other line is a hosts-file line.
            _ if c.fall.is_off() => {
                let mut line = property;
                for arg in d.remaining_args() {
                    line.push(' ');
                    line.push_str(&arg);
                }
                c.inline.push(line);
            }
            _ => return Err(d.err(format!("unknown property '{property}'"))),
        }
    }
    if c.fall_unsupported && c.fall.is_off() {
        return Err(d.err("fallthrough_unsupported requires fallthrough"));
    }
    Ok(c)
}

fn ttl(d: &mut Dispenser<'_>) -> Result<u32, CorefileError> {
    let args = d.remaining_args();
    let first = args
        .first()
        .ok_or_else(|| d.err("ttl needs a time in second"))?;
    let ttl: i64 = first
        .parse()
        .map_err(|_| d.err("ttl needs a number of second"))?;
    if !(1..=65535).contains(&ttl) {
        return Err(d.err("ttl provided is invalid"));
    }
    Ok(ttl as u32)
}

fn reload(d: &mut Dispenser<'_>) -> Result<Duration, CorefileError> {
    let args = d.remaining_args();
    let [text] = args.as_slice() else {
        return Err(d.err("reload needs a duration (zero seconds to disable)"));
    };
    let nanos =
        parse_duration(text).map_err(|_| d.err(format!("invalid duration for reload '{text}'")))?;
    if nanos < 0 {
        return Err(d.err(format!("invalid negative duration for reload '{text}'")));
    }
    Ok(to_std(nanos))
}
