//! Watches on an API server: kube's watcher (list, then watch; relist after `410 Gone`;
//! retries with client-go's backoff, 0.8 s doubling to 30 s) feeding a [`Hub`].
//!
//! Every request the shared client makes passes through [`Observe`], which records per kind
//! whether the API answers. That is what [`Cluster::is_connected`](crate::Cluster) reports,
//! and it notices a recovery at once (a re-opened watch yields no event until something
//! changes, so the event stream alone could not tell).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::StreamExt;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::Api;

use crate::cluster::{ClusterInner, Part};
use crate::connection::chain;
use crate::convert::{kind_label, kind_of_path, Watchable};
use crate::hub::{Hub, Pending};
use crate::metrics;
use crate::wire::Wire;

/// Objects per list page.
const PAGE_SIZE: u32 = 500;

/// Retry delays while the client can't even be configured.
const CONFIG_RETRY_MIN: Duration = Duration::from_millis(800);
const CONFIG_RETRY_MAX: Duration = Duration::from_secs(30);

/// Builds the shared client with the observing layer.
pub(crate) fn build_client(
    config: kube::Config,
    cluster: Weak<ClusterInner>,
) -> Result<kube::Client, String> {
    // rustls picks its crypto provider from its crate features only while exactly one is
    // compiled in; should another dependency ever add a second, it would panic instead.
    // Installing ring (kube's choice here) first keeps that from ever happening; it is a
    // no-op when a provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = kube::client::ClientBuilder::try_from(config).map_err(|e| chain(&e))?;
    Ok(builder.with_layer(&ObserveLayer { cluster }).build())
}

/// Runs one watch until aborted.
pub(crate) async fn run<T: Watchable>(cluster: Arc<ClusterInner>, hub: Arc<Hub<T>>) {
    let mut delay = CONFIG_RETRY_MIN;
    let client = loop {
        match cluster.client().await {
            Ok(c) => break c,
            Err(e) => {
                cluster.watch_error(T::KIND);
                cluster.report(Part::Client, Err(e));
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(CONFIG_RETRY_MAX);
            }
        }
    };
    cluster.report(Part::Client, Ok(()));

    let api: Api<Wire<T>> = Api::all(client);
    let mut config = watcher::Config::default().page_size(PAGE_SIZE);
    if let Some(l) = &hub.selectors.labels {
        config = config.labels(l);
    }
    if let Some(f) = &hub.selectors.fields {
        config = config.fields(f);
    }
    let stream = watcher::watcher(api, config).default_backoff();
    futures_util::pin_mut!(stream);
    let mut pending: Option<Pending<T>> = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(Event::Init) => pending = Some(Pending::default()),
            Ok(Event::InitApply(w)) => {
                if let Some(p) = pending.as_mut() {
                    p.add(&w.object);
                }
            }
            Ok(Event::InitDone) => {
                if let Some(p) = pending.take() {
                    tracing::debug!(
                        "kubernetes {}: listed {} {} objects",
                        cluster.name,
                        p.len(),
                        T::KIND_NAME
                    );
                    if hub.reset(p) {
                        cluster.synced(T::KIND);
                    }
                }
            }
            Ok(Event::Apply(w)) => hub.apply(&w.object),
            Ok(Event::Delete(w)) => hub.delete(&w.object),
            Err(e) => {
                // `410 Gone` inside a watch is the normal way to be told to relist.
                if let watcher::Error::WatchError(status) = &e {
                    if status.code == 410 {
                        tracing::debug!(
                            "kubernetes {}: {} watch expired, relisting",
                            cluster.name,
                            T::KIND_NAME
                        );
                        continue;
                    }
                }
                cluster.watch_error(T::KIND);
                cluster.report(Part::Kind(T::KIND), Err(chain(&e)));
            }
        }
    }
}

/// Puts [`Observe`] around the client's service.
struct ObserveLayer {
    cluster: Weak<ClusterInner>,
}

impl<S> tower::Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            cluster: self.cluster.clone(),
        }
    }
}

/// Records the outcome of every API request against the kind it was for.
pub(crate) struct Observe<S> {
    inner: S,
    cluster: Weak<ClusterInner>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for Observe<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: AsRef<dyn std::error::Error + Send + Sync + 'static>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        // A probe's 404 or 403 answers "is this kind served", not "does the API work".
        let probe = req.extensions().get::<crate::optional::Probe>().is_some();
        let kind = kind_of_path(req.uri().path()).filter(|_| !probe);
        let fut = self.inner.call(req);
        let cluster = self.cluster.clone();
        Box::pin(async move {
            let result = fut.await;
            if let Some(cluster) = cluster.upgrade() {
                let label = kind.map_or("", kind_label);
                let (code, outcome) = match &result {
                    Ok(resp) => {
                        let s = resp.status();
                        // 410 says "relist", which proves the server answers.
                        let ok = s.is_success() || s == http::StatusCode::GONE;
                        let outcome = if ok { Ok(()) } else { Err(format!("HTTP {s}")) };
                        (s.as_str().to_string(), outcome)
                    }
                    Err(e) => ("error".to_string(), Err(chain(e.as_ref()))),
                };
                metrics::request(&cluster.name, label, &code);
                if let Some(kind) = kind {
                    cluster.report(Part::Kind(kind), outcome);
                }
            }
            result
        })
    }
}
