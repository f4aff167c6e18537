//! The fake API server over real HTTP: lists, watches, writes, faults, auth and TLS.

mod common;

use std::time::Duration;

use common::{names, svc, Client};
use serde_json::json;
use signpost_fakeapi::{Access, Auth, FakeApi, Options};

async fn plain() -> (FakeApi, Client) {
    let api = FakeApi::start(Options::default()).await.unwrap();
    let c = Client::plain(&api);
    (api, c)
}

#[tokio::test]
async fn discovery_documents() {
    let (api, c) = plain().await;
    let v = c.get("/version").await;
    assert_eq!((v.status, v.body["major"].as_str()), (200, Some("1")));
    assert_eq!(c.get("/api").await.body["versions"], json!(["v1"]));
    let core = c.get("/api/v1").await.body;
    let svc = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "services")
        .unwrap();
    assert_eq!(svc["shortNames"], json!(["svc"]));
    assert_eq!(svc["namespaced"], true);
    let groups = c.get("/apis").await.body;
    let gw = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "gateway.networking.k8s.io")
        .unwrap();
    assert_eq!(gw["preferredVersion"]["version"], "v1");
    assert_eq!(gw["versions"].as_array().unwrap().len(), 2);
    let tls = c.get("/apis/gateway.networking.k8s.io/v1alpha2").await.body;
    assert_eq!(tls["resources"][0]["kind"], "TLSRoute");
    assert_eq!(
        c.get("/apis/multicluster.x-k8s.io/v1alpha1").await.body["resources"][0]["name"],
        "serviceimports"
    );
    assert_eq!(c.get("/apis/nope.example/v1").await.status, 404);
    assert_eq!(c.get("/openapi/v2").await.status, 404);
    // A hidden CRD disappears from discovery and answers 404.
    api.set_served(
        "multicluster.x-k8s.io/v1alpha1",
        "serviceimports",
        Access::NotFound,
    );
    assert_eq!(
        c.get("/apis/multicluster.x-k8s.io/v1alpha1").await.status,
        404
    );
    assert!(!c
        .get("/apis")
        .await
        .body
        .to_string()
        .contains("multicluster"));
    assert_eq!(
        c.get("/apis/multicluster.x-k8s.io/v1alpha1/serviceimports")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn list_with_pagination_and_selectors() {
    let (api, c) = plain().await;
    for (ns, name, tier) in [
        ("a", "s1", "web"),
        ("a", "s2", "db"),
        ("b", "s3", "web"),
        ("b", "s4", "cache"),
        ("c", "s5", "web"),
    ] {
        api.apply(svc(ns, name, json!({"tier": tier})));
    }
    api.apply(svc("c", "s6", json!({})));
    let all = c.get("/api/v1/services").await.body;
    assert_eq!(all["kind"], "ServiceList");
    assert_eq!(all["apiVersion"], "v1");
    assert_eq!(all["metadata"]["resourceVersion"], "6");
    assert_eq!(names(&all), ["s1", "s2", "s3", "s4", "s5", "s6"]);
    assert_eq!(
        names(&c.get("/api/v1/namespaces/b/services").await.body),
        ["s3", "s4"]
    );

    // Pages of two, consistent at the first page's version even when objects change between pages.
    let p1 = c.get("/api/v1/services?limit=2").await.body;
    assert_eq!(names(&p1), ["s1", "s2"]);
    let cont = p1["metadata"]["continue"].as_str().unwrap().to_string();
    api.apply(svc("a", "s0", json!({})));
    api.delete("v1", "Service", "b", "s3");
    let p2 = c
        .get(&format!("/api/v1/services?limit=2&continue={cont}"))
        .await
        .body;
    assert_eq!(names(&p2), ["s3", "s4"]);
    assert_eq!(p2["metadata"]["resourceVersion"], "6");
    let cont = p2["metadata"]["continue"].as_str().unwrap().to_string();
    let p3 = c
        .get(&format!("/api/v1/services?limit=2&continue={cont}"))
        .await
        .body;
    assert_eq!(names(&p3), ["s5", "s6"]);
    assert!(p3["metadata"].get("continue").is_none());

    let sel = |q: &str| {
        let c = c.clone();
        let q = q.to_string();
        async move { c.get(&format!("/api/v1/services?labelSelector={q}")).await }
    };
    assert_eq!(names(&sel("tier%3Dweb").await.body), ["s1", "s5"]);
    assert_eq!(
        names(&sel("tier%20in%20(db,cache)").await.body),
        ["s2", "s4"]
    );
    assert_eq!(
        names(&sel("tier%20notin%20(web)").await.body),
        ["s0", "s2", "s4", "s6"]
    );
    assert_eq!(names(&sel("!tier").await.body), ["s0", "s6"]);
    assert_eq!(names(&sel("tier,tier!=web").await.body), ["s2", "s4"]);
    assert_eq!(sel("tier%20in%20web").await.status, 400);
    let by_name = c
        .get("/api/v1/services?fieldSelector=metadata.name%3Ds4")
        .await
        .body;
    assert_eq!(names(&by_name), ["s4"]);
    let not_ns = c
        .get("/api/v1/services?fieldSelector=metadata.namespace!%3Da,metadata.name!%3Ds6")
        .await
        .body;
    assert_eq!(names(&not_ns), ["s4", "s5"]);
    let bad = c.get("/api/v1/services?fieldSelector=spec.bogus%3Dx").await;
    assert_eq!(
        (bad.status, bad.body["reason"].as_str()),
        (400, Some("BadRequest"))
    );
    assert_eq!(bad.body["message"], "field label not supported: spec.bogus");

    // A page with selectors still fills up to the limit and says when more remain.
    let web = c
        .get("/api/v1/services?labelSelector=tier%3Dweb&limit=1")
        .await
        .body;
    assert_eq!(names(&web), ["s1"]);
    assert!(web["metadata"]["continue"].is_string());

    // An exact list at an old version, and 410 once history is compacted.
    let exact = c
        .get("/api/v1/services?resourceVersion=2&resourceVersionMatch=Exact")
        .await
        .body;
    assert_eq!(names(&exact), ["s1", "s2"]);
    api.compact();
    let gone = c
        .get("/api/v1/services?resourceVersion=2&resourceVersionMatch=Exact")
        .await;
    assert_eq!(
        (gone.status, gone.body["reason"].as_str()),
        (410, Some("Expired"))
    );
    let gone = c
        .get(&format!("/api/v1/services?limit=2&continue={cont}"))
        .await;
    assert_eq!(gone.status, 410);
    assert_eq!(
        c.get("/api/v1/services?resourceVersion=0").await.status,
        200
    );
}

#[tokio::test]
async fn server_side_page_cap() {
    let api = FakeApi::start(Options {
        page_size_limit: Some(2),
        ..Options::default()
    })
    .await
    .unwrap();
    let c = Client::plain(&api);
    for i in 0..5 {
        api.apply(svc("a", &format!("s{i}"), json!({})));
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/services?limit=500".to_string();
    loop {
        let page = c.get(&path).await.body;
        assert!(names(&page).len() <= 2);
        seen.extend(names(&page));
        match page["metadata"]["continue"].as_str() {
            Some(t) => path = format!("/api/v1/services?limit=500&continue={t}"),
            None => break,
        }
    }
    assert_eq!(seen, ["s0", "s1", "s2", "s3", "s4"]);
    assert_eq!(
        api.requests()
            .iter()
            .filter(|r| r.is_list_of("services"))
            .count(),
        3
    );
}

#[tokio::test]
async fn watch_replays_from_a_resource_version_then_streams() {
    let (api, c) = plain().await;
    api.apply(svc("a", "one", json!({})));
    let rv = api.apply(svc("a", "two", json!({})));
    api.apply(svc("a", "three", json!({})));
    api.apply(svc("b", "other", json!({})));
    api.delete("v1", "Service", "a", "one");

    let (status, mut w) = c
        .watch(&format!(
            "/api/v1/namespaces/a/services?watch=1&resourceVersion={rv}"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(w.next_brief().await, Some(("ADDED".into(), "three".into())));
    let del = w.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        (
            del["type"].as_str(),
            del["object"]["metadata"]["name"].as_str()
        ),
        (Some("DELETED"), Some("one"))
    );
    assert_eq!(del["object"]["metadata"]["resourceVersion"], "5");
    api.apply(svc("a", "two", json!({"x": "y"})));
    let m = w.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(m["type"], "MODIFIED");
    assert_eq!(m["object"]["metadata"]["resourceVersion"], "6");
    api.apply(svc("b", "elsewhere", json!({})));
    assert!(
        w.next(Duration::from_millis(200)).await.is_none(),
        "other namespace filtered"
    );

    // Without a resourceVersion: synthetic ADDED for what exists now.
    let (_, mut w0) = c.watch("/api/v1/services?watch=true").await;
    let mut initial = Vec::new();
    for _ in 0..4 {
        initial.push(w0.next_brief().await.unwrap().1);
    }
    assert_eq!(initial, ["three", "two", "elsewhere", "other"]);
    // Legacy /watch/ prefix.
    let (_, mut w1) = c.watch("/api/v1/watch/namespaces/b/services").await;
    assert_eq!(
        w1.next_brief().await,
        Some(("ADDED".into(), "elsewhere".into()))
    );
    assert!(
        api.requests()
            .iter()
            .filter(|r| r.is_watch_of("services"))
            .count()
            >= 3
    );
}

#[tokio::test]
async fn watch_after_compaction_gets_410_error_event() {
    let (api, c) = plain().await;
    let rv = api.apply(svc("a", "one", json!({})));
    api.apply(svc("a", "two", json!({})));
    api.compact();
    let (status, mut w) = c
        .watch(&format!("/api/v1/services?watch=1&resourceVersion={rv}"))
        .await;
    assert_eq!(status, 200);
    let ev = w.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["kind"], "Status");
    assert_eq!(ev["object"]["status"], "Failure");
    assert_eq!(ev["object"]["reason"], "Expired");
    assert_eq!(ev["object"]["code"], 410);
    assert!(w.ends_within(Duration::from_secs(2)).await);
    // From the current version it works.
    let (_, mut ok) = c
        .watch(&format!(
            "/api/v1/services?watch=1&resourceVersion={}",
            api.resource_version()
        ))
        .await;
    api.apply(svc("a", "three", json!({})));
    assert_eq!(
        ok.next_brief().await,
        Some(("ADDED".into(), "three".into()))
    );
}

#[tokio::test]
async fn watch_selectors_turn_transitions_into_added_and_deleted() {
    let (api, c) = plain().await;
    let rv = api.apply(svc("a", "s", json!({"app": "x"})));
    let (_, mut w) = c
        .watch(&format!(
            "/api/v1/services?watch=1&labelSelector=app%3Dx&resourceVersion={rv}"
        ))
        .await;
    api.apply(svc("a", "s", json!({"app": "y"})));
    let gone = w.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(gone["type"], "DELETED");
    assert_eq!(gone["object"]["metadata"]["labels"]["app"], "x");
    assert_eq!(gone["object"]["metadata"]["resourceVersion"], "2");
    api.apply(svc("a", "s", json!({"app": "y", "v": "2"})));
    api.apply(svc("a", "s", json!({"app": "x"})));
    assert_eq!(w.next_brief().await, Some(("ADDED".into(), "s".into())));
    api.apply(svc("a", "s", json!({"app": "x", "v": "3"})));
    assert_eq!(w.next_brief().await, Some(("MODIFIED".into(), "s".into())));
    // Field selectors apply to watches too.
    let (_, mut wf) = c
        .watch("/api/v1/services?watch=1&fieldSelector=metadata.name%3Dt")
        .await;
    api.apply(svc("a", "u", json!({})));
    api.apply(svc("a", "t", json!({})));
    assert_eq!(wf.next_brief().await, Some(("ADDED".into(), "t".into())));
}

#[tokio::test]
async fn bookmarks_initial_events_and_timeout() {
    let api = FakeApi::start(Options {
        bookmark_interval: Some(Duration::from_millis(100)),
        ..Options::default()
    })
    .await
    .unwrap();
    let c = Client::plain(&api);
    api.apply(svc("a", "one", json!({})));
    let (_, mut w) = c
        .watch("/api/v1/services?watch=1&allowWatchBookmarks=true&resourceVersion=1")
        .await;
    api.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}));
    let bm = w.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(bm["type"], "BOOKMARK");
    assert_eq!(bm["object"]["kind"], "Service");
    assert_eq!(
        bm["object"]["metadata"]["resourceVersion"], "2",
        "bookmarks carry the global version"
    );
    // No bookmarks unless asked.
    let (_, mut quiet) = c.watch("/api/v1/services?watch=1&resourceVersion=2").await;
    assert!(quiet.next(Duration::from_millis(300)).await.is_none());

    // Streaming list: ADDED for everything, then an annotated bookmark.
    let (_, mut s) = c
        .watch("/api/v1/services?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan")
        .await;
    assert_eq!(s.next_brief().await, Some(("ADDED".into(), "one".into())));
    let end = s.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(end["type"], "BOOKMARK");
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );

    let (_, mut t) = c
        .watch("/api/v1/services?watch=1&timeoutSeconds=1&resourceVersion=2")
        .await;
    let start = std::time::Instant::now();
    assert!(t.ends_within(Duration::from_secs(5)).await);
    assert!(start.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn writes_create_replace_patch_delete() {
    let (api, c) = plain().await;
    let body = svc("a", "web", json!({"app": "web"})).to_string();
    let created = c
        .request(
            "POST",
            "/api/v1/namespaces/a/services",
            "application/json",
            &body,
        )
        .await;
    assert_eq!(created.status, 201);
    let meta = &created.body["metadata"];
    assert_eq!(meta["resourceVersion"], "1");
    assert_eq!(meta["generation"], 1);
    assert!(meta["uid"].as_str().unwrap().len() == 36);
    assert!(meta["creationTimestamp"].as_str().unwrap().ends_with('Z'));
    let dup = c
        .request(
            "POST",
            "/api/v1/namespaces/a/services",
            "application/json",
            &body,
        )
        .await;
    assert_eq!(
        (dup.status, dup.body["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );
    let wrong_ns = c
        .request(
            "POST",
            "/api/v1/namespaces/b/services",
            "application/json",
            &body,
        )
        .await;
    assert_eq!(wrong_ns.status, 400);

    let got = c.get("/api/v1/namespaces/a/services/web").await;
    assert_eq!(got.body["metadata"]["uid"], meta["uid"]);
    let missing = c.get("/api/v1/namespaces/a/services/nope").await;
    assert_eq!(
        (missing.status, missing.body["reason"].as_str()),
        (404, Some("NotFound"))
    );
    assert_eq!(missing.body["message"], "services \"nope\" not found");

    let mut replaced = got.body.clone();
    replaced["spec"]["clusterIP"] = json!("10.9.9.9");
    let put = c
        .request(
            "PUT",
            "/api/v1/namespaces/a/services/web",
            "application/json",
            &replaced.to_string(),
        )
        .await;
    assert_eq!(
        (put.status, put.body["metadata"]["generation"].as_i64()),
        (200, Some(2))
    );
    let stale = c
        .request(
            "PUT",
            "/api/v1/namespaces/a/services/web",
            "application/json",
            &replaced.to_string(),
        )
        .await;
    assert_eq!(
        (stale.status, stale.body["reason"].as_str()),
        (409, Some("Conflict"))
    );

    let merge = c
        .request(
            "PATCH",
            "/api/v1/namespaces/a/services/web",
            "application/merge-patch+json",
            r#"{"metadata":{"labels":{"app":null,"tier":"front"}}}"#,
        )
        .await;
    assert_eq!(merge.status, 200);
    assert_eq!(merge.body["metadata"]["labels"], json!({"tier": "front"}));
    let smp = c
        .request(
            "PATCH",
            "/api/v1/namespaces/a/services/web",
            "application/strategic-merge-patch+json",
            r#"{"metadata":{"annotations":{"k":"v"}}}"#,
        )
        .await;
    assert_eq!(smp.body["metadata"]["annotations"], json!({"k": "v"}));
    let jp = c
        .request(
            "PATCH",
            "/api/v1/namespaces/a/services/web",
            "application/json-patch+json",
            r#"[{"op":"replace","path":"/spec/clusterIP","value":"10.1.1.1"}]"#,
        )
        .await;
    assert_eq!(jp.body["spec"]["clusterIP"], "10.1.1.1");
    assert_eq!(
        api.get("v1", "Service", "a", "web").unwrap()["spec"]["clusterIP"],
        "10.1.1.1"
    );
    let bad_type = c
        .request(
            "PATCH",
            "/api/v1/namespaces/a/services/web",
            "text/plain",
            "{}",
        )
        .await;
    assert_eq!(bad_type.status, 415);

    // Cluster-scoped objects.
    let ns = c
        .request(
            "POST",
            "/api/v1/namespaces",
            "application/json",
            r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}"#,
        )
        .await;
    assert_eq!(ns.status, 201);
    assert!(ns.body["metadata"].get("namespace").is_none());
    assert_eq!(
        c.get("/api/v1/namespaces/a").await.body["metadata"]["name"],
        "a"
    );

    let del = c
        .request(
            "DELETE",
            "/api/v1/namespaces/a/services/web",
            "application/json",
            "{}",
        )
        .await;
    assert_eq!(del.status, 200);
    assert!(api.get("v1", "Service", "a", "web").is_none());
    assert_eq!(
        c.request("DELETE", "/api/v1/namespaces/a/services/web", "", "")
            .await
            .status,
        404
    );
    // Group resources.
    let es = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "web-1", "labels": {"kubernetes.io/service-name": "web"}}, "addressType": "IPv4", "endpoints": []});
    let r = c
        .request(
            "POST",
            "/apis/discovery.k8s.io/v1/namespaces/a/endpointslices",
            "application/json",
            &es.to_string(),
        )
        .await;
    assert_eq!(r.status, 201);
    let l = c.get("/apis/discovery.k8s.io/v1/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb").await.body;
    assert_eq!(
        (l["kind"].as_str(), names(&l)),
        (Some("EndpointSliceList"), vec!["web-1".to_string()])
    );
    let wrong_kind = c
        .request(
            "POST",
            "/apis/discovery.k8s.io/v1/namespaces/a/endpointslices",
            "application/json",
            &svc("a", "x", json!({})).to_string(),
        )
        .await;
    assert_eq!(wrong_kind.status, 400);
}

