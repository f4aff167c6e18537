use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use signpost_metrics::registry;
use signpost_plugin::testing::{request, run, setup, Case, NxDomain};
use signpost_plugin::{Chain, ConfigParts, Control, Fallthrough, PluginDef, Runtime, Zones};
use signpost_wire::text::message_sections;
use signpost_wire::{rcode, rtype, Name};

use crate::setup::{parse, Config};
use crate::PLUGIN;

/// CoreDNS's `hostsExample` (its last two lines are not entries and are skipped).
const HOSTS_EXAMPLE: &str = "
127.0.0.1 localhost localhost.domain
::1 localhost localhost.domain
10.0.0.1 example.org
::FFFF:10.0.0.2 example.com
10.0.0.3 fallthrough-example.org
1.2.3.4 aa.example.com
5.6.7.8 *.apps.example.com
reload 5s
timeout 3600
";

/// A file under the temporary directory, unique to this process and test.
fn temp_file(name: &str, content: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("signpost-hosts-{}-{name}", std::process::id()));
    std::fs::write(&path, content).unwrap();
    path
}

/// Run the configuration's start-up hooks on a fresh runtime (kept alive by the caller).
fn start(parts: &mut ConfigParts) -> tokio::runtime::Runtime {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let runtime = Runtime {
        handle: rt.handle().clone(),
        control: Control::new(tx),
        corefile: None,
        listeners: Vec::new(),
    };
    for hook in parts.startup.drain(..) {
        hook(&runtime).unwrap();
    }
    rt
}

/// A plugin answering NXDOMAIN, put after hosts by writing `end` in a test Corefile, to show
/// where hosts passes a query on.
const END: PluginDef = PluginDef {
    name: "end",
    setup: |ctx, _| {
        ctx.add_plugin(Arc::new(NxDomain));
        Ok(())
    },
};

/// Set up `corefile` (hosts, then `end` if written) and run the start-up hooks.
fn chain(corefile: &str) -> (Arc<Chain>, ConfigParts, tokio::runtime::Runtime) {
    let (chain, mut parts) = setup(&[PLUGIN, END], corefile).unwrap();
    let rt = start(&mut parts);
    (chain, parts, rt)
}

fn check(chain: &Arc<Chain>, cases: &[Case]) {
    for case in cases {
        let (outcome, resp) = run(chain, &request(case.qname, case.qtype)).unwrap();
        case.check(&resp).unwrap();
        if outcome.plugin == "hosts" && case.rcode == rcode::NOERROR {
            assert!(resp.authoritative(), "{} {}: AA", case.qname, case.qtype);
        }
        if outcome.plugin == "hosts" && case.rcode == rcode::SERVFAIL {
            assert!(
                outcome.error.is_none(),
                "nothing for the errors plugin to log"
            );
        }
    }
}

fn case(qname: &'static str, qtype: u16, rc: u16, answer: &[&'static str]) -> Case {
    Case {
        qname,
        qtype,
        rcode: rc,
        answer: answer.to_vec(),
        ..Case::default()
    }
}

