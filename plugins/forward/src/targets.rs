//! The **TO** arguments: `IP`, `IP:port`, `dns://IP[:port]`, `[IPv6]:port`, or a resolv.conf
//! style file whose `nameserver` lines become upstreams.
//!
//! Follows CoreDNS's `parse.HostPortOrFile` (the same error texts), then drops repeated
//! addresses keeping the first, and refuses transports other than plain DNS. Files are read at
//! setup, as CoreDNS does, so a missing file fails the start (or the reload) with its line.

use std::net::{IpAddr, SocketAddr};

use signpost_corefile::go_text::{join_host_port, os_error_text, quote, split_host_port};

/// Largest number of **TO** arguments CoreDNS accepts.
pub(crate) const MAX_TO: usize = 15;

/// One upstream address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Where to send queries.
    pub(crate) addr: SocketAddr,
    /// The address as CoreDNS shows it in the `to` metric label (`127.0.0.1:53`,
    /// `[::1]:53`), spelled as written in the Corefile when a port was given.
    pub(crate) label: String,
}

/// What the **TO** arguments came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Targets {
    /// The upstreams, without repeats, in the order first seen.
    pub(crate) upstreams: Vec<Target>,
    /// How many arguments contributed (a file without nameservers does not count); CoreDNS
    /// limits this number, not the upstreams, to [`MAX_TO`].
    pub(crate) entries: usize,
}

/// Schemes CoreDNS recognizes in **TO**, with their default ports.
const SCHEMES: &[(&str, &str)] = &[
    ("tls", "853"),
    ("dns", "53"),
    ("quic", "853"),
    ("grpc", "443"),
    ("https3", ""),
    ("https", "443"),
    ("unix", ""),
];

/// Read every **TO** argument.
pub(crate) fn parse_targets(args: &[String]) -> Result<Targets, String> {
    let mut out = Targets::default();
    for arg in args {
        let found = parse_one(arg)?;
        if found.is_empty() {
            continue; // a file without nameservers is skipped
        }
        out.entries += 1;
        for t in found {
            if !out.upstreams.iter().any(|u| u.addr == t.addr) {
                out.upstreams.push(t);
            }
        }
    }
    if out.upstreams.is_empty() {
        return Err("no valid upstream addresses found".into());
    }
    Ok(out)
}

fn parse_one(arg: &str) -> Result<Vec<Target>, String> {
    let (scheme, host) = split_scheme(arg);
    if host.is_empty() {
        return Err(format!("invalid address: {}", quote(arg)));
    }
    let default_port = SCHEMES
        .iter()
        .find(|(s, _)| *s == scheme)
        .map_or("53", |(_, p)| *p);
    let unsupported = |shown: String| {
        format!("'{scheme}' is not supported as a destination protocol in forward: {shown}")
    };
    if scheme == "unix" {
        return Err(unsupported(format!("unix://{host}")));
    }
    match split_host_port(host).ok() {
        None => {
            let bare = host.trim_matches(|c| c == '[' || c == ']');
            let Some(ip) = parse_ip(bare) else {
                return from_file(bare);
            };
            if scheme != "dns" {
                let shown = join_host_port(strip_zone(bare), default_port);
                return Err(unsupported(format!("{scheme}://{shown}")));
            }
            let label = join_host_port(strip_zone(bare), default_port);
            Ok(vec![Target {
                addr: SocketAddr::new(ip, 53),
                label,
            }])
        }
        Some((addr, port)) => {
            let Some(ip) = parse_ip(addr) else {
                return from_file(host);
            };
            if scheme != "dns" {
                let shown = join_host_port(strip_zone(addr), port);
                return Err(unsupported(format!("{scheme}://{shown}")));
            }
            let port_num: u16 = port
                .parse()
                .map_err(|_| format!("invalid port {} in address {}", quote(port), quote(arg)))?;
            Ok(vec![Target {
                addr: SocketAddr::new(ip, port_num),
                label: join_host_port(strip_zone(addr), port),
            }])
        }
    }
}

/// `parse.Transport`: a known `scheme://` prefix, else plain DNS with the whole text.
fn split_scheme(s: &str) -> (&str, &str) {
    for (scheme, _) in SCHEMES {
        if let Some(rest) = s.strip_prefix(scheme).and_then(|r| r.strip_prefix("://")) {
            return (scheme, rest);
        }
    }
    ("dns", s)
}

/// Drop an IPv6 zone (`fe80::1%eth0`).
fn strip_zone(s: &str) -> &str {
    s.rfind('%').map_or(s, |i| &s[..i])
}

