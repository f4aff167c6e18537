#![doc = include_str!("../README.md")]

mod discovery;
mod faults;
mod http;
mod patch;
mod resources;
mod rest;
mod selectors;
mod status;
mod store;
mod tls;
mod watch;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

pub use faults::Faults;
pub use resources::{ResourceType, RESOURCES};

use store::Store;

/// How clients must authenticate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// Anyone may call (with TLS, a client certificate is accepted but not required).
    #[default]
    None,
    /// Every request needs `Authorization: Bearer <token>`; otherwise 401.
    Token(String),
    /// TLS with a client certificate signed by the fake's CA is required (implies `tls`).
    ClientCert,
}

/// Server options. `Options::default()` is plain HTTP, no auth, no page cap, no bookmarks.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Serve HTTPS with a fresh CA and a server certificate for 127.0.0.1 and localhost.
    pub tls: bool,
    pub auth: Auth,
    /// Cap every list page at this many items (also when the client sends no `limit`), to
    /// exercise clients' `continue` handling.
    pub page_size_limit: Option<usize>,
    /// Send a BOOKMARK this often on watches that asked `allowWatchBookmarks=true`. None: only
    /// the initial-events-end bookmark of `sendInitialEvents=true` watches is sent.
    pub bookmark_interval: Option<Duration>,
}

/// One request the fake received (recorded before faults or auth are applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLog {
    pub method: String,
    pub path: String,
    /// The raw query string ("" when none).
    pub query: String,
    /// A `watch=1`/`watch=true` request, or one under the legacy `/watch/` prefix.
    pub is_watch: bool,
    /// The resource plural the path names ("services"), None for discovery and other paths.
    pub resource: Option<String>,
}

impl RequestLog {
    /// A LIST (GET of a collection, not a watch) of this resource plural.
    pub fn is_list_of(&self, plural: &str) -> bool {
        self.method == "GET"
            && !self.is_watch
            && self.resource.as_deref() == Some(plural)
            && self.names_collection()
    }

    /// A WATCH of this resource plural.
    pub fn is_watch_of(&self, plural: &str) -> bool {
        self.is_watch && self.resource.as_deref() == Some(plural)
    }

    fn names_collection(&self) -> bool {
        self.path.trim_end_matches('/').rsplit('/').next() == self.resource.as_deref()
    }
}

/// How many LISTs and WATCHes of a resource plural a request log holds (what tests count to
/// show watches are shared).
pub fn lists_and_watches(log: &[RequestLog], plural: &str) -> (usize, usize) {
    (
        log.iter().filter(|r| r.is_list_of(plural)).count(),
        log.iter().filter(|r| r.is_watch_of(plural)).count(),
    )
}

/// Whether a resource type is served (see [`FakeApi::set_served`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    #[default]
    Served,
    /// Absent from discovery and 404 on every path (a CRD that is not installed).
    NotFound,
    /// Listed in discovery but every request gets 403 (RBAC denies it).
    Forbidden,
}

/// State shared by the server tasks and the handle.
pub(crate) struct Shared {
    pub(crate) store: Arc<Mutex<Store>>,
    pub(crate) faults: Faults,
    pub(crate) opts: Options,
    pub(crate) requests: Mutex<Vec<RequestLog>>,
    pub(crate) access: Mutex<HashMap<usize, Access>>,
    pub(crate) addr: SocketAddr,
}

impl Shared {
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn access(&self, rt: &ResourceType) -> Access {
        let map = self.access.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&store::rt_index(rt)).copied().unwrap_or_default()
    }
}

/// A running fake API server on 127.0.0.1. Dropping it stops the server and closes every
/// connection.
pub struct FakeApi {
    shared: Arc<Shared>,
    tls: Option<tls::Material>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for FakeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApi").field("url", &self.url()).finish()
    }
}

impl FakeApi {
    /// Bind 127.0.0.1 on a free port and serve from the current tokio runtime.
    pub async fn start(mut opts: Options) -> std::io::Result<FakeApi> {
        if opts.auth == Auth::ClientCert {
            opts.tls = true;
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let material = if opts.tls {
            Some(tls::Material::generate().map_err(std::io::Error::other)?)
        } else {
            None
        };
        let acceptor = match &material {
            Some(m) => Some(
                m.acceptor(opts.auth == Auth::ClientCert)
                    .map_err(std::io::Error::other)?,
            ),
            None => None,
        };
        let store = Arc::new(Mutex::new(Store::default()));
        let shared = Arc::new(Shared {
            faults: Faults::new(store.clone()),
            store,
            opts,
            requests: Mutex::new(Vec::new()),
            access: Mutex::new(HashMap::new()),
            addr,
        });
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(http::serve(shared.clone(), listener, acceptor, shutdown_rx));
        Ok(FakeApi {
            shared,
            tls: material,
            shutdown,
        })
    }

    /// Start on a runtime of its own (one thread), for synchronous tests. The runtime stops
    /// when the handle is dropped.
    pub fn start_blocking(opts: Options) -> FakeApi {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("fakeapi".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .expect("fakeapi runtime");
                rt.block_on(async move {
                    let api = FakeApi::start(opts).await.expect("fakeapi: bind 127.0.0.1");
                    let mut stop = api.shutdown.subscribe();
                    if tx.send(api).is_err() {
                        return;
                    }
                    let _ = stop.wait_for(|s| *s).await;
                });
            })
            .expect("spawn fakeapi thread");
        rx.recv().expect("fakeapi started")
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.shared.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// Write a kubeconfig with one context, `fake` (cluster `fake`, user `fake`, namespace
    /// `default`), current. With TLS the CA is embedded; the user has the token or the client
    /// certificate as the options ask (with TLS and no auth, the client certificate is included
    /// too, which the server accepts).
    pub fn write_kubeconfig(&self, path: &Path) {
        std::fs::write(path, self.kubeconfig()).expect("write kubeconfig");
    }

    /// The kubeconfig text [`FakeApi::write_kubeconfig`] writes (YAML).
    pub fn kubeconfig(&self) -> String {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let q = |s: &str| Value::String(s.to_string()).to_string();
        let mut cluster = format!("    server: {}\n", q(&self.url()));
        let mut user = String::new();
        if let Some(m) = &self.tls {
            cluster += &format!("    certificate-authority-data: {}\n", b64(&m.ca_pem));
            user += &format!("    client-certificate-data: {}\n", b64(&m.client_cert_pem));
            user += &format!("    client-key-data: {}\n", b64(&m.client_key_pem));
        }
        if let Auth::Token(t) = &self.shared.opts.auth {
            user = format!("    token: {}\n", q(t));
        }
        if user.is_empty() {
            user = "    {}\n".to_string();
        }
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n{cluster}users:\n- name: fake\n  user:\n{user}contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: default\ncurrent-context: fake\npreferences: {{}}\n"
        )
    }