#[test]
fn answers_like_coredns() {
    let file = temp_file("example", HOSTS_EXAMPLE);
    let corefile = format!(
        ". {{\n    hosts {} {{\n        fallthrough fallthrough-example.org\n    }}\n    end\n}}\n",
        file.display()
    );
    let (c, _parts, _rt) = chain(&corefile);
    let servfail = rcode::SERVFAIL;
    let nx = rcode::NXDOMAIN;
    let ok = rcode::NOERROR;
    check(
        &c,
        &[
            case("example.org.", rtype::A, ok, &["example.org. 3600 IN A 10.0.0.1"]),
            case("example.com.", rtype::A, ok, &["example.com. 3600 IN A 10.0.0.2"]),
            case("example.com.", rtype::AAAA, ok, &[]),
            case("localhost.", rtype::AAAA, ok, &["localhost. 3600 IN AAAA ::1"]),
            case(
                "localhost.",
                rtype::A,
                ok,
                &["localhost. 3600 IN A 127.0.0.1"],
            ),
            case(
                "1.0.0.10.in-addr.arpa.",
                rtype::PTR,
                ok,
                &["1.0.0.10.in-addr.arpa. 3600 IN PTR example.org."],
            ),
            case(
                "2.0.0.10.in-addr.arpa.",
                rtype::PTR,
                ok,
                &["2.0.0.10.in-addr.arpa. 3600 IN PTR example.com."],
            ),
            case(
                "1.0.0.127.in-addr.arpa.",
                rtype::PTR,
                ok,
                &[
                    "1.0.0.127.in-addr.arpa. 3600 IN PTR localhost.",
                    "1.0.0.127.in-addr.arpa. 3600 IN PTR localhost.domain.",
                ],
            ),
            case(
                "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
                rtype::PTR,
                ok,
                &[
                    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. 3600 IN PTR localhost.",
                    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. 3600 IN PTR localhost.domain.",
                ],
            ),
            // NODATA: known name, other type. No SOA.
            case("example.org.", rtype::AAAA, ok, &[]),
            case("example.org.", rtype::MX, ok, &[]),
            case("example.org.", rtype::TXT, ok, &[]),
            case("fallthrough-example.org.", rtype::AAAA, ok, &[]),
            // Wildcards match exactly one label.
            case("x.apps.example.com.", rtype::A, ok, &["x.apps.example.com. 3600 IN A 5.6.7.8"]),
            case("x.apps.example.com.", rtype::AAAA, ok, &[]),
            case("apps.example.com.", rtype::A, servfail, &[]),
            case("a.b.apps.example.com.", rtype::A, servfail, &[]),
            case("aa.example.com.", rtype::A, ok, &["aa.example.com. 3600 IN A 1.2.3.4"]),
            // Unknown names: SERVFAIL (no SOA for an NXDOMAIN), unless fallthrough covers them.
            case("missing.example.org.", rtype::A, servfail, &[]),
            case("missing.example.org.", rtype::MX, servfail, &[]),
            case("x.fallthrough-example.org.", rtype::A, nx, &[]),
            // Unknown addresses always go on.
            case("9.0.0.10.in-addr.arpa.", rtype::PTR, nx, &[]),
            case("example.org.", rtype::PTR, nx, &[]),
        ],
    );
    let _ = std::fs::remove_file(&file);
}

#[test]
fn zones_fallthrough_and_inline_entries() {
    let file = temp_file(
        "zones",
        "10.0.0.1 example.org\n10.0.0.2 example.net\n10.0.0.3 www.example.org\n",
    );
    let corefile = format!(
        ". {{\n    hosts {} example.org {{\n        10.1.0.1 www.example.org inline.example.org\n        10.1.0.2 out.example.net\n        ttl 60\n        fallthrough\n        fallthrough_unsupported\n    }}\n    end\n}}\n",
        file.display()
    );
    let (c, _parts, _rt) = chain(&corefile);
    let ok = rcode::NOERROR;
    let nx = rcode::NXDOMAIN;
    check(
        &c,
        &[
            case(
                "example.org.",
                rtype::A,
                ok,
                &["example.org. 60 IN A 10.0.0.1"],
            ),
            // File entries first, then the inline ones.
            case(
                "www.example.org.",
                rtype::A,
                ok,
                &[
                    "www.example.org. 60 IN A 10.0.0.3",
                    "www.example.org. 60 IN A 10.1.0.1",
                ],
            ),
            case(
                "inline.example.org.",
                rtype::A,
                ok,
                &["inline.example.org. 60 IN A 10.1.0.1"],
            ),
            // Outside the plugin's zones: passed on, and not even read from the file.
            case("example.net.", rtype::A, nx, &[]),
            case("out.example.net.", rtype::A, nx, &[]),
            case("2.0.0.10.in-addr.arpa.", rtype::PTR, nx, &[]),
            // PTR queries need not be in the zones.
            case(
                "1.0.1.10.in-addr.arpa.",
                rtype::PTR,
                ok,
                &[
                    "1.0.1.10.in-addr.arpa. 60 IN PTR www.example.org.",
                    "1.0.1.10.in-addr.arpa. 60 IN PTR inline.example.org.",
                ],
            ),
            case("missing.example.org.", rtype::A, nx, &[]),
            // fallthrough_unsupported: other types of known names go on too.
            case("example.org.", rtype::TXT, nx, &[]),
            case("example.org.", rtype::AAAA, ok, &[]),
        ],
    );
    let _ = std::fs::remove_file(&file);
}

