//! Parsing: every option, its default, and every error with its exact text and line.

use std::time::Duration;

use signpost_plugin::testing::setup;
use signpost_wire::Name;

use super::config;
use crate::config::{PodMode, DEFAULT_STARTUP_TIMEOUT, DEFAULT_TTL};
use crate::PLUGIN;

fn err(corefile: &str) -> String {
    match setup(&[PLUGIN], corefile) {
        Ok(_) => panic!("should fail: {corefile}"),
        Err(e) => e.to_string(),
    }
}

fn names(v: &[Name]) -> Vec<String> {
    v.iter().map(Name::to_string).collect()
}

#[test]
fn defaults() {
    let c = config("kubernetes cluster.local");
    assert_eq!(names(&c.zones), ["cluster.local."]);
    assert_eq!(c.primary_zone, 0);
    assert_eq!(c.ttl, DEFAULT_TTL);
    assert_eq!(c.pods, PodMode::Disabled);
    assert!(c.connection.is_empty());
    assert!(c.namespaces.is_empty() && c.labels.is_none() && c.namespace_labels.is_none());
    assert!(!c.endpoint_pod_names && !c.noendpoints && !c.ignore_empty_service && !c.zonal);
    assert!(c.fallthrough.is_off());
    assert!(c.multicluster.is_empty());
    assert_eq!(c.startup_timeout, DEFAULT_STARTUP_TIMEOUT);
    assert_eq!(
        (c.apiserver_qps, c.apiserver_burst, c.apiserver_max_inflight),
        (0.0, 0, 0)
    );
}

#[test]
fn zones() {
    // Block zones when the directive has none.
    let (chain, _) = setup(&[PLUGIN], "Cluster.Local:53 {\n kubernetes\n}").unwrap();
    assert_eq!(chain.names(), ["kubernetes"]);
    let c = config("kubernetes 10.0.0.0/23 Cluster.Local ip6.arpa");
    assert_eq!(
        names(&c.zones),
        [
            "0.0.10.in-addr.arpa.",
            "1.0.10.in-addr.arpa.",
            "cluster.local.",
            "ip6.arpa."
        ]
    );
    assert_eq!(c.primary_zone, 2);
    // Invalid arguments are dropped silently.
    let c = config("kubernetes cluster.local foo..bar");
    assert_eq!(names(&c.zones), ["cluster.local."]);
}

#[test]
fn every_option() {
    let c = config(
        "kubernetes cluster.local in-addr.arpa clusterset.local {
            endpoint https://10.0.0.1:6443 https://10.0.0.2:6443
            tls cert.pem key.pem ca.pem
            kubeconfig /etc/kube.conf ctx
            manifests ./objects a.yaml
            namespaces demo
            namespaces test demo
            labels environment in (production, staging, qa),application=nginx
            pods verified
            endpoint_pod_names
            ttl 30 ignored
            noendpoints
            fallthrough in-addr.arpa
            ignore empty_service extra
            multicluster clusterset.local
            startup_timeout 1m30s
            apiserver_qps 12.5
            apiserver_burst 20
            apiserver_max_inflight 7
        }",
    );
    assert_eq!(
        c.connection.endpoint.as_deref(),
        Some("https://10.0.0.1:6443")
    );
    assert_eq!(
        c.connection.tls,
        Some(("cert.pem".into(), "key.pem".into(), "ca.pem".into()))
    );
    assert_eq!(
        c.connection.kubeconfig,
        Some(("/etc/kube.conf".into(), Some("ctx".into())))
    );
    assert_eq!(
        c.connection.manifests,
        vec!["./objects".into(), std::path::PathBuf::from("a.yaml")]
    );
    assert_eq!(c.namespaces.iter().collect::<Vec<_>>(), ["demo", "test"]);
    assert_eq!(
        c.labels.as_ref().unwrap().to_string(),
        "application=nginx,environment in (production,qa,staging)"
    );
    assert_eq!(c.pods, PodMode::Verified);
    assert!(c.endpoint_pod_names && c.noendpoints && c.ignore_empty_service);
    assert_eq!(c.ttl, 30);
    assert!(c
        .fallthrough
        .through(&Name::from_text("1.in-addr.arpa.").unwrap()));
    assert!(!c
        .fallthrough
        .through(&Name::from_text("cluster.local.").unwrap()));
    assert_eq!(names(&c.multicluster), ["clusterset.local."]);
    assert_eq!(c.startup_timeout, Duration::from_secs(90));
    assert_eq!(
        (c.apiserver_qps, c.apiserver_burst, c.apiserver_max_inflight),
        (12.5, 20, 7)
    );

    let c = config("kubernetes cluster.local {\n namespace_labels istio-injection=enabled\n zonal\n pods insecure\n ttl 0\n}");
    assert_eq!(
        c.namespace_labels.unwrap().to_string(),
        "istio-injection=enabled"
    );
    assert!(c.zonal);
    assert_eq!(c.pods, PodMode::Insecure);
    assert_eq!(c.ttl, 0);
    let c = config("kubernetes cluster.local {\n fallthrough\n pods disabled\n kubeconfig f\n ignore\n multicluster\n}");
    assert!(c
        .fallthrough
        .through(&Name::from_text("example.org.").unwrap()));
    assert_eq!(c.connection.kubeconfig, Some(("f".into(), None)));
    assert!(!c.ignore_empty_service && c.multicluster.is_empty());
}

