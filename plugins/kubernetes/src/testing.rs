//! Building a cluster for tests, here and in the plugins that read this one's index
//! (*transfer*, *autopath*, *k8s_external*): builders for the model objects, a [`World`]
//! of them, and a plugin definition that sets *kubernetes* up on an index filled from a
//! world instead of watches.
//!
//! ```text
//!  testing::set_world(world) ──▶ plugin::testing::setup(&[.., testing::PLUGIN], corefile)
//!                                  └─ kubernetes setup with the world fed in, synced,
//!                                     serials at SERIAL, NS from world.local_ips
//! ```

use std::cell::RefCell;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use signpost_k8s_model::{
    Endpoint, EndpointSlice, Event, Labels, Listing, LoadBalancerIngress, Namespace, ObjectKey,
    Pod, Port, Service, ServiceImport, ServiceType,
};
use signpost_plugin::{CorefileError, Directive, PluginDef, SetupContext};
use signpost_wire::Name;

use crate::index::{Feeds, Index, IndexOptions};

/// The serial every test index reports (CoreDNS's tests use the same number).
pub const SERIAL: i64 = 1499347823;

/// The objects a test cluster holds, and the server's own addresses.
#[derive(Default, Clone)]
pub struct World {
    /// Services.
    pub services: Vec<Service>,
    /// EndpointSlices.
    pub slices: Vec<EndpointSlice>,
    /// Pods.
    pub pods: Vec<Pod>,
    /// Namespaces.
    pub namespaces: Vec<Namespace>,
    /// ServiceImports.
    pub imports: Vec<ServiceImport>,
    /// MCS EndpointSlices.
    pub mcs_slices: Vec<EndpointSlice>,
    /// The addresses the server answers on (NS records); none by default.
    pub local_ips: Vec<IpAddr>,
    /// The search line of the server's `resolv.conf` (*autopath*); empty by default.
    pub resolv_search: Vec<Name>,
}

/// A first list of these objects.
pub fn listing<T: Clone + Send + Sync + 'static>(v: &[T]) -> Listing<T> {
    v.iter().cloned().map(Arc::new).collect::<Vec<_>>().into()
}

/// Feed every kind as a first list.
pub fn feed(index: &Arc<Index>, w: &World) {
    index
        .namespaces()
        .on_event(&Event::Reset(listing(&w.namespaces)));
    index
        .services()
        .on_event(&Event::Reset(listing(&w.services)));
    index
        .endpoint_slices()
        .on_event(&Event::Reset(listing(&w.slices)));
    index.pods().on_event(&Event::Reset(listing(&w.pods)));
    index
        .service_imports()
        .on_event(&Event::Reset(listing(&w.imports)));
    index
        .mcs_endpoint_slices()
        .on_event(&Event::Reset(listing(&w.mcs_slices)));
}

/// An index for `opts` holding `world`, synced, serials at [`SERIAL`].
pub fn fed_index(opts: IndexOptions, world: &World) -> Arc<Index> {
    let index = Index::new(opts);
    index.set_clock(|| SERIAL);
    feed(&index, world);
    index.mark_synced(
        Feeds::SERVICES
            .with(Feeds::SLICES)
            .with(Feeds::PODS)
            .with(Feeds::NAMESPACES)
            .with(Feeds::IMPORTS)
            .with(Feeds::MCS_SLICES),
    );
    if !world.local_ips.is_empty() {
        index.set_local_ips(world.local_ips.clone());
    }
    index
}

thread_local! {
    static WORLD: RefCell<World> = RefCell::new(World::default());
}

/// The world the next [`PLUGIN`] setup on this thread serves.
pub fn set_world(world: World) {
    WORLD.with(|w| *w.borrow_mut() = world);
}

/// *kubernetes* set up on the world of [`set_world`] (no watches, no start-up work needed).
pub const PLUGIN: PluginDef = PluginDef {
    name: "kubernetes",
    setup: fed_setup,
};

fn fed_setup(ctx: &mut SetupContext<'_>, directives: &[Directive]) -> Result<(), CorefileError> {
    let config = crate::setup::parse(directives, ctx.zones())?;
    let world = WORLD.with(|w| w.borrow().clone());
    let index = fed_index(IndexOptions::from_config(&config), &world);
    let resolv = Arc::new(OnceLock::new());
    let _ = resolv.set(world.resolv_search.clone());
    crate::setup::build(ctx, &config, &index, resolv);
    Ok(())
}

/// The key of a namespaced object.
pub fn key(ns: &str, name: &str) -> ObjectKey {
    ObjectKey {
        namespace: ns.into(),
        name: name.into(),
    }
}

