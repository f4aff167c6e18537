//! Every Corefile example in every plugin README parses, builds and starts (on loopback, with
//! ephemeral ports), so the documentation cannot drift from the parser.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use signpost_corefile::parse;
use signpost_plugin::Control;
use signpost_server::{build, BuildOptions, ServeOptions, Server};

/// The ```corefile blocks of a Markdown file.
fn corefile_blocks(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        let fence = line.trim_start();
        match &mut current {
            None if fence.starts_with("```corefile") => current = Some(String::new()),
            Some(block) if fence.starts_with("```") => {
                out.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    out
}

fn readmes() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<_> = std::fs::read_dir(root.join("plugins"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("README.md"))
        .filter(|p| p.exists())
        .collect();
    v.push(root.join("README.md"));
    v.sort();
    v
}

/// The Corefile the README's first command runs.
#[test]
fn the_example_corefile_starts_and_answers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::env::set_current_dir(root).unwrap();
    let text = std::fs::read_to_string(root.join("examples/Corefile")).unwrap();
    let blocks = parse("examples/Corefile", &text).unwrap();
    let config = build(
        &blocks,
        &BuildOptions {
            plugins: signpost::plugins::PLUGINS,
            default_port: 53,
            corefile: Some(root.join("examples/Corefile")),
            listen_override: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        },
    )
    .unwrap_or_else(|e| panic!("{:?}", e));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let opts = ServeOptions {
            http_override: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            udp_workers: 1,
            ..ServeOptions::default()
        };
        let server = Server::start(config, opts, Control::new(tx)).await.unwrap();
        let addr = server
            .dns_addrs()
            .into_iter()
            .find(|(t, _)| *t == signpost_plugin::Transport::Udp)
            .unwrap()
            .1;
        let answers = tokio::task::spawn_blocking(move || {
            [
                ("web.demo.svc.cluster.local.", signpost_wire::rtype::A),
                ("db-0.db.demo.svc.cluster.local.", signpost_wire::rtype::A),
                ("_http._tcp.web.demo.svc.cluster.local.", signpost_wire::rtype::SRV),
                ("10.100.96.10.in-addr.arpa.", signpost_wire::rtype::PTR),
                ("www.example.test.", signpost_wire::rtype::A),
            ]
            .map(|(n, t)| signpost_testkit::query_udp(addr, n, t).expect("answer").answer)
        })
        .await
        .unwrap();
        assert_eq!(answers[0], ["web.demo.svc.cluster.local.\t5\tIN\tA\t10.96.100.10"]);
        assert_eq!(answers[1], ["db-0.db.demo.svc.cluster.local.\t5\tIN\tA\t10.244.1.20"]);
        assert_eq!(
            answers[2],
            ["_http._tcp.web.demo.svc.cluster.local.\t5\tIN\tSRV\t0 100 80 web.demo.svc.cluster.local."]
        );
        assert_eq!(answers[3], ["10.100.96.10.in-addr.arpa.\t5\tIN\tPTR\tweb.demo.svc.cluster.local."]);
        assert_eq!(answers[4].len(), 2);
        server.shutdown().await;
    });
}

#[test]
fn every_readme_example_starts() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut count = 0;
    for readme in readmes() {
        let text = std::fs::read_to_string(&readme).unwrap();
        for (i, example) in corefile_blocks(&text).into_iter().enumerate() {
            let what = format!("{} example {}", readme.display(), i + 1);
            let blocks = parse("Corefile", &example).unwrap_or_else(|e| panic!("{what}: {e}"));
            let config = build(
                &blocks,
                &BuildOptions {
                    plugins: signpost::plugins::PLUGINS,
                    default_port: 53,
                    corefile: None,
                    listen_override: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                },
            )
            .unwrap_or_else(|e| {
                let msgs: Vec<String> = e.iter().map(|e| e.to_string()).collect();
                panic!("{what}: {}", msgs.join("\n"))
            });
            rt.block_on(async {
                let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
                let opts = ServeOptions {
                    http_override: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                    run_startup_hooks: false,
                    udp_workers: 1,
                    ..ServeOptions::default()
                };
                let server = Server::start(config, opts, Control::new(tx))
                    .await
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(!server.dns_addrs().is_empty(), "{what}: nothing listens");
                server.shutdown().await;
            });
            count += 1;
        }
    }
    assert!(count >= 13, "only {count} examples found");
}
