//! How to reach one cluster: the `endpoint`, `tls`, `kubeconfig` and `manifests` lines that
//! the `k8s_api` and Kubernetes plugins share, and their translation into a kube client
//! configuration.

use std::path::{Path, PathBuf};

use signpost_corefile::{Dispenser, Error as CorefileError};

/// How to reach one cluster. Parsed from Corefile lines by [`Connection::parse_line`].
///
/// When several ways are given, the first of these wins: `manifests` (no API server at
/// all), `kubeconfig`, `endpoint` (+ `tls`), and with none of them the in-cluster service
/// account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Connection {
    /// `endpoint URL`.
    pub endpoint: Option<String>,
    /// `tls CERT KEY CACERT`.
    pub tls: Option<(PathBuf, PathBuf, PathBuf)>,
    /// `kubeconfig FILE [CONTEXT]`.
    pub kubeconfig: Option<(PathBuf, Option<String>)>,
    /// `manifests PATH...`: YAML/JSON files or folders, followed for changes; no API server.
    pub manifests: Vec<PathBuf>,
}

/// Where the objects of a connection come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// Files on disk.
    Manifests(Vec<PathBuf>),
    /// An API server.
    Api,
}

impl Connection {
    /// If the dispenser sits on one of `endpoint`, `tls`, `kubeconfig`, `manifests`, consumes
    /// that line into `self` and returns `Ok(true)`; otherwise returns `Ok(false)` without
    /// moving. Errors name file and line; the caller adds its plugin name
    /// (`.with_plugin("kubernetes")`).
    pub fn parse_line(&mut self, d: &mut Dispenser<'_>) -> Result<bool, CorefileError> {
        match d.val() {
            "endpoint" => {
                let args = d.remaining_args();
                let Some(first) = args.first() else {
                    return Err(d.arg_err());
                };
                if args.len() > 1 {
                    tracing::warn!(
                        "Multiple endpoints have been deprecated, only the first specified \
                         endpoint '{first}' is used"
                    );
                }
                endpoint_uri(first, false).map_err(|e| d.err(e))?;
                self.endpoint = Some(first.clone());
            }
            "tls" => {
                let args = d.remaining_args();
                let [cert, key, ca] = args.as_slice() else {
                    return Err(d.arg_err());
                };
                self.tls = Some((cert.into(), key.into(), ca.into()));
            }
            "kubeconfig" => {
                let mut args = d.remaining_args();
                if args.is_empty() || args.len() > 2 {
                    return Err(d.arg_err());
                }
                let context = (args.len() == 2).then(|| args.remove(1));
                self.kubeconfig = Some((args.remove(0).into(), context));
            }
            "manifests" => {
                let args = d.remaining_args();
                if args.is_empty() {
                    return Err(d.arg_err());
                }
                self.manifests.extend(args.into_iter().map(PathBuf::from));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// True when nothing was set (then the block's `k8s_api` default, else the in-cluster
    /// configuration, applies).
    pub fn is_empty(&self) -> bool {
        *self == Connection::default()
    }

    /// A short name for logs and metric labels: `manifests:PATH[,PATH...]`, the kubeconfig
    /// context (or `kubeconfig:FILE` without one), the endpoint URL, or `in-cluster`.
    pub fn name(&self) -> String {
        if !self.manifests.is_empty() {
            let paths: Vec<String> = self
                .manifests
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            return format!("manifests:{}", paths.join(","));
        }
        if let Some((file, context)) = &self.kubeconfig {
            return match context {
                Some(c) => c.clone(),
                None => format!("kubeconfig:{}", file.display()),
            };
        }
        if let Some(url) = &self.endpoint {
            return url.clone();
        }
        "in-cluster".to_string()
    }

    pub(crate) fn source(&self) -> Source {
        if self.manifests.is_empty() {
            Source::Api
        } else {
            Source::Manifests(self.manifests.clone())
        }
    }

    /// The kube client configuration. Reads files (kubeconfig, CA), and for a kubeconfig
    /// with an exec plugin may run it, hence async. TLS is always verified (unless a
    /// kubeconfig itself says `insecure-skip-tls-verify`).
    pub(crate) async fn kube_config(&self) -> Result<kube::Config, String> {
        if let Some((file, context)) = &self.kubeconfig {
            let kubeconfig = kube::config::Kubeconfig::read_from(file)
                .map_err(|e| format!("kubeconfig {}: {}", file.display(), chain(&e)))?;
            let options = kube::config::KubeConfigOptions {
                context: context.clone(),
                ..Default::default()
            };
            return kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| format!("kubeconfig {}: {}", file.display(), chain(&e)));
        }
        if let Some(url) = &self.endpoint {
            let mut config = kube::Config::new(endpoint_uri(url, self.tls.is_some())?);
            if let Some((cert, key, ca)) = &self.tls {
                config.auth_info.client_certificate = Some(cert.display().to_string());
                config.auth_info.client_key = Some(key.display().to_string());
                config.root_cert = Some(read_ca(ca)?);
                // kube re-reads this file about once a minute, so a rotated CA is picked up.
                config.root_cert_file = Some(ca.clone());
            }
            return Ok(config);
        }
        // The service-account token file is re-read by kube when it rotates, and the CA
        // file about once a minute.
        kube::Config::incluster().map_err(|e| format!("in-cluster configuration: {}", chain(&e)))
    }
}

/// The endpoint as a URI. Like client-go, a URL without a scheme gets `https://` when TLS
/// files are configured and `http://` otherwise.
fn endpoint_uri(url: &str, tls: bool) -> Result<http::Uri, String> {
    let full = if url.contains("://") {
        url.to_string()
    } else if tls {
        format!("https://{url}")
    } else {
        format!("http://{url}")
    };
    let uri: http::Uri = full
        .parse()
        .map_err(|e| format!("invalid endpoint URL '{url}': {e}"))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some_and(|h| !h.is_empty()) => Ok(uri),
        _ => Err(format!(
            "invalid endpoint URL '{url}': want http(s)://HOST[:PORT]"
        )),
    }
}

/// The DER certificates of a PEM bundle.
fn read_ca(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("CA file {}: {e}", path.display()))?;
    let certs: Vec<Vec<u8>> = pem::parse_many(&pem)
        .map_err(|e| format!("CA file {}: {e}", path.display()))?
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect();
    if certs.is_empty() {
        return Err(format!("CA file {}: no certificate", path.display()));
    }
    Ok(certs)
}

