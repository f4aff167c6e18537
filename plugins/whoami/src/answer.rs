//! The reply: the client's address and its port and transport, in the additional section.

use std::net::IpAddr;

use signpost_plugin::{Next, Plugin, Request, Step, Transport};
use signpost_wire::{rcode, Name, Owner, RData, Response, Section, HEADER_LEN};

/// Answers every query with the client's address, port and transport.
#[derive(Debug, Default, Clone, Copy)]
pub struct Whoami;

impl Plugin for Whoami {
    fn name(&self) -> &'static str {
        "whoami"
    }

    fn serve(&self, req: &Request<'_>, resp: &mut Response, _next: Next<'_>) -> Step {
        let q = &req.query;
        // The SRV owner carries the name as the client spelled it (the parsed qname is
        // lower-cased); reading it from the packet copies it onto the stack.
        let Ok((asked, _)) = Name::read(q.packet, HEADER_LEN) else {
            return Step::Error(rcode::SERVFAIL, None);
        };
        let label: &[u8] = match req.transport {
            Transport::Udp => b"_udp",
            Transport::Tcp => b"_tcp",
        };
        let Ok(srv_owner) = asked.prepend_label(label) else {
            return Step::Error(
                rcode::SERVFAIL,
                Some(format!("name too long for the SRV record: {asked}")),
            );
        };
        let address = client_address(req.client.ip());

        resp.start(q, rcode::NOERROR);
        resp.set_authoritative(true);
        resp.push(Section::Additional, Owner::Question, q.qclass, 0, &address);
        resp.push(
            Section::Additional,
            Owner::Name(&srv_owner),
            q.qclass,
            0,
            &RData::Srv {
                priority: 0,
                weight: 0,
                port: req.client.port(),
                target: &Name::root(),
            },
        );
        Step::Answered
    }
}

/// A for IPv4 clients (including IPv4-mapped IPv6 addresses, which Go's `To4` treats as
/// IPv4), AAAA otherwise.
fn client_address(ip: IpAddr) -> RData<'static> {
    match ip {
        IpAddr::V4(v4) => RData::A(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => RData::A(v4),
            None => RData::Aaaa(v6),
        },
    }
}
