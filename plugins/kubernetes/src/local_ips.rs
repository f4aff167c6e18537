//! The addresses this server answers on, for NS records and `ns.dns.<zone>` (spec §11):
//! the listening addresses, or every interface address when listening on the wildcard,
//! loopback excluded (CoreDNS's `boundIPs`).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Non-loopback IPs behind these listening addresses.
pub(crate) fn bound_ips(listeners: &[SocketAddr]) -> Vec<IpAddr> {
    let mut hosts: Vec<IpAddr> = Vec::new();
    let mut wildcard = false;
    for l in listeners {
        let ip = l.ip();
        if ip.is_unspecified() {
            wildcard = true;
        } else if !hosts.contains(&ip) {
            hosts.push(ip);
        }
    }
    if wildcard {
        for ip in interface_ips().unwrap_or_default() {
            if !hosts.contains(&ip) {
                hosts.push(ip);
            }
        }
    }
    hosts
        .into_iter()
        .map(|ip| match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        })
        .filter(|ip| !ip.is_loopback())
        .collect()
}

/// Every IP address of the host's interfaces (`getifaddrs(3)`).
fn interface_ips() -> io::Result<Vec<IpAddr>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `head` is a valid out-pointer; on success the list is ours until freed.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, not yet freed.
        let entry = unsafe { &*cur };
        let addr = entry.ifa_addr;
        if !addr.is_null() {
            // SAFETY: `ifa_addr` points to a sockaddr whose family field is readable.
            let family = unsafe { (*addr).sa_family } as i32;
            if family == libc::AF_INET {
                // SAFETY: the family says this is a sockaddr_in.
                let sin = unsafe { &*(addr as *const libc::sockaddr_in) };
                out.push(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    sin.sin_addr.s_addr,
                ))));
            } else if family == libc::AF_INET6 {
                // SAFETY: the family says this is a sockaddr_in6.
                let sin6 = unsafe { &*(addr as *const libc::sockaddr_in6) };
                out.push(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)));
            }
        }
        cur = entry.ifa_next;
    }
    // SAFETY: `head` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_dropped_wildcard_expanded() {
        let l: SocketAddr = "127.0.0.1:53".parse().unwrap();
        assert!(bound_ips(&[l]).is_empty());
        let l: SocketAddr = "10.1.2.3:53".parse().unwrap();
        assert_eq!(
            bound_ips(&[l, l]),
            vec!["10.1.2.3".parse::<IpAddr>().unwrap()]
        );
        let w: SocketAddr = "0.0.0.0:53".parse().unwrap();
        assert!(bound_ips(&[w]).iter().all(|ip| !ip.is_loopback()));
    }
}
