//! The wiring between the index and the shared watch layer (`signpost-kube`): which watches a
//! stanza needs, with which selectors, and the start-up wait for their first lists.
//!
//! This is the only module that talks to the watch layer; the index and the DNS logic only
//! know the model's `Subscriber`s.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signpost_k8s_model::{EndpointSlice, Namespace, Pod, Service, ServiceImport};
use signpost_kube::{registry, BlockDefault, Cluster, Connection, Selectors, WatchGuard};
use signpost_plugin::SetupContext;
use tokio::runtime::RuntimeFlavor;

use crate::config::{KubernetesConfig, PodMode};
use crate::index::{Index, MCS_SERVICE_LABEL};

/// The pod watch's field selector (finished pods are never served).
const POD_FIELDS: &str = "status.phase!=Succeeded,status.phase!=Failed,status.phase!=Unknown";

/// How often the start-up wait checks, and how often it says it is still waiting.
const POLL: Duration = Duration::from_millis(100);
const LOG_EVERY: Duration = Duration::from_millis(500);

/// What to watch for a stanza: its connection, and the kinds with their selectors.
///
/// Public so that `kubernetai` subscribes its stanzas exactly as this plugin does (and so
/// shares the watches of stanzas that ask for the same ones).
#[derive(Debug, Clone, PartialEq)]
pub struct WatchPlan {
    pub(crate) connection: Connection,
    pub(crate) services: Selectors,
    pub(crate) slices: Option<Selectors>,
    pub(crate) pods: Option<Selectors>,
    pub(crate) namespaces: Selectors,
    pub(crate) imports: Option<Selectors>,
    pub(crate) mcs_slices: Option<Selectors>,
}

impl WatchPlan {
    /// The watches of `config`; `block_default` is the `k8s_api` connection of the block.
    pub fn new(config: &KubernetesConfig, block_default: Option<&Connection>) -> WatchPlan {
        let connection = if config.connection.is_empty() {
            block_default.cloned().unwrap_or_default()
        } else {
            config.connection.clone()
        };
        let labels = config.labels.as_ref().map(|s| s.to_string());
        let objects = Selectors {
            labels: labels.clone(),
            fields: None,
        };
        let mc = !config.multicluster.is_empty();
        WatchPlan {
            connection,
            services: objects.clone(),
            slices: (!config.noendpoints).then(|| objects.clone()),
            pods: (config.pods == PodMode::Verified).then(|| Selectors {
                labels: labels.clone(),
                fields: Some(POD_FIELDS.into()),
            }),
            namespaces: Selectors {
                labels: config.namespace_labels.as_ref().map(|s| s.to_string()),
                fields: None,
            },
            // CoreDNS applies `namespace_labels` to the ServiceImports' own labels too; here
            // imports are filtered by their namespace only (see the README).
            imports: mc.then(Selectors::default),
            mcs_slices: mc.then(|| Selectors {
                labels: Some(match &labels {
                    Some(l) => format!("{MCS_SERVICE_LABEL},{l}"),
                    None => MCS_SERVICE_LABEL.to_string(),
                }),
                fields: None,
            }),
        }
    }

