//! Routing and the REST verbs: discovery, LIST (pagination, selectors, resourceVersion
//! semantics), WATCH, GET, POST, PUT, PATCH, DELETE and DELETE of a collection.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use hyper::Method;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::http::{bytes_response, json_response, Body, Req};
use crate::resources::{by_plural, ResourceType};
use crate::selectors::{FieldSelector, LabelSelector, Selectors};
use crate::status::ApiError;
use crate::store::{not_found, Key};
use crate::watch::{self, WatchParams};
use crate::{discovery, patch, Access, Shared};

/// A path under `/api/v1` or `/apis/<group>/<version>` naming a resource.
struct Target {
    rt: &'static ResourceType,
    namespace: Option<String>,
    name: Option<String>,
    /// The legacy `/watch/` path prefix.
    watch_prefix: bool,
}

enum Route {
    Root,
    Version,
    Health,
    CoreVersions,
    GroupList,
    Group(String),
    ResourceList(String, String),
    Resource(Target),
}

fn parse_path(path: &str) -> Result<Route, ApiError> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segs.as_slice() {
        [] => return Ok(Route::Root),
        ["version"] => return Ok(Route::Version),
        ["healthz" | "livez" | "readyz", ..] => return Ok(Route::Health),
        ["api"] => return Ok(Route::CoreVersions),
        ["apis"] => return Ok(Route::GroupList),
        ["apis", g] => return Ok(Route::Group(g.to_string())),
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(ApiError::no_route()),
    };
    if rest.is_empty() {
        return Ok(Route::ResourceList(group.to_string(), version.to_string()));
    }
    let (watch_prefix, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, rest),
    };
    let (ns, plural, name) = match rest {
        ["namespaces", ns, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") => {
            (Some(*ns), *plural, tail.first().copied())
        }
        [plural, tail @ ..] => (None, *plural, tail.first().copied()),
        [] => return Err(ApiError::no_route()),
    };
    let rt = by_plural(group, version, plural).ok_or_else(ApiError::no_route)?;
    // A namespaced type addressed by name needs a namespace; a cluster-scoped one must not have one.
    if (ns.is_some() && !rt.namespaced) || (ns.is_none() && rt.namespaced && name.is_some()) {
        return Err(ApiError::no_route());
    }
    Ok(Route::Resource(Target {
        rt,
        namespace: ns.map(str::to_string),
        name: name.map(str::to_string),
        watch_prefix,
    }))
}

/// The resource plural a path names, for the request log.
pub(crate) fn resource_of(path: &str) -> Option<&'static str> {
    match parse_path(path) {
        Ok(Route::Resource(t)) => Some(t.rt.plural),
        _ => None,
    }
}

/// Answer one request (after auth and faults).
pub(crate) fn route(shared: &Arc<Shared>, req: Req) -> Result<hyper::Response<Body>, ApiError> {
    let served = |rt: &ResourceType| shared.access(rt) != Access::NotFound;
    let doc = match parse_path(&req.path)? {
        Route::Root => json!({"paths": ["/api", "/api/v1", "/apis", "/healthz", "/version"]}),
        Route::Version => discovery::version(),
        Route::Health => return Ok(bytes_response(200, "text/plain", Bytes::from_static(b"ok"))),
        Route::CoreVersions => discovery::core_versions(&shared.addr.to_string()),
        Route::GroupList => discovery::group_list(&served),
        Route::Group(g) => discovery::group(&g, &served).ok_or_else(ApiError::no_route)?,
        Route::ResourceList(g, v) => {
            discovery::resource_list(&g, &v, &served).ok_or_else(ApiError::no_route)?
        }
        Route::Resource(t) => return resource(shared, req, t),
    };
    if req.method != Method::GET {
        return Err(ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        ));
    }
    Ok(json_response(200, &doc))
}

