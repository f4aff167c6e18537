//! Reading one `forward FROM TO... { ... }` stanza, with CoreDNS's defaults and error texts.

use std::net::IpAddr;
use std::time::Duration;

use signpost_corefile::go_text::{
    atoi, format_duration, from_std, parse_duration, parse_uint, to_std,
};
use signpost_corefile::{normalize_zone, Dispenser, Error};
use signpost_wire::{rcode, Name, Rcode};

use crate::policy::Policy;
use crate::rcode_text;
use crate::targets::{parse_targets, Targets, MAX_TO};

/// Default idle time of a cached connection.
pub(crate) const DEFAULT_EXPIRE: Duration = Duration::from_secs(10);
/// Default time to wait for an answer.
pub(crate) const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Default pause between failed health checks.
pub(crate) const DEFAULT_HC_INTERVAL: Duration = Duration::from_millis(500);
/// Default failed health checks tolerated.
pub(crate) const DEFAULT_MAX_FAILS: u32 = 2;

/// Everything one stanza says.
#[derive(Debug)]
pub(crate) struct Config {
    /// The zone forwarded (FROM).
    pub(crate) from: Name,
    /// Names under FROM that are not forwarded (`except`).
    pub(crate) ignored: Vec<Name>,
    /// The upstreams (TO).
    pub(crate) targets: Targets,
    /// `force_tcp`.
    pub(crate) force_tcp: bool,
    /// `prefer_udp`.
    pub(crate) prefer_udp: bool,
    /// `expire`.
    pub(crate) expire: Duration,
    /// `max_age` (zero: none).
    pub(crate) max_age: Duration,
    /// `max_idle_conns` (zero: no limit).
    pub(crate) max_idle_conns: usize,
    /// `read_timeout`.
    pub(crate) read_timeout: Duration,
    /// `max_fails`.
    pub(crate) max_fails: u32,
    /// `max_connect_attempts`, if given (else twice the number of upstreams).
    pub(crate) max_connect_attempts: Option<u32>,
    /// `health_check` interval.
    pub(crate) hc_interval: Duration,
    /// Health checks ask with RD (cleared by `no_rec`).
    pub(crate) hc_recursion_desired: bool,
    /// Health check name (`domain`).
    pub(crate) hc_domain: Name,
    /// `policy`.
    pub(crate) policy: Policy,
    /// `max_concurrent` (zero: no limit).
    pub(crate) max_concurrent: i64,
    /// The error reported when `max_concurrent` rejects a query.
    pub(crate) limit_error: String,
    /// `next`.
    pub(crate) next_rcodes: Vec<Rcode>,
    /// `next_on_nodata`.
    pub(crate) next_on_nodata: bool,
    /// `failfast_all_unhealthy_upstreams`.
    pub(crate) failfast: bool,
    /// `failover`.
    pub(crate) failover_rcodes: Vec<Rcode>,
    /// `source_address`.
    pub(crate) source_address: Option<IpAddr>,
}

impl Config {
    fn new(from: Name, targets: Targets) -> Config {
        Config {
            from,
            ignored: Vec::new(),
            targets,
            force_tcp: false,
            prefer_udp: false,
            expire: DEFAULT_EXPIRE,
            max_age: Duration::ZERO,
            max_idle_conns: 0,
            read_timeout: DEFAULT_READ_TIMEOUT,
            max_fails: DEFAULT_MAX_FAILS,
            max_connect_attempts: None,
            hc_interval: DEFAULT_HC_INTERVAL,
            hc_recursion_desired: true,
            hc_domain: Name::root(),
            policy: Policy::Random,
            max_concurrent: 0,
            limit_error: String::new(),
            next_rcodes: Vec::new(),
            next_on_nodata: false,
            failfast: false,
            failover_rcodes: Vec::new(),
            source_address: None,
        }
    }
}

fn perr(e: Error) -> Error {
    e.with_plugin("forward")
}

