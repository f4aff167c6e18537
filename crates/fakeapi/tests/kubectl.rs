//! End to end with the real `kubectl`: discovery fallback, create, get, label, patch, apply,
//! delete, over HTTP with a token and over TLS with a client certificate. Skipped (with a note)
//! when kubectl is not installed.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};
use signpost_fakeapi::{Auth, FakeApi, Options};

fn kubectl_path() -> Option<PathBuf> {
    let candidates = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"];
    if let Some(p) = candidates.iter().map(PathBuf::from).find(|p| p.exists()) {
        return Some(p);
    }
    let ok = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then(|| PathBuf::from("kubectl"))
}

struct Kubectl {
    bin: PathBuf,
    dir: PathBuf,
    kubeconfig: PathBuf,
}

impl Kubectl {
    fn new(api: &FakeApi, tag: &str) -> Option<Kubectl> {
        let Some(bin) = kubectl_path() else {
            eprintln!("note: kubectl not found; skipping the kubectl end-to-end test");
            return None;
        };
        let dir =
            std::env::temp_dir().join(format!("fakeapi-kubectl-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("home")).unwrap();
        let kubeconfig = dir.join("kubeconfig");
        api.write_kubeconfig(&kubeconfig);
        Some(Kubectl {
            bin,
            dir,
            kubeconfig,
        })
    }

    /// Run kubectl; panics with its output when it fails.
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new(&self.bin)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--request-timeout=20s")
            .args(args)
            // Keep kubectl's discovery cache out of the real home.
            .env("HOME", self.dir.join("home"))
            .env_remove("KUBECONFIG")
            .output()
            .expect("run kubectl");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }
}

impl Drop for Kubectl {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const SERVICE: &str = "apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: team-a
  labels:
    app: web
spec:
  clusterIP: 10.0.0.10
  ports:
  - name: http
    port: 80
    protocol: TCP
";

fn exercise(api: &FakeApi, k: &Kubectl) {
    let file = k.write("svc.yaml", SERVICE);
    assert_eq!(
        k.run(&["create", "-f", &file, "--validate=false"]).trim(),
        "service/web created"
    );
    let stored = api
        .get("v1", "Service", "team-a", "web")
        .expect("created in the store");
    assert_eq!(stored["spec"]["clusterIP"], "10.0.0.10");

    api.apply(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "team-b"}, "spec": {"clusterIP": "10.0.0.20"}}));
    let list: Value = serde_json::from_str(&k.run(&["get", "svc", "-A", "-o", "json"])).unwrap();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web", "db"]);

    k.run(&["label", "-n", "team-a", "svc", "web", "tier=front"]);
    k.run(&["annotate", "-n", "team-a", "service/web", "note=hello"]);
    k.run(&[
        "patch",
        "-n",
        "team-a",
        "svc",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"clusterIP":"10.0.0.11"}}"#,
    ]);
    let web = api.get("v1", "Service", "team-a", "web").unwrap();
    assert_eq!(
        web["metadata"]["labels"],
        json!({"app": "web", "tier": "front"})
    );
    assert_eq!(web["metadata"]["annotations"]["note"], "hello");
    assert_eq!(web["spec"]["clusterIP"], "10.0.0.11");
    let selected = k.run(&["get", "svc", "-A", "-l", "tier=front", "-o", "name"]);
    assert_eq!(selected.trim(), "service/web");

    // Client-side apply of a change (kubectl falls back when /openapi is absent).
    let changed = k.write("svc2.yaml", &SERVICE.replace("10.0.0.10", "10.0.0.12"));
    k.run(&["apply", "-f", &changed, "--validate=false"]);
    assert_eq!(
        api.get("v1", "Service", "team-a", "web").unwrap()["spec"]["clusterIP"],
        "10.0.0.12"
    );

    // A resource from an API group, by its plural.
    let slice = k.write(
        "slice.json",
        r#"{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"web-x1","namespace":"team-a","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4","endpoints":[{"addresses":["10.1.0.5"]}]}"#,
    );
    k.run(&["create", "-f", &slice, "--validate=false"]);
    assert!(api
        .get("discovery.k8s.io/v1", "EndpointSlice", "team-a", "web-x1")
        .is_some());

    let deleted = k.run(&["delete", "-n", "team-a", "svc", "web"]);
    assert!(deleted.contains("\"web\" deleted"), "{deleted}");
    assert!(api.get("v1", "Service", "team-a", "web").is_none());
    assert!(api.requests().iter().any(|r| r.method == "DELETE"));
}

#[test]
fn kubectl_over_plain_http() {
    let api = FakeApi::start_blocking(Options::default());
    let Some(k) = Kubectl::new(&api, "http") else {
        return;
    };
    exercise(&api, &k);
    // kubectl asked for aggregated discovery and fell back to the legacy documents.
    let reqs = api.requests();
    assert!(reqs.iter().any(|r| r.path == "/api/v1"));
    assert!(reqs.iter().any(|r| r.path == "/apis"));
}

/// kubectl never sends a bearer token to an `http://` server, so token auth is tested over TLS.
#[test]
fn kubectl_over_tls_with_token() {
    let api = FakeApi::start_blocking(Options {
        tls: true,
        auth: Auth::Token("kubectl-token".into()),
        ..Options::default()
    });
    let Some(k) = Kubectl::new(&api, "token") else {
        return;
    };
    exercise(&api, &k);
}

#[test]
fn kubectl_over_tls_with_client_certificate() {
    let api = FakeApi::start_blocking(Options {
        auth: Auth::ClientCert,
        ..Options::default()
    });
    let Some(k) = Kubectl::new(&api, "tls") else {
        return;
    };
    exercise(&api, &k);
}
