//! Start-up: subscribe every stanza to its cluster's watches, then wait for the first lists
//! of all clusters at once, each stanza for at most its own `startup_timeout`.
//!
//! The *kubernetes* plugin waits per stanza, one after the other (as CoreDNS runs start-up
//! functions), so unreachable clusters would add up their timeouts. Here every watch starts
//! first and the wait ends when each stanza is synced or past its own deadline: the longest
//! timeout bounds the whole start. Stanzas naming the same cluster and selectors share one
//! watch (the registry of `signpost-kube` keys watches by connection, kind and selectors).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signpost_kube::{registry, WatchGuard};
use signpost_kubernetes::Index;
use signpost_plugin::SetupContext;
use tokio::runtime::RuntimeFlavor;

use crate::setup::Stanza;

/// How often the wait checks, and how often it says it is still waiting.
const POLL: Duration = Duration::from_millis(50);
const LOG_EVERY: Duration = Duration::from_millis(500);

/// One stanza the start waits for.
pub(crate) struct Waiting {
    pub(crate) index: Arc<Index>,
    pub(crate) cluster: String,
    pub(crate) timeout: Duration,
}

/// Register the start-up hook (subscribe, then wait) and the shutdown hook (unsubscribe).
pub(crate) fn register(ctx: &mut SetupContext<'_>, stanzas: Vec<Stanza>) {
    let guards: Arc<Mutex<Vec<WatchGuard>>> = Arc::default();
    let held = Arc::clone(&guards);
    ctx.on_startup(move |rt| {
        let _entered = rt.handle.enter();
        let mut waiting = Vec::with_capacity(stanzas.len());
        let mut g = Vec::new();
        for s in &stanzas {
            let cluster = registry().cluster(s.plan.connection());
            g.extend(s.plan.subscribe(&cluster, &s.index));
            waiting.push(Waiting {
                index: Arc::clone(&s.index),
                cluster: cluster.name(),
                timeout: s.config.startup_timeout,
            });
        }
        held.lock().unwrap_or_else(|e| e.into_inner()).extend(g);
        wait_all(rt.handle.runtime_flavor(), waiting);
        Ok(())
    });
    ctx.on_shutdown(move |_| {
        // Dropping the guards unsubscribes; a reload's new configuration subscribed first,
        // so shared watches keep running.
        guards.lock().unwrap_or_else(|e| e.into_inner()).clear();
        Box::pin(async {})
    });
}

/// Hold the start until every stanza is synced or past its own timeout.
fn wait_all(flavor: RuntimeFlavor, mut waiting: Vec<Waiting>) {
    waiting.retain(|w| !w.index.is_synced() && !w.timeout.is_zero());
    if waiting.is_empty() {
        return;
    }
    if flavor != RuntimeFlavor::MultiThread {
        // Blocking the only runtime thread would stall the watches themselves.
        for w in &waiting {
            give_up(w);
        }
        return;
    }
    tokio::task::block_in_place(|| {
        let start = Instant::now();
        let mut logged = start;
        loop {
            let elapsed = start.elapsed();
            waiting.retain(|w| {
                if w.index.is_synced() {
                    return false;
                }
                if elapsed >= w.timeout {
                    give_up(w);
                    return false;
                }
                true
            });
            if waiting.is_empty() {
                return;
            }
            if logged.elapsed() >= LOG_EVERY {
                let mut names: Vec<&str> = waiting.iter().map(|w| w.cluster.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                tracing::info!(
                    "plugin/kubernetai: waiting for Kubernetes API before starting server ({})",
                    names.join(", ")
                );
                logged = Instant::now();
            }
            std::thread::sleep(POLL);
        }
    });
}

fn give_up(w: &Waiting) {
    tracing::warn!(
        "plugin/kubernetai: starting server with unsynced Kubernetes API ({})",
        w.cluster
    );
}