/// Read one stanza; the dispenser sits before the `forward` token.
pub(crate) fn parse_stanza(d: &mut Dispenser<'_>) -> Result<Config, Error> {
    d.next();
    if !d.next_arg() {
        return Err(perr(d.arg_err()));
    }
    let from_text = d.val().to_string();
    let from = match normalize_zone(&from_text) {
        Ok(zones) if !zones.is_empty() => {
            if zones.len() > 1 {
                tracing::warn!(
                    "plugin/forward: Unsupported CIDR notation: '{from_text}' expands to \
                     multiple zones. Using only '{}'.",
                    zones[0]
                );
            }
            zones[0].clone()
        }
        _ => return Err(perr(d.err(format!("unable to normalize '{from_text}'")))),
    };
    let from = Name::from_text(&from)
        .map_err(|_| perr(d.err(format!("unable to normalize '{from_text}'"))))?;
    let to = d.remaining_args();
    if to.is_empty() {
        return Err(perr(d.arg_err()));
    }
    // TO problems are reported at the TO line, after the options were read (CoreDNS's order).
    let to_pos = d.clone();

    let mut cfg = Config::new(from, Targets::default());
    while d.next_block() {
        parse_option(d, &mut cfg).map_err(perr)?;
    }
    if !cfg.max_age.is_zero() && cfg.max_age < cfg.expire {
        return Err(perr(to_pos.err(format!(
            "max_age ({}) must not be less than expire ({})",
            format_duration(from_std(cfg.max_age)),
            format_duration(from_std(cfg.expire))
        ))));
    }
    cfg.targets = parse_targets(&to).map_err(|m| perr(to_pos.err(m)))?;
    if cfg.targets.entries > MAX_TO {
        return Err(perr(to_pos.err(format!(
            "more than {MAX_TO} TOs configured: {}",
            cfg.targets.entries
        ))));
    }
    Ok(cfg)
}

/// A duration argument: Go's syntax, never negative.
fn duration_arg(d: &mut Dispenser<'_>, what: &str) -> Result<Duration, Error> {
    if !d.next_arg() {
        return Err(d.arg_err());
    }
    let nanos = parse_duration(d.val()).map_err(|m| d.err(m))?;
    if nanos < 0 {
        return Err(d.err(format!(
            "{what} can't be negative: {}",
            format_duration(nanos)
        )));
    }
    Ok(to_std(nanos))
}

/// The value of a `uint32` option.
fn uint_arg(d: &mut Dispenser<'_>) -> Result<u32, Error> {
    if !d.next_arg() {
        return Err(d.arg_err());
    }
    // ParseUint with 32 bits: the value always fits.
    parse_uint(d.val(), 32)
        .map(|v| v as u32)
        .map_err(|m| d.err(m))
}

/// A flag option: no arguments.
fn flag(d: &mut Dispenser<'_>) -> Result<bool, Error> {
    if d.next_arg() {
        return Err(d.arg_err());
    }
    Ok(true)
}

/// Rcode names for `next` and `failover`.
fn rcodes_arg(d: &mut Dispenser<'_>) -> Result<Vec<Rcode>, Error> {
    let args = d.remaining_args();
    if args.is_empty() {
        return Err(d.arg_err());
    }
    args.iter()
        .map(|a| rcode_text::parse(a).ok_or_else(|| d.err(format!("{a} is not a valid rcode"))))
        .collect()
}

