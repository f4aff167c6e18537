//! End to end: the real binary on loopback, queried over UDP, TCP and HTTP.

use std::time::Duration;

use signpost_testkit::{
    free_port, http_get, query_udp, query_udp_raw, tcp_exchange, Answer, Signpost, TempDir,
};
use signpost_wire::{rcode, rtype};

const BIN: &str = env!("CARGO_BIN_EXE_signpost");

fn hosts_corefile() -> &'static str {
    "example.org:{PORT} {
    bind 127.0.0.1
    whoami
}

hosts.test:{PORT} {
    bind 127.0.0.1
    hosts hosts.txt {
        ttl 60
    }
}
"
}

const HOSTS: &str = "10.0.0.1 www.hosts.test\n10.0.0.2 www.hosts.test\nfd00::1 www.hosts.test\n10.0.0.9 other.hosts.test\n";

fn start_hosts() -> Signpost {
    let dir = TempDir::new("e2e");
    Signpost::start_in(
        BIN,
        dir,
        free_port(),
        hosts_corefile(),
        &[("hosts.txt", HOSTS)],
    )
}

#[test]
fn whoami_over_udp_and_tcp() {
    let s = start_hosts();
    let a = s.udp("whoami.example.org.", rtype::A);
    assert_eq!(a.rcode(), rcode::NOERROR);
    assert!(a.answer.is_empty());
    assert_eq!(a.extra.len(), 2, "{:?}", a.extra);
    assert_eq!(a.extra[0], "whoami.example.org.\t0\tIN\tA\t127.0.0.1");
    assert!(a.extra[1].starts_with("_udp.whoami.example.org.\t0\tIN\tSRV\t0 0 "));
    assert!(a.authoritative());
    assert!(a.has_opt(), "EDNS is echoed");

    let t = s.tcp("whoami.example.org.", rtype::A);
    assert!(t.extra[1].starts_with("_tcp.whoami.example.org.\t0\tIN\tSRV\t0 0 "));
}

#[test]
fn hosts_names_over_udp_and_tcp() {
    let s = start_hosts();
    for a in [
        s.udp("www.hosts.test.", rtype::A),
        s.tcp("www.hosts.test.", rtype::A),
    ] {
        let mut got = a.answer.clone();
        got.sort();
        assert_eq!(
            got,
            [
                "www.hosts.test.\t60\tIN\tA\t10.0.0.1",
                "www.hosts.test.\t60\tIN\tA\t10.0.0.2"
            ]
        );
        assert!(a.authoritative());
    }
    let a = s.udp("www.hosts.test.", rtype::AAAA);
    assert_eq!(a.answer, ["www.hosts.test.\t60\tIN\tAAAA\tfd00::1"]);
    let a = s.udp("other.hosts.test.", rtype::AAAA);
    assert_eq!((a.rcode(), a.answer.len()), (rcode::NOERROR, 0));
    // CoreDNS's hosts has no SOA to prove a negative with, so a missing name is SERVFAIL.
    let a = s.udp("missing.hosts.test.", rtype::A);
    assert_eq!(a.rcode(), rcode::SERVFAIL);
    let a = s.udp("9.0.0.10.in-addr.arpa.", rtype::PTR);
    assert_eq!(a.rcode(), rcode::REFUSED, "no block serves in-addr.arpa");
    let a = s.udp("elsewhere.test.", rtype::A);
    assert_eq!(a.rcode(), rcode::REFUSED);
}

#[test]
fn tcp_pipelines_several_queries() {
    let s = start_hosts();
    let packets: Vec<Vec<u8>> = (0..20)
        .map(|i| {
            let mut p = signpost_testkit::query_packet("www.hosts.test.", rtype::A);
            p[0..2].copy_from_slice(&(1000u16 + i).to_be_bytes());
            p
        })
        .collect();
    let answers = tcp_exchange(s.addr, &packets).expect("pipelined answers");
    let mut ids: Vec<u16> = answers.into_iter().map(|b| Answer::parse(b).id()).collect();
    ids.sort_unstable();
    assert_eq!(ids, (1000..1020).collect::<Vec<u16>>());
}

