//! The Corefile kubeadm installs, unchanged, against the fake API server.
//!
//! That Corefile listens on `.:53` on every interface, reaches the API with the in-cluster
//! service account and forwards to `/etc/resolv.conf`. So the test runs it in a private
//! network and mount namespace (`unshare --net --mount`), where the only interface is that
//! namespace's own loopback: every socket, the loop probe and the forwarding stay inside it.
//! There the test bind-mounts a service-account folder and a resolv.conf naming a tiny
//! upstream the test itself runs on 127.0.0.53:53 (UDP), so nothing reaches the host's
//! resolver.
//!
//! The test re-executes its own binary for that; when `unshare` is missing or not permitted
//! it says why and checks nothing.

use std::ffi::CString;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use signpost_fakeapi::{Auth, FakeApi, Options};
use signpost_testkit::{http_get, query_tcp, query_udp, Answer, Signpost, TempDir};
use signpost_wire::{rcode, rtype, Owner, Query, RData, Response};

const BIN: &str = env!("CARGO_BIN_EXE_signpost");
const TEST: &str = "kubeadm_default_corefile_runs_unchanged";
const INSIDE: &str = "SIGNPOST_IN_NETNS";
const UNSHARE: &str = "/usr/bin/unshare";
const UNSHARE_ARGS: [&str; 4] = ["--net", "--mount", "--propagation", "private"];

/// kubeadm's default Corefile (CoreDNS deployment for kubeadm clusters), byte for byte.
const KUBEADM_COREFILE: &str = ".:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
";

const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
const RESOLV_CONF: &str = "/etc/resolv.conf";
/// Where the test's upstream listens (the namespace's loopback), and what it knows.
const UPSTREAM: &str = "127.0.0.53:53";
const UPSTREAM_NAME: &str = "www.example.org.";
const UPSTREAM_IP: std::net::Ipv4Addr = std::net::Ipv4Addr::new(192, 0, 2, 80);
const TOKEN: &str = "kubeadm-test-token";

#[test]
fn kubeadm_default_corefile_runs_unchanged() {
    if std::env::var_os(INSIDE).is_some() {
        inside_namespace();
    } else {
        run_in_namespace();
    }
}

// ---------------------------------------------------------------------------------------------
// Outside: re-run this test in a fresh network + mount namespace.

fn run_in_namespace() {
    if !Path::new(UNSHARE).exists() {
        eprintln!("note: {UNSHARE} is missing; {TEST} checks nothing");
        return;
    }
    match Command::new(UNSHARE)
        .args(UNSHARE_ARGS)
        .arg("true")
        .stdin(Stdio::null())
        .output()
    {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            eprintln!(
                "note: `unshare {}` is not permitted here ({}: {}); {TEST} checks nothing",
                UNSHARE_ARGS.join(" "),
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            );
            return;
        }
        Err(e) => {
            eprintln!("note: cannot run {UNSHARE} ({e}); {TEST} checks nothing");
            return;
        }
    }

    let dir = TempDir::new("kubeadm-outer");
    let out_path = dir.path().join("inner.out");
    let out = std::fs::File::create(&out_path).expect("output file");
    let exe = std::env::current_exe().expect("own test binary");
    let mut child = Command::new(UNSHARE)
        .args(UNSHARE_ARGS)
        .arg(&exe)
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("dup"))
        .stderr(out)
        .spawn()
        .expect("start the test in a namespace");
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = std::fs::read_to_string(&out_path).unwrap_or_default();
    println!("---- inside the namespace ----\n{output}---- end ----");
    let status = status.expect("the test inside the namespace did not finish in 180 s");
    assert!(status.success(), "inside the namespace: {status}");
    assert!(
        output.contains(&format!("test {TEST} ... ok")) && output.contains("1 passed"),
        "the test did not run inside the namespace"
    );
}

// ---------------------------------------------------------------------------------------------
// Inside: the namespace's setup, then the checks.

