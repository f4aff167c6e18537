//! The addresses this server answers on, for NS records and `ns.dns.<zone>` (spec §11):
//! the listening addresses, or every interface address when listening on the wildcard,
//! loopback excluded (CoreDNS's `boundIPs`).

use std::net::{IpAddr, SocketAddr};

use signpost_plugin::interfaces::host_interfaces;

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
        let all = host_interfaces().unwrap_or_default();
        for ip in all.into_iter().filter_map(|e| e.ip) {
            if !hosts.contains(&ip) {
                hosts.push(ip);
            }
        }
    }
    hosts
        .into_iter()
        .map(crate::index::records::unmapped)
        .filter(|ip| !ip.is_loopback())
        .collect()
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