#[test]
fn malformed_packets_get_formerr_or_are_dropped() {
    let s = start_hosts();
    // Too short for a header: dropped.
    assert!(query_udp_raw(s.addr, &[0x12, 0x34, 0x01], 300).is_none());
    // A header that promises a question and stops: FORMERR echoing the ID.
    let r = query_udp_raw(s.addr, &[0xAB, 0xCD, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0], 1000).unwrap();
    assert_eq!(
        (&r[0..2], r[3] & 0x0F),
        (&[0xAB, 0xCD][..], rcode::FORMERR as u8)
    );
    // A name that points at itself (label loop).
    let looped = [0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1];
    let r = query_udp_raw(s.addr, &looped, 1000).unwrap();
    assert_eq!(r[3] & 0x0F, rcode::FORMERR as u8);
    // A name longer than 255 octets.
    let mut long = vec![0, 8, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for _ in 0..5 {
        long.push(63);
        long.extend_from_slice(&[b'a'; 63]);
    }
    long.extend_from_slice(&[0, 0, 1, 0, 1]);
    let r = query_udp_raw(s.addr, &long, 1000).unwrap();
    assert_eq!(r[3] & 0x0F, rcode::FORMERR as u8);
    // A response sent to us: dropped.
    let mut resp = signpost_testkit::query_packet("www.hosts.test.", rtype::A);
    resp[2] |= 0x80;
    assert!(query_udp_raw(s.addr, &resp, 300).is_none());
    // An UPDATE: NOTIMP.
    let mut upd = signpost_testkit::query_packet("www.hosts.test.", rtype::A);
    upd[2] = 5 << 3;
    let r = query_udp_raw(s.addr, &upd, 1000).unwrap();
    assert_eq!(r[3] & 0x0F, rcode::NOTIMP as u8);
    // Garbage over TCP, then the connection is still good or closed, never a crash.
    let _ = tcp_exchange(s.addr, &[vec![0xFF; 7]]);
    // Still serving.
    let a = s.udp("www.hosts.test.", rtype::A);
    assert_eq!(a.answer.len(), 2);
}

#[test]
fn small_edns_buffer_truncates_with_tc() {
    let mut hosts = String::new();
    for i in 0..60 {
        hosts.push_str(&format!("10.1.0.{i} big.hosts.test\n"));
    }
    let dir = TempDir::new("trunc");
    let s = Signpost::start_in(
        BIN,
        dir,
        free_port(),
        hosts_corefile(),
        &[("hosts.txt", &hosts)],
    );
    // No EDNS: 512 bytes at most.
    let p =
        signpost_wire::build_query(9, &"big.hosts.test.".parse().unwrap(), rtype::A, true, None);
    let r = Answer::parse(query_udp_raw(s.addr, &p, 1000).unwrap());
    assert!(r.bytes.len() <= 512);
    assert!(r.truncated());
    assert!(!r.has_opt());
    // EDNS 4096: everything fits.
    let p = signpost_wire::build_query(
        9,
        &"big.hosts.test.".parse().unwrap(),
        rtype::A,
        true,
        Some(4096),
    );
    let r = Answer::parse(query_udp_raw(s.addr, &p, 1000).unwrap());
    assert!(!r.truncated());
    assert_eq!(r.answer.len(), 60);
    assert!(r.has_opt());
    // TCP: everything.
    let t = s.tcp("big.hosts.test.", rtype::A);
    assert_eq!(t.answer.len(), 60);
}

#[test]
fn health_ready_and_metrics_answer() {
    let (hp, rp, mp) = (free_port(), free_port(), free_port());
    let corefile = format!(
        ".:{{PORT}} {{
    bind 127.0.0.1
    health 127.0.0.1:{hp}
    ready 127.0.0.1:{rp}
    prometheus 127.0.0.1:{mp}
    errors
    log
    whoami
}}
"
    );
    let s = Signpost::start(BIN, &corefile);
    let a = s.udp("whoami.example.org.", rtype::A);
    assert_eq!(a.rcode(), rcode::NOERROR);
    let (code, body) = http_get(([127, 0, 0, 1], hp).into(), "/health").unwrap();
    assert_eq!((code, body.as_str()), (200, "OK"));
    let (code, _) = http_get(([127, 0, 0, 1], rp).into(), "/ready").unwrap();
    assert_eq!(code, 200);
    let (code, body) = http_get(([127, 0, 0, 1], mp).into(), "/metrics").unwrap();
    assert_eq!(code, 200);
    let want = format!(
        "coredns_dns_requests_total{{family=\"1\",proto=\"udp\",server=\"dns://127.0.0.1:{}\",type=\"A\",view=\"\",zone=\".\"}}",
        s.addr.port()
    );
    assert!(body.contains(&want), "missing {want} in\n{body}");
    for name in [
        "coredns_dns_responses_total",
        "coredns_dns_request_duration_seconds_bucket",
        "coredns_build_info",
        "coredns_plugin_enabled",
        "coredns_panics_total",
    ] {
        assert!(body.contains(name), "missing {name}");
    }
    // The log plugin wrote a common-log-format line for the query.
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        s.log().contains("\"A IN whoami.example.org. udp"),
        "{}",
        s.log()
    );
}