fn forbidden(t: &Target, verb: &str) -> ApiError {
    let scope = match &t.namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    ApiError::new(
        403,
        "Forbidden",
        format!(
            "{} is forbidden: User \"system:anonymous\" cannot {verb} resource \"{}\" in API group \"{}\" {scope}",
            t.rt.qualified(),
            t.rt.plural,
            t.rt.group
        ),
    )
    .with_details("", t.rt.group, t.rt.plural)
}

fn resource(shared: &Arc<Shared>, req: Req, t: Target) -> Result<hyper::Response<Body>, ApiError> {
    let is_watch = t.watch_prefix || req.flag("watch");
    let verb = match (&req.method, t.name.is_some()) {
        (&Method::GET, false) if is_watch => "watch",
        (&Method::GET, false) => "list",
        (&Method::GET, true) => "get",
        (&Method::POST, false) => "create",
        (&Method::PUT, true) => "update",
        (&Method::PATCH, true) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        _ => {
            return Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            ))
        }
    };
    match shared.access(t.rt) {
        Access::Served => {}
        Access::NotFound => return Err(ApiError::no_route()),
        Access::Forbidden => return Err(forbidden(&t, verb)),
    }
    match verb {
        "watch" => watch_collection(shared, &req, &t),
        "list" => list(shared, &req, &t),
        "get" => {
            let key = key(&t);
            let obj = shared
                .store()
                .get(t.rt, &key)
                .ok_or_else(|| not_found(t.rt, &key.1))?;
            Ok(json_response(200, &obj))
        }
        "create" => create(shared, &req, &t),
        "update" => {
            let obj = body_object(&req, t.rt)?;
            let key = key(&t);
            if let Some(n) = obj.pointer("/metadata/name").and_then(Value::as_str) {
                if n != key.1 {
                    return Err(ApiError::bad_request(format!(
                        "the name of the object ({n}) does not match the name on the URL ({})",
                        key.1
                    )));
                }
            }
            let obj = shared.store().replace(t.rt, key, obj)?;
            Ok(json_response(200, &obj))
        }
        "patch" => patch_object(shared, &req, &t),
        "delete" => {
            let key = key(&t);
            let obj = shared
                .store()
                .delete(t.rt, &key)
                .ok_or_else(|| not_found(t.rt, &key.1))?;
            Ok(json_response(200, &obj))
        }
        _ => delete_collection(shared, &req, &t),
    }
}

fn key(t: &Target) -> Key {
    (
        t.namespace.clone().unwrap_or_default(),
        t.name.clone().unwrap_or_default(),
    )
}

fn selectors(req: &Req, rt: &ResourceType) -> Result<Selectors, ApiError> {
    Ok(Selectors {
        labels: LabelSelector::parse(req.param("labelSelector").unwrap_or(""))
            .map_err(ApiError::bad_request)?,
        fields: FieldSelector::parse(req.param("fieldSelector").unwrap_or(""), rt.plural)
            .map_err(ApiError::bad_request)?,
    })
}

fn parse_rv(s: &str) -> Result<u64, ApiError> {
    s.parse().map_err(|_| {
        ApiError::new(
            400,
            "BadRequest",
            format!("resourceVersion: Invalid value: \"{s}\": must be a non-negative integer"),
        )
    })
}

fn nonempty<'a>(req: &'a Req, name: &str) -> Option<&'a str> {
    req.param(name).filter(|s| !s.is_empty())
}

fn encode_continue(rv: u64, key: &Key) -> String {
    let token = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": [key.0, key.1]});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.to_string())
}

