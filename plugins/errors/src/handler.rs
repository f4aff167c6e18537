//! The error logger and its consolidation windows.
//!
//! A `consolidate` pattern counts matching errors instead of logging each one. The first
//! match opens a window of the pattern's duration; when it closes, one summary line
//! (`3 errors like '<regexp>' occurred in last 30s`) is written and the count starts over.
//! Counting is one atomic add; only opening a window schedules a timer.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use regex_lite::Regex;
use signpost_corefile::go_text::{format_duration, to_std};
use signpost_log::mnemonic::TypeText;
use signpost_log::output;
use signpost_wire::{Name, Rcode};

/// Log level of a consolidation pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `[WARNING]`.
    Warning,
    /// `[ERROR]` (the default).
    Error,
    /// `[INFO]`.
    Info,
    /// `[DEBUG]`: CoreDNS prints these only with its *debug* plugin; signpost drops them.
    Debug,
}

impl Level {
    /// Parse a level name as written after `consolidate DURATION REGEXP`.
    pub fn from_name(s: &str) -> Option<Level> {
        Some(match s {
            "warning" => Level::Warning,
            "error" => Level::Error,
            "info" => Level::Info,
            "debug" => Level::Debug,
            _ => return None,
        })
    }

    fn prefix(self) -> Option<&'static str> {
        match self {
            Level::Warning => Some("[WARNING] plugin/errors: "),
            Level::Error => Some("[ERROR] plugin/errors: "),
            Level::Info => Some("[INFO] plugin/errors: "),
            Level::Debug => None,
        }
    }

    /// Write `msg` at this level.
    fn log(self, msg: &str) {
        if let Some(prefix) = self.prefix() {
            output::line(|b| {
                b.extend_from_slice(prefix.as_bytes());
                b.extend_from_slice(msg.as_bytes());
            });
        }
    }
}

/// One `consolidate` line.
#[derive(Debug)]
pub struct Pattern {
    /// Length of a window.
    pub period: Duration,
    /// The window as written in summaries (Go's `Duration.String`).
    pub period_text: String,
    /// The regular expression.
    pub regex: Regex,
    /// Level of the summary (and of the first error with `show_first`).
    pub level: Level,
    /// Log the first error of a window right away.
    pub show_first: bool,
    count: AtomicU32,
}

impl Pattern {
    /// A pattern with an empty window.
    pub fn new(period_nanos: i64, regex: Regex, level: Level, show_first: bool) -> Pattern {
        Pattern {
            period: to_std(period_nanos),
            period_text: format_duration(period_nanos),
            regex,
            level,
            show_first,
            count: AtomicU32::new(0),
        }
    }
}

/// Shared state of one `errors` plugin instance (timers hold it too).
#[derive(Debug, Default)]
pub struct Handler {
    patterns: Vec<Pattern>,
    stopped: AtomicBool,
    runtime: OnceLock<tokio::runtime::Handle>,
}

impl Handler {
    /// A handler with these patterns, in order (the first match wins).
    pub fn new(patterns: Vec<Pattern>) -> Handler {
        Handler {
            patterns,
            ..Handler::default()
        }
    }

    /// Use this runtime for window timers (set at server start-up).
    pub fn set_runtime(&self, handle: tokio::runtime::Handle) {
        let _ = self.runtime.set(handle);
    }

    /// Log (or count) one error: `RCODE QNAME QTYPE: ERROR`, with the rcode as a number.
    pub fn report(self: &Arc<Self>, rcode: Rcode, qname: &Name, qtype: u16, error: &str) {
        let mut level = Level::Error;
        if let Some(i) = self.patterns.iter().position(|p| p.regex.is_match(error)) {
            if self.consolidate(i) {
                return;
            }
            level = self.patterns[i].level;
        }
        level.log(&format!("{rcode} {qname} {}: {error}", TypeText(qtype)));
    }

    /// Count an error against pattern `i`. True when it is absorbed into the window; false
    /// when the caller must log it (stopped, or the first of a `show_first` window).
    fn consolidate(self: &Arc<Self>, i: usize) -> bool {
        if self.stopped.load(Ordering::Acquire) {
            return false;
        }
        let p = &self.patterns[i];
        if p.count.fetch_add(1, Ordering::AcqRel) == 0 {
            self.open_window(i);
            return !p.show_first;
        }
        true
    }

    /// Schedule the summary of pattern `i` at the end of its window.
    fn open_window(self: &Arc<Self>, i: usize) {
        let me = Arc::clone(self);
        let period = self.patterns[i].period;
        let handle = self
            .runtime
            .get()
            .cloned()
            .or_else(|| tokio::runtime::Handle::try_current().ok());
        match handle {
            Some(h) => {
                h.spawn(async move {
                    tokio::time::sleep(period).await;
                    me.summarize(i);
                });
            }
            None => {
                std::thread::spawn(move || {
                    std::thread::sleep(period);
                    me.summarize(i);
                });
            }
        }
    }

    /// Write the summary of pattern `i` and start a new window.
    pub fn summarize(&self, i: usize) {
        let p = &self.patterns[i];
        let n = p.count.swap(0, Ordering::AcqRel);
        if n == 0 || (n == 1 && p.show_first) {
            return;
        }
        p.level.log(&format!(
            "{n} errors like '{}' occurred in last {}",
            p.regex.as_str(),
            p.period_text
        ));
    }

    /// Stop consolidating and write the summaries of open windows (configuration retired).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        for i in 0..self.patterns.len() {
            self.summarize(i);
        }
    }

    /// The patterns.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }
}
