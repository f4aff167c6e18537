use std::io;
use std::net::IpAddr;

use signpost_corefile::parse as parse_corefile;
use signpost_plugin::testing;
use signpost_plugin::{BlockInfo, ConfigParts, SetupContext};

use super::*;

fn entry(name: &str, ip: Option<&str>) -> IfAddr {
    IfAddr {
        name: name.into(),
        ip: ip.map(|s| s.parse().unwrap()),
    }
}

/// A host with `lo`, an `eth0` with a link-local and two global addresses, and a `dummy0`
/// without addresses.
fn fake_host() -> io::Result<Vec<IfAddr>> {
    Ok(vec![
        entry("lo", None),
        entry("eth0", None),
        entry("dummy0", None),
        entry("lo", Some("127.0.0.1")),
        entry("eth0", Some("10.0.0.2")),
        entry("lo", Some("::1")),
        entry("eth0", Some("2001:db8::2")),
        entry("eth0", Some("fe80::1")),
    ])
}

fn broken_host() -> io::Result<Vec<IfAddr>> {
    Err(io::Error::other("no netlink"))
}

/// The addresses a one-block Corefile binds to, with the given host.
fn binds(text: &str, host: fn() -> io::Result<Vec<IfAddr>>) -> Result<Vec<String>, String> {
    let blocks = parse_corefile("Corefile", text).unwrap();
    let info = BlockInfo {
        keys: Vec::new(),
        zones: Vec::new(),
        index: 0,
    };
    let mut parts = ConfigParts::default();
    let mut ctx = SetupContext::new(&info, &mut parts);
    setup_with(&mut ctx, &blocks[0].directives, Host::new(host)).map_err(|e| e.to_string())?;
    let (plugins, ips) = ctx.finish();
    assert!(plugins.is_empty(), "bind adds no handler");
    Ok(ips.iter().map(IpAddr::to_string).collect())
}

fn ok(ips: &[&str]) -> Result<Vec<String>, String> {
    Ok(ips.iter().map(|s| s.to_string()).collect())
}

#[test]
fn addresses_and_interfaces() {
    for (text, want) in [
        (". {\n    bind 1.2.3.4\n}", ok(&["1.2.3.4"])),
        (". {\n    bind 1.2.3.4 ::5\n}", ok(&["1.2.3.4", "::5"])),
        (
            ". {\n    bind ::1 1.2.3.4 ::5 127.9.9.0\n}",
            ok(&["::1", "1.2.3.4", "::5", "127.9.9.0"]),
        ),
        (
            ". {\n    bind 1.2.3.4 lo\n}",
            ok(&["1.2.3.4", "127.0.0.1", "::1"]),
        ),
        (
            ". {\n    bind lo {\n        except 127.0.0.1\n    }\n}",
            ok(&["::1"]),
        ),
        (
            ". {\n    bind 127.0.0.1\n    bind ::1\n}",
            ok(&["127.0.0.1", "::1"]),
        ),
        (". {\n    bind 127.0.0.1 127.0.0.1\n}", ok(&["127.0.0.1"])),
        (". {\n    bind ::ffff:10.1.2.3\n}", ok(&["10.1.2.3"])),
        (". {\n    bind \"lo\"\n}", ok(&["127.0.0.1", "::1"])),
        // Link-local addresses of an interface are left out.
        (". {\n    bind eth0\n}", ok(&["10.0.0.2", "2001:db8::2"])),
        // An explicit link-local address is taken as written.
        (". {\n    bind fe80::1\n}", ok(&["fe80::1"])),
        // An interface without addresses binds to nothing, and is no error.
        (". {\n    bind dummy0 127.0.0.1\n}", ok(&["127.0.0.1"])),
        // Exceptions by interface name, several lines of them.
        (
            ". {\n    bind lo eth0 {\n        except lo\n        except 10.0.0.2\n    }\n}",
            ok(&["2001:db8::2"]),
        ),
        // An exception applies to its own directive only.
        (
            ". {\n    bind lo {\n        except ::1\n    }\n    bind ::1\n}",
            ok(&["127.0.0.1", "::1"]),
        ),
        // Excepting everything leaves nothing to add.
        (". {\n    bind ::1 {\n        except lo\n    }\n}", ok(&[])),
    ] {
        assert_eq!(binds(text, fake_host), want, "{text}");
    }
}

