//! The background task that checks the Corefile and asks the server for a reload.
//!
//! Each configuration has its own watcher: it starts when the configuration starts serving
//! and stops when the configuration is retired (reload or shutdown). After asking for a
//! reload the watcher keeps the new hash as "running": if the reload succeeds, the
//! configuration is retired and a fresh watcher takes over; if it fails, the old
//! configuration keeps serving and the same broken file is not tried again, as in CoreDNS.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use signpost_metrics::{registry, GaugeVec};
use signpost_plugin::{Control, Runtime};
use tokio::task::AbortHandle;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::fingerprint::{fingerprint_file, Fingerprint, ReadError, HASH_NAME};

/// What is logged and passed to the server with a reload request.
pub(crate) const RELOAD_REASON: &str = "Corefile changed";

/// Creates the plugin's metrics so that they show from the start; the server increments
/// `coredns_reload_failed_total` by name when a reload fails.
fn version_info() -> Arc<GaugeVec> {
    registry().counter(
        "coredns_reload_failed_total",
        "Counter of the number of failed reload attempts.",
    );
    registry().gauge_vec(
        "coredns_reload_version_info",
        "A metric with a constant '1' value labeled by hash, and value which type of hash generated.",
        &["hash", "value"],
    )
}

/// One configuration's Corefile watcher.
pub(crate) struct Watcher {
    period: Mutex<Duration>,
    task: Mutex<Option<AbortHandle>>,
    stopped: Arc<AtomicBool>,
    versions: Arc<GaugeVec>,
}

impl Watcher {
    /// A watcher that checks every `period` once started.
    pub(crate) fn new(period: Duration) -> Arc<Watcher> {
        Arc::new(Watcher {
            period: Mutex::new(period),
            task: Mutex::new(None),
            stopped: Arc::new(AtomicBool::new(false)),
            versions: version_info(),
        })
    }

    /// Changes the check period (a later server block's `reload` wins, as in CoreDNS).
    pub(crate) fn set_period(&self, period: Duration) {
        *lock(&self.period) = period;
    }

    /// The check period.
    pub(crate) fn period(&self) -> Duration {
        *lock(&self.period)
    }

    /// Starts checking the Corefile the server was started with. Does nothing when the
    /// configuration did not come from a file, or when the watcher was already stopped.
    pub(crate) fn start(&self, rt: &Runtime) {
        let Some(path) = rt.corefile.clone() else {
            return;
        };
        let mut task = lock(&self.task);
        if self.stopped.load(Ordering::Acquire) || task.is_some() {
            return;
        }
        let job = watch(
            path,
            self.period(),
            rt.control.clone(),
            Arc::clone(&self.versions),
            Arc::clone(&self.stopped),
        );
        *task = Some(rt.handle.spawn(job).abort_handle());
    }