/// `net.ParseIP` of the address without its zone; IPv4-mapped IPv6 becomes IPv4.
fn parse_ip(s: &str) -> Option<IpAddr> {
    let ip: IpAddr = strip_zone(s).parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

/// A resolv.conf style file: every `nameserver` line, port 53. An empty list means the file
/// had none (skipped, as CoreDNS does).
fn from_file(path: &str) -> Result<Vec<Target>, String> {
    let not_ip = |why: String| format!("not an IP address or file {}: {why}", quote(path));
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let open = format!("open {path}: {}", os_error_text(&e));
            return Err(not_ip(format!(
                "failed to open file {}: {}",
                quote(path),
                quote(&open)
            )));
        }
        Err(e) => {
            let op = if e.raw_os_error() == Some(libc::EISDIR) {
                "read"
            } else {
                "open"
            };
            return Err(not_ip(format!("{op} {path}: {}", os_error_text(&e))));
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut out = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        if fields.next() != Some("nameserver") {
            continue;
        }
        let Some(server) = fields.next() else {
            continue;
        };
        let bare = strip_zone(server);
        let Some(ip) = parse_ip(bare) else {
            return Err(format!(
                "nameserver {} in {path} is not an IP address",
                quote(server)
            ));
        };
        out.push(Target {
            addr: SocketAddr::new(ip, 53),
            label: join_host_port(bare, "53"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(args: &[&str]) -> Result<Vec<String>, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse_targets(&args).map(|t| t.upstreams.into_iter().map(|u| u.label).collect())
    }

    #[test]
    fn address_forms() {
        assert_eq!(labels(&["127.0.0.1"]).unwrap(), ["127.0.0.1:53"]);
        assert_eq!(labels(&["127.0.0.1:8053"]).unwrap(), ["127.0.0.1:8053"]);
        assert_eq!(labels(&["dns://10.0.0.1"]).unwrap(), ["10.0.0.1:53"]);
        assert_eq!(labels(&["dns://10.0.0.1:1053"]).unwrap(), ["10.0.0.1:1053"]);
        assert_eq!(labels(&["::1"]).unwrap(), ["[::1]:53"]);
        assert_eq!(labels(&["[::1]"]).unwrap(), ["[::1]:53"]);
        assert_eq!(labels(&["[2003::1]:53"]).unwrap(), ["[2003::1]:53"]);
        assert_eq!(labels(&["fe80::1%eth0"]).unwrap(), ["[fe80::1]:53"]);
        assert_eq!(
            labels(&["10.0.0.1", "10.0.0.2", "dns://10.0.0.1:53"]).unwrap(),
            ["10.0.0.1:53", "10.0.0.2:53"]
        );
        let t = parse_targets(&["[::1]:1053".to_string()]).unwrap();
        assert_eq!(t.upstreams[0].addr, "[::1]:1053".parse().unwrap());
        assert_eq!(t.entries, 1);
    }

    #[test]
    fn address_errors() {
        assert_eq!(
            labels(&["dns://"]).unwrap_err(),
            "invalid address: \"dns://\""
        );
        assert_eq!(
            labels(&["tls://9.9.9.9"]).unwrap_err(),
            "'tls' is not supported as a destination protocol in forward: tls://9.9.9.9:853"
        );
        assert_eq!(
            labels(&["https://9.9.9.9"]).unwrap_err(),
            "'https' is not supported as a destination protocol in forward: https://9.9.9.9:443"
        );
        assert_eq!(
            labels(&["grpc://[::1]:8443"]).unwrap_err(),
            "'grpc' is not supported as a destination protocol in forward: grpc://[::1]:8443"
        );
        assert_eq!(
            labels(&["unix:///run/dns.sock"]).unwrap_err(),
            "'unix' is not supported as a destination protocol in forward: unix:///run/dns.sock"
        );
        assert_eq!(
            labels(&["10.0.0.1:dns"]).unwrap_err(),
            "invalid port \"dns\" in address \"10.0.0.1:dns\""
        );
        assert_eq!(
            labels(&["/nonexistent/resolv.conf"]).unwrap_err(),
            "not an IP address or file \"/nonexistent/resolv.conf\": failed to open file \
             \"/nonexistent/resolv.conf\": \"open /nonexistent/resolv.conf: no such file or \
             directory\""
        );
        assert_eq!(
            labels(&["dns.example.local"]).unwrap_err(),
            "not an IP address or file \"dns.example.local\": failed to open file \
             \"dns.example.local\": \"open dns.example.local: no such file or directory\""
        );
        let dir = std::env::temp_dir();
        let shown = dir.to_string_lossy().to_string();
        assert_eq!(
            labels(&[&shown]).unwrap_err(),
            format!("not an IP address or file \"{shown}\": read {shown}: is a directory")
        );
    }
}
