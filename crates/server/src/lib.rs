//! The signpost server: build a configuration from a Corefile, bind its listeners, serve,
//! reload without dropping queries, and shut down gracefully.
//!
//! ```text
//!  Corefile ─parse─▶ blocks ─config::build─▶ Config { listeners (addr → Router), parts }
//!                                               │
//!  Server::start ─▶ UDP workers (recvmmsg/sendmmsg, SO_REUSEPORT), TCP (tokio), HTTP
//!      ▲                 └──▶ handle(): parse → route → chain (sync) ─▶ reply
//!      │                                               └─ Async ─▶ runtime ─▶ reply
//!  Server::reload: build new Config; bind what is new; swap routers; retire the rest
//! ```

pub mod config;
mod handle;
pub mod http;
mod router;
mod sockaddr;
mod tcp;
mod udp;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::runtime::Handle;

use signpost_plugin::lifecycle::ShutdownHook;
use signpost_plugin::{ready, Control, Runtime, Transport};

pub use config::{build, BuildOptions, Config};
pub use handle::{handle, init_metrics, Handled};
pub use router::{Route, Router};
pub use tcp::TcpLimits;

use http::{HttpListener, Routes};
use tcp::TcpListener;
use udp::{UdpListener, UdpSockets};

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// UDP worker threads (sockets) per listening address.
    pub udp_workers: usize,
    /// TCP limits.
    pub tcp: TcpLimits,
    /// Bind HTTP endpoints on this address with ephemeral ports instead of their own.
    pub http_override: Option<std::net::IpAddr>,
    /// Run the plugins' start-up hooks. Off only where a configuration is started to prove it
    /// binds (documentation examples): some hooks send queries (loop's probe) that a
    /// `forward` in the same block would pass to upstreams that tests must not reach.
    pub run_startup_hooks: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            udp_workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            tcp: TcpLimits::default(),
            http_override: None,
            run_startup_hooks: true,
        }
    }
}

struct DnsListener {
    router: Arc<ArcSwap<Router>>,
    udp: UdpListener,
    tcp: TcpListener,
}

/// A running server.
pub struct Server {
    dns: HashMap<SocketAddr, DnsListener>,
    http: HashMap<String, HttpListener>,
    shutdown: Vec<ShutdownHook>,
    control: Control,
    opts: ServeOptions,
}

fn group_routes(routes: &[signpost_plugin::HttpRoute]) -> HashMap<String, Routes> {
    let mut by_addr: HashMap<String, Routes> = HashMap::new();
    for r in routes {
        by_addr
            .entry(r.addr.clone())
            .or_default()
            .insert(r.path.clone(), r.handler.clone());
    }
    by_addr
}

impl Server {
    /// Bind everything `config` asks for, then run its start-up hooks. Must be called inside
    /// the runtime.
    pub async fn start(
        config: Config,
        opts: ServeOptions,
        control: Control,
    ) -> Result<Server, String> {
        init_metrics();
        let mut server = Server {
            dns: HashMap::new(),
            http: HashMap::new(),
            shutdown: Vec::new(),
            control,
            opts,
        };
        server.apply(config).await?;
        Ok(server)
    }

    /// Swap to a new configuration. Listeners whose address stays are kept (their routers are
    /// swapped, so no query is dropped); new ones are bound first, so a failure leaves the
    /// old configuration serving untouched.
    pub async fn reload(&mut self, config: Config) -> Result<(), String> {
        self.apply(config).await
    }

