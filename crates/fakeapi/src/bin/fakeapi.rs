//! `fakeapi`: the fake Kubernetes API server as a command, for benchmarks and manual tests.
//!
//! It loads objects from YAML/JSON files (what `kubectl get -o yaml` prints) and/or generates
//! N Services with one ready endpoint each, writes a kubeconfig, prints its URL on stdout once
//! everything is loaded, and serves on 127.0.0.1 until SIGINT or SIGTERM. Changes go through
//! the ordinary API (POST, PUT, PATCH, DELETE), as with a real cluster.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use serde_json::{json, Value};
use signpost_fakeapi::{Auth, FakeApi, Options, RESOURCES};

const USAGE: &str = "\
usage: fakeapi [OPTIONS] [PATH...]

Serves a fake Kubernetes API on 127.0.0.1 (a free port) until SIGINT or SIGTERM.
Prints its URL on stdout once every object is loaded.

  PATH...              YAML (several documents allowed) or JSON files of objects, or folders
                       of *.yaml, *.yml, *.json; List objects are opened up
  --services N         generate N Services svc-0 .. svc-(N-1), each with a port `http`
                       80/TCP and an EndpointSlice holding one ready endpoint (port 8080)
  --namespace NAME     namespace of the generated objects (default: bench)
  --kubeconfig FILE    write a kubeconfig (context `fake`) once everything is loaded
  --tls                serve HTTPS (the kubeconfig embeds the CA and a client certificate)
  --token TOKEN        require `Authorization: Bearer TOKEN`
  --page-size N        cap every list page at N items
  -h, --help           this text

Generated addresses: svc-I has cluster IP 10.96.0.0 + I + 1 (inside 10.96.0.0/12) and its
endpoint 10.128.0.0 + I + 1 (inside 10.128.0.0/9); at most 1,000,000 Services.
";

/// The largest `--services` count: cluster IPs must stay inside 10.96.0.0/12.
const MAX_SERVICES: u32 = 1_000_000;

#[derive(Debug, Default)]
struct Args {
    paths: Vec<PathBuf>,
    services: u32,
    namespace: String,
    kubeconfig: Option<PathBuf>,
    tls: bool,
    token: Option<String>,
    page_size: Option<usize>,
}

fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = Args {
        namespace: "bench".into(),
        ..Args::default()
    };
    while let Some(a) = argv.next() {
        let mut value = |name: &str| argv.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--services" => {
                let v = value("--services")?;
                args.services = v
                    .parse()
                    .ok()
                    .filter(|n| *n <= MAX_SERVICES)
                    .ok_or(format!("--services: not a count up to {MAX_SERVICES}: {v}"))?;
            }
            "--namespace" => args.namespace = value("--namespace")?,
            "--kubeconfig" => args.kubeconfig = Some(value("--kubeconfig")?.into()),
            "--tls" => args.tls = true,
            "--token" => args.token = Some(value("--token")?),
            "--page-size" => {
                let v = value("--page-size")?;
                let n = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(format!("--page-size: not a positive number: {v}"))?;
                args.page_size = Some(n);
            }
            s if s.starts_with('-') && s != "-" => return Err(format!("unknown option {s}")),
            _ => args.paths.push(a.into()),
        }
    }
    Ok(Some(args))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("fakeapi: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Read the files before anything listens, so a bad file fails fast.
    let mut objects = Vec::new();
    for p in &args.paths {
        if let Err(e) = read_path(p, &mut objects) {
            eprintln!("fakeapi: {e}");
            return ExitCode::FAILURE;
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fakeapi: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(args, objects))
}

async fn serve(args: Args, objects: Vec<Value>) -> ExitCode {
    let auth = match args.token {
        Some(t) => Auth::Token(t),
        None => Auth::None,
    };
    let opts = Options {
        tls: args.tls,
        auth,
        page_size_limit: args.page_size,
        bookmark_interval: None,
    };
    let api = match FakeApi::start(opts).await {
        Ok(api) => api,
        Err(e) => {
            eprintln!("fakeapi: listen on 127.0.0.1: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let mut loaded = 0usize;
    for obj in objects {
        if let Some(skip) = unknown_kind(&obj) {
            eprintln!("fakeapi: skipping {skip}");
            continue;
        }
        api.apply(obj);
        loaded += 1;
    }
    if args.services > 0 {
        api.apply(namespace(&args.namespace));
        for i in 0..args.services {
            api.apply(service(&args.namespace, i));
            api.apply(endpoint_slice(&args.namespace, i));
        }
        loaded += 1 + 2 * args.services as usize;
    }
    if let Some(path) = &args.kubeconfig {
        // Written whole under another name first: the file appearing means it is complete.
        let tmp = path.with_extension("fakeapi-tmp");
        let written =
            std::fs::write(&tmp, api.kubeconfig()).and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            eprintln!("fakeapi: write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    eprintln!(
        "fakeapi: {loaded} objects loaded in {:.2}s, resourceVersion {}",
        started.elapsed().as_secs_f64(),
        api.resource_version()
    );
    println!("{}", api.url());
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    wait_for_signal().await;
    drop(api);
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// "Kind apiVersion name" for an object the fake does not serve (apply would panic on it).
fn unknown_kind(obj: &Value) -> Option<String> {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or("");
    let (api_version, kind, name) = (s("/apiVersion"), s("/kind"), s("/metadata/name"));
    let known = RESOURCES
        .iter()
        .any(|r| r.kind == kind && r.api_version() == api_version);
    if !known {
        return Some(format!("{kind} {api_version} {name:?}: kind not served"));
    }
    name.is_empty()
        .then(|| format!("{kind} without metadata.name"))
}

/// Reads a file, or every *.yaml/*.yml/*.json file of a folder (sorted by name).
fn read_path(path: &Path, out: &mut Vec<Value>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_dir() {
        return read_file(path, out);
    }
    let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let hidden = p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            let ext = p.extension().and_then(|e| e.to_str());
            !hidden && matches!(ext, Some("yaml" | "yml" | "json")) && p.is_file()
        })
        .collect();
    files.sort();
    for f in files {
        read_file(&f, out)?;
    }
    Ok(())
}

fn read_file(path: &Path, out: &mut Vec<Value>) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let docs: Vec<Value> = if path.extension().is_some_and(|e| e == "json") {
        serde_json::Deserializer::from_str(&text)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        // YAML 1.2 scalars, as kubectl reads them: `no`/`on` stay strings, `0755` is no octal.
        let options = serde_saphyr::options! {
            strict_booleans: true,
            leading_zero_numbers_as_strings: true,
        };
        serde_saphyr::from_multiple_with_options(&text, options)
            .map_err(|e| format!("{}: {e}", path.display()))?
    };
    for doc in docs {
        flatten(doc, None, out);
    }
    Ok(())
}

/// Adds a document, or the items of a list (`kind: List`, or a typed `ServiceList` whose
/// items may lack apiVersion/kind and then get the list's).
fn flatten(doc: Value, inherited: Option<(&Value, &str)>, out: &mut Vec<Value>) {
    match doc {
        Value::Array(items) => {
            for item in items {
                flatten(item, inherited, out);
            }
        }
        Value::Object(mut map) => {
            let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
            if let Some(item_kind) = kind.strip_suffix("List").map(str::to_string) {
                if let Some(Value::Array(items)) = map.remove("items") {
                    let api_version = map.get("apiVersion").cloned().unwrap_or(Value::Null);
                    let inherit =
                        (!item_kind.is_empty()).then_some((&api_version, item_kind.as_str()));
                    for item in items {
                        flatten(item, inherit, out);
                    }
                    return;
                }
            }
            if let Some((api_version, kind)) = inherited {
                if !map.contains_key("kind") {
                    map.insert("kind".into(), Value::from(kind));
                    map.insert("apiVersion".into(), api_version.clone());
                }
            }
            out.push(Value::Object(map));
        }
        _ => {}
    }
}

/// `base + i + 1` as dotted IPv4 (the +1 keeps the network address out).
fn ipv4(base: u32, i: u32) -> String {
    std::net::Ipv4Addr::from(base + i + 1).to_string()
}

const SERVICE_BASE: u32 = u32::from_be_bytes([10, 96, 0, 0]);
const ENDPOINT_BASE: u32 = u32::from_be_bytes([10, 128, 0, 0]);

fn namespace(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"}
    })
}

fn service(ns: &str, i: u32) -> Value {
    let ip = ipv4(SERVICE_BASE, i);
    let name = format!("svc-{i}");
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": ip, "clusterIPs": [ip],
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}],
            "selector": {"app": name},
            "sessionAffinity": "None"
        },
        "status": {"loadBalancer": {}}
    })
}