    /// The connection the watches use (the block default filled in).
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Subscribe `index` to every watch of the plan on `cluster` (the one of
    /// [`WatchPlan::connection`]). Must run inside the tokio runtime; dropping the guards
    /// unsubscribes.
    pub fn subscribe(&self, cluster: &Cluster, index: &Arc<Index>) -> Vec<WatchGuard> {
        let mut g = Vec::new();
        g.push(cluster.watch::<Namespace>(self.namespaces.clone(), index.namespaces()));
        g.push(cluster.watch::<Service>(self.services.clone(), index.services()));
        if let Some(s) = &self.slices {
            g.push(
                cluster.watch_packed::<EndpointSlice>(s.clone(), index.packed_endpoint_slices()),
            );
        }
        if let Some(s) = &self.pods {
            g.push(cluster.watch::<Pod>(s.clone(), index.pods()));
        }
        if let Some(s) = &self.imports {
            g.push(cluster.watch::<ServiceImport>(s.clone(), index.service_imports()));
        }
        if let Some(s) = &self.mcs_slices {
            g.push(
                cluster
                    .watch_packed::<EndpointSlice>(s.clone(), index.packed_mcs_endpoint_slices()),
            );
        }
        g
    }
}

/// Register the start-up hook that subscribes the index and waits for the first lists, and
/// the shutdown hook that unsubscribes.
pub(crate) fn register(ctx: &mut SetupContext<'_>, config: &KubernetesConfig, index: &Arc<Index>) {
    let plan = WatchPlan::new(
        config,
        ctx.get_block_state::<BlockDefault>()
            .and_then(|b| b.0.as_ref()),
    );
    let guards: Arc<Mutex<Vec<WatchGuard>>> = Arc::default();
    let held = Arc::clone(&guards);
    let index = Arc::clone(index);
    let timeout = config.startup_timeout;
    ctx.on_startup(move |rt| {
        let _entered = rt.handle.enter();
        let cluster = registry().cluster(&plan.connection);
        let g = plan.subscribe(&cluster, &index);
        held.lock().unwrap_or_else(|e| e.into_inner()).extend(g);
        wait_synced(rt.handle.runtime_flavor(), &index, &cluster.name(), timeout);
        Ok(())
    });
    ctx.on_shutdown(move |_| {
        // Dropping the guards unsubscribes; a reload's new configuration subscribed first,
        // so shared watches keep running.
        guards.lock().unwrap_or_else(|e| e.into_inner()).clear();
        Box::pin(async {})
    });
}

/// Hold the server start until the index has its first lists, at most `timeout` (CoreDNS
/// does the same; queries meanwhile would get SERVFAIL for names not yet seen).
fn wait_synced(flavor: RuntimeFlavor, index: &Index, cluster: &str, timeout: Duration) {
    if index.is_synced() || timeout.is_zero() {
        return;
    }
    if flavor != RuntimeFlavor::MultiThread {
        // Blocking the only runtime thread would stall the watches themselves.
        tracing::warn!(
            "plugin/kubernetes: starting server with unsynced Kubernetes API ({cluster})"
        );
        return;
    }
    tokio::task::block_in_place(|| {
        let start = Instant::now();
        let mut logged = start;
        while !index.is_synced() {
            let now = Instant::now();
            if now.duration_since(start) >= timeout {
                tracing::warn!(
                    "plugin/kubernetes: starting server with unsynced Kubernetes API ({cluster})"
                );
                return;
            }
            if now.duration_since(logged) >= LOG_EVERY {
                tracing::info!(
                    "plugin/kubernetes: waiting for Kubernetes API before starting server"
                );
                logged = now;
            }
            std::thread::sleep(POLL);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::config;

    #[test]
    fn plans() {
        let p = WatchPlan::new(&config("kubernetes cluster.local"), None);
        assert_eq!(p.connection, Connection::default());
        assert_eq!(p.services, Selectors::default());
        assert_eq!(p.slices, Some(Selectors::default()));
        assert_eq!(
            (p.pods.clone(), p.imports.clone(), p.mcs_slices.clone()),
            (None, None, None)
        );

        let default = Connection {
            endpoint: Some("https://10.0.0.1:6443".into()),
            ..Connection::default()
        };
        let p = WatchPlan::new(&config("kubernetes cluster.local"), Some(&default));
        assert_eq!(p.connection, default);
        let p = WatchPlan::new(
            &config("kubernetes cluster.local {\n kubeconfig /k ctx\n}"),
            Some(&default),
        );
        assert_eq!(
            p.connection.kubeconfig,
            Some(("/k".into(), Some("ctx".into())))
        );

        let p = WatchPlan::new(
            &config(
                "kubernetes cluster.local clusterset.local {
                    labels app=web
                    namespace_labels team=a
                    pods verified
                    noendpoints
                    multicluster clusterset.local
                }",
            ),
            None,
        );
        assert_eq!(p.services.labels.as_deref(), Some("app=web"));
        assert_eq!(p.slices, None);
        assert_eq!(
            p.pods,
            Some(Selectors {
                labels: Some("app=web".into()),
                fields: Some(POD_FIELDS.into())
            })
        );
        assert_eq!(p.namespaces.labels.as_deref(), Some("team=a"));
        assert_eq!(p.imports, Some(Selectors::default()));
        assert_eq!(
            p.mcs_slices.unwrap().labels.as_deref(),
            Some("multicluster.kubernetes.io/service-name,app=web")
        );
    }
}