    /// The CA certificate (PEM) that signed the server and client certificates; None without TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|m| m.ca_pem.as_str())
    }

    /// A client certificate (PEM, CN `fakeapi-client`, O `system:masters`) signed by the CA.
    pub fn client_cert_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|m| m.client_cert_pem.as_str())
    }

    /// The client certificate's private key (PKCS#8 PEM).
    pub fn client_key_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|m| m.client_key_pem.as_str())
    }

    /// Write `client.crt`, `client.key` and `ca.crt` into `dir` and return their paths in the
    /// order of a `tls CERT KEY CACERT` line. None without TLS.
    pub fn write_tls_files(&self, dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
        let m = self.tls.as_ref()?;
        let paths = (
            dir.join("client.crt"),
            dir.join("client.key"),
            dir.join("ca.crt"),
        );
        std::fs::write(&paths.0, &m.client_cert_pem).expect("write client.crt");
        std::fs::write(&paths.1, &m.client_key_pem).expect("write client.key");
        std::fs::write(&paths.2, &m.ca_pem).expect("write ca.crt");
        Some(paths)
    }

    /// Create or replace an object, keyed by apiVersion/kind/namespace/name (a namespaced
    /// object without a namespace goes to `default`). Sets resourceVersion, uid,
    /// creationTimestamp and generation; emits ADDED or MODIFIED. Returns the new
    /// resourceVersion. Panics on a kind the fake does not know or a missing name (a test bug).
    pub fn apply(&self, obj: Value) -> u64 {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default();
        let kind = obj["kind"].as_str().unwrap_or_default();
        let rt = resources::by_kind(api_version, kind)
            .unwrap_or_else(|| panic!("fakeapi: unknown apiVersion/kind {api_version}/{kind}"));
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        assert!(!name.is_empty(), "fakeapi: apply needs metadata.name");
        let ns = if rt.namespaced {
            obj.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("default")
        } else {
            ""
        };
        let key = (ns.to_string(), name.to_string());
        let mut store = self.shared.store();
        store.upsert(rt, key, obj);
        store.rv()
    }

    /// Delete an object; emits DELETED. False when it did not exist (or the kind is unknown).
    pub fn delete(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> bool {
        let Some(rt) = resources::by_kind(api_version, kind) else {
            return false;
        };
        let ns = if rt.namespaced { namespace } else { "" };
        self.shared
            .store()
            .delete(rt, &(ns.to_string(), name.to_string()))
            .is_some()
    }

    /// The stored object, if present.
    pub fn get(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let rt = resources::by_kind(api_version, kind)?;
        let ns = if rt.namespaced { namespace } else { "" };
        self.shared
            .store()
            .get(rt, &(ns.to_string(), name.to_string()))
            .map(|o| (*o).clone())
    }

    /// Every stored object of a kind, in namespace/name order.
    pub fn list(&self, api_version: &str, kind: &str) -> Vec<Value> {
        let Some(rt) = resources::by_kind(api_version, kind) else {
            return Vec::new();
        };
        let store = self.shared.store();
        match store.list(rt, None, None, None, None, &|_| true) {
            Ok(page) => page.items.iter().map(|o| (**o).clone()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The current (latest) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared.store().rv()
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RequestLog> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Forget the recorded requests.
    pub fn clear_requests(&self) {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The number of watch streams currently open.
    pub fn open_watches(&self) -> usize {
        self.shared.store().watcher_count()
    }

    /// Fault injection.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Forget the event history: watches (and exact lists, and continue tokens) from an older
    /// resourceVersion get 410 Gone (reason Expired).
    pub fn compact(&self) {
        self.shared.store().compact();
    }

    /// Serve, hide (404, absent from discovery) or forbid (403) a resource type, named by
    /// apiVersion and plural: `set_served("v1", "services", Access::Forbidden)`. Panics on an
    /// unknown type.
    pub fn set_served(&self, api_version: &str, plural: &str, access: Access) {
        let (g, v) = resources::split_api_version(api_version);
        let rt = resources::by_plural(g, v, plural)
            .unwrap_or_else(|| panic!("fakeapi: unknown resource {api_version} {plural}"));
        let mut map = self.shared.access.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(store::rt_index(rt), access);
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
        self.shared.store().drop_watchers();
    }
}
