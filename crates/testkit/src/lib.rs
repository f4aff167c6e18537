//! Test kit: start the real `signpost` binary on loopback with a Corefile, query it the way
//! clients do (UDP, TCP, HTTP), and read answers as zone-file text.
//!
//! Everything here talks to 127.0.0.1 only.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use signpost_wire::text::{message_sections, Record};
use signpost_wire::{build_query, Name};

/// A port free for both UDP and TCP on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = udp.local_addr().expect("addr").port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Create one.
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("signpost-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Write a file in it; returns the path.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).expect("write temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running signpost process.
pub struct Signpost {
    child: Child,
    /// Its DNS address.
    pub addr: SocketAddr,
    /// Folder holding its Corefile.
    pub dir: TempDir,
    /// The Corefile path.
    pub corefile: PathBuf,
    log: PathBuf,
}

impl Signpost {
    /// Start `bin` with `corefile` (use `{PORT}` where the DNS port goes; it is replaced by a
    /// free port). Waits until the server answers a query on UDP.
    pub fn start(bin: &str, corefile: &str) -> Signpost {
        let port = free_port();
        let dir = TempDir::new("server");
        Self::start_in(bin, dir, port, corefile, &[])
    }

    /// Start with extra files in the folder (name, content) and a chosen port.
    pub fn start_in(
        bin: &str,
        dir: TempDir,
        port: u16,
        corefile: &str,
        files: &[(&str, &str)],
    ) -> Signpost {
        Self::start_with_env(bin, dir, port, corefile, files, &[])
    }

    /// Like [`Signpost::start_in`], with extra environment variables for the process (for
    /// example `KUBERNETES_SERVICE_HOST` for an in-cluster configuration).
    pub fn start_with_env(
        bin: &str,
        dir: TempDir,
        port: u16,
        corefile: &str,
        files: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Signpost {
        Self::try_start_with_env(bin, dir, port, corefile, files, env)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Signpost::start_with_env`], but when the process exits before it answers (for
    /// example because a port picked with [`free_port`] was taken meanwhile) returns what it
    /// printed instead of panicking, so the caller can try again with other ports.
    pub fn try_start_with_env(
        bin: &str,
        dir: TempDir,
        port: u16,
        corefile: &str,
        files: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Result<Signpost, String> {
        for (name, content) in files {
            dir.write(name, &content.replace("{PORT}", &port.to_string()));
        }
        let corefile_path = dir.write("Corefile", &corefile.replace("{PORT}", &port.to_string()));
        let log = dir.path().join("signpost.log");
        let out = std::fs::File::create(&log).expect("log file");
        let child = Command::new(bin)
            .arg("-conf")
            .arg(&corefile_path)
            .arg("-dns.port")
            .arg(port.to_string())
            .current_dir(dir.path())
            .envs(env.iter().copied())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .expect("start signpost");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut s = Signpost {
            child,
            addr,
            dir,
            corefile: corefile_path,
            log,
        };
        s.wait_ready()?;
        Ok(s)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("signpost exited with {status}:\n{}", self.log()));
            }
            if query_udp_raw(
                self.addr,
                &build_query(1, &Name::root(), 2, false, None),
                200,
            )
            .is_some()
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("signpost did not start:\n{}", self.log());
    }

    /// What the process printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send a signal.
    pub fn signal(&self, sig: i32) {
        // SAFETY: plain kill(2) on our own child.
        unsafe {
            libc::kill(self.child.id() as i32, sig);
        }
    }

    /// Wait for the process to exit (up to `timeout`); its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Ask over UDP until `ok` holds or `timeout` passes; panics with the last answer and the
    /// server's log. For waiting on changes that travel through a watch.
    pub fn wait_for(
        &self,
        name: &str,
        qtype: u16,
        timeout: Duration,
        ok: impl Fn(&Answer) -> bool,
    ) -> Answer {
        let deadline = Instant::now() + timeout;
        loop {
            let a = query_udp(self.addr, name, qtype);
            if let Some(a) = a.as_ref().filter(|a| ok(a)) {
                return a.clone();
            }
            if Instant::now() >= deadline {
                panic!(
                    "{name} type {qtype}: not as expected in {timeout:?}; last answer {a:?}\nlog:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Poll `GET path` on `addr` (this server's HTTP listener) until it answers `code`, and,
    /// when `body` is given, exactly that body (trimmed); panics with the last reply and the
    /// server's log after `timeout`.
    pub fn wait_http(
        &self,
        addr: SocketAddr,
        path: &str,
        code: u16,
        body: Option<&str>,
        timeout: Duration,
    ) {
        let deadline = Instant::now() + timeout;
        loop {
            let got = http_get(addr, path);
            if let Ok((c, b)) = &got {
                if *c == code && body.is_none_or(|want| b.trim() == want) {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{path}: want {code} {body:?}, last {got:?}\nlog:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Query over UDP.
    pub fn udp(&self, name: &str, qtype: u16) -> Answer {
        query_udp(self.addr, name, qtype).expect("no UDP answer")
    }

    /// Query over TCP.
    pub fn tcp(&self, name: &str, qtype: u16) -> Answer {
        query_tcp(self.addr, name, qtype).expect("no TCP answer")
    }
}

impl Drop for Signpost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A decoded answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Raw message.
    pub bytes: Vec<u8>,
    /// Answer section as text lines (`name\tttl\tIN\tTYPE\tdata`).
    pub answer: Vec<String>,
    /// Authority section.
    pub ns: Vec<String>,
    /// Additional section (without OPT).
    pub extra: Vec<String>,
}

impl Answer {
    /// Decode a message.
    pub fn parse(bytes: Vec<u8>) -> Answer {
        let sections = message_sections(&bytes).expect("answer decodes");
        let text = |v: &[Record]| v.iter().map(|r| r.to_string()).collect();
        Answer {
            answer: text(&sections[0]),
            ns: text(&sections[1]),
            extra: text(&sections[2]),
            bytes,
        }
    }

    /// Response code (header bits only).
    pub fn rcode(&self) -> u16 {
        u16::from(self.bytes[3] & 0x0F)
    }

    /// Header flags word.
    pub fn flags(&self) -> u16 {
        u16::from_be_bytes([self.bytes[2], self.bytes[3]])
    }

    /// Message ID.
    pub fn id(&self) -> u16 {
        u16::from_be_bytes([self.bytes[0], self.bytes[1]])
    }

    /// True when TC is set.
    pub fn truncated(&self) -> bool {
        self.flags() & 0x0200 != 0
    }

    /// True when AA is set.
    pub fn authoritative(&self) -> bool {
        self.flags() & 0x0400 != 0
    }

    /// True when the message carries an OPT record.
    pub fn has_opt(&self) -> bool {
        signpost_wire::records(&self.bytes)
            .filter_map(Result::ok)
            .any(|r| r.rtype == signpost_wire::rtype::OPT)
    }
}

/// Build a query packet for `name`/`qtype` with EDNS 1232.
pub fn query_packet(name: &str, qtype: u16) -> Vec<u8> {
    let n = Name::from_text(name).expect("name");
    build_query(rand_id(), &n, qtype, true, Some(1232))
}

fn rand_id() -> u16 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(7);
    (t ^ (t >> 16)) as u16
}

/// Send raw bytes over UDP and wait `ms` for one datagram back.
pub fn query_udp_raw(addr: SocketAddr, packet: &[u8], ms: u64) -> Option<Vec<u8>> {
    let sock = UdpSocket::bind("127.0.0.1:0").ok()?;
    sock.set_read_timeout(Some(Duration::from_millis(ms)))
        .ok()?;
    sock.send_to(packet, addr).ok()?;
    let mut buf = vec![0u8; 65535];
    let (n, _) = sock.recv_from(&mut buf).ok()?;
    buf.truncate(n);
    Some(buf)
}

/// Query over UDP, retrying twice after 2 s as stub resolvers do (a loaded CI machine can
/// lose a datagram's timing); `None` when all three tries time out.
pub fn query_udp(addr: SocketAddr, name: &str, qtype: u16) -> Option<Answer> {
    let packet = query_packet(name, qtype);
    (0..3)
        .find_map(|_| query_udp_raw(addr, &packet, 2000))
        .map(Answer::parse)
}

/// Send several length-prefixed messages on one TCP connection, then read as many answers.
pub fn tcp_exchange(addr: SocketAddr, packets: &[Vec<u8>]) -> std::io::Result<Vec<Vec<u8>>> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    let mut out = Vec::new();
    for p in packets {
        out.extend_from_slice(&(p.len() as u16).to_be_bytes());
        out.extend_from_slice(p);
    }
    s.write_all(&out)?;
    let mut answers = Vec::new();
    for _ in packets {
        let mut len = [0u8; 2];
        s.read_exact(&mut len)?;
        let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
        s.read_exact(&mut msg)?;
        answers.push(msg);
    }
    Ok(answers)
}

/// Query over TCP.
pub fn query_tcp(addr: SocketAddr, name: &str, qtype: u16) -> Option<Answer> {
    tcp_exchange(addr, &[query_packet(name, qtype)])
        .ok()
        .and_then(|mut v| v.pop())
        .map(Answer::parse)
}

/// HTTP GET; (status, body).
pub fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = String::new();
    s.read_to_string(&mut buf)?;
    let status = buf
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}