fn endpoint_slice(ns: &str, i: u32) -> Value {
    let svc = format!("svc-{i}");
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {
            "name": format!("{svc}-0"), "namespace": ns,
            "labels": {
                "kubernetes.io/service-name": svc,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"
            }
        },
        "addressType": "IPv4",
        "endpoints": [{
            "addresses": [ipv4(ENDPOINT_BASE, i)],
            "conditions": {"ready": true, "serving": true, "terminating": false}
        }],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn options() {
        let a = parse(&["--services", "3", "--kubeconfig", "k", "a.yaml", "--tls"])
            .unwrap()
            .unwrap();
        assert_eq!(a.services, 3);
        assert_eq!(a.namespace, "bench");
        assert_eq!(a.kubeconfig, Some(PathBuf::from("k")));
        assert_eq!(a.paths, vec![PathBuf::from("a.yaml")]);
        assert!(a.tls);
        assert!(parse(&["--help"]).unwrap().is_none());
        assert_eq!(parse(&["--bogus"]).err().unwrap(), "unknown option --bogus");
        assert_eq!(
            parse(&["--services"]).err().unwrap(),
            "--services needs a value"
        );
        assert!(parse(&["--services", "2000000"]).is_err());
        assert!(parse(&["--page-size", "0"]).is_err());
    }

    #[test]
    fn generated_addresses() {
        assert_eq!(ipv4(SERVICE_BASE, 0), "10.96.0.1");
        assert_eq!(ipv4(SERVICE_BASE, 99_999), "10.97.134.160");
        assert_eq!(ipv4(ENDPOINT_BASE, 255), "10.128.1.0");
        assert_eq!(service("bench", 7)["spec"]["clusterIP"], "10.96.0.8");
        let slice = endpoint_slice("bench", 7);
        assert_eq!(slice["endpoints"][0]["addresses"][0], "10.128.0.8");
        assert_eq!(
            slice["metadata"]["labels"]["kubernetes.io/service-name"],
            "svc-7"
        );
    }

    #[test]
    fn lists_are_opened_up() {
        let mut out = Vec::new();
        let list = json!({"apiVersion": "v1", "kind": "ServiceList", "items": [
            {"metadata": {"name": "a"}},
            {"apiVersion": "v1", "kind": "List", "items": [
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
            ]}
        ]});
        flatten(list, None, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["kind"], "Service");
        assert_eq!(out[0]["apiVersion"], "v1");
        assert_eq!(out[1]["kind"], "Pod");
        assert!(unknown_kind(&out[0]).is_none());
        let deploy =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}});
        assert!(unknown_kind(&deploy).is_some());
    }
}
