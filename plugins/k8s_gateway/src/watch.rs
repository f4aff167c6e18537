//! The wiring to the shared watch layer: which kinds a stanza watches, and the start-up wait.
//!
//! Every kind is watched as optional (`Cluster::watch_optional`): a kind the cluster does
//! not serve (Gateway API or external-dns CRDs not installed) or RBAC forbids counts as
//! synced and empty, is logged once, and is picked up when it appears. Served kinds are
//! ordinary shared watches, so Services and EndpointSlices are the same watches the
//! `kubernetes` plugin uses on the same cluster.

use std::any::Any;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signpost_k8s_model::{
    DnsEndpoint, EndpointSlice, Gateway, GrpcRoute, HttpRoute, Ingress, Node, Service, TlsRoute,
};
use signpost_kube::{registry, BlockDefault, Connection, Selectors};
use signpost_plugin::SetupContext;
use tokio::runtime::RuntimeFlavor;

use crate::config::{Config, Resource};
use crate::index::Index;
use crate::setup::NAME;

/// The longest start-up waits for the first lists (as the kubernetes plugin).
const STARTUP_WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(50);

type Guards = Arc<Mutex<Vec<Box<dyn Any + Send>>>>;

/// Registers the start-up hook that subscribes and waits, and the shutdown hook.
pub(crate) fn register(ctx: &mut SetupContext<'_>, config: &Config, index: &Arc<Index>) {
    let connection = if config.connection.is_empty() {
        ctx.get_block_state::<BlockDefault>()
            .and_then(|b| b.0.clone())
            .unwrap_or_default()
    } else {
        config.connection.clone()
    };
    let selectors = config.service_selectors.clone();
    let guards: Guards = Arc::default();
    let held = Arc::clone(&guards);
    let index = Arc::clone(index);
    ctx.on_startup(move |rt| {
        let _entered = rt.handle.enter();
        let g = subscribe(&connection, &selectors, &index);
        held.lock().unwrap_or_else(|e| e.into_inner()).extend(g);
        wait(rt.handle.runtime_flavor(), &index);
        Ok(())
    });
    ctx.on_shutdown(move |_| {
        guards.lock().unwrap_or_else(|e| e.into_inner()).clear();
        Box::pin(async {})
    });
}

/// Subscribes the index to every kind its resources need.
fn subscribe(
    conn: &Connection,
    selectors: &[String],
    index: &Arc<Index>,
) -> Vec<Box<dyn Any + Send>> {
    let cluster = registry().cluster(conn);
    let mut g: Vec<Box<dyn Any + Send>> = Vec::new();
    let all = Selectors::default;
    let resources = index.resources().to_vec();
    if resources.iter().any(|r| r.is_route()) {
        g.push(Box::new(
            cluster.watch_optional::<Gateway>(all(), index.gateways()),
        ));
    }
    for r in resources {
        match r {
            Resource::Ingress => {
                g.push(Box::new(
                    cluster.watch_optional::<Ingress>(all(), index.ingresses()),
                ));
            }
            Resource::Service => {
                if selectors.is_empty() {
                    g.push(Box::new(
                        cluster.watch_optional::<Service>(all(), index.services(0)),
                    ));
                }
                for (i, s) in selectors.iter().enumerate() {
                    let sel = Selectors {
                        labels: Some(s.clone()),
                        fields: None,
                    };
                    g.push(Box::new(
                        cluster.watch_optional::<Service>(sel, index.services(i)),
                    ));
                }
                g.push(Box::new(
                    cluster.watch_optional::<EndpointSlice>(all(), index.slices()),
                ));
            }
            Resource::HttpRoute => {
                g.push(Box::new(
                    cluster.watch_optional::<HttpRoute>(all(), index.http_routes()),
                ));
            }
            Resource::GrpcRoute => {
                g.push(Box::new(
                    cluster.watch_optional::<GrpcRoute>(all(), index.grpc_routes()),
                ));
            }
            Resource::TlsRoute => {
                g.push(Box::new(
                    cluster.watch_optional::<TlsRoute>(all(), index.tls_routes()),
                ));
            }
            Resource::DnsEndpoint => {
                g.push(Box::new(
                    cluster.watch_optional::<DnsEndpoint>(all(), index.dns_endpoints()),
                ));
            }
            Resource::Node => {
                g.push(Box::new(
                    cluster.watch_optional::<Node>(all(), index.nodes()),
                ));
            }
        }
    }
    index.slots_done();
    g
}

/// Holds the server start until the first lists arrived, at most [`STARTUP_WAIT`].
fn wait(flavor: RuntimeFlavor, index: &Index) {
    if index.is_synced() {
        return;
    }
    if flavor != RuntimeFlavor::MultiThread {
        tracing::warn!("plugin/{NAME}: starting server with unsynced Kubernetes API");
        return;
    }
    tokio::task::block_in_place(|| {
        let start = Instant::now();
        while !index.is_synced() {
            if start.elapsed() >= STARTUP_WAIT {
                tracing::warn!("plugin/{NAME}: starting server with unsynced Kubernetes API");
                return;
            }
            std::thread::sleep(POLL);
        }
    });
}
