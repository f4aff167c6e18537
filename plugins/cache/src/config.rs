//! The `cache` directive: options, defaults and their checks, as CoreDNS reads them.

use signpost_corefile::go_text::{atoi, parse_duration, quote, quote_rune, GoDuration, SECOND};
use signpost_corefile::{Directive, Dispenser, Error};
use signpost_plugin::Zones;
use signpost_wire::Name;

/// Largest TTL for positive answers unless configured (`dnsutil.MaximumDefaultTTL`).
pub(crate) const MAX_TTL: GoDuration = 3600 * SECOND;
/// Largest TTL for denials unless configured.
pub(crate) const MAX_NTTL: GoDuration = 1800 * SECOND;
/// Smallest TTL (`dnsutil.MinimalDefaultTTL`); also the SERVFAIL caching time.
pub(crate) const MIN_TTL: GoDuration = 5 * SECOND;
/// Capacity of each cache unless configured (9984 once spread over the shards).
pub(crate) const DEFAULT_CAP: i64 = 10000;
/// `servfail` may not exceed this (RFC 2308 §7.1).
const MAX_FAIL_TTL: GoDuration = 300 * SECOND;
/// `FAILURE_RECHECK` may not exceed this (RFC 8767 §5).
const MAX_RECHECK: GoDuration = 300 * SECOND;

const SUCCESS: &str = "success";
const DENIAL: &str = "denial";

/// Everything the `cache` directive configures.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Config {
    /// Zones cached (the block's zones unless given).
    pub zones: Zones,
    /// The zones joined with "," (the `zones` metric label).
    pub zones_label: String,
    /// Success cache capacity as configured.
    pub pcap: i64,
    /// Largest TTL for positive answers.
    pub pttl: GoDuration,
    /// Smallest TTL for positive answers.
    pub minpttl: GoDuration,
    /// Denial cache capacity as configured.
    pub ncap: i64,
    /// Largest TTL for denials.
    pub nttl: GoDuration,
    /// Smallest TTL for denials.
    pub minnttl: GoDuration,
    /// How long SERVFAIL (and NOTIMP) answers are kept; 0 disables.
    pub failttl: GoDuration,
    /// Hits needed before an item is prefetched; 0 disables prefetch.
    pub prefetch: i64,
    /// Longest gap between hits that still counts as popular.
    pub duration: GoDuration,
    /// Prefetch once the remaining TTL falls to this percentage of the original.
    pub percentage: i64,
    /// Serve expired entries for up to this long; 0 disables serve_stale.
    pub stale_up_to: GoDuration,
    /// `verify`: ask upstream before serving an expired entry.
    pub verify_stale: bool,
    /// How long `verify` waits for upstream; 0 waits for upstream's own timeout.
    pub verify_timeout: GoDuration,
    /// TTL of stale answers (whole seconds); 0 keeps the legacy TTL of 0.
    pub stale_ttl: GoDuration,
    /// Minimum time between failed refreshes of one stale entry; 0 disables the limit.
    pub stale_recheck: GoDuration,
    /// `serve_stale_policy prefer_positive`.
    pub prefer_positive: bool,
    /// Zones whose positive answers are not cached.
    pub pexcept: Vec<Name>,
    /// Zones whose denials are not cached.
    pub nexcept: Vec<Name>,
    /// Serve the original TTL instead of the remaining one.
    pub keepttl: bool,
}

impl Config {
    /// The defaults, for `zones`.
    pub(crate) fn new(zones: Zones) -> Config {
        let zones_label = zone_label(&zones);
        Config {
            zones,
            zones_label,
            pcap: DEFAULT_CAP,
            pttl: MAX_TTL,
            minpttl: MIN_TTL,
            ncap: DEFAULT_CAP,
            nttl: MAX_NTTL,
            minnttl: MIN_TTL,
            failttl: MIN_TTL,
            prefetch: 0,
            duration: 60 * SECOND,
            percentage: 10,
            stale_up_to: 0,
            verify_stale: false,
            verify_timeout: 0,
            stale_ttl: 0,
            stale_recheck: 0,
            prefer_positive: false,
            pexcept: Vec::new(),
            nexcept: Vec::new(),
            keepttl: false,
        }
    }

    /// Read the directive; `block_zones` are the server block's zones.
    pub(crate) fn parse(directive: &Directive, block_zones: &[Name]) -> Result<Config, Error> {
        let mut d = Dispenser::new(directive);
        d.next();
        parse_directive(&mut d, block_zones).map_err(|e| e.with_plugin("cache"))
    }
}