#[test]
fn errors() {
    let cases: &[(&str, &str)] = &[
        (
            "kubernetes cluster.local\n kubernetes cluster.local",
            "plugin/kubernetes: Corefile:3 - Error during parsing: this plugin can only be used once per Server Block",
        ),
        (
            "kubernetes in-addr.arpa 10.0.0.0/8",
            "plugin/kubernetes: Corefile:2 - Error during parsing: non-reverse zone name must be used",
        ),
        (
            "kubernetes cluster.local {\n    endpoint\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'endpoint'",
        ),
        (
            "kubernetes cluster.local {\n tls a b\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'b'",
        ),
        (
            "kubernetes cluster.local {\n kubeconfig\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'kubeconfig'",
        ),
        (
            "kubernetes cluster.local {\n kubeconfig file context extraarg\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'extraarg'",
        ),
        (
            "kubernetes cluster.local {\n manifests\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'manifests'",
        ),
        (
            "kubernetes cluster.local {\n namespaces\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'namespaces'",
        ),
        (
            "kubernetes cluster.local {\n labels\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'labels'",
        ),
        (
            "kubernetes cluster.local {\n labels environment in (production, qa\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: unable to parse label selector value: 'environment in (production, qa': couldn't parse the selector string \"environment in (production, qa\": found '', expected: ',' or ')'",
        ),
        (
            "kubernetes cluster.local {\n namespace_labels a!=b\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: unable to parse namespace_label selector value: 'a!=b': \"!=\" is not a valid label selector operator",
        ),
        (
            "kubernetes cluster.local {\n pods giant_seed\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: wrong value for pods: giant_seed,  must be one of: disabled, verified, insecure",
        ),
        (
            "kubernetes cluster.local {\n pods\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'pods'",
        ),
        (
            "kubernetes cluster.local {\n endpoint_pod_names x\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'x'",
        ),
        (
            "kubernetes cluster.local {\n ttl\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'ttl'",
        ),
        (
            "kubernetes cluster.local {\n ttl abc\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: strconv.Atoi: parsing \"abc\": invalid syntax",
        ),
        (
            "kubernetes cluster.local {\n ttl 3601\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: ttl must be in range [0, 3600]: 3601",
        ),
        (
            "kubernetes cluster.local {\n ttl -1\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: ttl must be in range [0, 3600]: -1",
        ),
        (
            "kubernetes cluster.local {\n noendpoints now\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'now'",
        ),
        (
            "kubernetes cluster.local {\n zonal x\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'x'",
        ),
        (
            "kubernetes cluster.local {\n ignore everything\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: unable to parse ignore value: 'everything'",
        ),
        (
            "kubernetes cluster.local {\n startup_timeout\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'startup_timeout'",
        ),
        (
            "kubernetes cluster.local {\n startup_timeout 5\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: failed to parse startup_timeout: 5, time: missing unit in duration \"5\"",
        ),
        (
            "kubernetes cluster.local {\n apiserver_qps\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after 'apiserver_qps'",
        ),
        (
            "kubernetes cluster.local {\n apiserver_qps fast\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: invalid apiserver_qps \"fast\": strconv.ParseFloat: parsing \"fast\": invalid syntax",
        ),
        (
            "kubernetes cluster.local {\n apiserver_qps -1\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: apiserver_qps must be >= 0",
        ),
        (
            "kubernetes cluster.local {\n apiserver_burst 1 2\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: Wrong argument count or unexpected line ending after '2'",
        ),
        (
            "kubernetes cluster.local {\n apiserver_burst x\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: invalid apiserver_burst \"x\": strconv.Atoi: parsing \"x\": invalid syntax",
        ),
        (
            "kubernetes cluster.local {\n apiserver_burst -2\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: apiserver_burst must be >= 0",
        ),
        (
            "kubernetes cluster.local {\n apiserver_max_inflight -2\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: apiserver_max_inflight must be >= 0",
        ),
        (
            "kubernetes cluster.local {\n ttls 5\n}",
            "plugin/kubernetes: Corefile:3 - Error during parsing: unknown property 'ttls'",
        ),
        (
            "kubernetes cluster.local {\n namespaces foo bar\n namespace_labels istio-injection=enabled\n}",
            "plugin/kubernetes: Corefile:5 - Error during parsing: namespaces and namespace_labels cannot both be set",
        ),
        (
            "kubernetes cluster.local {\n multicluster clusterset.local\n}",
            "plugin/kubernetes: Corefile:4 - Error during parsing: is not authoritative for the multicluster zone clusterset.local. (authoritative zones: [cluster.local.])",
        ),
        (
            "kubernetes cluster.local {\n zonal\n noendpoints\n}",
            "plugin/kubernetes: Corefile:5 - Error during parsing: zonal requires the endpoint cache; remove noendpoints",
        ),
    ];
    let mut failures = Vec::new();
    for (stanza, want) in cases {
        let got = err(&format!(".:53 {{\n{stanza}\n}}"));
        if got != *want {
            failures.push(format!("{stanza}\n  got:  {got}\n  want: {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn setup_registers_readiness_and_startup() {
    let (_, parts) = setup(&[PLUGIN], ".:53 {\n kubernetes cluster.local\n}").unwrap();
    assert_eq!(parts.ready.len(), 1);
    assert_eq!(parts.ready[0].name, "kubernetes");
    assert!((parts.ready[0].check)().is_err());
    assert!(!parts.startup.is_empty());
}

/// The ```corefile blocks of the README.
fn readme_examples() -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in include_str!("../../README.md").lines() {
        match &mut cur {
            None if line.trim_start().starts_with("```corefile") => cur = Some(String::new()),
            Some(b) if line.trim_start().starts_with("```") => {
                out.push(std::mem::take(b));
                cur = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn readme_examples_set_up() {
    let examples = readme_examples();
    assert!(examples.len() >= 8);
    for e in examples {
        let (chain, parts) = setup(&[PLUGIN], &e).unwrap_or_else(|err| panic!("{e}\n{err}"));
        assert_eq!(chain.names(), ["kubernetes"], "{e}");
        assert!(!parts.startup.is_empty());
    }
}
