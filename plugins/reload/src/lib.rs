#![doc = include_str!("../README.md")]

mod fingerprint;
mod watcher;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use signpost_corefile::go_text::{parse_duration, GoDuration, SECOND};
use signpost_corefile::{Directive, Dispenser, Error};
use signpost_plugin::{PluginDef, SetupContext};

use watcher::Watcher;

/// The `reload` directive.
pub const PLUGIN: PluginDef = PluginDef {
    name: "reload",
    setup,
};

const NAME: &str = "reload";
/// CoreDNS's `plugin.ErrOnce`.
const ONCE: &str = "this plugin can only be used once per Server Block";
const MIN_INTERVAL: GoDuration = 2 * SECOND;
const MIN_JITTER: GoDuration = SECOND;
const DEFAULT_INTERVAL: GoDuration = 30 * SECOND;
const DEFAULT_JITTER: GoDuration = 15 * SECOND;
const MAX_PERIOD: Duration = Duration::from_secs(365 * 24 * 3600);

/// Interval and jitter as configured (nanoseconds), jitter already capped at half the
/// interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Config {
    interval: GoDuration,
    jitter: GoDuration,
}

impl Config {
    /// The check period of this configuration: the interval moved by a random amount in
    /// `[-jitter/2, jitter/2)`, drawn once, so that replicas sharing a Corefile spread
    /// their checks while each keeps a regular period. Absurdly long periods are capped
    /// at a year, which keeps the timer arithmetic far from overflowing.
    fn period(self) -> Duration {
        let mut ns = self.interval;
        if self.jitter > 0 {
            let draw = (random_u64() % self.jitter.unsigned_abs()) as i64;
            ns = ns.saturating_add(draw - self.jitter / 2);
        }
        Duration::from_nanos(ns.unsigned_abs()).min(MAX_PERIOD)
    }
}

/// A random number for the jitter (no need for cryptographic quality: it only spreads the
/// checks of replicas started together). `RandomState` is seeded from the OS per process
/// and differs per call.
fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.write_u128(now);
    h.finish()
}

fn parse(directive: &Directive) -> Result<Config, Error> {
    let mut d = Dispenser::new(directive);
    d.next();
    let args = d.remaining_args();
    if args.len() > 2 {
        return Err(d.arg_err());
    }
    let duration = |text: &str| parse_duration(text).map_err(|e| d.err(e));
    let interval = match args.first() {
        Some(text) => duration(text)?,
        None => DEFAULT_INTERVAL,
    };
    if interval < MIN_INTERVAL {
        return Err(d.err("interval value must be greater or equal to 2s"));
    }
    let mut jitter = match args.get(1) {
        Some(text) => duration(text)?,
        None => DEFAULT_JITTER,
    };
    if jitter != 0 && jitter < MIN_JITTER {
        return Err(d.err("jitter value must be 0 or greater or equal to 1s"));
    }
    if jitter > interval / 2 {
        jitter = interval / 2;
    }
    if d.next_block() {
        return Err(d.err(format!("unknown property '{}'", d.val())));
    }
    Ok(Config { interval, jitter })
}

/// One watcher per configuration, whatever the number of server blocks using `reload`.
#[derive(Default)]
struct Shared(Option<Arc<Watcher>>);

fn setup(ctx: &mut SetupContext<'_>, directives: &[Directive]) -> Result<(), Error> {
    if let Some(second) = directives.get(1) {
        return Err(second.err(ONCE).with_plugin(NAME));
    }
    let Some(directive) = directives.first() else {
        return Ok(());
    };
    let config = parse(directive).map_err(|e| e.with_plugin(NAME))?;
    register(ctx, config.period());
    Ok(())
}

