//! Go's `net.SplitHostPort` and `net.JoinHostPort`, with `net.AddrError` texts.

/// `net.AddrError.Error()`: `address ADDR: WHY`, or just `WHY` for an empty address.
fn addr_error(addr: &str, why: &str) -> String {
    if addr.is_empty() {
        why.to_string()
    } else {
        format!("address {addr}: {why}")
    }
}

/// `net.SplitHostPort`: `host:port`, `[host]:port` or `[host%zone]:port` into the host
/// (brackets removed) and the port, which may be empty (`localhost:`) and is not checked
/// further. Errors are Go's, e.g. `address localhost: missing port in address`,
/// `address ::1:53: too many colons in address`.
pub fn split_host_port(hostport: &str) -> Result<(&str, &str), String> {
    const MISSING_PORT: &str = "missing port in address";
    const TOO_MANY_COLONS: &str = "too many colons in address";
    let err = |why: &str| Err(addr_error(hostport, why));
    // The port starts after the last colon.
    let Some(colon) = hostport.rfind(':') else {
        return err(MISSING_PORT);
    };
    // `[` may not appear past `open`, nor `]` past `close`.
    let (host, open, close);
    if hostport.starts_with('[') {
        // The first `]` must come just before the last `:`.
        let Some(end) = hostport.find(']') else {
            return err("missing ']' in address");
        };
        if end + 1 == hostport.len() {
            return err(MISSING_PORT);
        }
        if end + 1 != colon {
            if hostport.as_bytes()[end + 1] == b':' {
                return err(TOO_MANY_COLONS);
            }
            return err(MISSING_PORT);
        }
        host = &hostport[1..end];
        (open, close) = (1, end + 1);
    } else {
        host = &hostport[..colon];
        if host.contains(':') {
            return err(TOO_MANY_COLONS);
        }
        (open, close) = (0, 0);
    }
    if hostport[open..].contains('[') {
        return err("unexpected '[' in address");
    }
    if hostport[close..].contains(']') {
        return err("unexpected ']' in address");
    }
    Ok((host, &hostport[colon + 1..]))
}

/// `net.JoinHostPort`: `host:port`, with brackets around a host that holds a colon
/// (an IPv6 address): `[::1]:53`.
pub fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}
