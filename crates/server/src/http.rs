//! The small HTTP/1.1 server behind `health`, `ready` and `prometheus`.
//!
//! Each listen address gets one listener, shared by every block that names it; its routes
//! are swapped whole on reload, so the socket (and scrapers' connections to it) survive.
//! Requests are GET/HEAD of an exact path; answers carry Content-Length and close the
//! connection.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use signpost_plugin::{HttpHandler, HttpReply};

/// Routes of one listener: path → handler.
pub type Routes = HashMap<String, HttpHandler>;

/// A running HTTP listener.
pub struct HttpListener {
    /// Address actually bound.
    pub addr: SocketAddr,
    /// Its routes (swapped on reload).
    pub routes: Arc<ArcSwap<Routes>>,
    task: JoinHandle<()>,
}

impl HttpListener {
    /// Bind `addr` and serve `routes`. Must run inside the runtime.
    pub async fn start(addr: SocketAddr, routes: Routes) -> io::Result<HttpListener> {
        let listener = TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        let routes = Arc::new(ArcSwap::from_pointee(routes));
        let r = routes.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let r = r.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(10), serve(stream, r)).await;
                });
            }
        });
        Ok(HttpListener {
            addr: bound,
            routes,
            task,
        })
    }

    /// Stop listening.
    pub fn stop(self) {
        self.task.abort();
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

async fn serve(mut stream: TcpStream, routes: Arc<ArcSwap<Routes>>) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 16 * 1024 {
            return respond(
                &mut stream,
                &HttpReply::text(400, "request too large\n"),
                false,
            )
            .await;
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let reply = if method != "GET" && method != "HEAD" {
        HttpReply::text(405, "method not allowed\n")
    } else {
        match routes.load().get(path) {
            Some(h) => h(),
            None => HttpReply::text(404, "404 page not found\n"),
        }
    };
    respond(&mut stream, &reply, method == "HEAD").await
}

async fn respond(stream: &mut TcpStream, reply: &HttpReply, head_only: bool) -> io::Result<()> {
    let header = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.status,
        reason(reply.status),
        reply.content_type,
        reply.body.len()
    );
    stream.write_all(header.as_bytes()).await?;
    if !head_only {
        stream.write_all(&reply.body).await?;
    }
    stream.shutdown().await
}

/// Resolve a Corefile HTTP address (`:8080`, `localhost:9153`, `127.0.0.1:8181`, `[::1]:80`).
pub fn resolve(addr: &str) -> Result<SocketAddr, String> {
    let full = if addr.starts_with(':') {
        format!("0.0.0.0{addr}")
    } else if let Some(host) = addr.strip_prefix("localhost:") {
        format!("127.0.0.1:{host}")
    } else {
        addr.to_string()
    };
    full.parse()
        .map_err(|_| format!("invalid HTTP listen address '{addr}'"))
}