fn decode_continue(s: &str) -> Result<(u64, Key), ApiError> {
    let bad = || {
        ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let rv = v["rv"].as_u64().ok_or_else(bad)?;
    let ns = v["start"][0].as_str().ok_or_else(bad)?;
    let name = v["start"][1].as_str().ok_or_else(bad)?;
    Ok((rv, (ns.to_string(), name.to_string())))
}

fn list(shared: &Arc<Shared>, req: &Req, t: &Target) -> Result<hyper::Response<Body>, ApiError> {
    let sel = selectors(req, t.rt)?;
    let rv = nonempty(req, "resourceVersion");
    let rv_match = nonempty(req, "resourceVersionMatch");
    let mut limit = match nonempty(req, "limit") {
        Some(l) => Some(
            l.parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("invalid limit {l:?}")))?,
        )
        .filter(|l| *l > 0)
        .map(|l| l as usize),
        None => None,
    };
    if let Some(cap) = shared.opts.page_size_limit {
        limit = Some(limit.map_or(cap, |l| l.min(cap)));
    }
    let (at, after) = if let Some(c) = nonempty(req, "continue") {
        if rv.is_some_and(|rv| rv != "0") {
            return Err(ApiError::bad_request(
                "specifying resource version is not allowed when using continue",
            ));
        }
        let (rv, key) = decode_continue(c)?;
        (Some(rv), Some(key))
    } else {
        match (rv, rv_match) {
            (None, Some(_)) => {
                return Err(ApiError::bad_request(
                    "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
                ))
            }
            (Some(n), Some("Exact")) => (Some(parse_rv(n)?), None),
            (Some(n), None | Some("NotOlderThan")) => {
                parse_rv(n)?;
                (None, None)
            }
            (None, None) => (None, None),
            (Some(_), Some(m)) => {
                return Err(ApiError::bad_request(format!(
                    "resourceVersionMatch: Unsupported value: \"{m}\": supported values: \"Exact\", \"NotOlderThan\""
                )))
            }
        }
    };
    let store = shared.store();
    let page = store
        .list(t.rt, at, t.namespace.as_deref(), after.as_ref(), limit, &|o| sel.matches(o))
        .map_err(|e| {
            if after.is_some() {
                ApiError::expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
            } else {
                e
            }
        })?;
    drop(store);
    let mut meta = json!({"resourceVersion": page.rv.to_string()});
    if let Some(k) = &page.next {
        meta["continue"] = json!(encode_continue(page.rv, k));
    }
    let mut out = Vec::with_capacity(128 + page.items.len() * 512);
    out.extend_from_slice(b"{\"kind\":");
    let _ = serde_json::to_writer(&mut out, &t.rt.list_kind());
    out.extend_from_slice(b",\"apiVersion\":");
    let _ = serde_json::to_writer(&mut out, &t.rt.api_version());
    out.extend_from_slice(b",\"metadata\":");
    let _ = serde_json::to_writer(&mut out, &meta);
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in page.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let _ = serde_json::to_writer(&mut out, &**item);
    }
    out.extend_from_slice(b"]}");
    Ok(bytes_response(200, "application/json", Bytes::from(out)))
}

fn watch_collection(
    shared: &Arc<Shared>,
    req: &Req,
    t: &Target,
) -> Result<hyper::Response<Body>, ApiError> {
    let selectors = selectors(req, t.rt)?;
    let send_initial = req.flag("sendInitialEvents");
    let from = match nonempty(req, "resourceVersion") {
        _ if send_initial => None,
        None | Some("0") => None,
        Some(n) => Some(parse_rv(n)?),
    };
    let timeout = match nonempty(req, "timeoutSeconds") {
        Some(s) => Some(Duration::from_secs(s.parse().map_err(|_| {
            ApiError::bad_request(format!("invalid timeoutSeconds {s:?}"))
        })?)),
        None => None,
    };
    let bookmarks = req.flag("allowWatchBookmarks");
    let params = WatchParams {
        rt: t.rt,
        namespace: t.namespace.clone(),
        selectors,
        bookmark_every: shared
            .opts
            .bookmark_interval
            .filter(|d| bookmarks && !d.is_zero()),
        initial_events_end: send_initial && bookmarks,
        timeout,
    };
    let (tx, rx) = mpsc::channel(256);
    let start = shared.store().watch(t.rt, from);
    match start {
        // Like the real server: the watch is accepted, then ends with one ERROR event.
        Err(e) => {
            let _ = tx.try_send(watch::error_line(&e));
        }
        Ok(start) => {
            tokio::spawn(watch::run(shared.store.clone(), start, params, tx));
        }
    }
    Ok(hyper::Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("cache-control", "no-cache, private")
        .body(Body::Stream(rx))
        .expect("valid response parts"))
}