    /// Stops the task for good.
    pub(crate) fn stop(&self) {
        let mut task = lock(&self.task);
        self.stopped.store(true, Ordering::Release);
        if let Some(t) = task.take() {
            t.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn watch(
    path: PathBuf,
    period: Duration,
    control: Control,
    versions: Arc<GaugeVec>,
    stopped: Arc<AtomicBool>,
) {
    let mut running = read(&path).await;
    if let Some(fp) = running {
        log_running(fp);
    }
    let mut ticker = interval_at(Instant::now() + period, period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(now) = read(&path).await else {
            continue;
        };
        let Some(old) = running.replace(now) else {
            // The file could not be read when the watcher started; this is the baseline.
            log_running(now);
            continue;
        };
        if old == now || stopped.load(Ordering::Acquire) {
            continue;
        }
        versions.remove(&[HASH_NAME, &old.to_string()]);
        control.reload(RELOAD_REASON);
        versions.with(&[HASH_NAME, &now.to_string()]).set(1.0);
    }
}

fn log_running(fp: Fingerprint) {
    tracing::info!(
        "plugin/reload: Running configuration {} = {fp}",
        HASH_NAME.to_uppercase()
    );
}

/// The current fingerprint of the Corefile, or `None` when it cannot be read or parsed
/// right now (the check is skipped; a parse failure is logged as CoreDNS does).
async fn read(path: &Path) -> Option<Fingerprint> {
    let p = path.to_path_buf();
    match tokio::task::spawn_blocking(move || fingerprint_file(&p)).await {
        Ok(Ok(fp)) => Some(fp),
        Ok(Err(ReadError::Parse(e))) => {
            tracing::warn!("plugin/reload: Corefile parse failed: {e}");
            None
        }
        Ok(Err(ReadError::Io(e))) => {
            tracing::debug!("plugin/reload: cannot read {}: {e}", path.display());
            None
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_plugin::ControlMsg;
    use tokio::runtime::Handle;
    use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
    use tokio::time::{sleep, timeout};

    struct TempCorefile(PathBuf);

    impl TempCorefile {
        fn new(tag: &str, text: &str) -> TempCorefile {
            let dir =
                std::env::temp_dir().join(format!("signpost-reload-{tag}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("Corefile");
            std::fs::write(&path, text).unwrap();
            TempCorefile(path)
        }

        fn write(&self, text: &str) {
            std::fs::write(&self.0, text).unwrap();
        }
    }

    impl Drop for TempCorefile {
        fn drop(&mut self) {
            if let Some(dir) = self.0.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    fn runtime(corefile: Option<PathBuf>) -> (Runtime, UnboundedReceiver<ControlMsg>) {
        let (tx, rx) = unbounded_channel();
        let rt = Runtime {
            handle: Handle::current(),
            control: Control::new(tx),
            corefile,
            listeners: Vec::new(),
        };
        (rt, rx)
    }

    const PERIOD: Duration = Duration::from_millis(20);
    const QUIET: Duration = Duration::from_millis(300);

    #[tokio::test]
    async fn a_change_asks_for_one_reload() {
        let file = TempCorefile::new("change", ". {\n    reload\n    whoami\n}\n");
        let (rt, mut rx) = runtime(Some(file.0.clone()));
        let w = Watcher::new(PERIOD);
        w.start(&rt);

        sleep(QUIET).await;
        assert!(rx.try_recv().is_err(), "no reload while unchanged");

        file.write(". {\n    reload\n    log\n}\n");
        let msg = timeout(Duration::from_secs(5), rx.recv()).await.unwrap();
        assert_eq!(msg, Some(ControlMsg::Reload(RELOAD_REASON.into())));

        let new = fingerprint_file(&file.0).unwrap().to_string();
        let text = registry().render();
        assert!(text.contains(&format!(
            "coredns_reload_version_info{{hash=\"fnv1a64\",value=\"{new}\"}} 1\n"
        )));
        assert!(text.contains("\ncoredns_reload_failed_total 0\n"));

        sleep(QUIET).await;
        assert!(
            rx.try_recv().is_err(),
            "the same content is not reloaded twice"
        );

        w.stop();
        file.write(". {\n    reload\n    errors\n}\n");
        sleep(QUIET).await;
        assert!(rx.try_recv().is_err(), "a stopped watcher stays quiet");
    }

    #[tokio::test]
    async fn unreadable_or_broken_files_are_skipped() {
        let file = TempCorefile::new("broken", ". {\n    whoami\n}\n");
        let (rt, mut rx) = runtime(Some(file.0.clone()));
        let w = Watcher::new(PERIOD);
        w.start(&rt);
        sleep(QUIET).await;

        file.write(". {\n    whoami\n");
        sleep(QUIET).await;
        assert!(
            rx.try_recv().is_err(),
            "a file that does not parse is not reloaded"
        );

        std::fs::remove_file(&file.0).unwrap();
        sleep(QUIET).await;
        assert!(rx.try_recv().is_err(), "a missing file is not reloaded");

        file.write(". {\n    whoami\n}\n");
        sleep(QUIET).await;
        assert!(rx.try_recv().is_err(), "back to the running content");
        w.stop();
    }

    #[tokio::test]
    async fn nothing_to_watch_without_a_file_and_after_stop() {
        let (rt, mut rx) = runtime(None);
        let w = Watcher::new(PERIOD);
        w.start(&rt);
        assert!(lock(&w.task).is_none());
        sleep(QUIET).await;
        assert!(rx.try_recv().is_err());

        let file = TempCorefile::new("stopped", ". {\n    whoami\n}\n");
        let (rt, _rx) = runtime(Some(file.0.clone()));
        let w = Watcher::new(PERIOD);
        w.stop();
        w.start(&rt);
        assert!(lock(&w.task).is_none(), "stopped before start: never runs");
    }
}
