//! The self-probe: once a second, fetch our own `/health` over real HTTP and record how long
//! it took. A slow or failing probe means the process is struggling (CPU starved, event loop
//! blocked), which is what `coredns_health_request_duration_seconds` is watched for.

use std::sync::Arc;
use std::time::{Duration, Instant};

use signpost_log::output;
use signpost_metrics::{exponential_buckets, registry, Counter, Histogram};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one probe may take before it counts as failed.
const TIMEOUT: Duration = Duration::from_secs(3);

/// A probe slower than this is logged (a local request taking that long is not good).
const SLOW: Duration = Duration::from_secs(1);

/// The probe's metrics (process-wide, without a `server` label: being overloaded is a
/// property of the process).
#[derive(Debug, Clone)]
pub struct ProbeMetrics {
    /// `coredns_health_request_duration_seconds`.
    pub duration: Arc<Histogram>,
    /// `coredns_health_request_failures_total`.
    pub failures: Arc<Counter>,
}

impl ProbeMetrics {
    /// Get (or register) the metrics.
    pub fn get() -> ProbeMetrics {
        let r = registry();
        ProbeMetrics {
            duration: r.histogram(
                "coredns_health_request_duration_seconds",
                "Histogram of the time (in seconds) each request took.",
                // CoreDNS's SlimTimeBuckets: 0.25ms to 2.5s.
                &exponential_buckets(0.00025, 10.0, 5),
            ),
            failures: r.counter(
                "coredns_health_request_failures_total",
                "The number of times the health check failed.",
            ),
        }
    }
}

/// Where the probe connects and how it names the request in logs.
#[derive(Debug, Clone)]
pub struct Target {
    /// Host to connect to (`localhost` when the address has no host).
    pub host: String,
    /// Port.
    pub port: u16,
    /// The URL as CoreDNS prints it (`http://:8080/health`).
    pub url: String,
}

impl Target {
    /// The probe target for a listen address as written (`:8080`, `[::1]:8091`).
    pub fn for_addr(host: &str, port: &str, addr: &str) -> Option<Target> {
        Some(Target {
            host: if host.is_empty() { "localhost" } else { host }.to_string(),
            port: port.parse().ok()?,
            url: format!("http://{addr}/health"),
        })
    }
}

/// One GET of `/health`: Ok once a complete HTTP response arrived (any status, as with Go's
/// client), Err with the reason otherwise.
pub async fn fetch(t: &Target) -> Result<(), String> {
    let work = async {
        let mut s = TcpStream::connect((t.host.as_str(), t.port))
            .await
            .map_err(|e| format!("dial tcp: {e}"))?;
        let req = format!(
            "GET /health HTTP/1.1\r\nHost: {}\r\nUser-Agent: signpost-health\r\nConnection: close\r\n\r\n",
            host_header(&t.host, t.port)
        );
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut got = Vec::with_capacity(256);
        s.read_to_end(&mut got)
            .await
            .map_err(|e| format!("read: {e}"))?;
        let head = String::from_utf8_lossy(&got);
        let status_ok = head.starts_with("HTTP/1.")
            && head
                .split(' ')
                .nth(1)
                .is_some_and(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()));
        if !status_ok || !head.contains("\r\n\r\n") {
            return Err("malformed HTTP response".to_string());
        }
        Ok(())
    };
    match tokio::time::timeout(TIMEOUT, work).await {
        Ok(r) => r,
        Err(_) => Err("Client.Timeout exceeded while awaiting headers".to_string()),
    }
}

fn host_header(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Probe once, record the result and log what CoreDNS logs.
pub async fn probe_once(t: &Target, m: &ProbeMetrics) -> Result<Duration, String> {
    let start = Instant::now();
    let result = fetch(t).await;
    let elapsed = start.elapsed();
    m.duration.observe(elapsed.as_secs_f64());
    match result {
        Err(e) => {
            m.failures.inc();
            output::text(&format!(
                "[WARNING] plugin/health: Local health request to {} failed: {e}",
                signpost_corefile::go_text::quote(&t.url)
            ));
            Err(e)
        }
        Ok(()) => {
            if elapsed > SLOW {
                output::text(&format!(
                    "[WARNING] plugin/health: Local health request to {} took more than 1s: {}",
                    signpost_corefile::go_text::quote(&t.url),
                    signpost_corefile::go_text::format_std_duration(elapsed)
                ));
            }
            Ok(elapsed)
        }
    }
}

/// Probe every `every` (first after one period) until the task is aborted.
pub async fn run(t: Target, m: ProbeMetrics, every: Duration) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let _ = probe_once(&t, &m).await;
    }
}
