//! The `manifests` source: objects from YAML/JSON files instead of an API server.
//!
//! Each watch polls the modification times (and sizes) of its files once a second; when any
//! changed, or a file appeared in or left a folder, it reads everything again and delivers
//! the objects of its kind that match its selectors as one `Reset`. Files may hold several
//! YAML documents, and `kind: List` documents (what `kubectl get ... -o yaml` prints) are
//! opened up. A file that fails to parse keeps the last good set serving until it changes
//! again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::cluster::{ClusterInner, Part};
use crate::convert::Watchable;
use crate::hub::{Hub, Pending};
use crate::selector::{FieldSelector, LabelSelector, Selectors};

/// How often files are checked for changes.
const POLL: Duration = if cfg!(test) {
    Duration::from_millis(100)
} else {
    Duration::from_secs(1)
};

/// What identifies the current content of the files: each file with its mtime, size and
/// inode (a replaced file, as editors and ConfigMap updates do it, gets a new inode).
type Fingerprint = Vec<(PathBuf, Option<SystemTime>, u64, u64)>;

#[cfg(unix)]
fn inode(m: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(m)
}

#[cfg(not(unix))]
fn inode(_: &std::fs::Metadata) -> u64 {
    0
}

/// Local evaluation of a watch's selectors.
#[derive(Clone)]
struct Filter {
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn new(s: &Selectors) -> Result<Filter, String> {
        Ok(Filter {
            labels: match &s.labels {
                Some(l) => LabelSelector::parse(l).map_err(|e| format!("label selector: {e}"))?,
                None => LabelSelector::default(),
            },
            fields: match &s.fields {
                Some(f) => FieldSelector::parse(f).map_err(|e| format!("field selector: {e}"))?,
                None => FieldSelector::default(),
            },
        })
    }
}

/// The outcome of one poll.
enum Scan<T> {
    Unchanged,
    /// The files could not be listed (no fingerprint) or read.
    Failed(Option<Fingerprint>, String),
    Read(Fingerprint, Pending<T>),
}

/// Runs one watch until aborted.
pub(crate) async fn run<T: Watchable>(
    cluster: Arc<ClusterInner>,
    hub: Arc<Hub<T>>,
    paths: Vec<PathBuf>,
) {
    let part = Part::Kind(T::KIND);
    let filter = match Filter::new(&hub.selectors) {
        Ok(f) => f,
        Err(e) => {
            cluster.watch_error(T::KIND);
            cluster.report(part, Err(e));
            return;
        }
    };
    let mut last: Option<Fingerprint> = None;
    let mut last_error: Option<String> = None;
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (p, f, prev) = (paths.clone(), filter.clone(), last.clone());
        let Ok(scan) = tokio::task::spawn_blocking(move || scan::<T>(&p, &f, prev.as_ref())).await
        else {
            continue;
        };
        match scan {
            Scan::Unchanged => {}
            Scan::Failed(fp, e) => {
                let broken = fp.is_some();
                // A missing file is retried every second; count it once, not every time.
                if broken || last_error.as_ref() != Some(&e) {
                    cluster.watch_error(T::KIND);
                }
                last_error = Some(e.clone());
                if broken {
                    // Broken content: wait for the next change of the files.
                    last = fp;
                }
                if !cluster.report(part, Err(e.clone())) && broken {
                    // Said once per change of the files (the state change was not logged).
                    tracing::warn!("kubernetes {}: {e}", cluster.name);
                }
            }
            Scan::Read(fp, pending) => {
                last = Some(fp);
                last_error = None;
                cluster.report(part, Ok(()));
                if hub.reset(pending) {
                    cluster.synced(T::KIND);
                }
            }
        }
    }
}

fn scan<T: Watchable>(paths: &[PathBuf], filter: &Filter, prev: Option<&Fingerprint>) -> Scan<T> {
    let fp = match fingerprint(paths) {
        Ok(fp) => fp,
        Err(e) => return Scan::Failed(None, e),
    };
    if prev == Some(&fp) {
        return Scan::Unchanged;
    }
    let mut objects = Vec::new();
    for (file, ..) in &fp {
        if let Err(e) = read_file(file, &mut objects) {
            return Scan::Failed(Some(fp), e);
        }
    }
    Scan::Read(fp, select::<T>(objects, filter))
}