fn inside_namespace() {
    loopback_up();
    assert_only_loopback();

    let api = FakeApi::start_blocking(Options {
        tls: true,
        auth: Auth::Token(TOKEN.into()),
        ..Options::default()
    });
    populate(&api);

    // The service account kube reads in a pod.
    let sa = TempDir::new("kubeadm-sa");
    sa.write("token", TOKEN);
    sa.write("ca.crt", api.ca_pem().expect("TLS CA"));
    sa.write("namespace", "kube-system");
    mount_point_dir(Path::new(SA_DIR));
    bind_mount(sa.path(), Path::new(SA_DIR));

    // The resolver configuration forward reads: the test's upstream.
    let etc = TempDir::new("kubeadm-etc");
    let resolv = etc.write("resolv.conf", "nameserver 127.0.0.53\noptions ndots:5\n");
    let Ok(real_resolv) = Path::new(RESOLV_CONF).canonicalize() else {
        eprintln!("note: {RESOLV_CONF} does not exist; {TEST} checks nothing");
        return;
    };
    bind_mount(&resolv, &real_resolv);
    assert_eq!(
        std::fs::read_to_string(RESOLV_CONF).unwrap(),
        "nameserver 127.0.0.53\noptions ndots:5\n"
    );
    start_upstream();

    let port = api.addr().port().to_string();
    let env = [
        ("KUBERNETES_SERVICE_HOST", "127.0.0.1"),
        ("KUBERNETES_SERVICE_PORT", port.as_str()),
    ];
    let dir = TempDir::new("kubeadm-server");
    let mut s = Signpost::start_with_env(BIN, dir, 53, KUBEADM_COREFILE, &[], &env);
    assert_eq!(s.addr, SocketAddr::from(([127, 0, 0, 1], 53)));

    check_http(&s);
    check_records(&s);
    check_metrics(&s);

    // SIGTERM: lameduck 5 s, then a clean exit.
    s.signal(libc::SIGTERM);
    let code = s.wait_exit(Duration::from_secs(5 + 25));
    assert_eq!(code, Some(0), "exit after SIGTERM\nlog:\n{}", s.log());
}

fn check_http(s: &Signpost) {
    s.wait_http(
        ([127, 0, 0, 1], 8181).into(),
        "/ready",
        200,
        None,
        Duration::from_secs(15),
    );
    let health = http_get(([127, 0, 0, 1], 8080).into(), "/health").expect("/health on :8080");
    assert_eq!((health.0, health.1.as_str()), (200, "OK"));
}

fn check_metrics(s: &Signpost) {
    let (code, body) =
        http_get(([127, 0, 0, 1], 9153).into(), "/metrics").expect("/metrics on :9153");
    assert_eq!(code, 200);
    for name in [
        "coredns_dns_requests_total",
        "coredns_dns_responses_total",
        "coredns_proxy_request_duration_seconds_count{proxy_name=\"forward\"",
        "coredns_cache_entries",
    ] {
        assert!(
            body.contains(name),
            "missing {name} in\n{body}\nlog:\n{}",
            s.log()
        );
    }
    assert!(
        body.contains("server=\"dns://:53\""),
        "requests are labelled with the wildcard listener:\n{body}"
    );
}

fn rr(owner: &str, ttl: u32, rtype: &str, data: &str) -> String {
    format!("{owner}\t{ttl}\tIN\t{rtype}\t{data}")
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// The record data (no owner, no TTL) of a section.
fn data(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|r| r.splitn(4, '\t').nth(3).unwrap_or_default().to_string())
        .collect()
}

fn assert_soa(a: &Answer, what: &str) {
    assert_eq!(a.ns.len(), 1, "{what}: {a:?}");
    let soa = &a.ns[0];
    assert!(
        soa.starts_with(
            "cluster.local.\t30\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. "
        ),
        "{what}: {soa}"
    );
    assert!(soa.ends_with(" 7200 1800 86400 30"), "{what}: {soa}");
}