fn parse_option(d: &mut Dispenser<'_>, cfg: &mut Config) -> Result<(), Error> {
    match d.val() {
        "except" => {
            let ignore = d.remaining_args();
            if ignore.is_empty() {
                return Err(d.arg_err());
            }
            // As CoreDNS: names that do not normalize are silently dropped.
            for name in ignore {
                for zone in normalize_zone(&name).unwrap_or_default() {
                    if let Ok(n) = Name::from_text(&zone) {
                        cfg.ignored.push(n);
                    }
                }
            }
        }
        "max_fails" => cfg.max_fails = uint_arg(d)?,
        "max_connect_attempts" => cfg.max_connect_attempts = Some(uint_arg(d)?),
        "health_check" => {
            cfg.hc_interval = health_interval(d)?;
            cfg.hc_domain = Name::root();
            while d.next_arg() {
                match d.val() {
                    "no_rec" => cfg.hc_recursion_desired = false,
                    "domain" => {
                        if !d.next_arg() {
                            return Err(d.arg_err());
                        }
                        let text = d.val().to_string();
                        cfg.hc_domain = health_domain(&text).ok_or_else(|| {
                            d.err(format!("health_check: invalid domain name {text}"))
                        })?;
                    }
                    other => {
                        return Err(d.err(format!("health_check: unknown option {other}")));
                    }
                }
            }
        }
        "force_tcp" => cfg.force_tcp = flag(d)?,
        "prefer_udp" => cfg.prefer_udp = flag(d)?,
        "tls" | "tls_servername" => {
            let what = d.val().to_string();
            return Err(d.err(format!(
                "{what} is not supported: this forward speaks plain DNS over UDP and TCP only \
                 (no DNS-over-TLS)"
            )));
        }
        "expire" => cfg.expire = duration_arg(d, "expire")?,
        "max_age" => cfg.max_age = duration_arg(d, "max_age")?,
        "max_idle_conns" => {
            let n = int_arg(d)?;
            if n < 0 {
                return Err(d.err(format!("max_idle_conns can't be negative: {n}")));
            }
            cfg.max_idle_conns = usize::try_from(n).unwrap_or(usize::MAX);
        }
        "read_timeout" => {
            if !d.next_arg() {
                return Err(d.arg_err());
            }
            let nanos = parse_duration(d.val()).map_err(|m| d.err(m))?;
            if nanos <= 0 {
                return Err(d.err(format!(
                    "read_timeout must be positive: {}",
                    format_duration(nanos)
                )));
            }
            cfg.read_timeout = to_std(nanos);
        }
        "doh_method" => {
            if !d.next_arg() {
                return Err(d.arg_err());
            }
            if !matches!(d.val(), "POST" | "GET") {
                return Err(d.err("doh_method must be either POST or GET"));
            }
        }
        "policy" => {
            if !d.next_arg() {
                return Err(d.arg_err());
            }
            cfg.policy = match d.val() {
                "random" => Policy::Random,
                "round_robin" => Policy::RoundRobin(Default::default()),
                "sequential" => Policy::Sequential,
                other => return Err(d.err(format!("unknown policy '{other}'"))),
            };
        }
        "max_concurrent" => {
            let n = int_arg(d)?;
            if n < 0 {
                return Err(d.err(format!("max_concurrent can't be negative: {n}")));
            }
            cfg.limit_error = format!("concurrent queries exceeded maximum {}", d.val());
            cfg.max_concurrent = n;
        }
        "next" => cfg.next_rcodes.extend(rcodes_arg(d)?),
        "next_on_nodata" => cfg.next_on_nodata = flag(d)?,
        "failfast_all_unhealthy_upstreams" => {
            if !d.remaining_args().is_empty() {
                return Err(d.arg_err());
            }
            cfg.failfast = true;
        }
        "failover" => {
            for rc in rcodes_arg(d)? {
                if rc == rcode::NOERROR {
                    return Err(d.err("NoError cannot be used in failover"));
                }
                cfg.failover_rcodes.push(rc);
            }
        }
        "source_address" => {
            if !d.next_arg() {
                return Err(d.arg_err());
            }
            let ip: IpAddr = d
                .val()
                .parse()
                .map_err(|_| d.err(format!("invalid IP address: {}", d.val())))?;
            cfg.source_address = Some(match ip {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
                v4 => v4,
            });
        }
        "resolver" => {
            return Err(d.err(
                "resolver is not supported: upstreams must be IP addresses or resolv.conf files",
            ));
        }
        other => return Err(d.err(format!("unknown property '{other}'"))),
    }
    Ok(())
}

/// `strconv.Atoi` of the next argument.
fn int_arg(d: &mut Dispenser<'_>) -> Result<i64, Error> {
    if !d.next_arg() {
        return Err(d.arg_err());
    }
    atoi(d.val()).map_err(|m| d.err(m))
}

/// The `health_check` interval; CoreDNS prints a negative one as nanoseconds.
fn health_interval(d: &mut Dispenser<'_>) -> Result<Duration, Error> {
    if !d.next_arg() {
        return Err(d.arg_err());
    }
    let nanos = parse_duration(d.val()).map_err(|m| d.err(m))?;
    if nanos < 0 {
        return Err(d.err(format!("health_check can't be negative: {nanos}")));
    }
    Ok(to_std(nanos))
}

/// A `health_check domain` name, fully qualified and lower-cased.
fn health_domain(text: &str) -> Option<Name> {
    Name::from_text(text).ok().map(|n| n.lowercase())
}
