//! The host's network interfaces and their IP addresses, read with `getifaddrs(3)`.
//!
//! `bind` accepts interface names and binds to the addresses the interface has when the
//! configuration is loaded (start-up or reload), as CoreDNS does; `kubernetes` lists every
//! address for its NS records when the server listens on the wildcard.

use std::ffi::CStr;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One entry of the interface list: an interface name, with one of its IP addresses, or
/// with none (an interface without addresses still exists, and is listed with `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfAddr {
    /// Interface name (`eth0`).
    pub name: String,
    /// One of its addresses, or `None` for an interface without any.
    pub ip: Option<IpAddr>,
}

/// Every interface entry of the host, in the system's order (IPv4 addresses of an interface
/// before its IPv6 ones on Linux).
pub fn host_interfaces() -> io::Result<Vec<IfAddr>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `head` is a valid out-pointer; on success the list is ours until freed.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list returned by getifaddrs, not yet freed.
        let entry = unsafe { &*cur };
        if !entry.ifa_name.is_null() {
            // SAFETY: `ifa_name` is a NUL-terminated string owned by the list.
            let name = unsafe { CStr::from_ptr(entry.ifa_name) };
            out.push(IfAddr {
                name: name.to_string_lossy().into_owned(),
                // SAFETY: `ifa_addr` is null or points to a sockaddr of the family it names.
                ip: unsafe { ip_of(entry.ifa_addr) },
            });
        }
        cur = entry.ifa_next;
    }
    // SAFETY: `head` came from a successful getifaddrs and is freed exactly once; nothing
    // borrowed from it outlives this point (names were copied).
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

/// The IP address in `sa`, if it is an IPv4 or IPv6 socket address.
///
/// # Safety
/// `sa` must be null or point to a socket address whose size matches its family.
unsafe fn ip_of(sa: *const libc::sockaddr) -> Option<IpAddr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: non-null and valid per the contract; the family decides the real type.
    match i32::from(unsafe { (*sa).sa_family }) {
        libc::AF_INET => {
            // SAFETY: an AF_INET address is a sockaddr_in.
            let sin = unsafe { &*(sa as *const libc::sockaddr_in) };
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                sin.sin_addr.s_addr,
            ))))
        }
        libc::AF_INET6 => {
            // SAFETY: an AF_INET6 address is a sockaddr_in6.
            let sin6 = unsafe { &*(sa as *const libc::sockaddr_in6) };
            Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn loopback_has_127_0_0_1() {
        let all = host_interfaces().unwrap();
        assert!(all
            .iter()
            .any(|e| e.name == "lo" && e.ip == Some(IpAddr::V4(Ipv4Addr::LOCALHOST))));
    }
}
