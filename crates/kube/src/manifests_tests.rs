use super::*;
use signpost_k8s_model::{Namespace, Pod, Service};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh empty folder under the system temp dir, removed when dropped.
pub(crate) struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh empty folder under the system temp dir.
pub(crate) fn temp_dir(tag: &str) -> TempDir {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "signpost-kube-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

fn names<T: Watchable>(p: &Pending<T>) -> Vec<String> {
    let mut v: Vec<String> = p
        .objects()
        .map(|o| format!("{}/{}", o.key().namespace, o.key().name))
        .collect();
    v.sort();
    v
}

fn read<T: Watchable>(paths: &[PathBuf], selectors: Selectors) -> Result<Pending<T>, String> {
    let filter = Filter::new(&selectors)?;
    match scan::<T>(paths, &filter, None) {
        Scan::Read(_, p) => Ok(p),
        Scan::Failed(_, e) => Err(e),
        Scan::Unchanged => unreachable!(),
    }
}

/// What `kubectl get svc,ns -A -o yaml` prints.
const LIST_YAML: &str = r#"apiVersion: v1
items:
- apiVersion: v1
  kind: Service
  metadata:
    labels:
      app: web
    name: web
    namespace: shop
  spec:
    clusterIP: 10.96.0.100
    clusterIPs:
    - 10.96.0.100
    ports:
    - name: http
      port: 80
      protocol: TCP
      targetPort: 8080
    type: ClusterIP
- apiVersion: v1
  kind: Service
  metadata:
    name: kubernetes
    namespace: default
  spec:
    clusterIP: 10.96.0.1
    ports:
    - name: https
      port: 443
      protocol: TCP
- apiVersion: v1
  kind: Namespace
  metadata:
    name: shop
kind: List
metadata:
  resourceVersion: ""
"#;

#[test]
fn kubectl_list_yaml() {
    let dir = temp_dir("list");
    let f = dir.join("all.yaml");
    std::fs::write(&f, LIST_YAML).unwrap();
    let svcs = read::<Service>(std::slice::from_ref(&f), Selectors::default()).unwrap();
    assert_eq!(names(&svcs), vec!["default/kubernetes", "shop/web"]);
    let web = svcs.objects().find(|s| &*s.key.name == "web").unwrap();
    assert_eq!(&*web.cluster_ips[0], "10.96.0.100");
    assert_eq!(web.ports[0].port, 80);
    let ns = read::<Namespace>(&[f], Selectors::default()).unwrap();
    assert_eq!(names(&ns), vec!["/shop"]);
}

#[test]
fn multi_document_yaml_defaults_namespace_and_skips_other_kinds() {
    let dir = temp_dir("multi");
    let f = dir.join("objs.yml");
    std::fs::write(
        &f,
        "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  clusterIP: 10.0.0.1\n\
         ---\n# just a comment\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n\
         ---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: x\nstatus:\n  podIP: 10.1.0.1\n\
         ---\napiVersion: v2\nkind: Service\nmetadata:\n  name: wrong-version\n",
    )
    .unwrap();
    let svcs = read::<Service>(std::slice::from_ref(&f), Selectors::default()).unwrap();
    assert_eq!(names(&svcs), vec!["default/a"]);
    let pods = read::<Pod>(&[f], Selectors::default()).unwrap();
    assert_eq!(names(&pods), vec!["x/p"]);
}

#[test]
fn yaml_1_2_scalars_stay_strings() {
    let dir = temp_dir("yaml12");
    let f = dir.join("svc.yaml");
    std::fs::write(
        &f,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: on\n  namespace: no\n  labels:\n    mode: 0755\n",
    )
    .unwrap();
    let svcs = read::<Service>(&[f], Selectors::default()).unwrap();
    assert_eq!(names(&svcs), vec!["no/on"]);
    let svc = svcs.objects().next().unwrap();
    assert_eq!(svc.labels.get("mode").map(|v| &**v), Some("0755"));
}

#[test]
fn folder_reads_yaml_and_json_only() {
    let dir = temp_dir("folder");
    std::fs::write(
        dir.join("a.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: n}\n",
    )
    .unwrap();
    // A typed list as the API serves it: items carry neither apiVersion nor kind.
    std::fs::write(
        dir.join("b.json"),
        r#"{"apiVersion": "v1", "kind": "ServiceList", "metadata": {},
            "items": [{"metadata": {"name": "b", "namespace": "n"}, "spec": {"clusterIP": "None"}}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("c.txt"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: c}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join(".hidden.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: h}\n",
    )
    .unwrap();
    std::fs::create_dir(dir.join("sub.yaml")).unwrap();
    let svcs = read::<Service>(std::slice::from_ref(&dir), Selectors::default()).unwrap();
    assert_eq!(names(&svcs), vec!["n/a", "n/b"]);
    let fp = fingerprint(std::slice::from_ref(&dir)).unwrap();
    assert_eq!(fp.len(), 2);
}

#[test]
fn selectors_apply_locally() {
    let dir = temp_dir("sel");
    let f = dir.join("pods.yaml");
    let pod = |name: &str, phase: &str, app: &str| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: n\n  labels:\n    app: {app}\nstatus:\n  phase: {phase}\n"
        )
    };
    let text = [
        pod("run", "Running", "web"),
        pod("done", "Succeeded", "web"),
        pod("fail", "Failed", "db"),
        pod("pend", "Pending", "db"),
    ]
    .concat();
    std::fs::write(&f, text).unwrap();
    let sel = Selectors {
        labels: None,
        fields: Some("status.phase!=Succeeded,status.phase!=Failed,status.phase!=Unknown".into()),
    };
    let pods = read::<Pod>(std::slice::from_ref(&f), sel).unwrap();
    assert_eq!(names(&pods), vec!["n/pend", "n/run"]);
    let sel = Selectors {
        labels: Some("app in (web)".into()),
        fields: Some("metadata.name!=done".into()),
    };
    let pods = read::<Pod>(std::slice::from_ref(&f), sel).unwrap();
    assert_eq!(names(&pods), vec!["n/run"]);
    let bad = Selectors {
        labels: Some("app in web".into()),
        fields: None,
    };
    assert!(read::<Pod>(&[f], bad)
        .unwrap_err()
        .starts_with("label selector: "));
}

#[test]
fn errors() {
    let dir = temp_dir("err");
    let missing = dir.join("missing.yaml");
    let err = read::<Service>(std::slice::from_ref(&missing), Selectors::default()).unwrap_err();
    assert!(
        err.starts_with(&format!("manifests {}: ", missing.display())),
        "{err}"
    );
    let broken = dir.join("broken.yaml");
    std::fs::write(&broken, "apiVersion: v1\nkind: [Service\n").unwrap();
    assert!(read::<Service>(std::slice::from_ref(&broken), Selectors::default()).is_err());
    let broken_json = dir.join("broken.json");
    std::fs::write(&broken_json, "{\"apiVersion\": ").unwrap();
    assert!(read::<Service>(&[broken_json], Selectors::default()).is_err());
}

#[test]
fn bad_objects_are_skipped_not_fatal() {
    let dir = temp_dir("bad");
    let f = dir.join("svc.yaml");
    std::fs::write(
        &f,
        "apiVersion: v1\nkind: Service\nmetadata:\n  namespace: n\n---\n\
         apiVersion: v1\nkind: Service\nmetadata:\n  name: ok\n  namespace: n\n",
    )
    .unwrap();
    let svcs = read::<Service>(&[f], Selectors::default()).unwrap();
    assert_eq!(names(&svcs), vec!["n/ok"]);
    assert_eq!(svcs.bad_count(), 1);
}

#[test]
fn unchanged_files_are_not_read_again() {
    let dir = temp_dir("unchanged");
    let f = dir.join("svc.yaml");
    std::fs::write(&f, "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n").unwrap();
    let filter = Filter::new(&Selectors::default()).unwrap();
    let paths = [dir.clone()];
    let Scan::Read(fp, _) = scan::<Service>(&paths, &filter, None) else {
        panic!("first scan reads");
    };
    assert!(matches!(
        scan::<Service>(&paths, &filter, Some(&fp)),
        Scan::Unchanged
    ));
    std::fs::write(&f, "apiVersion: v1\nkind: Service\nmetadata: {name: ab}\n").unwrap();
    assert!(matches!(
        scan::<Service>(&paths, &filter, Some(&fp)),
        Scan::Read(..)
    ));
    std::fs::write(dir.join("new.json"), "{}").unwrap();
    assert!(matches!(
        scan::<Service>(&paths, &filter, Some(&fp)),
        Scan::Read(..)
    ));
}