fn check_records(s: &Signpost) {
    let udp = |n: &str, t| {
        query_udp(s.addr, n, t).unwrap_or_else(|| panic!("{n}: no answer\n{}", s.log()))
    };
    let tcp = |n: &str, t| query_tcp(s.addr, n, t).unwrap_or_else(|| panic!("{n}: no TCP answer"));

    for ask in [&udp as &dyn Fn(&str, u16) -> Answer, &tcp] {
        let n = "svc.ns.svc.cluster.local.";
        let a = ask(n, rtype::A);
        assert_eq!(
            a.answer,
            [rr(n, 30, "A", "10.96.0.10")],
            "log:\n{}",
            s.log()
        );
        assert!(a.authoritative());

        let n = "_http._tcp.svc.ns.svc.cluster.local.";
        let a = ask(n, rtype::SRV);
        assert_eq!(
            a.answer,
            [rr(n, 30, "SRV", "0 100 80 svc.ns.svc.cluster.local.")]
        );
        assert_eq!(
            a.extra,
            [rr("svc.ns.svc.cluster.local.", 30, "A", "10.96.0.10")]
        );

        let n = "hl.ns.svc.cluster.local.";
        assert_eq!(
            sorted(&ask(n, rtype::A).answer),
            [rr(n, 30, "A", "10.0.2.1"), rr(n, 30, "A", "10.0.2.2")]
        );

        let n = "missing.ns.svc.cluster.local.";
        let a = ask(n, rtype::A);
        assert_eq!(a.rcode(), rcode::NXDOMAIN, "{a:?}");
        assert_soa(&a, n);
        let a = ask("svc.ns.svc.cluster.local.", rtype::AAAA);
        assert_eq!((a.rcode(), a.answer.len()), (rcode::NOERROR, 0));
        assert_soa(&a, "NODATA");

        let n = "10-0-0-5.ns.pod.cluster.local.";
        assert_eq!(ask(n, rtype::A).answer, [rr(n, 30, "A", "10.0.0.5")]);

        // PTR answers may come from the cache (in-addr.arpa is cached): compare the data.
        let a = ask("10.0.96.10.in-addr.arpa.", rtype::PTR);
        assert_eq!(data(&a.answer), ["PTR\tsvc.ns.svc.cluster.local."]);
        let a = ask("1.2.0.10.in-addr.arpa.", rtype::PTR);
        assert_eq!(data(&a.answer), ["PTR\tweb-0.hl.ns.svc.cluster.local."]);
    }

    // Not the cluster's: forwarded to the upstream (through the cache).
    let a = udp(UPSTREAM_NAME, rtype::A);
    assert_eq!(a.rcode(), rcode::NOERROR, "{a:?}\nlog:\n{}", s.log());
    assert_eq!(data(&a.answer), [format!("A\t{UPSTREAM_IP}")]);
    let a = udp("nothing.example.net.", rtype::A);
    assert_eq!(a.rcode(), rcode::NXDOMAIN, "{a:?}");
    // A reverse name that is not the cluster's falls through to forward.
    let a = udp("9.9.9.192.in-addr.arpa.", rtype::PTR);
    assert_eq!(a.rcode(), rcode::NXDOMAIN, "{a:?}");
    // An ExternalName Service whose target is outside: the CNAME, then the upstream's answer.
    let n = "extout.ns.svc.cluster.local.";
    let a = udp(n, rtype::A);
    assert_eq!(
        data(&a.answer),
        [
            "CNAME\twww.example.org.".to_string(),
            format!("A\t{UPSTREAM_IP}")
        ],
        "{a:?}\nlog:\n{}",
        s.log()
    );
    assert_eq!(a.answer[0], rr(n, 30, "CNAME", "www.example.org."));
}

// ---------------------------------------------------------------------------------------------
// Objects

fn populate(api: &FakeApi) {
    let objects: [Value; 7] = [
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}),
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "svc", "namespace": "ns"},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP"},
                               {"name": "dns", "port": 53, "protocol": "UDP"}]}
        }),
        json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "svc-1", "namespace": "ns", "labels": {"kubernetes.io/service-name": "svc"}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": [
                {"addresses": ["10.0.1.1"], "conditions": {"ready": true}},
                {"addresses": ["10.0.1.2"], "conditions": {"ready": true}},
                {"addresses": ["10.0.1.3"], "conditions": {"ready": false}}
            ]
        }),
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "hl", "namespace": "ns"},
            "spec": {"clusterIP": "None", "clusterIPs": ["None"],
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}
        }),
        json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "hl-1", "namespace": "ns", "labels": {"kubernetes.io/service-name": "hl"}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
            "endpoints": [
                {"addresses": ["10.0.2.1"], "conditions": {"ready": true}, "hostname": "web-0"},
                {"addresses": ["10.0.2.2"], "conditions": {"ready": true}, "hostname": "web-1"},
                {"addresses": ["10.0.2.3"], "conditions": {"ready": false}, "hostname": "web-2"}
            ]
        }),
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "extout", "namespace": "ns"},
            "spec": {"type": "ExternalName", "externalName": "www.example.org"}
        }),
    ];
    for o in objects {
        api.apply(o);
    }
}

// ---------------------------------------------------------------------------------------------
// The upstream resolver: `www.example.org. A 192.0.2.80`, NXDOMAIN for everything else
// (the loop plugin's probe included), over UDP on 127.0.0.53:53.
//
// It shares port 53 with signpost's wildcard listener, which Linux allows for UDP because both
// sockets set SO_REUSEADDR/SO_REUSEPORT (datagrams to 127.0.0.53 go to the more specific
// socket). Not for TCP: a listening socket on a specific address and a wildcard one on the
// same port exclude each other unless both set SO_REUSEPORT, and CoreDNS (like signpost) does
// not set it on TCP. So the upstream answers UDP only, and names that are forwarded are asked
// over UDP.