#[test]
fn validate_rejects_broken_corefile_with_file_and_line() {
    let dir = TempDir::new("validate");
    let path = dir.write(
        "Corefile",
        ".:1053 {\n    whoami\n    health {\n        lameduk 5s\n    }\n    nosuchplugin\n}\n",
    );
    let out = std::process::Command::new(BIN)
        .args(["-validate", "-conf"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let file = path.display().to_string();
    assert!(
        err.contains(&format!(
            "{file}:6 - Error during parsing: Unknown directive 'nosuchplugin'"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "plugin/health: {file}:4 - Error during parsing: unknown property 'lameduk'"
        )),
        "{err}"
    );
    let good = dir.write("Good", ".:1053 {\n    whoami\n}\n");
    let out = std::process::Command::new(BIN)
        .args(["-validate", "-conf"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn forward_and_cache_through_a_second_server() {
    let upstream = start_hosts();
    let corefile = format!(
        ".:{{PORT}} {{
    bind 127.0.0.1
    cache 30
    forward . 127.0.0.1:{}
}}
",
        upstream.addr.port()
    );
    let s = Signpost::start(BIN, &corefile);
    let a = query_udp(s.addr, "other.hosts.test.", rtype::A).unwrap();
    // `cache 30` caps the TTL at 30 s.
    assert_eq!(a.answer, ["other.hosts.test.\t30\tIN\tA\t10.0.0.9"]);
    assert!(a.has_opt());
    let t = s.tcp("other.hosts.test.", rtype::A);
    assert_eq!(t.answer.len(), 1);
    let n = s.udp("missing.hosts.test.", rtype::A);
    assert_eq!(n.rcode(), rcode::SERVFAIL);
}

#[test]
fn sigterm_stops_cleanly_and_removes_pidfile() {
    let port = free_port();
    let dir = TempDir::new("term");
    let pidfile = dir.path().join("signpost.pid");
    let corefile = dir.write(
        "Corefile",
        ".:{PORT} {\n    bind 127.0.0.1\n    whoami\n}\n"
            .replace("{PORT}", &port.to_string())
            .as_str(),
    );
    let mut child = std::process::Command::new(BIN)
        .arg("-conf")
        .arg(&corefile)
        .arg("-pidfile")
        .arg(&pidfile)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr = ([127, 0, 0, 1], port).into();
    let mut up = false;
    for _ in 0..100 {
        if query_udp(addr, "whoami.example.", rtype::A).is_some() {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if !up {
        let _ = child.kill();
    }
    assert!(up);
    // The pidfile is written once the listeners are up, right after the first answers.
    for _ in 0..100 {
        if pidfile.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if !pidfile.exists() {
        let _ = child.kill();
    }
    assert!(pidfile.exists());
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(!pidfile.exists());
}

#[test]
fn reload_swaps_configuration_and_keeps_old_on_error() {
    let s = start_hosts();
    assert_eq!(s.udp("other.hosts.test.", rtype::A).answer.len(), 1);
    // New Corefile: the hosts zone now has a different file.
    std::fs::write(
        s.dir.path().join("hosts2.txt"),
        "10.9.9.9 other.hosts.test\n",
    )
    .unwrap();
    let text = std::fs::read_to_string(&s.corefile)
        .unwrap()
        .replace("hosts.txt", "hosts2.txt");
    std::fs::write(&s.corefile, text).unwrap();
    s.signal(libc::SIGUSR1);
    let mut ok = false;
    for _ in 0..100 {
        let a = s.udp("other.hosts.test.", rtype::A);
        if a.answer == ["other.hosts.test.\t60\tIN\tA\t10.9.9.9"] {
            ok = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(ok, "reload did not take effect:\n{}", s.log());
    // A broken Corefile keeps the running one.
    std::fs::write(&s.corefile, "hosts.test {\n    nosuch\n}\n").unwrap();
    s.signal(libc::SIGUSR1);
    std::thread::sleep(Duration::from_millis(500));
    let a = s.udp("other.hosts.test.", rtype::A);
    assert_eq!(a.answer, ["other.hosts.test.\t60\tIN\tA\t10.9.9.9"]);
    assert!(
        s.log().contains("Unknown directive 'nosuch'"),
        "{}",
        s.log()
    );
}
