//! The HTTP/1.1 server: accept loop (with the `down` fault), optional TLS, per-request
//! logging, delay, authentication and injected failures before the REST handlers run.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;

use crate::status::ApiError;
use crate::{rest, Auth, RequestLog, Shared};

/// A response body: a whole buffer, or a stream of chunks (a watch).
pub(crate) enum Body {
    Full(Option<Bytes>),
    Stream(mpsc::Receiver<Bytes>),
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(rx) => rx.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            Body::Full(Some(b)) => hyper::body::SizeHint::with_exact(b.len() as u64),
            Body::Full(None) => hyper::body::SizeHint::with_exact(0),
            Body::Stream(_) => hyper::body::SizeHint::default(),
        }
    }
}

pub(crate) fn bytes_response(code: u16, content_type: &str, body: Bytes) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("content-type", content_type)
        .body(Body::Full(Some(body)))
        .expect("valid response parts")
}

pub(crate) fn json_response(code: u16, v: &Value) -> Response<Body> {
    bytes_response(
        code,
        "application/json",
        Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
    )
}

pub(crate) fn error_response(e: &ApiError) -> Response<Body> {
    json_response(e.code, &e.to_json())
}

/// The request line's pieces, parsed once.
pub(crate) struct Req {
    pub(crate) method: hyper::Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) content_type: String,
    pub(crate) body: Bytes,
}

impl Req {
    /// The last value of a query parameter.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean query parameter ("true"/"1").
    pub(crate) fn flag(&self, name: &str) -> bool {
        matches!(self.param(name), Some("true" | "1"))
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or("").to_string();
    let query: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes())
        .into_owned()
        .collect();
    let is_watch = path.split('/').any(|s| s == "watch")
        || query
            .iter()
            .any(|(k, v)| k == "watch" && (v == "true" || v == "1"));
    shared
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(RequestLog {
            method: method.to_string(),
            path: path.clone(),
            query: raw_query,
            is_watch,
            resource: rest::resource_of(&path).map(str::to_string),
        });

    let delay = shared.faults.current_delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Auth::Token(token) = &shared.opts.auth {
        let ok = req
            .headers()
            .get("authorization")
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .is_some_and(|t| t.trim() == token);
        if !ok {
            return error_response(&ApiError::new(401, "Unauthorized", "Unauthorized"));
        }
    }
    if let Some(code) = shared.faults.take_failure() {
        return error_response(&ApiError::for_code(code));
    }
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return error_response(&ApiError::bad_request(format!("reading the body: {e}"))),
    };
    let req = Req {
        method,
        path,
        query,
        content_type,
        body,
    };
    match rest::route(&shared, req) {
        Ok(resp) => resp,
        Err(e) => error_response(&e),
    }
}

/// Serve one connection until it ends, the server goes down, or the handle is dropped.
async fn connection<S>(shared: Arc<Shared>, io: S, mut shutdown: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut down = shared.faults.down_signal();
    let svc_shared = shared.clone();
    let svc = hyper::service::service_fn(move |req| {
        let s = svc_shared.clone();
        async move { Ok::<_, Infallible>(handle(s, req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), svc);
    tokio::select! {
        _ = conn => {}
        _ = down.wait_for(|d| *d) => {}
        _ = shutdown.wait_for(|s| *s) => {}
    }
}

fn spawn_connection(
    shared: &Arc<Shared>,
    stream: TcpStream,
    tls: &Option<TlsAcceptor>,
    shutdown: &watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let (shared, tls, shutdown) = (shared.clone(), tls.clone(), shutdown.clone());
    tokio::spawn(async move {
        match tls {
            None => connection(shared, stream, shutdown).await,
            Some(acceptor) => {
                let handshake =
                    tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
                if let Ok(Ok(tls_stream)) = handshake.await {
                    connection(shared, tls_stream, shutdown).await;
                }
            }
        }
    });
}

/// The accept loop. While the server is `down` the listener is closed (connections are
/// refused); when it comes back up it binds the same port again.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut down = shared.faults.down_signal();
    let mut listener = Some(listener);
    loop {
        if let Some(l) = &listener {
            let accepted = tokio::select! {
                accepted = l.accept() => accepted.ok(),
                _ = down.wait_for(|d| *d) => {
                    listener = None;
                    continue;
                }
                _ = shutdown.wait_for(|s| *s) => return,
            };
            if let Some((stream, _)) = accepted {
                if !*down.borrow() {
                    spawn_connection(&shared, stream, &tls, &shutdown);
                }
            }
        } else {
            tokio::select! {
                _ = down.wait_for(|d| !*d) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
            loop {
                match TcpListener::bind(shared.addr).await {
                    Ok(l) => {
                        listener = Some(l);
                        break;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
                if *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}
