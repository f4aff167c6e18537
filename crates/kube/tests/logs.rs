//! Logging during an outage: one line when the API starts failing, one when it works again,
//! however many retries happen in between. (A test binary of its own: tracing caches which
//! log sites are enabled per process, which a test running beside it could spoil.)

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signpost_fakeapi::{FakeApi, Options};
use signpost_k8s_model::{EndpointSlice, Event, Service, Subscriber};
use signpost_kube::{registry, Connection, Selectors, Watchable};

/// Counts events.
#[derive(Default)]
struct Counter(Mutex<usize>);

impl<T: Watchable> Subscriber<T> for Counter {
    fn on_event(&self, _: &Event<T>) {
        *self.0.lock().unwrap() += 1;
    }
}

async fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A `Write` into a shared buffer, for capturing logs.
#[derive(Clone, Default)]
struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_once_per_state_change_not_per_retry() {
    let logs = LogBuf::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test runtime has one thread, so a thread-local subscriber sees the watch task.
    let _log = tracing::subscriber::set_default(subscriber);

    let api = FakeApi::start(Options::default()).await.unwrap();
    let c = registry().cluster(&Connection {
        endpoint: Some(api.url()),
        ..Default::default()
    });
    let r: Arc<Counter> = Arc::default();
    let _g1 = c.watch::<Service>(Selectors::default(), r.clone());
    let _g2 = c.watch::<EndpointSlice>(Selectors::default(), r.clone());
    assert!(c.wait_synced(Duration::from_secs(10)).await);
    eventually("both watches to open", || api.open_watches() == 2).await;

    api.faults().down(true);
    // Long enough for several retries of both watches (0.8 s, 1.6 s, ...).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let retries = api.requests().len();
    api.faults().down(false);
    eventually("the recovery to show", || c.is_connected()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let ours: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("signpost_kube"))
        .collect();
    let count = |level: &str, what: &str| {
        ours.iter()
            .filter(|l| l.contains(level) && l.contains(what))
            .count()
    };
    assert_eq!(count("INFO", "Kubernetes API connected"), 1, "{text}");
    assert_eq!(count("WARN", "Kubernetes API failing"), 1, "{text}");
    assert_eq!(count("INFO", "Kubernetes API working again"), 1, "{text}");
    assert!(
        retries >= 4,
        "the client did retry meanwhile ({retries} requests)"
    );
}