/// A port.
pub fn port(name: &str, proto: &str, port: i32) -> Port {
    Port {
        name: name.into(),
        protocol: proto.into(),
        port,
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().copied().collect()
}

/// A ClusterIP Service with these IPs (no ports yet).
pub fn svc(ns: &str, name: &str, ips: &[&str]) -> Service {
    Service {
        key: key(ns, name),
        service_type: ServiceType::ClusterIp,
        cluster_ips: ips.iter().map(|s| Arc::from(*s)).collect(),
        external_name: "".into(),
        ports: Vec::new(),
        external_ips: Vec::new(),
        load_balancer: Vec::new(),
        labels: Labels::new(),
        annotations: Labels::new(),
    }
}

/// A headless Service.
pub fn headless(ns: &str, name: &str) -> Service {
    svc(ns, name, &["None"])
}

/// An ExternalName Service.
pub fn external(ns: &str, name: &str, target: &str) -> Service {
    let mut s = svc(ns, name, &[""]);
    s.service_type = ServiceType::ExternalName;
    s.external_name = target.into();
    s
}

/// Builder-style additions.
pub trait With: Sized {
    /// Add a port.
    fn port(self, name: &str, proto: &str, p: i32) -> Self;
    /// Add a label.
    fn label(self, k: &str, v: &str) -> Self;
}

impl With for Service {
    fn port(mut self, name: &str, proto: &str, p: i32) -> Self {
        self.ports.push(port(name, proto, p));
        self
    }
    fn label(mut self, k: &str, v: &str) -> Self {
        self.labels.insert(k, v);
        self
    }
}

impl With for EndpointSlice {
    fn port(mut self, name: &str, proto: &str, p: i32) -> Self {
        self.ports.push(port(name, proto, p));
        self
    }
    fn label(mut self, k: &str, v: &str) -> Self {
        self.labels.insert(k, v);
        self
    }
}

/// Add a load-balancer ingress IP.
pub fn with_lb(mut s: Service, ip: &str) -> Service {
    s.load_balancer.push(LoadBalancerIngress {
        ip: ip.into(),
        hostname: "".into(),
    });
    s
}

/// Add a load-balancer ingress hostname.
pub fn with_lb_hostname(mut s: Service, hostname: &str) -> Service {
    s.load_balancer.push(LoadBalancerIngress {
        ip: "".into(),
        hostname: hostname.into(),
    });
    s
}

/// Add `spec.externalIPs`.
pub fn with_external_ips(mut s: Service, ips: &[&str]) -> Service {
    s.external_ips.extend(ips.iter().map(|ip| Arc::from(*ip)));
    s
}

/// An endpoint with addresses (ready unless changed).
pub fn ep(addrs: &[&str]) -> Endpoint {
    Endpoint {
        addresses: addrs.iter().map(|s| Arc::from(*s)).collect(),
        ready: None,
        hostname: "".into(),
        node_name: "".into(),
        target_ref_name: "".into(),
        target_ref_kind: "".into(),
        zone: "".into(),
    }
}

/// Endpoint additions.
pub trait EpWith: Sized {
    /// Set the hostname.
    fn host(self, h: &str) -> Self;
    /// Set the target pod.
    fn pod(self, name: &str) -> Self;
    /// Set the topology zone.
    fn zone(self, z: &str) -> Self;
    /// Set the ready condition.
    fn ready(self, r: bool) -> Self;
}

impl EpWith for Endpoint {
    fn host(mut self, h: &str) -> Self {
        self.hostname = h.into();
        self
    }
    fn pod(mut self, name: &str) -> Self {
        self.target_ref_name = name.into();
        self.target_ref_kind = "Pod".into();
        self
    }
    fn zone(mut self, z: &str) -> Self {
        self.zone = z.into();
        self
    }
    fn ready(mut self, r: bool) -> Self {
        self.ready = Some(r);
        self
    }
}

/// An EndpointSlice of `service` with these endpoints (no ports yet).
pub fn slice(ns: &str, name: &str, service: &str, eps: Vec<Endpoint>) -> EndpointSlice {
    let v6 = eps
        .iter()
        .flat_map(|e| e.addresses.iter())
        .any(|a| a.contains(':'));
    EndpointSlice {
        key: key(ns, name),
        service_name: service.into(),
        source_cluster: "".into(),
        address_type: if v6 { "IPv6" } else { "IPv4" }.into(),
        endpoints: eps,
        ports: Vec::new(),
        labels: labels(&[("kubernetes.io/service-name", service)]),
    }
}

/// An MCS slice from `cluster`.
pub fn mcs_slice(
    ns: &str,
    name: &str,
    service: &str,
    cluster: &str,
    eps: Vec<Endpoint>,
) -> EndpointSlice {
    let mut s = slice(ns, name, service, eps);
    s.service_name = service.into();
    s.source_cluster = cluster.into();
    s.labels = labels(&[
        ("multicluster.kubernetes.io/service-name", service),
        ("multicluster.kubernetes.io/source-cluster", cluster),
    ]);
    s
}

/// A namespace.
pub fn namespace(name: &str) -> Namespace {
    Namespace {
        key: key("", name),
        labels: Labels::new(),
    }
}

/// A namespace with one label.
pub fn namespace_labeled(name: &str, k: &str, v: &str) -> Namespace {
    Namespace {
        key: key("", name),
        labels: labels(&[(k, v)]),
    }
}

/// A running pod with one IP.
pub fn pod(ns: &str, name: &str, ip: &str) -> Pod {
    Pod {
        key: key(ns, name),
        pod_ip: ip.into(),
        pod_ips: vec![ip.into()],
        deleting: false,
        phase: "Running".into(),
        labels: Labels::new(),
    }
}

/// A ServiceImport (`kind` is `ClusterSetIP` or `Headless`).
pub fn import(ns: &str, name: &str, kind: &str, ips: &[&str], ports: &[Port]) -> ServiceImport {
    ServiceImport {
        key: key(ns, name),
        import_type: kind.into(),
        ips: ips.iter().map(|s| Arc::from(*s)).collect(),
        ports: ports.to_vec(),
        labels: Labels::new(),
    }
}