#[test]
fn errors() {
    for (text, want) in [
        (
            ". {\n    bind\n}",
            "plugin/bind: Corefile:2 - Error during parsing: at least one address or interface name is expected",
        ),
        (
            ". {\n    bind {\n        except ::1\n    }\n}",
            "plugin/bind: Corefile:2 - Error during parsing: at least one address or interface name is expected",
        ),
        (
            ". {\n    bind 1.2.3.invalid\n}",
            "plugin/bind: Corefile:2 - Error during parsing: not a valid IP address or interface name: \"1.2.3.invalid\"",
        ),
        (
            ". {\n    bind ::1 1.2.3.4 ::5 127.9.9.0 noone\n}",
            "plugin/bind: Corefile:2 - Error during parsing: not a valid IP address or interface name: \"noone\"",
        ),
        (
            ". {\n    bind fe80::1%eth0\n}",
            "plugin/bind: Corefile:2 - Error during parsing: not a valid IP address or interface name: \"fe80::1%eth0\"",
        ),
        (
            ". {\n    bind lo {\n        except\n    }\n}",
            "plugin/bind: Corefile:3 - Error during parsing: at least one address or interface must be given to except subdirective",
        ),
        (
            ". {\n    bind lo {\n        except nowhere\n    }\n}",
            "plugin/bind: Corefile:3 - Error during parsing: not a valid IP address or interface name: \"nowhere\"",
        ),
        (
            ". {\n    bind lo {\n        only ::1\n    }\n}",
            "plugin/bind: Corefile:3 - Error during parsing: invalid option \"only\"",
        ),
        (
            ". {\n    bind 127.0.0.1\n    bind x\"y\n}",
            "plugin/bind: Corefile:3 - Error during parsing: not a valid IP address or interface name: \"x\\\"y\"",
        ),
    ] {
        assert_eq!(binds(text, fake_host), Err(want.to_string()), "{text}");
    }
}

#[test]
fn without_an_interface_list_only_addresses_work() {
    assert_eq!(
        binds(". {\n    bind 127.0.0.1\n}", broken_host),
        ok(&["127.0.0.1"])
    );
    assert_eq!(
        binds(". {\n    bind lo\n}", broken_host),
        Err("plugin/bind: Corefile:2 - Error during parsing: not a valid IP address or interface name: \"lo\"".into())
    );
}

#[test]
fn interfaces_are_read_only_when_needed() {
    fn never() -> io::Result<Vec<IfAddr>> {
        panic!("read the interface list for plain addresses");
    }
    assert_eq!(
        binds(". {\n    bind 127.0.0.1 ::1\n}", never),
        ok(&["127.0.0.1", "::1"])
    );
}

#[test]
#[cfg(target_os = "linux")]
fn the_real_loopback_interface() {
    let (chain, _) = testing::setup(&[PLUGIN], ". {\n    bind lo\n}").unwrap();
    assert!(chain.is_empty());
    let got = binds(". {\n    bind lo\n}", host_interfaces).unwrap();
    assert!(got.contains(&"127.0.0.1".to_string()), "{got:?}");
}

#[test]
fn go_quoting() {
    assert_eq!(go_quote("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\x01\"");
}

/// The Corefile examples of the README.
fn readme_examples() -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in include_str!("../README.md").lines() {
        match (&mut current, line) {
            (None, "```corefile") => current = Some(String::new()),
            (Some(_), "```") => out.extend(current.take()),
            (Some(text), l) => {
                text.push_str(l);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

#[test]
fn readme_examples_set_up() {
    let examples = readme_examples();
    assert!(!examples.is_empty());
    for text in examples {
        if let Err(e) = testing::setup(&[PLUGIN], &text) {
            panic!("{text}: {e}");
        }
    }
}
