//! A tiny HTTP/1.1 client (hyper's connection API, optional rustls) for talking to the fake.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use signpost_fakeapi::FakeApi;
use tokio::net::TcpStream;

/// How to connect: the fake's address, TLS roots and optional client identity, optional token.
#[derive(Clone)]
pub struct Client {
    pub addr: std::net::SocketAddr,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub token: Option<String>,
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
}

fn tls_config(ca_pem: &str, identity: Option<(&str, &str)>) -> Arc<rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let b = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let cfg = match identity {
        Some((cert, key)) => {
            let certs: Vec<_> = CertificateDer::pem_slice_iter(cert.as_bytes())
                .map(|c| c.unwrap())
                .collect();
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
            b.with_client_auth_cert(certs, key).unwrap()
        }
        None => b.with_no_client_auth(),
    };
    Arc::new(cfg)
}

impl Client {
    pub fn plain(api: &FakeApi) -> Client {
        Client {
            addr: api.addr(),
            tls: None,
            token: None,
        }
    }

    /// TLS trusting the fake's CA, presenting its client certificate when `with_cert`.
    pub fn tls(api: &FakeApi, with_cert: bool) -> Client {
        let ca = api.ca_pem().expect("tls");
        let id = with_cert.then(|| {
            (
                api.client_cert_pem().unwrap(),
                api.client_key_pem().unwrap(),
            )
        });
        Client {
            addr: api.addr(),
            tls: Some(tls_config(ca, id)),
            token: None,
        }
    }

    pub fn with_token(mut self, t: &str) -> Client {
        self.token = Some(t.to_string());
        self
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> std::io::Result<hyper::Response<Incoming>> {
        let tcp = TcpStream::connect(self.addr).await?;
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1")
            .header("accept", "application/json");
        if let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if !content_type.is_empty() {
            req = req.header("content-type", content_type);
        }
        let req = req.body(Full::new(body)).unwrap();
        let resp = match &self.tls {
            None => {
                let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
                    .await
                    .map_err(std::io::Error::other)?;
                tokio::spawn(conn);
                tx.send_request(req).await
            }
            Some(cfg) => {
                let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
                let tls = tokio_rustls::TlsConnector::from(cfg.clone())
                    .connect(name, tcp)
                    .await?;
                let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
                    .await
                    .map_err(std::io::Error::other)?;
                tokio::spawn(conn);
                tx.send_request(req).await
            }
        };
        resp.map_err(std::io::Error::other)
    }

    pub async fn try_request(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> std::io::Result<Resp> {
        let resp = self
            .send(method, path, content_type, Bytes::from(body.to_string()))
            .await?;
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(std::io::Error::other)?
            .to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Ok(Resp { status, body })
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.try_request("GET", path, "", "")
            .await
            .expect("request")
    }

    pub async fn request(&self, method: &str, path: &str, content_type: &str, body: &str) -> Resp {
        self.try_request(method, path, content_type, body)
            .await
            .expect("request")
    }

    /// Open a watch; returns its status and an event reader.
    pub async fn watch(&self, path: &str) -> (u16, Watch) {
        let resp = self
            .send("GET", path, "", Bytes::new())
            .await
            .expect("watch request");
        (
            resp.status().as_u16(),
            Watch {
                body: resp.into_body(),
                buf: Vec::new(),
                ended: false,
            },
        )
    }
}

pub struct Watch {
    body: Incoming,
    buf: Vec<u8>,
    pub ended: bool,
}

impl Watch {
    /// The next event, or None when the stream ended or nothing came within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Some(serde_json::from_slice(&line).expect("event is JSON"));
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) => self.ended = true,
                Ok(Some(Ok(f))) => {
                    if let Some(d) = f.data_ref() {
                        self.buf.extend_from_slice(d);
                    }
                }
            }
        }
    }

    /// (type, name) of the next event.
    pub async fn next_brief(&mut self) -> Option<(String, String)> {
        let ev = self.next(Duration::from_secs(5)).await?;
        Some((
            ev["type"].as_str().unwrap().to_string(),
            ev["object"]["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        ))
    }

    /// Wait for the stream to end (true) within `wait`.
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        while tokio::time::Instant::now() < deadline {
            if self.next(Duration::from_millis(50)).await.is_none() && self.ended {
                return true;
            }
        }
        false
    }
}

pub fn svc(ns: &str, name: &str, labels: Value) -> Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 80, "protocol": "TCP"}]}
    })
}

pub fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}