/// The files named by `paths` (folders give their `*.yaml`, `*.yml` and `*.json` files, in
/// name order, skipping hidden ones), with mtime and size.
fn fingerprint(paths: &[PathBuf]) -> Result<Fingerprint, String> {
    let mut out = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|e| format!("manifests {}: {e}", path.display()))?;
        if meta.is_dir() {
            let entries = std::fs::read_dir(path)
                .map_err(|e| format!("manifests {}: {e}", path.display()))?;
            let mut files = Vec::new();
            for entry in entries.flatten() {
                let p = entry.path();
                let name = entry.file_name();
                let name = name.to_string_lossy();
                let wanted = !name.starts_with('.')
                    && matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("yaml" | "yml" | "json")
                    );
                // Follows symlinks (a mounted ConfigMap links every key into `..data/`).
                if let Ok(m) = std::fs::metadata(&p) {
                    if wanted && m.is_file() {
                        files.push((p, m.modified().ok(), m.len(), inode(&m)));
                    }
                }
            }
            files.sort();
            out.extend(files);
        } else {
            out.push((path.clone(), meta.modified().ok(), meta.len(), inode(&meta)));
        }
    }
    Ok(out)
}

/// Parses one file into documents (list items opened up).
fn read_file(path: &Path, out: &mut Vec<Value>) -> Result<(), String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("manifests {}: {e}", path.display()))?;
    let docs: Vec<Value> = if path.extension().is_some_and(|e| e == "json") {
        let mut docs = Vec::new();
        for doc in serde_json::Deserializer::from_str(&text).into_iter::<Value>() {
            docs.push(doc.map_err(|e| format!("manifests {}: {e}", path.display()))?);
        }
        docs
    } else {
        // YAML 1.2 scalars: `n`, `no`, `on` stay strings (as kubectl reads them into string
        // fields), and `0755` is not an octal number.
        let options = serde_saphyr::options! {
            strict_booleans: true,
            leading_zero_numbers_as_strings: true,
        };
        serde_saphyr::from_multiple_with_options(&text, options)
            .map_err(|e| format!("manifests {}: {e}", path.display()))?
    };
    for doc in docs {
        flatten(doc, None, out);
    }
    Ok(())
}

/// Adds a document, or the items of a list. Items of a typed list (`ServiceList`, as the API
/// serves it) may lack `apiVersion`/`kind`; they get the list's.
fn flatten(doc: Value, inherited: Option<(&Value, &str)>, out: &mut Vec<Value>) {
    match doc {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                flatten(item, inherited, out);
            }
        }
        Value::Object(mut map) => {
            let kind = map
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if kind.ends_with("List") {
                if let Some(Value::Array(items)) = map.remove("items") {
                    let item_kind = kind.strip_suffix("List").unwrap_or("").to_string();
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

/// The objects of kind `T` matching the selectors, converted.
fn select<T: Watchable>(objects: Vec<Value>, filter: &Filter) -> Pending<T> {
    let mut pending = Pending::default();
    for mut o in objects {
        if o.get("apiVersion").and_then(Value::as_str) != Some(T::API_VERSION)
            || o.get("kind").and_then(Value::as_str) != Some(T::KIND_NAME)
        {
            continue;
        }
        if T::NAMESPACED {
            // Like `kubectl apply`, an object without a namespace lands in "default".
            if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
                let missing = match meta.get("namespace") {
                    None | Some(Value::Null) => true,
                    Some(Value::String(ns)) => ns.is_empty(),
                    Some(_) => false,
                };
                if missing {
                    meta.insert("namespace".into(), Value::from("default"));
                }
            }
        }
        if filter.labels.matches_json(&o) && filter.fields.matches_json(&o) {
            pending.add(&o);
        }
    }
    pending
}

#[cfg(test)]
#[path = "manifests_tests.rs"]
pub(crate) mod tests;
