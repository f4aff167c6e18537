//! Hooks a plugin registers at setup and the handle it gets when the server starts:
//! start-up work (probes, file watchers), shutdown work (lameduck), HTTP endpoints, and a
//! control channel back to the server (reload, fatal stop).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::mpsc::UnboundedSender;

use crate::{BoxFuture, Transport};

/// Requests a plugin can make of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlMsg {
    /// Read the Corefile again and swap to it if it builds.
    Reload(String),
    /// Stop the process with an error (e.g. a forwarding loop was found).
    Fatal(String),
}

/// Channel to the server's main loop.
#[derive(Debug, Clone)]
pub struct Control {
    tx: UnboundedSender<ControlMsg>,
}

impl Control {
    /// Wrap a sender.
    pub fn new(tx: UnboundedSender<ControlMsg>) -> Control {
        Control { tx }
    }

    /// Ask for a reload.
    pub fn reload(&self, why: impl Into<String>) {
        let _ = self.tx.send(ControlMsg::Reload(why.into()));
    }

    /// Ask the server to stop with an error.
    pub fn fatal(&self, why: impl Into<String>) {
        let _ = self.tx.send(ControlMsg::Fatal(why.into()));
    }
}

/// What a start-up hook gets.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// The async runtime.
    pub handle: Handle,
    /// Channel to the server.
    pub control: Control,
    /// The Corefile in use, if it came from a file.
    pub corefile: Option<PathBuf>,
    /// Every address the server listens on.
    pub listeners: Vec<(Transport, SocketAddr)>,
}

/// Runs once the listeners are up. An error stops the start (or the reload).
pub type StartupHook = Box<dyn FnOnce(&Runtime) -> Result<(), String> + Send>;
/// Runs when the configuration is retired: `true` on process shutdown (lameduck applies),
/// `false` on reload.
pub type ShutdownHook = Box<dyn FnOnce(bool) -> BoxFuture<'static, ()> + Send>;

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    /// Status code.
    pub status: u16,
    /// Content-Type header.
    pub content_type: &'static str,
    /// Body.
    pub body: Vec<u8>,
}

impl HttpReply {
    /// A plain-text answer.
    pub fn text(status: u16, body: impl Into<String>) -> HttpReply {
        HttpReply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into().into_bytes(),
        }
    }
}

/// Serves one path.
pub type HttpHandler = Arc<dyn Fn() -> HttpReply + Send + Sync>;

/// One HTTP endpoint: listen address as written (`:8080`, `127.0.0.1:9153`), path, handler.
#[derive(Clone)]
pub struct HttpRoute {
    /// Listen address.
    pub addr: String,
    /// Exact path served.
    pub path: String,
    /// Handler.
    pub handler: HttpHandler,
}

impl std::fmt::Debug for HttpRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HttpRoute({}{})", self.addr, self.path)
    }
}