fn body_object(req: &Req, rt: &ResourceType) -> Result<Value, ApiError> {
    let obj: Value = serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::bad_request(format!("json parse error: {e}")))?;
    if !obj.is_object() {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    }
    if let Some(kind) = obj["kind"].as_str() {
        if kind != rt.kind {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({kind}) does not match the expected kind ({})",
                rt.kind
            )));
        }
    }
    if let Some(av) = obj["apiVersion"].as_str() {
        if av != rt.api_version() {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({})",
                rt.api_version()
            )));
        }
    }
    Ok(obj)
}

fn create(shared: &Arc<Shared>, req: &Req, t: &Target) -> Result<hyper::Response<Body>, ApiError> {
    let mut obj = body_object(req, t.rt)?;
    let body_ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let ns = match (&t.namespace, body_ns) {
        (Some(p), Some(b)) if p != b => return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        (Some(p), _) => p.clone(),
        (None, Some(b)) if t.rt.namespaced => b.to_string(),
        (None, _) if t.rt.namespaced => "default".to_string(),
        (None, _) => String::new(),
    };
    let mut store = shared.store();
    let name = match obj.pointer("/metadata/name").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        Some(n) => n.to_string(),
        None => match obj.pointer("/metadata/generateName").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            Some(prefix) => format!("{prefix}{:05x}", (store.rv() + 1).wrapping_mul(0x9e37) & 0xfffff),
            None => {
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    format!("{} \"\" is invalid: metadata.name: Required value: name or generateName is required", t.rt.kind),
                ))
            }
        },
    };
    if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("resourceVersion");
    }
    if req.param("dryRun").is_some() {
        return Ok(json_response(201, &obj));
    }
    let obj = store.create(t.rt, (ns, name), obj)?;
    drop(store);
    Ok(json_response(201, &obj))
}

fn patch_object(
    shared: &Arc<Shared>,
    req: &Req,
    t: &Target,
) -> Result<hyper::Response<Body>, ApiError> {
    let key = key(t);
    let patch_doc: Value = serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::bad_request(format!("json parse error: {e}")))?;
    let mut store = shared.store();
    let current = store
        .get(t.rt, &key)
        .ok_or_else(|| not_found(t.rt, &key.1))?;
    let mut obj = (*current).clone();
    let ct = req.content_type.as_str();
    if ct.starts_with("application/json-patch+json") {
        patch::json_patch(&mut obj, &patch_doc).map_err(|e| ApiError::new(422, "Invalid", e))?;
    } else if ct.starts_with("application/strategic-merge-patch+json") {
        patch::merge(&mut obj, &patch_doc, true);
    } else if ct.starts_with("application/merge-patch+json") {
        patch::merge(&mut obj, &patch_doc, false);
    } else {
        return Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {ct:?})"),
        ));
    }
    let obj = store.replace(t.rt, key, obj)?;
    drop(store);
    Ok(json_response(200, &obj))
}

fn delete_collection(
    shared: &Arc<Shared>,
    req: &Req,
    t: &Target,
) -> Result<hyper::Response<Body>, ApiError> {
    let sel = selectors(req, t.rt)?;
    let mut store = shared.store();
    let page = store.list(t.rt, None, t.namespace.as_deref(), None, None, &|o| {
        sel.matches(o)
    })?;
    let mut deleted = Vec::with_capacity(page.items.len());
    for item in &page.items {
        if let Some(o) = store.delete(t.rt, &crate::store::key_of(item)) {
            deleted.push((*o).clone());
        }
    }
    let rv = store.rv();
    drop(store);
    Ok(json_response(
        200,
        &json!({"kind": t.rt.list_kind(), "apiVersion": t.rt.api_version(), "metadata": {"resourceVersion": rv.to_string()}, "items": deleted}),
    ))
}