#[tokio::test]
async fn fault_injection() {
    let (api, c) = plain().await;
    api.apply(svc("a", "one", json!({})));
    api.faults().fail_next(2, 500);
    let r = c.get("/api/v1/services").await;
    assert_eq!(
        (r.status, r.body["kind"].as_str(), r.body["code"].as_i64()),
        (500, Some("Status"), Some(500))
    );
    assert_eq!(c.get("/api/v1/services").await.status, 500);
    assert_eq!(c.get("/api/v1/services").await.status, 200);
    api.faults().fail_next(1, 429);
    assert_eq!(c.get("/api").await.status, 429);

    // drop_watches ends every open stream.
    let (_, mut w1) = c.watch("/api/v1/services?watch=1&resourceVersion=1").await;
    let (_, mut w2) = c
        .watch("/apis/discovery.k8s.io/v1/endpointslices?watch=1")
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(api.open_watches(), 2);
    api.faults().drop_watches();
    assert!(w1.ends_within(Duration::from_secs(2)).await);
    assert!(w2.ends_within(Duration::from_secs(2)).await);

    // delay
    api.faults().delay(Duration::from_millis(300));
    let t = std::time::Instant::now();
    c.get("/version").await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    api.faults().delay(Duration::ZERO);

    // down: open watches close, new connections are refused; up again on the same port.
    let (_, mut w) = c.watch("/api/v1/services?watch=1&resourceVersion=1").await;
    api.faults().down(true);
    assert!(w.ends_within(Duration::from_secs(2)).await);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(c.try_request("GET", "/version", "", "").await.is_err());
    api.faults().down(false);
    let mut up = false;
    for _ in 0..50 {
        if c.try_request("GET", "/version", "", "")
            .await
            .is_ok_and(|r| r.status == 200)
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(up, "listening again after down(false)");
}

#[tokio::test]
async fn forbidden_resource() {
    let (api, c) = plain().await;
    api.set_served("v1", "pods", Access::Forbidden);
    let r = c.get("/api/v1/namespaces/x/pods").await;
    assert_eq!(
        (r.status, r.body["reason"].as_str()),
        (403, Some("Forbidden"))
    );
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("cannot list resource \"pods\""));
    assert!(
        c.get("/api/v1").await.body.to_string().contains("\"pods\""),
        "still discoverable"
    );
    api.set_served("v1", "pods", Access::Served);
    assert_eq!(c.get("/api/v1/namespaces/x/pods").await.status, 200);
}

