//! Reading the hosts file at start and again whenever its modification time or size changes,
//! checked every `reload` interval by a background task.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use signpost_metrics::{registry, Gauge, GaugeVec};
use signpost_plugin::{Runtime, Zones};
use tokio::task::JoinHandle;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::handler::Tables;
use crate::hostsfile;

/// The file side of one `hosts` plugin.
pub(crate) struct Watch {
    path: PathBuf,
    zones: Zones,
    reverse: bool,
    tables: Arc<Tables>,
    /// Modification time and size of the last file read; only the reading task touches it.
    seen: Mutex<Option<(Option<SystemTime>, u64)>>,
    entries: Arc<GaugeVec>,
    reloaded: Arc<Gauge>,
}

impl Watch {
    pub(crate) fn new(path: PathBuf, zones: Zones, reverse: bool, tables: Arc<Tables>) -> Watch {
        let reg = registry();
        Watch {
            path,
            zones,
            reverse,
            tables,
            seen: Mutex::new(None),
            entries: reg.gauge_vec(
                "coredns_hosts_entries",
                "The combined number of entries in hosts and Corefile.",
                &["hostsfile"],
            ),
            reloaded: reg.gauge(
                "coredns_hosts_reload_timestamp_seconds",
                "The timestamp of the last reload of hosts file.",
            ),
        }
    }

    /// The start-up hook: check the file is usable, read it, and keep checking it.
    pub(crate) fn start(
        self: &Arc<Self>,
        rt: &Runtime,
        reload: Duration,
        task: &Mutex<Option<JoinHandle<()>>>,
    ) -> Result<(), String> {
        let shown = self.path.display();
        match std::fs::metadata(&self.path) {
            Ok(m) if m.is_dir() => {
                tracing::warn!(
                    "plugin/hosts: Hosts file {:?} is a directory",
                    shown.to_string()
                )
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::warn!("plugin/hosts: File does not exist: {shown}")
            }
            Err(e) => {
                return Err(format!(
                    "plugin/hosts: unable to access hosts file '{shown}': {e}"
                ))
            }
        }
        self.read();
        if reload.is_zero() {
            return Ok(());
        }
        let watch = Arc::clone(self);
        let handle = rt.handle.spawn(async move {
            let mut ticker = interval_at(Instant::now() + reload, reload);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
            loop {
                ticker.tick().await;
                let w = Arc::clone(&watch);
                let _ = tokio::task::spawn_blocking(move || w.read()).await;
            }
        });
        *task.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        Ok(())
    }

    /// Read the file if its modification time or size changed since the last read, and swap
    /// the new tables in. A file that cannot be opened leaves the tables as they are (CoreDNS
    /// keeps serving what it read last). Returns whether the tables were replaced.
    pub(crate) fn read(&self) -> bool {
        let Ok(mut file) = File::open(&self.path) else {
            return false;
        };
        let Ok(meta) = file.metadata() else {
            return false;
        };
        let stamp = (meta.modified().ok(), meta.len());
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if *seen == Some(stamp) {
            return false;
        }
        let mut text = Vec::new();
        // On a read error, what was read so far counts, as with Go's scanner.
        let _ = file.read_to_end(&mut text);
        let map = hostsfile::parse(&text, &self.zones, self.reverse);
        tracing::debug!("plugin/hosts: Parsed hosts file into {} entries", map.len());
        let total = map.len() + self.tables.inline.len();
        self.tables.file.store(Arc::new(map));
        *seen = Some(stamp);
        let label = self.path.to_string_lossy();
        self.entries.with(&[&label]).set(total as f64);
        if let Some(mtime) = stamp.0 {
            let secs = match mtime.duration_since(UNIX_EPOCH) {
                Ok(d) => d.as_secs_f64(),
                Err(e) => -e.duration().as_secs_f64(),
            };
            self.reloaded.set(secs);
        }
        true
    }
}
