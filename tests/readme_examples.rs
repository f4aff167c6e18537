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