fn upstream_answer(packet: &[u8]) -> Option<Vec<u8>> {
    let q = Query::parse(packet).ok()?;
    let mut resp = Response::new();
    if q.qname.to_string() == UPSTREAM_NAME && q.qtype == rtype::A {
        resp.start(&q, rcode::NOERROR);
        resp.answer(Owner::Question, 60, &RData::A(UPSTREAM_IP));
    } else {
        resp.start(&q, rcode::NXDOMAIN);
    }
    resp.set_recursion_available(true);
    resp.finalize(&q, q.max_udp().max(512));
    Some(resp.bytes().to_vec())
}

fn start_upstream() {
    let addr: SocketAddr = UPSTREAM.parse().expect("upstream address");
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)
        .expect("upstream socket");
    s.set_reuse_address(true).expect("SO_REUSEADDR");
    s.set_reuse_port(true).expect("SO_REUSEPORT");
    s.bind(&addr.into()).expect("bind the upstream");
    let udp: UdpSocket = s.into();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            let Ok((n, from)) = udp.recv_from(&mut buf) else {
                continue;
            };
            if let Some(reply) = upstream_answer(&buf[..n]) {
                let _ = udp.send_to(&reply, from);
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Namespace plumbing

/// Bring the namespace's `lo` up: with iproute2's `ip` when there is one, else the ioctl.
fn loopback_up() {
    let ip = ["/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip", "/bin/ip"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    if let Some(ip) = ip {
        let status = Command::new(ip)
            .args(["link", "set", "lo", "up"])
            .status()
            .expect("run ip");
        assert!(status.success(), "ip link set lo up: {status}");
    } else {
        loopback_up_ioctl().expect("SIOCSIFFLAGS lo up");
    }
}

fn loopback_up_ioctl() -> std::io::Result<()> {
    // SAFETY: a plain socket, two ioctls on a zeroed ifreq naming "lo", and close.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
            *d = *s as libc::c_char;
        }
        let mut result = Ok(());
        if libc::ioctl(fd, libc::SIOCGIFFLAGS as _, &mut req) < 0 {
            result = Err(std::io::Error::last_os_error());
        } else {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            if libc::ioctl(fd, libc::SIOCSIFFLAGS as _, &req) < 0 {
                result = Err(std::io::Error::last_os_error());
            }
        }
        libc::close(fd);
        result
    }
}

/// The Corefile listens on every interface: refuse to go on unless this network namespace
/// has nothing but loopback (`/proc/net/dev` is per namespace).
fn assert_only_loopback() {
    let dev = std::fs::read_to_string("/proc/net/dev").expect("/proc/net/dev");
    let ifaces: Vec<&str> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(ifaces, ["lo"], "not a private network namespace: {dev}");
    let probe = UdpSocket::bind("127.0.0.1:0").expect("loopback is up");
    drop(probe);
}

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_encoded_bytes()).expect("path without NUL")
}

fn mount(source: &Path, target: &Path, fstype: Option<&str>, flags: libc::c_ulong) {
    let src = cstr(source);
    let dst = cstr(target);
    let fstype = fstype.map(|f| CString::new(f).expect("fstype"));
    // SAFETY: valid NUL-terminated strings that outlive the call; no data argument.
    let rc = unsafe {
        libc::mount(
            src.as_ptr(),
            dst.as_ptr(),
            fstype.as_ref().map_or(std::ptr::null(), |f| f.as_ptr()),
            flags,
            std::ptr::null(),
        )
    };
    assert_eq!(
        rc,
        0,
        "mount {} on {}: {}",
        source.display(),
        target.display(),
        std::io::Error::last_os_error()
    );
}

fn bind_mount(source: &Path, target: &Path) {
    mount(source, target, None, libc::MS_BIND);
}

/// Make `dir` exist inside this mount namespace only: when it is missing, a tmpfs goes over
/// its deepest existing ancestor (hiding that folder's content here, not on the host) and the
/// rest of the path is created in it.
fn mount_point_dir(dir: &Path) {
    if dir.is_dir() {
        return;
    }
    let mut ancestor: PathBuf = dir.to_path_buf();
    while !ancestor.exists() {
        ancestor = ancestor
            .parent()
            .expect("an existing ancestor")
            .to_path_buf();
    }
    let real = ancestor.canonicalize().expect("canonical ancestor");
    assert_ne!(real, Path::new("/"), "will not put a tmpfs over /");
    mount(Path::new("tmpfs"), &real, Some("tmpfs"), 0);
    std::fs::create_dir_all(dir).expect("create the mount point in the tmpfs");
}
