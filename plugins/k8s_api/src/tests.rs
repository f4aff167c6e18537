use super::*;
use signpost_plugin::testing;
use std::path::PathBuf;
use std::sync::Mutex;

/// What the probe plugin saw as the block default (the last setup wins; tests that read it
/// take `SEEN_LOCK`).
static SEEN: Mutex<Option<BlockDefault>> = Mutex::new(None);
static SEEN_LOCK: Mutex<()> = Mutex::new(());

/// A stand-in for the Kubernetes plugins: reads the block default at its setup.
const PROBE: PluginDef = PluginDef {
    name: "probe",
    setup: |ctx, _| {
        *SEEN.lock().unwrap() = ctx.get_block_state::<BlockDefault>().cloned();
        Ok(())
    },
};

/// Sets up `k8s_api` (then the probe) from a Corefile; returns the block default and the
/// configuration parts.
fn setup(corefile: &str) -> Result<(Option<Connection>, signpost_plugin::ConfigParts), String> {
    let _serial = SEEN_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    *SEEN.lock().unwrap() = None;
    let (_, parts) = testing::setup(&[PLUGIN, PROBE], corefile).map_err(|e| e.to_string())?;
    let seen = SEEN.lock().unwrap().take();
    Ok((seen.and_then(|b| b.0), parts))
}

#[test]
fn stores_the_connection_for_the_block() {
    let (conn, parts) = setup(
        ". {\n k8s_api {\n  endpoint https://127.0.0.1:6443\n  tls c.crt k.key ca.crt\n }\n probe\n}",
    )
    .unwrap();
    let conn = conn.unwrap();
    assert_eq!(conn.endpoint.as_deref(), Some("https://127.0.0.1:6443"));
    assert_eq!(
        conn.tls,
        Some(("c.crt".into(), "k.key".into(), "ca.crt".into()))
    );
    assert_eq!(parts.ready.len(), 1);
    assert_eq!(parts.ready[0].name, "k8s_api");
    assert!(parts.startup.is_empty(), "setup connects nowhere");
}

#[test]
fn without_options_the_default_is_in_cluster() {
    for text in [". {\n k8s_api\n probe\n}", ". {\n k8s_api {\n }\n probe\n}"] {
        let (conn, _) = setup(text).unwrap();
        let conn = conn.unwrap();
        assert!(conn.is_empty());
        assert_eq!(conn.name(), "in-cluster");
    }
}

#[test]
fn without_k8s_api_there_is_no_default() {
    let (conn, parts) = setup(". {\n probe\n}").unwrap();
    assert!(conn.is_none());
    assert!(parts.ready.is_empty());
}

#[test]
fn kubeconfig_and_manifests() {
    let (conn, _) =
        setup(". {\n k8s_api {\n  kubeconfig /etc/kube/config prod\n }\n probe\n}").unwrap();
    assert_eq!(
        conn.unwrap().kubeconfig,
        Some(("/etc/kube/config".into(), Some("prod".into())))
    );
    let (conn, _) = setup(". {\n k8s_api {\n  kubeconfig /etc/kube/config\n }\n probe\n}").unwrap();
    assert_eq!(
        conn.unwrap().kubeconfig,
        Some(("/etc/kube/config".into(), None))
    );
    let (conn, _) = setup(
        ". {\n k8s_api {\n  manifests /srv/a.yaml /srv/dir\n  manifests b.json\n }\n probe\n}",
    )
    .unwrap();
    assert_eq!(
        conn.unwrap().manifests,
        vec![
            PathBuf::from("/srv/a.yaml"),
            PathBuf::from("/srv/dir"),
            PathBuf::from("b.json")
        ]
    );
}

#[test]
fn errors() {
    let cases = [
        (
            ". {\n k8s_api foo\n}",
            "plugin/k8s_api: Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'foo'",
        ),
        (
            ". {\n k8s_api {\n  ttl 5\n }\n}",
            "plugin/k8s_api: Corefile:3 - Error during parsing: unknown property 'ttl'",
        ),
        (
            ". {\n k8s_api {\n  endpoint\n }\n}",
            "plugin/k8s_api: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'endpoint'",
        ),
        (
            ". {\n k8s_api {\n  endpoint ftp://x\n }\n}",
            "plugin/k8s_api: Corefile:3 - Error during parsing: invalid endpoint URL 'ftp://x': want http(s)://HOST[:PORT]",
        ),
        (
            ". {\n k8s_api {\n  tls a b\n }\n}",
            "plugin/k8s_api: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'b'",
        ),
        (
            ". {\n k8s_api {\n  kubeconfig a b c\n }\n}",
            "plugin/k8s_api: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'c'",
        ),
        (
            ". {\n k8s_api {\n  manifests\n }\n}",
            "plugin/k8s_api: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'manifests'",
        ),
        (
            ". {\n k8s_api {\n  manifests /srv\n  endpoint http://127.0.0.1:8080\n }\n}",
            "plugin/k8s_api: Corefile:4 - Error during parsing: manifests cannot be combined with endpoint, tls or kubeconfig",
        ),
        (
            ". {\n k8s_api\n k8s_api\n}",
            "plugin/k8s_api: Corefile:3 - Error during parsing: this plugin can only be used once per Server Block",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(setup(text).unwrap_err(), want, "{text}");
    }
}

#[tokio::test]
async fn ready_when_every_watch_of_the_cluster_synced() {
    let dir = std::env::temp_dir().join(format!("signpost-k8s-api-ready-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("svc.yaml");
    let corefile = format!(
        ". {{\n k8s_api {{\n  manifests {}\n }}\n probe\n}}",
        file.display()
    );
    let (conn, parts) = setup(&corefile).unwrap();
    let check = parts.ready[0].check.clone();
    assert_eq!(check(), Ok(()), "nothing watched yet: nothing to wait for");

    let cluster = registry().cluster(&conn.unwrap());
    let sub: Arc<dyn signpost_k8s_model::Subscriber<signpost_k8s_model::Service>> =
        Arc::new(|_: &signpost_k8s_model::Event<signpost_k8s_model::Service>| {});
    let _guard = cluster.watch(signpost_kube::Selectors::default(), sub);
    assert_eq!(check(), Err(format!("manifests:{}", file.display())));
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  namespace: ns\n",
    )
    .unwrap();
    assert!(
        cluster
            .wait_synced(std::time::Duration::from_secs(10))
            .await
    );
    assert_eq!(check(), Ok(()));
}
