//! Discovery documents (`/api`, `/api/v1`, `/apis`, `/apis/<group>[/<version>]`, `/version`) in
//! their legacy JSON form. kubectl asks for aggregated discovery first; a plain
//! `application/json` answer makes it fall back to these.

use serde_json::{json, Value};

use crate::resources::{groups, ResourceType, RESOURCES};

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// `/version`: the server claims a recent Kubernetes release.
pub(crate) fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0-fakeapi",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T00:00:00Z",
        "goVersion": "go1.23.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `/api`.
pub(crate) fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn group_json(group: &str, versions: &[&str]) -> Value {
    let gv = |v: &str| json!({"groupVersion": format!("{group}/{v}"), "version": v});
    json!({
        "name": group,
        "versions": versions.iter().map(|v| gv(v)).collect::<Vec<_>>(),
        "preferredVersion": gv(versions[0]),
    })
}

/// The served versions of each non-core group, dropping what `served` hides.
fn served_groups(served: &dyn Fn(&ResourceType) -> bool) -> Vec<(&'static str, Vec<&'static str>)> {
    groups()
        .into_iter()
        .filter_map(|(g, versions)| {
            let versions: Vec<&str> = versions
                .into_iter()
                .filter(|v| {
                    RESOURCES
                        .iter()
                        .any(|r| r.group == g && r.version == *v && served(r))
                })
                .collect();
            (!versions.is_empty()).then_some((g, versions))
        })
        .collect()
}

/// `/apis`.
pub(crate) fn group_list(served: &dyn Fn(&ResourceType) -> bool) -> Value {
    let groups: Vec<Value> = served_groups(served)
        .iter()
        .map(|(g, vs)| group_json(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`, or None when the group is not served.
pub(crate) fn group(group: &str, served: &dyn Fn(&ResourceType) -> bool) -> Option<Value> {
    let groups = served_groups(served);
    let (g, vs) = groups.iter().find(|(g, _)| *g == group)?;
    let mut doc = group_json(g, vs);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

/// `/api/v1` or `/apis/<group>/<version>`, or None when nothing there is served.
pub(crate) fn resource_list(
    group: &str,
    version: &str,
    served: &dyn Fn(&ResourceType) -> bool,
) -> Option<Value> {
    let resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version && served(r))
        .map(|r| {
            let mut res = json!({
                "name": r.plural,
                "singularName": r.singular,
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": VERBS,
            });
            if !r.short_names.is_empty() {
                res["shortNames"] = json!(r.short_names);
            }
            if matches!(r.plural, "pods" | "services" | "endpoints") {
                res["categories"] = json!(["all"]);
            }
            res
        })
        .collect();
    if resources.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}