#[test]
fn no_reverse_and_fallthrough_zones() {
    let corefile = ". {\n    hosts /nonexistent/signpost/hosts {\n        10.0.0.1 example.org\n        no_reverse\n        fallthrough example.net\n    }\n    end\n}\n";
    let (c, _parts, _rt) = chain(corefile);
    check(
        &c,
        &[
            case(
                "example.org.",
                rtype::A,
                rcode::NOERROR,
                &["example.org. 3600 IN A 10.0.0.1"],
            ),
            case("1.0.0.10.in-addr.arpa.", rtype::PTR, rcode::NXDOMAIN, &[]),
            case("missing.example.org.", rtype::A, rcode::SERVFAIL, &[]),
            case("missing.example.net.", rtype::A, rcode::NXDOMAIN, &[]),
        ],
    );
}

#[test]
fn answers_keep_the_client_spelling_of_the_name() {
    let corefile =
        ". {\n    hosts /nonexistent/signpost/hosts {\n        10.0.0.1 Example.org\n    }\n}\n";
    let (c, _parts, _rt) = chain(corefile);
    let (_, resp) = run(&c, &request("EXAMPLE.org.", rtype::A)).unwrap();
    let [answer, _, _] = message_sections(resp.bytes()).unwrap();
    assert_eq!(answer[0].to_string(), "EXAMPLE.org.\t3600\tIN\tA\t10.0.0.1");
}

