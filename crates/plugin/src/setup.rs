//! Turning one server block's directives into plugin instances and hooks.
//!
//! Each plugin crate exports a [`PluginDef`]; the binary lists them in execution order. For a
//! server block, the server calls every listed plugin's `setup` that has directives in the
//! block, in that order, with all of that directive's occurrences. Setup only parses and
//! builds (no I/O); work that needs the network waits for a start-up hook.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use signpost_corefile::{Directive, Error, ZoneAddr};
use signpost_wire::Name;

use crate::lifecycle::{HttpHandler, HttpRoute, ShutdownHook, StartupHook};
use crate::ready::{ReadyCheck, ReadyFn};
use crate::{BoxFuture, Plugin, Runtime};

/// A plugin as the binary knows it.
#[derive(Clone, Copy)]
pub struct PluginDef {
    /// Directive name.
    pub name: &'static str,
    /// Parse and build from every occurrence of the directive in one block.
    pub setup: fn(&mut SetupContext<'_>, &[Directive]) -> Result<(), Error>,
}

impl std::fmt::Debug for PluginDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PluginDef({})", self.name)
    }
}

/// The server block being set up.
#[derive(Debug, Clone)]
pub struct BlockInfo {
    /// Its keys, parsed.
    pub keys: Vec<ZoneAddr>,
    /// The zones of its keys, in key order, without repeats.
    pub zones: Vec<Name>,
    /// Position of the block in the Corefile (0-based).
    pub index: usize,
}

type AnyMap = HashMap<TypeId, Box<dyn Any + Send + Sync>>;

/// Everything a configuration carries besides its chains; shared by all its blocks.
#[derive(Default)]
pub struct ConfigParts {
    /// Start-up hooks, in registration order.
    pub startup: Vec<StartupHook>,
    /// Shutdown hooks.
    pub shutdown: Vec<ShutdownHook>,
    /// Readiness checks.
    pub ready: Vec<ReadyCheck>,
    /// HTTP endpoints.
    pub http: Vec<HttpRoute>,
    /// The Corefile path, when read from a file.
    pub corefile: Option<PathBuf>,
    shared: AnyMap,
}

impl std::fmt::Debug for ConfigParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigParts")
            .field("startup", &self.startup.len())
            .field("shutdown", &self.shutdown.len())
            .field("ready", &self.ready)
            .field("http", &self.http)
            .finish()
    }
}

impl ConfigParts {
    /// State shared across all blocks of one configuration, created on first use (e.g. the
    /// Kubernetes watch registry).
    pub fn shared<T: Any + Send + Sync + Default>(&mut self) -> &mut T {
        self.shared
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()))
            .downcast_mut::<T>()
            .expect("keyed by TypeId")
    }
}

/// What a plugin's setup works with.
pub struct SetupContext<'a> {
    /// The block.
    pub block: &'a BlockInfo,
    /// Configuration-wide parts.
    pub parts: &'a mut ConfigParts,
    plugins: Vec<Arc<dyn Plugin>>,
    bind: Vec<IpAddr>,
    block_state: AnyMap,
}

impl<'a> SetupContext<'a> {
    /// A context for one block.
    pub fn new(block: &'a BlockInfo, parts: &'a mut ConfigParts) -> SetupContext<'a> {
        SetupContext {
            block,
            parts,
            plugins: Vec::new(),
            bind: Vec::new(),
            block_state: AnyMap::new(),
        }
    }

    /// Put a handler in the chain (at this plugin's place in the order).
    pub fn add_plugin(&mut self, p: Arc<dyn Plugin>) {
        self.plugins.push(p);
    }

    /// The block's zones.
    pub fn zones(&self) -> &[Name] {
        &self.block.zones
    }

    /// Listen only on these addresses (the `bind` plugin).
    pub fn add_bind(&mut self, ip: IpAddr) {
        if !self.bind.contains(&ip) {
            self.bind.push(ip);
        }
    }

    /// Register start-up work.
    pub fn on_startup(&mut self, f: impl FnOnce(&Runtime) -> Result<(), String> + Send + 'static) {
        self.parts.startup.push(Box::new(f));
    }

    /// Register shutdown work; the flag is true on process shutdown, false on reload.
    pub fn on_shutdown(&mut self, f: impl FnOnce(bool) -> BoxFuture<'static, ()> + Send + 'static) {
        self.parts.shutdown.push(Box::new(f));
    }

    /// Register a readiness check.
    pub fn ready(&mut self, name: impl Into<String>, check: ReadyFn) {
        self.parts.ready.push(ReadyCheck {
            name: name.into(),
            check,
        });
    }

    /// Register a readiness check that is ready exactly when `ready` returns true (and says
    /// nothing more when it is not).
    pub fn ready_when(
        &mut self,
        name: impl Into<String>,
        ready: impl Fn() -> bool + Send + Sync + 'static,
    ) {
        self.ready(
            name,
            Arc::new(move || if ready() { Ok(()) } else { Err(String::new()) }),
        );
    }

    /// Serve `path` on the HTTP listener at `addr`.
    pub fn http_route(&mut self, addr: &str, path: &str, handler: HttpHandler) {
        self.parts.http.push(HttpRoute {
            addr: addr.to_string(),
            path: path.to_string(),
            handler,
        });
    }

    /// State shared by the plugins of this block (e.g. the `k8s_api` connection).
    pub fn block_state<T: Any + Send + Sync + Default>(&mut self) -> &mut T {
        self.block_state
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()))
            .downcast_mut::<T>()
            .expect("keyed by TypeId")
    }

    /// Peek at block state another plugin may have set.
    pub fn get_block_state<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.block_state
            .get(&TypeId::of::<T>())
            .and_then(|b| b.downcast_ref::<T>())
    }

    /// The only occurrence of a directive that may appear once per block; a second one is
    /// an error at its line.
    pub fn once<'d>(name: &str, directives: &'d [Directive]) -> Result<&'d Directive, Error> {
        if let Some(second) = directives.get(1) {
            return Err(second
                .err("this plugin can only be used once per Server Block")
                .with_plugin(name));
        }
        directives.first().ok_or_else(|| Error {
            plugin: Some(name.to_string()),
            file: String::new(),
            line: 0,
            message: "no directive".into(),
        })
    }

    /// Take what setup produced: the chain handlers and the bind addresses.
    pub fn finish(self) -> (Vec<Arc<dyn Plugin>>, Vec<IpAddr>) {
        (self.plugins, self.bind)
    }
}