/// Creates the configuration's watcher on the first block that uses `reload` (later blocks
/// only change its period) and ties it to the configuration's start and retirement.
fn register(ctx: &mut SetupContext<'_>, period: Duration) {
    let shared = ctx.parts.shared::<Shared>();
    if let Some(existing) = &shared.0 {
        existing.set_period(period);
        return;
    }
    let w = Watcher::new(period);
    shared.0 = Some(Arc::clone(&w));
    let started = Arc::clone(&w);
    ctx.on_startup(move |rt| {
        started.start(rt);
        Ok(())
    });
    ctx.on_shutdown(move |_final| {
        w.stop();
        Box::pin(async {})
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_corefile::parse as parse_corefile;
    use signpost_plugin::testing;
    use signpost_plugin::{BlockInfo, ConfigParts};

    fn config(text: &str) -> Result<Config, String> {
        let blocks = parse_corefile("Corefile", text).unwrap();
        let d = &blocks[0].directives[0];
        parse(d).map_err(|e| e.with_plugin(NAME).to_string())
    }

    fn ok(interval: i64, jitter: i64) -> Result<Config, String> {
        Ok(Config {
            interval: interval * SECOND,
            jitter: jitter * SECOND,
        })
    }

    #[test]
    fn arguments() {
        for (text, want) in [
            (". {\n    reload\n}", ok(30, 15)),
            (". {\n    reload 10s\n}", ok(10, 5)),
            (". {\n    reload 2s\n}", ok(2, 1)),
            (". {\n    reload 2s 0\n}", ok(2, 0)),
            (". {\n    reload 5s 0s\n}", ok(5, 0)),
            (". {\n    reload 1m 20s\n}", ok(60, 20)),
            (". {\n    reload 1m 1h\n}", ok(60, 30)),
            (
                ". {\n    reload 3s\n}",
                Ok(Config {
                    interval: 3 * SECOND,
                    jitter: 1_500_000_000,
                }),
            ),
            (". {\n    reload 30s 1s\n}", ok(30, 1)),
            (". {\n    reload 10s {\n    }\n}", ok(10, 5)),
        ] {
            assert_eq!(config(text), want, "{text}");
        }
    }

    #[test]
    fn errors() {
        for (text, want) in [
            (
                ". {\n    reload 10s 1s 1s\n}",
                "plugin/reload: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after '1s'",
            ),
            (
                ". {\n    reload 1s\n}",
                "plugin/reload: Corefile:2 - Error during parsing: interval value must be greater or equal to 2s",
            ),
            (
                ". {\n    reload -10s\n}",
                "plugin/reload: Corefile:2 - Error during parsing: interval value must be greater or equal to 2s",
            ),
            (
                ". {\n    reload 0\n}",
                "plugin/reload: Corefile:2 - Error during parsing: interval value must be greater or equal to 2s",
            ),
            (
                ". {\n    reload 10s 500ms\n}",
                "plugin/reload: Corefile:2 - Error during parsing: jitter value must be 0 or greater or equal to 1s",
            ),
            (
                ". {\n    reload 10s -2s\n}",
                "plugin/reload: Corefile:2 - Error during parsing: jitter value must be 0 or greater or equal to 1s",
            ),
            (
                ". {\n    reload 10\n}",
                "plugin/reload: Corefile:2 - Error during parsing: time: missing unit in duration \"10\"",
            ),
            (
                ". {\n    reload abc\n}",
                "plugin/reload: Corefile:2 - Error during parsing: time: invalid duration \"abc\"",
            ),
            (
                ". {\n    reload 10s 5x\n}",
                "plugin/reload: Corefile:2 - Error during parsing: time: unknown unit \"x\" in duration \"5x\"",
            ),
            (
                ". {\n    reload 10s {\n        interval 5s\n    }\n}",
                "plugin/reload: Corefile:3 - Error during parsing: unknown property 'interval'",
            ),
        ] {
            assert_eq!(config(text), Err(want.to_string()), "{text}");
        }
    }

    #[test]
    fn once_per_block() {
        let err = testing::setup(&[PLUGIN], ". {\n    reload\n    reload 10s\n}")
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "plugin/reload: Corefile:3 - Error during parsing: this plugin can only be used once per Server Block"
        );
    }

    #[test]
    fn period_stays_within_jitter() {
        for _ in 0..200 {
            let c = Config {
                interval: 10 * SECOND,
                jitter: 4 * SECOND,
            };
            let p = c.period();
            assert!(
                p >= Duration::from_secs(8) && p < Duration::from_secs(12),
                "{p:?}"
            );
        }
        let c = Config {
            interval: 10 * SECOND,
            jitter: 0,
        };
        assert_eq!(c.period(), Duration::from_secs(10));
        let c = Config {
            interval: i64::MAX,
            jitter: i64::MAX / 2,
        };
        assert_eq!(c.period(), MAX_PERIOD);
    }

    #[test]
    fn setup_registers_hooks_and_no_chain_handler() {
        let (chain, parts) = testing::setup(&[PLUGIN], ". {\n    reload 10s\n}").unwrap();
        assert!(chain.is_empty());
        assert_eq!(parts.startup.len(), 1);
        assert_eq!(parts.shutdown.len(), 1);
        assert!(signpost_metrics::registry()
            .render()
            .contains("\ncoredns_reload_failed_total 0\n"));
    }

    #[test]
    fn one_watcher_per_configuration() {
        let mut parts = ConfigParts::default();
        for (index, secs) in [(0, 10), (1, 20)] {
            let block = BlockInfo {
                keys: Vec::new(),
                zones: Vec::new(),
                index,
            };
            let mut ctx = SetupContext::new(&block, &mut parts);
            register(&mut ctx, Duration::from_secs(secs));
        }
        assert_eq!(parts.startup.len(), 1);
        assert_eq!(parts.shutdown.len(), 1);
        let w = parts.shared::<Shared>().0.clone().unwrap();
        assert_eq!(
            w.period(),
            Duration::from_secs(20),
            "the last block's period wins"
        );
    }

    /// The Corefile examples of the README.
    fn readme_examples() -> Vec<String> {
        let mut out = Vec::new();
        let mut current: Option<String> = None;
        for line in include_str!("../README.md").lines() {
            match (&mut current, line) {
                (None, "```corefile") => current = Some(String::new()),
                (Some(_), "```") => out.extend(current.take()),
                (Some(text), l) => {
                    text.push_str(l);
                    text.push('\n');
                }
                (None, _) => {}
            }
        }
        out
    }

    #[test]
    fn readme_examples_set_up() {
        let examples = readme_examples();
        assert!(!examples.is_empty());
        for text in examples {
            if let Err(e) = testing::setup(&[PLUGIN], &text) {
                panic!("{text}: {e}");
            }
        }
    }
}