#[tokio::test]
async fn token_auth() {
    let api = FakeApi::start(Options {
        auth: Auth::Token("s3cret".into()),
        ..Options::default()
    })
    .await
    .unwrap();
    let anon = Client::plain(&api);
    let r = anon.get("/api/v1/services").await;
    assert_eq!(
        (r.status, r.body["reason"].as_str()),
        (401, Some("Unauthorized"))
    );
    assert_eq!(
        anon.clone().with_token("wrong").get("/api").await.status,
        401
    );
    assert_eq!(
        anon.with_token("s3cret")
            .get("/api/v1/services")
            .await
            .status,
        200
    );
    assert!(api.kubeconfig().contains("token: \"s3cret\""));
}

#[tokio::test]
async fn tls_with_client_certificate() {
    let api = FakeApi::start(Options {
        auth: Auth::ClientCert,
        ..Options::default()
    })
    .await
    .unwrap();
    assert!(api.url().starts_with("https://127.0.0.1:"));
    api.apply(svc("a", "one", json!({})));
    let with_cert = Client::tls(&api, true);
    let r = with_cert.get("/api/v1/services").await;
    assert_eq!((r.status, names(&r.body)), (200, vec!["one".to_string()]));
    let (_, mut w) = with_cert.watch("/api/v1/services?watch=1").await;
    assert_eq!(w.next_brief().await, Some(("ADDED".into(), "one".into())));
    // Without a client certificate the handshake (or the first request) fails.
    assert!(Client::tls(&api, false)
        .try_request("GET", "/version", "", "")
        .await
        .is_err());
    // The PEM files for a `tls CERT KEY CACERT` line.
    let dir = std::env::temp_dir().join(format!("fakeapi-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key, ca) = api.write_tls_files(&dir).unwrap();
    assert!(std::fs::read_to_string(cert)
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(std::fs::read_to_string(key)
        .unwrap()
        .contains("PRIVATE KEY"));
    assert!(std::fs::read_to_string(ca)
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn tls_without_client_auth() {
    let api = FakeApi::start(Options {
        tls: true,
        ..Options::default()
    })
    .await
    .unwrap();
    assert_eq!(Client::tls(&api, false).get("/version").await.status, 200);
    assert_eq!(Client::tls(&api, true).get("/version").await.status, 200);
    assert!(api.kubeconfig().contains("certificate-authority-data: "));
}

#[test]
fn start_blocking_from_sync_code() {
    let api = FakeApi::start_blocking(Options::default());
    api.apply(svc("a", "one", json!({})));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = rt.block_on(Client::plain(&api).get("/api/v1/namespaces/a/services"));
    assert_eq!(names(&r.body), ["one"]);
    let addr = api.addr();
    drop(api);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "stopped on drop"
    );
}