#[test]
fn reload_swaps_the_file_and_keeps_it_when_deleted() {
    let file = temp_file("reload", "10.0.0.1 example.org\n");
    let corefile = format!(
        ". {{\n    hosts {} {{\n        reload 20ms\n    }}\n}}\n",
        file.display()
    );
    let (c, mut parts, _rt) = chain(&corefile);
    let a = |c: &Arc<Chain>| {
        let (_, resp) = run(c, &request("example.org.", rtype::A)).unwrap();
        message_sections(resp.bytes()).unwrap()[0]
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(a(&c), ["example.org.\t3600\tIN\tA\t10.0.0.1"]);
    let metrics = registry().render();
    let entries = format!(
        "coredns_hosts_entries{{hostsfile=\"{}\"}} 2\n",
        file.display()
    );
    assert!(metrics.contains(&entries), "{metrics}");
    assert!(metrics.contains("coredns_hosts_reload_timestamp_seconds "));

    std::fs::write(&file, "10.0.0.2 example.org\n10.0.0.3 example.org\n").unwrap();
    let want = [
        "example.org.\t3600\tIN\tA\t10.0.0.2",
        "example.org.\t3600\tIN\tA\t10.0.0.3",
    ];
    wait_for(|| a(&c) == want);
    let entries = format!(
        "coredns_hosts_entries{{hostsfile=\"{}\"}} 4\n",
        file.display()
    );
    assert!(registry().render().contains(&entries));

    // A deleted file leaves the last data in place.
    std::fs::remove_file(&file).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(a(&c), want);

    // After shutdown the file is no longer watched.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for hook in parts.shutdown.drain(..) {
        rt.block_on(hook(false));
    }
    std::fs::write(&file, "10.0.0.9 example.org\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(a(&c), want);
    let _ = std::fs::remove_file(&file);
}

#[test]
fn reload_zero_reads_the_file_once() {
    let file = temp_file("once", "10.0.0.1 example.org\n");
    let corefile = format!(
        ". {{\n    hosts {} {{\n        reload 0\n    }}\n}}\n",
        file.display()
    );
    let (c, _parts, _rt) = chain(&corefile);
    check(
        &c,
        &[case(
            "example.org.",
            rtype::A,
            rcode::NOERROR,
            &["example.org. 3600 IN A 10.0.0.1"],
        )],
    );
    std::fs::write(&file, "10.0.0.2 example.org\n10.0.0.3 example.org\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    check(
        &c,
        &[case(
            "example.org.",
            rtype::A,
            rcode::NOERROR,
            &["example.org. 3600 IN A 10.0.0.1"],
        )],
    );
    let _ = std::fs::remove_file(&file);
}

fn wait_for(mut ready: impl FnMut() -> bool) {
    for _ in 0..200 {
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out");
}

#[test]
fn an_unreadable_path_stops_the_start() {
    let file = temp_file("not-a-dir", "");
    let corefile = format!(". {{\n    hosts {}/hosts\n}}\n", file.display());
    let (_, mut parts) = setup(&[PLUGIN], &corefile).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let runtime = Runtime {
        handle: rt.handle().clone(),
        control: Control::new(tx),
        corefile: None,
        listeners: Vec::new(),
    };
    let err = (parts.startup.remove(0))(&runtime).unwrap_err();
    assert!(
        err.starts_with(&format!(
            "plugin/hosts: unable to access hosts file '{}/hosts': ",
            file.display()
        )),
        "{err}"
    );
    let _ = std::fs::remove_file(&file);
}

/// Parse the only `hosts` directive of `corefile` (block zone `.`).
fn config(corefile: &str) -> Result<Config, String> {
    let blocks = signpost_corefile::parse("Corefile", corefile).unwrap();
    parse(
        &blocks[0].directives[0],
        &[Name::root()],
        Some(Path::new("/conf")),
    )
    .map_err(|e| e.to_string())
}

fn zones(names: &[&str]) -> Zones {
    Zones::new(names.iter().map(|n| Name::from_text(n).unwrap()).collect())
}

#[test]
fn parse_options() {
    let base = Config {
        path: "/etc/hosts".into(),
        zones: zones(&["."]),
        inline: Vec::new(),
        ttl: 3600,
        reverse: true,
        reload: Duration::from_secs(5),
        fall: Fallthrough::default(),
        fall_unsupported: false,
    };
    let with = |f: &dyn Fn(&mut Config)| {
        let mut c = base.clone();
        f(&mut c);
        c
    };
    let table: Vec<(&str, Config)> = vec![
        ("hosts", base.clone()),
        ("hosts /tmp", with(&|c| c.path = "/tmp".into())),
        ("hosts example.hosts", with(&|c| c.path = "/conf/example.hosts".into())),
        ("hosts /etc/hosts miek.nl.", with(&|c| c.zones = zones(&["miek.nl."]))),
        (
            "hosts /etc/hosts miek.nl. pun.gent.",
            with(&|c| c.zones = zones(&["miek.nl.", "pun.gent."])),
        ),
        ("hosts {\n        fallthrough\n    }", with(&|c| c.fall = Fallthrough::all())),
        (
            "hosts /etc/hosts miek.nl 10.0.0.9/8 {\n        fallthrough\n    }",
            with(&|c| {
                c.zones = zones(&["miek.nl.", "10.in-addr.arpa."]);
                c.fall = Fallthrough::all();
            }),
        ),
        (
            "hosts /etc/hosts {\n        fallthrough in-addr.arpa ip6.arpa\n        fallthrough_unsupported\n    }",
            with(&|c| {
                c.fall = Fallthrough::from_zones(vec![
                    Name::from_text("in-addr.arpa.").unwrap(),
                    Name::from_text("ip6.arpa.").unwrap(),
                ]);
                c.fall_unsupported = true;
            }),
        ),
        (
            "hosts {\n        fallthrough_unsupported\n        fallthrough\n    }",
            with(&|c| {
                c.fall = Fallthrough::all();
                c.fall_unsupported = true;
            }),
        ),
        (
            "hosts highly_unlikely_to_exist_hosts_file example.org {\n        10.0.0.1 example.org\n        ::1   example.org  localhost\n        fallthrough\n    }",
            with(&|c| {
                c.path = "/conf/highly_unlikely_to_exist_hosts_file".into();
                c.zones = zones(&["example.org."]);
                c.inline = vec!["10.0.0.1 example.org".into(), "::1 example.org localhost".into()];
                c.fall = Fallthrough::all();
            }),
        ),
        (
            "hosts {\n        ttl 60\n        no_reverse\n        reload 1.5h\n    }",
            with(&|c| {
                c.ttl = 60;
                c.reverse = false;
                c.reload = Duration::from_secs(5400);
            }),
        ),
        ("hosts {\n        ttl 65535 extra\n    }", with(&|c| c.ttl = 65535)),
        ("hosts {\n        reload 0\n    }", with(&|c| c.reload = Duration::ZERO)),
        ("hosts {\n        reload 300ms\n    }", with(&|c| c.reload = Duration::from_millis(300))),
        // no_reverse takes no argument; the word after it becomes an inline line.
        (
            "hosts {\n        no_reverse 10.0.0.1 a.example\n    }",
            with(&|c| {
                c.reverse = false;
                c.inline = vec!["10.0.0.1 a.example".into()];
            }),
        ),
    ];
    for (directive, want) in table {
        let corefile = format!(". {{\n    {directive}\n}}\n");
        assert_eq!(config(&corefile), Ok(want), "{directive}");
    }
}

#[test]
fn parse_errors() {
    let table: &[(&str, &str)] = &[
        ("hosts {\n        ttl\n    }", "Corefile:3 - Error during parsing: ttl needs a time in second"),
        ("hosts {\n        ttl sixty\n    }", "Corefile:3 - Error during parsing: ttl needs a number of second"),
        ("hosts {\n        ttl 0\n    }", "Corefile:3 - Error during parsing: ttl provided is invalid"),
        ("hosts {\n        ttl -5\n    }", "Corefile:3 - Error during parsing: ttl provided is invalid"),
        ("hosts {\n        ttl 65536\n    }", "Corefile:3 - Error during parsing: ttl provided is invalid"),
        (
            "hosts {\n        reload\n    }",
            "Corefile:3 - Error during parsing: reload needs a duration (zero seconds to disable)",
        ),
        (
            "hosts {\n        reload 1s 2s\n    }",
            "Corefile:3 - Error during parsing: reload needs a duration (zero seconds to disable)",
        ),
        (
            "hosts {\n        reload soon\n    }",
            "Corefile:3 - Error during parsing: invalid duration for reload 'soon'",
        ),
        (
            "hosts {\n        reload 5\n    }",
            "Corefile:3 - Error during parsing: invalid duration for reload '5'",
        ),
        (
            "hosts {\n        reload -1s\n    }",
            "Corefile:3 - Error during parsing: invalid negative duration for reload '-1s'",
        ),
        (
            "hosts {\n        fallthrough\n        10.0.0.1 example.org\n    }",
            "Corefile:4 - Error during parsing: unknown property '10.0.0.1'",
        ),
        (
            "hosts {\n        fallthrough\n        ttls 5\n    }",
            "Corefile:4 - Error during parsing: unknown property 'ttls'",
        ),
        (
            "hosts {\n        fallthrough_unsupported\n    }",
            "Corefile:4 - Error during parsing: fallthrough_unsupported requires fallthrough",
        ),
        (
            "hosts {\n        fallthrough\n        fallthrough_unsupported example.org\n    }",
            "Corefile:4 - Error during parsing: Wrong argument count or unexpected line ending after 'example.org'",
        ),
    ];
    for (directive, want) in table {
        let corefile = format!(". {{\n    {directive}\n}}\n");
        assert_eq!(config(&corefile).unwrap_err(), *want, "{directive}");
        // Through setup, the error names the plugin.
        let err = setup(&[PLUGIN], &corefile).err().unwrap().to_string();
        assert_eq!(err, format!("plugin/hosts: {want}"));
    }
    let twice = ". {\n    hosts /etc/hosts {\n        fallthrough\n    }\n    hosts /etc/hosts {\n        fallthrough\n    }\n}\n";
    assert_eq!(
        setup(&[PLUGIN], twice).err().unwrap().to_string(),
        "plugin/hosts: Corefile:5 - Error during parsing: this plugin can only be used once per Server Block"
    );
}

#[test]
fn the_server_block_zones_are_the_default() {
    let (c, _parts, _rt) = chain("example.org {\n    hosts /nonexistent/signpost/hosts {\n        10.0.0.1 example.org\n        10.0.0.2 example.net\n    }\n    end\n}\n");
    check(
        &c,
        &[
            case(
                "example.org.",
                rtype::A,
                rcode::NOERROR,
                &["example.org. 3600 IN A 10.0.0.1"],
            ),
            case("example.net.", rtype::A, rcode::NXDOMAIN, &[]),
        ],
    );
}

/// Every Corefile example of the README sets this plugin up.
#[test]
fn readme_examples_set_up() {
    let readme = include_str!("../README.md");
    let mut found = 0;
    for part in readme.split("```corefile\n").skip(1) {
        let corefile = part.split("```").next().unwrap();
        if let Err(e) = signpost_plugin::testing::setup(&[PLUGIN], corefile) {
            panic!("{corefile}: {e}");
        }
        found += 1;
    }
    assert!(found > 0);
}