    async fn apply(&mut self, config: Config) -> Result<(), String> {
        let rt = Handle::current();
        let Config { listeners, parts } = config;

        // 1. Bind every new DNS address (UDP first, which picks the port under an override,
        //    then TCP on the same port) without answering on any of them yet.
        let mut bound: Vec<(SocketAddr, Router, UdpSockets, std::net::TcpListener)> = Vec::new();
        let mut swaps: Vec<(SocketAddr, Router)> = Vec::new();
        for spec in listeners {
            if self.dns.contains_key(&spec.key) {
                swaps.push((spec.key, spec.router));
                continue;
            }
            let (sockets, tcp) = self.bind_pair(spec.bind)?;
            bound.push((spec.key, spec.router, sockets, tcp));
        }

        // 2. New HTTP addresses.
        let mut http_routes = group_routes(&parts.http);
        let mut fresh_http: HashMap<String, HttpListener> = HashMap::new();
        for (addr, routes) in http_routes.iter() {
            if self.http.contains_key(addr) {
                continue;
            }
            let bind = match self.opts.http_override {
                Some(ip) => Ok(SocketAddr::new(ip, 0)),
                None => http::resolve(addr),
            };
            let started = match bind {
                Ok(bind) => HttpListener::start(bind, routes.clone())
                    .await
                    .map_err(|e| format!("listen http {addr}: {e}")),
                Err(e) => Err(e),
            };
            match started {
                Ok(l) => {
                    fresh_http.insert(addr.clone(), l);
                }
                Err(e) => {
                    fresh_http.into_values().for_each(HttpListener::stop);
                    return Err(e);
                }
            }
        }

        // 3. Start-up hooks run before any new socket answers, as CoreDNS's do: a plugin
        //    that must load its data first (the kubernetes plugin's first lists) holds the
        //    start, and on reload the old configuration keeps answering meanwhile. Work the
        //    two configurations share (a Kubernetes watch) carries over, because the old
        //    one is retired only after this.
        let kept: HashSet<SocketAddr> = swaps.iter().map(|(k, _)| *k).collect();
        let mut addrs: Vec<(Transport, SocketAddr)> = Vec::new();
        for (key, l) in &self.dns {
            if kept.contains(key) {
                addrs.push((Transport::Udp, l.udp.addr));
                addrs.push((Transport::Tcp, l.tcp.addr));
            }
        }
        for (_, _, udp, tcp) in &bound {
            addrs.push((Transport::Udp, udp.addr));
            if let Ok(a) = tcp.local_addr() {
                addrs.push((Transport::Tcp, a));
            }
        }
        addrs.sort();
        let runtime = Runtime {
            handle: rt.clone(),
            control: self.control.clone(),
            corefile: parts.corefile.clone(),
            listeners: addrs,
        };
        if self.opts.run_startup_hooks {
            for hook in parts.startup {
                if let Err(e) = hook(&runtime) {
                    fresh_http.into_values().for_each(HttpListener::stop);
                    return Err(e);
                }
            }
        }

        // 4. Serve: retire the listeners the new configuration dropped, swap the kept
        //    ones' routers, start the new ones.
        let retired: Vec<SocketAddr> = self
            .dns
            .keys()
            .filter(|k| !kept.contains(k))
            .copied()
            .collect();
        for key in retired {
            if let Some(l) = self.dns.remove(&key) {
                l.tcp.stop();
                l.udp.stop();
            }
        }
        for (key, router) in swaps {
            if let Some(l) = self.dns.get(&key) {
                l.router.store(Arc::new(router));
            }
        }
        for (key, router, udp, tcp) in bound {
            let router = Arc::new(ArcSwap::from_pointee(router));
            let tcp = TcpListener::start(tcp, router.clone(), self.opts.tcp)
                .map_err(|e| format!("listen tcp: {e}"))?;
            let udp = udp
                .start(router.clone(), rt.clone())
                .map_err(|e| format!("listen udp: {e}"))?;
            self.dns.insert(key, DnsListener { router, udp, tcp });
        }
        let retired: Vec<String> = self
            .http
            .keys()
            .filter(|k| !http_routes.contains_key(*k))
            .cloned()
            .collect();
        for key in retired {
            if let Some(l) = self.http.remove(&key) {
                l.stop();
            }
        }
        for (addr, l) in self.http.iter() {
            if let Some(routes) = http_routes.remove(addr) {
                l.routes.store(Arc::new(routes));
            }
        }
        self.http.extend(fresh_http);
        ready::install(parts.ready);

        // 5. Retire the old configuration.
        let old_hooks = std::mem::replace(&mut self.shutdown, parts.shutdown);
        for hook in old_hooks {
            hook(false).await;
        }
        Ok(())
    }

    /// Bind UDP on `addr`, then TCP on the port UDP got. With port 0 (an ephemeral port)
    /// the TCP side of the port the kernel picked for UDP may be taken; then try another.
    fn bind_pair(&self, addr: SocketAddr) -> Result<(UdpSockets, std::net::TcpListener), String> {
        let tries = if addr.port() == 0 { 20 } else { 1 };
        let mut last = String::new();
        for _ in 0..tries {
            let sockets = UdpListener::bind(addr, self.opts.udp_workers)
                .map_err(|e| format!("listen udp {addr}: {e}"))?;
            let tcp_addr = SocketAddr::new(addr.ip(), sockets.addr.port());
            match TcpListener::bind(tcp_addr) {
                Ok(tcp) => return Ok((sockets, tcp)),
                Err(e) => last = format!("listen tcp {tcp_addr}: {e}"),
            }
        }
        Err(last)
    }

    /// Every DNS address served.
    pub fn dns_addrs(&self) -> Vec<(Transport, SocketAddr)> {
        let mut out = Vec::new();
        for l in self.dns.values() {
            out.push((Transport::Udp, l.udp.addr));
            out.push((Transport::Tcp, l.tcp.addr));
        }
        out.sort();
        out
    }

    /// Every HTTP listener: the address as configured and as bound.
    pub fn http_addrs(&self) -> Vec<(String, SocketAddr)> {
        let mut v: Vec<_> = self.http.iter().map(|(k, l)| (k.clone(), l.addr)).collect();
        v.sort();
        v
    }

    /// Graceful stop: run shutdown hooks (health's lameduck keeps serving meanwhile), then
    /// close every listener.
    pub async fn shutdown(mut self) {
        // Hooks run side by side (lameduck sleeps while queries are still answered).
        let tasks: Vec<_> = std::mem::take(&mut self.shutdown)
            .into_iter()
            .map(|hook| tokio::spawn(hook(true)))
            .collect();
        for t in tasks {
            let _ = t.await;
        }
        for (_, l) in self.dns.drain() {
            l.tcp.stop();
            l.udp.stop();
        }
        for (_, l) in self.http.drain() {
            l.stop();
        }
    }
}