fn zone_label(zones: &Zones) -> String {
    zones
        .names()
        .iter()
        .map(Name::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_directive(d: &mut Dispenser<'_>, block_zones: &[Name]) -> Result<Config, Error> {
    let mut args = d.remaining_args();
    let mut max_ttl = None;
    // The first argument is the TTL when it is a number, otherwise a zone.
    if let Some(first) = args.first() {
        if let Ok(ttl) = atoi(first) {
            max_ttl = Some(positive_ttl(d, ttl)?);
            args.remove(0);
        }
    }
    let zones = Zones::parse_or(d, &args, block_zones)?;
    let mut c = Config::new(zones);
    if let Some(ttl) = max_ttl {
        c.pttl = ttl;
        c.nttl = ttl;
    }
    let mut serve_stale_seen = false;
    let mut policy_seen = false;
    while d.next_block() {
        match d.val() {
            SUCCESS => {
                let (cap, ttl, min) = capacity_line(d)?;
                c.pcap = cap;
                c.pttl = ttl.unwrap_or(c.pttl);
                c.minpttl = min.unwrap_or(c.minpttl);
            }
            DENIAL => {
                let (cap, ttl, min) = capacity_line(d)?;
                c.ncap = cap;
                c.nttl = ttl.unwrap_or(c.nttl);
                c.minnttl = min.unwrap_or(c.minnttl);
            }
            "prefetch" => prefetch_line(d, &mut c)?,
            "serve_stale" => {
                serve_stale_seen = true;
                serve_stale_line(d, &mut c)?;
            }
            "serve_stale_policy" => {
                if policy_seen {
                    return Err(d.err("serve_stale_policy can only be specified once"));
                }
                policy_seen = true;
                let args = d.remaining_args();
                if args.len() != 1 {
                    return Err(d.arg_err());
                }
                if !args[0].eq_ignore_ascii_case("prefer_positive") {
                    return Err(d.err(format!("invalid serve_stale_policy: {}", args[0])));
                }
                c.prefer_positive = true;
            }
            "servfail" => {
                let args = d.remaining_args();
                if args.len() != 1 {
                    return Err(d.arg_err());
                }
                let v = parse_duration(&args[0]).map_err(|e| d.err(e))?;
                if v < 0 {
                    return Err(d.err("invalid negative ttl for servfail"));
                }
                if v > MAX_FAIL_TTL {
                    return Err(d.err("caching SERVFAIL responses over 5 minutes is not permitted"));
                }
                c.failttl = v;
            }
            "disable" => {
                let args = d.remaining_args();
                if args.is_empty() {
                    return Err(d.arg_err());
                }
                let mut zones = Vec::new();
                for z in &args[1..] {
                    let n = Name::from_text(&z.to_ascii_lowercase())
                        .map_err(|_| d.err(format!("invalid disabled zone: {z}")))?;
                    zones.push(n);
                }
                if zones.is_empty() {
                    zones.push(Name::root());
                }
                match args[0].as_str() {
                    DENIAL => c.nexcept = zones,
                    SUCCESS => c.pexcept = zones,
                    _ => {
                        return Err(d.err(format!(
                            "cache type for disable must be {} or {}",
                            quote(SUCCESS),
                            quote(DENIAL)
                        )))
                    }
                }
            }
            "keepttl" => {
                if !d.remaining_args().is_empty() {
                    return Err(d.arg_err());
                }
                c.keepttl = true;
            }
            _ => return Err(d.arg_err()),
        }
    }
    if policy_seen && !serve_stale_seen {
        return Err(d.err("serve_stale_policy requires serve_stale"));
    }
    Ok(c)
}

/// A TTL argument: whole seconds, more than zero.
fn positive_ttl(d: &Dispenser<'_>, ttl: i64) -> Result<GoDuration, Error> {
    if ttl <= 0 {
        return Err(d.err(format!("cache TTL can not be zero or negative: {ttl}")));
    }
    Ok(ttl.saturating_mul(SECOND))
}

/// `success|denial CAPACITY [TTL] [MINTTL]` (arguments past MINTTL are ignored, as in
/// CoreDNS).
type CapacityLine = (i64, Option<GoDuration>, Option<GoDuration>);

fn capacity_line(d: &mut Dispenser<'_>) -> Result<CapacityLine, Error> {
    let args = d.remaining_args();
    if args.is_empty() {
        return Err(d.arg_err());
    }
    let cap = atoi(&args[0]).map_err(|e| d.err(e))?;
    let mut ttl = None;
    let mut min = None;
    if let Some(a) = args.get(1) {
        let v = atoi(a).map_err(|e| d.err(e))?;
        ttl = Some(positive_ttl(d, v)?);
        if let Some(a) = args.get(2) {
            let v = atoi(a).map_err(|e| d.err(e))?;
            if v < 0 {
                return Err(d.err(format!("cache min TTL can not be negative: {v}")));
            }
            min = Some(v.saturating_mul(SECOND));
        }
    }
    Ok((cap, ttl, min))
}

/// `prefetch AMOUNT [[DURATION] [PERCENTAGE%]]`.
fn prefetch_line(d: &mut Dispenser<'_>, c: &mut Config) -> Result<(), Error> {
    let args = d.remaining_args();
    if args.is_empty() || args.len() > 3 {
        return Err(d.arg_err());
    }
    let amount = atoi(&args[0]).map_err(|e| d.err(e))?;
    if amount < 0 {
        return Err(d.err(format!("prefetch amount should be positive: {amount}")));
    }
    c.prefetch = amount;
    if let Some(a) = args.get(1) {
        c.duration = parse_duration(a).map_err(|e| d.err(e))?;
    }
    if let Some(pct) = args.get(2) {
        // Go looks at the last byte; tokens are never empty.
        let last = *pct.as_bytes().last().unwrap_or(&0);
        if last != b'%' {
            return Err(d.err(format!(
                "last character of percentage should be `%`, but is: {}",
                quote_rune(char::from(last))
            )));
        }
        let num = atoi(&pct[..pct.len() - 1]).map_err(|e| d.err(e))?;
        if !(10..=90).contains(&num) {
            return Err(d.err(format!("percentage should fall in range [10, 90]: {num}")));
        }
        c.percentage = num;
    }
    Ok(())
}

/// `serve_stale [DURATION] [immediate [RESPONSE_TTL [FAILURE_RECHECK]] |
/// verify [VERIFY_TIMEOUT [RESPONSE_TTL [FAILURE_RECHECK]]]]`.
fn serve_stale_line(d: &mut Dispenser<'_>, c: &mut Config) -> Result<(), Error> {
    let args = d.remaining_args();
    if args.len() > 5 {
        return Err(d.arg_err());
    }
    c.stale_up_to = 3600 * SECOND;
    c.stale_ttl = 0;
    c.stale_recheck = 0;
    if let Some(a) = args.first() {
        let v = parse_duration(a).map_err(|e| d.err(e))?;
        if v < 0 {
            return Err(d.err("invalid negative duration for serve_stale"));
        }
        c.stale_up_to = v;
    }
    c.verify_stale = false;
    c.verify_timeout = 0;
    if let Some(a) = args.get(1) {
        let mode = a.to_ascii_lowercase();
        if mode != "immediate" && mode != "verify" {
            return Err(d.err(format!(
                "invalid value for serve_stale refresh mode: {mode}"
            )));
        }
        c.verify_stale = mode == "verify";
    }
    if args.len() > 2 {
        let mut rest = &args[2..];
        if c.verify_stale {
            let t = parse_duration(&rest[0])
                .map_err(|e| d.err(format!("invalid serve_stale verify timeout: {e}")))?;
            if t < 0 {
                return Err(d.err("invalid negative timeout for serve_stale verify"));
            }
            c.verify_timeout = t;
            rest = &rest[1..];
        } else if args.len() > 4 {
            return Err(d.arg_err());
        }
        if let Some(a) = rest.first() {
            c.stale_ttl = stale_ttl(a).map_err(|e| d.err(e))?;
        }
        if let Some(a) = rest.get(1) {
            c.stale_recheck = stale_recheck(a).map_err(|e| d.err(e))?;
        }
    }
    Ok(())
}

fn stale_ttl(value: &str) -> Result<GoDuration, String> {
    let ttl =
        parse_duration(value).map_err(|e| format!("invalid serve_stale response TTL: {e}"))?;
    if ttl < 0 {
        return Err("invalid negative response TTL for serve_stale".into());
    }
    if ttl % SECOND != 0 {
        return Err("serve_stale response TTL must be a whole number of seconds".into());
    }
    if ttl / SECOND > i64::from(u32::MAX) {
        return Err("serve_stale response TTL exceeds the DNS TTL range".into());
    }
    Ok(ttl)
}

fn stale_recheck(value: &str) -> Result<GoDuration, String> {
    let v =
        parse_duration(value).map_err(|e| format!("invalid serve_stale failure recheck: {e}"))?;
    if v < 0 {
        return Err("invalid negative failure recheck for serve_stale".into());
    }
    if v > MAX_RECHECK {
        return Err("serve_stale failure recheck cannot exceed 5 minutes".into());
    }
    Ok(v)
}

#[cfg(test)]
mod tests;
