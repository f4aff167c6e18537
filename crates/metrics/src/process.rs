//! Go-client-style `process_*` metrics, read from `/proc/self` at scrape time.
//!
//! Names, help texts and units follow `client_golang`'s process collector:
//! CPU time and start time use the kernel clock tick rate, resident memory the
//! page size (both from `sysconf`), and the fd limit comes from
//! `getrlimit(RLIMIT_NOFILE)`. Each metric is a separate collector so that it
//! sorts by its own name; a value that cannot be read is simply not exposed.

use crate::Registry;

/// Registers the `process_*` collectors on the process-wide [`registry()`]:
/// `process_cpu_seconds_total`, `process_open_fds`, `process_max_fds`,
/// `process_virtual_memory_bytes`, `process_virtual_memory_max_bytes`,
/// `process_resident_memory_bytes` and `process_start_time_seconds`.
///
/// Linux only; on other systems it does nothing. Calling it again is harmless.
///
/// [`registry()`]: crate::registry
pub fn process_collector() {
    register(crate::registry());
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn register(_reg: &Registry) {}

#[cfg(target_os = "linux")]
pub(crate) fn register(reg: &Registry) {
    linux::register(reg);
}

#[cfg(target_os = "linux")]
mod linux {
    use crate::text::{write_header, write_sample};
    use crate::Registry;

    /// The fields of `/proc/self/stat` we use.
    pub(super) struct Stat {
        pub(super) utime: u64,
        pub(super) stime: u64,
        pub(super) starttime: u64,
        pub(super) vsize: u64,
        pub(super) rss: u64,
    }

    /// Parses `/proc/<pid>/stat` content. The command name (field 2) is in
    /// parentheses and may contain spaces, so fields are counted after the
    /// last `)`.
    pub(super) fn parse_stat(s: &str) -> Option<Stat> {
        let rest = &s[s.rfind(')')? + 1..];
        // rest[0] is field 3 (state); field N is rest[N - 3].
        let f: Vec<&str> = rest.split_ascii_whitespace().collect();
        let num = |n: usize| f.get(n - 3)?.parse::<u64>().ok();
        Some(Stat {
            utime: num(14)?,
            stime: num(15)?,
            starttime: num(22)?,
            vsize: num(23)?,
            rss: num(24)?,
        })
    }

    fn read_stat() -> Option<Stat> {
        parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)
    }

    fn sysconf(name: libc::c_int) -> Option<f64> {
        // SAFETY: sysconf has no memory-safety preconditions.
        let v = unsafe { libc::sysconf(name) };
        (v > 0).then_some(v as f64)
    }

    fn clock_ticks() -> f64 {
        sysconf(libc::_SC_CLK_TCK).unwrap_or(100.0)
    }

    fn page_size() -> f64 {
        sysconf(libc::_SC_PAGESIZE).unwrap_or(4096.0)
    }

    /// The soft limit filled in by `get` (a `getrlimit` call). The resource
    /// type differs between C libraries, hence the closure. `RLIM_INFINITY`
    /// is reported as its raw value, like the Go client does.
    fn rlimit_cur(get: impl FnOnce(&mut libc::rlimit) -> libc::c_int) -> Option<f64> {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        (get(&mut lim) == 0).then_some(lim.rlim_cur as f64)
    }

    /// `btime` from `/proc/stat`: boot time in seconds since the epoch.
    fn boot_time() -> Option<f64> {
        let s = std::fs::read_to_string("/proc/stat").ok()?;
        s.lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|v| v as f64)
    }

    fn open_fds() -> Option<f64> {
        Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as f64)
    }

    type Getter = fn() -> Option<f64>;

    const METRICS: &[(&str, &str, &str, Getter)] = &[
        (
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            "counter",
            || {
                let st = read_stat()?;
                Some((st.utime + st.stime) as f64 / clock_ticks())
            },
        ),
        (
            "process_open_fds",
            "Number of open file descriptors.",
            "gauge",
            open_fds,
        ),
        (
            "process_max_fds",
            "Maximum number of open file descriptors.",
            "gauge",
            // SAFETY: the pointer is a valid, writable rlimit for the call.
            || rlimit_cur(|l| unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, l) }),
        ),
        (
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            "gauge",
            || Some(read_stat()?.vsize as f64),
        ),
        (
            "process_virtual_memory_max_bytes",
            "Maximum amount of virtual memory available in bytes.",
            "gauge",
            // SAFETY: the pointer is a valid, writable rlimit for the call.
            || rlimit_cur(|l| unsafe { libc::getrlimit(libc::RLIMIT_AS, l) }),
        ),
        (
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            "gauge",
            || Some(read_stat()?.rss as f64 * page_size()),
        ),
        (
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            "gauge",
            || Some(boot_time()? + read_stat()?.starttime as f64 / clock_ticks()),
        ),
    ];

    pub(super) fn register(reg: &Registry) {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return;
        }
        for &(name, help, kind, get) in METRICS {
            reg.register_collector(
                name,
                Box::new(move |out: &mut String| {
                    if let Some(v) = get() {
                        write_header(out, name, help, kind);
                        write_sample(out, name, &[], v);
                    }
                }),
            );
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::linux::parse_stat;
    use crate::Registry;

    #[test]
    fn parses_stat_with_spaces_in_comm() {
        let s = "1234 (my (odd) prog) S 1 1234 1234 0 -1 4194560 100 0 0 0 \
                 250 50 0 0 20 0 4 0 5000 123456789 300 18446744073709551615 \
                 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0";
        let st = parse_stat(s).expect("parses");
        assert_eq!(st.utime, 250);
        assert_eq!(st.stime, 50);
        assert_eq!(st.starttime, 5000);
        assert_eq!(st.vsize, 123456789);
        assert_eq!(st.rss, 300);
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn process_metrics_render() {
        let reg = Registry::new();
        reg.register_process_collector();
        reg.register_process_collector(); // idempotent
        let text = reg.render();
        for name in [
            "process_cpu_seconds_total",
            "process_max_fds",
            "process_open_fds",
            "process_resident_memory_bytes",
            "process_start_time_seconds",
            "process_virtual_memory_bytes",
            "process_virtual_memory_max_bytes",
        ] {
            assert_eq!(
                text.matches(&format!("# TYPE {name} ")).count(),
                1,
                "{name} in:\n{text}"
            );
        }
        let value = |name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .and_then(|v| v.parse().ok())
                .unwrap_or(-1.0)
        };
        assert!(value("process_open_fds") >= 1.0);
        assert!(value("process_resident_memory_bytes") > 0.0);
        assert!(value("process_start_time_seconds") > 1e9);
        // Families are sorted by name overall.
        let cpu = text.find("# HELP process_cpu").unwrap();
        let max = text.find("# HELP process_max_fds").unwrap();
        let virt = text.find("# HELP process_virtual_memory_bytes").unwrap();
        assert!(cpu < max && max < virt);
    }
}