/// An error with its sources, `outer: inner: innermost`.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The `k8s_api` directive stores the block default here:
/// `ctx.block_state::<signpost_kube::BlockDefault>().0 = Some(conn)`. Plugin setup reads it
/// with `ctx.get_block_state::<BlockDefault>()` (k8s_api runs before the Kubernetes plugins
/// in the plugin order).
#[derive(Debug, Clone, Default)]
pub struct BlockDefault(pub Option<Connection>);

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_corefile::parse;

    /// Parses the lines of the first directive's block with `parse_line`.
    fn conn(body: &str) -> Result<Connection, String> {
        let text = format!(". {{\n k8s_api {{\n{body}\n }}\n}}\n");
        let blocks = parse("Corefile", &text).unwrap();
        let dir = &blocks[0].directives[0];
        let mut d = Dispenser::new(dir);
        d.next();
        let mut c = Connection::default();
        while d.next_block() {
            match c.parse_line(&mut d) {
                Ok(true) => {}
                Ok(false) => return Err(format!("not mine: {}", d.val())),
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(c)
    }

    #[test]
    fn parses_every_line() {
        let c = conn(
            "  endpoint https://10.0.0.1:6443\n  tls c.pem k.pem ca.pem\n  \
             kubeconfig /k/config prod\n  manifests a.yaml\n  manifests dir/ b.json",
        )
        .unwrap();
        assert_eq!(c.endpoint.as_deref(), Some("https://10.0.0.1:6443"));
        assert_eq!(
            c.tls,
            Some(("c.pem".into(), "k.pem".into(), "ca.pem".into()))
        );
        assert_eq!(
            c.kubeconfig,
            Some(("/k/config".into(), Some("prod".to_string())))
        );
        assert_eq!(
            c.manifests,
            vec![
                PathBuf::from("a.yaml"),
                PathBuf::from("dir/"),
                PathBuf::from("b.json")
            ]
        );
        assert_eq!(c.name(), "manifests:a.yaml,dir/,b.json");
        assert!(!c.is_empty());
        assert!(conn("").unwrap().is_empty());
    }

    #[test]
    fn names() {
        let mut c = Connection::default();
        assert_eq!(c.name(), "in-cluster");
        c.endpoint = Some("http://127.0.0.1:8080".into());
        assert_eq!(c.name(), "http://127.0.0.1:8080");
        c.kubeconfig = Some(("/k".into(), None));
        assert_eq!(c.name(), "kubeconfig:/k");
        c.kubeconfig = Some(("/k".into(), Some("ctx".into())));
        assert_eq!(c.name(), "ctx");
        assert_eq!(c.source(), Source::Api);
    }

    #[test]
    fn first_endpoint_is_used() {
        let c = conn("  endpoint http://a:1 http://b:2").unwrap();
        assert_eq!(c.endpoint.as_deref(), Some("http://a:1"));
        let c = conn("  endpoint 127.0.0.1:8080").unwrap();
        assert_eq!(c.endpoint.as_deref(), Some("127.0.0.1:8080"));
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (
                "  endpoint",
                "Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'endpoint'",
            ),
            (
                "  tls a b",
                "Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'b'",
            ),
            (
                "  tls a b c d",
                "Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'd'",
            ),
            (
                "  kubeconfig",
                "Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'kubeconfig'",
            ),
            (
                "  kubeconfig a b c",
                "Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'c'",
            ),
            (
                "  manifests",
                "Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'manifests'",
            ),
            (
                "  endpoint ftp://x",
                "Corefile:3 - Error during parsing: invalid endpoint URL 'ftp://x': want http(s)://HOST[:PORT]",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(conn(body).unwrap_err(), want, "{body}");
        }
        assert_eq!(conn("  ttl 5").unwrap_err(), "not mine: ttl");
    }

    #[test]
    fn endpoint_scheme_defaults() {
        assert_eq!(
            endpoint_uri("10.0.0.1:6443", true).unwrap().to_string(),
            "https://10.0.0.1:6443/"
        );
        assert_eq!(
            endpoint_uri("10.0.0.1:8080", false).unwrap().to_string(),
            "http://10.0.0.1:8080/"
        );
        assert!(endpoint_uri("http://", false).is_err());
    }

    #[tokio::test]
    async fn configs() {
        let c = Connection {
            endpoint: Some("http://127.0.0.1:8080".into()),
            ..Default::default()
        };
        let cfg = c.kube_config().await.unwrap();
        assert_eq!(cfg.cluster_url.to_string(), "http://127.0.0.1:8080/");
        assert!(!cfg.accept_invalid_certs);

        let c = Connection {
            endpoint: Some("https://127.0.0.1:6443".into()),
            tls: Some(("c".into(), "k".into(), "/nonexistent/ca.pem".into())),
            ..Default::default()
        };
        let err = c.kube_config().await.unwrap_err();
        assert!(err.starts_with("CA file /nonexistent/ca.pem"), "{err}");

        let c = Connection {
            kubeconfig: Some(("/nonexistent/config".into(), None)),
            ..Default::default()
        };
        let err = c.kube_config().await.unwrap_err();
        assert!(err.starts_with("kubeconfig /nonexistent/config"), "{err}");
    }
}
