//! Go standard-library texts, for plugins whose options CoreDNS reads with Go's parsers.
//!
//! CoreDNS hands Go's own error messages straight to the user (`time: invalid duration "5x"`,
//! `strconv.Atoi: parsing "x": invalid syntax`, `address localhost: missing port in address`)
//! and prints values with Go's formatting (`1m30s`, `1.5µs`). A Corefile copied between
//! CoreDNS and signpost must be accepted or rejected alike, with the same words, so every
//! plugin reads and writes these values here rather than with Rust's parsers:
//!
//! - durations: [`parse_duration`] (`time.ParseDuration`), [`format_duration`]
//!   (`time.Duration.String`), [`seconds`] (`Duration.Seconds`), and the [`GoDuration`]
//!   type with conversions to and from [`std::time::Duration`];
//! - integers: [`atoi`], [`parse_int`] and [`parse_uint`] (`strconv`);
//! - quoting: [`quote`] and [`quote_rune`] (`%q`, `strconv.Quote`/`QuoteRune`);
//! - addresses: [`split_host_port`] and [`join_host_port`] (`net`);
//! - [`os_error_text`]: the wording Go gives an operating-system error.

mod duration;
mod host_port;
mod number;
mod quote;

#[cfg(test)]
mod tests;

pub use duration::{
    format_duration, format_std_duration, from_std, parse_duration, parse_std_duration, seconds,
    to_std, GoDuration, HOUR, MICROSECOND, MILLISECOND, MINUTE, NANOSECOND, SECOND,
};
pub use host_port::{join_host_port, split_host_port};
pub use number::{atoi, parse_int, parse_uint};
pub use quote::{os_error_text, quote, quote_rune};
