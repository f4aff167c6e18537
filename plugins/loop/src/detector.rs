//! The chain handler: counts how often the probe query comes back.
//!
//! A probe that the server forwards to itself arrives again and again; the third arrival
//! means a loop, and the process is stopped (through the server's control channel) before
//! the loop eats all memory and CPU. Once the probing is over the handler only costs one
//! atomic load for HINFO queries and nothing for any other type.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use signpost_corefile::go_text::quote;
use signpost_plugin::{BoxFuture, Control, Next, Plugin, Request, Step};
use signpost_wire::{rtype, Name, NameError, Response};

/// How many arrivals of the probe are tolerated; one more is a loop.
const MAX_SEEN: u32 = 2;

/// The loop detector of one server block.
pub(crate) struct Loop {
    /// The zone probed (the block's first zone).
    zone: Name,
    /// `<random>.<random>.<zone>`.
    qname: Name,
    /// Arrivals of the probe since the last failed probe.
    seen: AtomicU32,
    /// Set when probing is over: the handler then passes everything on.
    off: AtomicBool,
    /// Set once the loop was reported, so it is reported once.
    reported: AtomicBool,
    /// Where the probe was sent, as CoreDNS prints it (`:53`, `127.0.0.1:1053`).
    addr: Mutex<String>,
    /// The server's control channel, known once the server started.
    control: OnceLock<Control>,
}

impl Loop {
    /// A detector for `zone` with a fresh random probe name. Fails only when the zone is
    /// too long to hold two more labels.
    pub(crate) fn new(zone: Name) -> Result<Loop, NameError> {
        let qname = probe_name(&zone)?;
        Ok(Loop::with_qname(zone, qname))
    }

    pub(crate) fn with_qname(zone: Name, qname: Name) -> Loop {
        Loop {
            zone,
            qname,
            seen: AtomicU32::new(0),
            off: AtomicBool::new(false),
            reported: AtomicBool::new(false),
            addr: Mutex::new(String::new()),
            control: OnceLock::new(),
        }
    }

    /// The probe name.
    pub(crate) fn qname(&self) -> &Name {
        &self.qname
    }

    /// Arrivals counted so far.
    #[cfg(test)]
    pub(crate) fn seen(&self) -> u32 {
        self.seen.load(Ordering::Acquire)
    }

    /// Forgets arrivals (after a probe that got no answer, as CoreDNS does).
    pub(crate) fn reset(&self) {
        self.seen.store(0, Ordering::Release);
    }

    /// Stops counting for good.
    pub(crate) fn disable(&self) {
        self.off.store(true, Ordering::Release);
    }

    /// True once probing is over.
    #[cfg(test)]
    pub(crate) fn disabled(&self) -> bool {
        self.off.load(Ordering::Acquire)
    }

    /// Records where probes go, for the report.
    pub(crate) fn set_address(&self, addr: String) {
        *self.addr.lock().unwrap_or_else(|p| p.into_inner()) = addr;
    }

    /// Gives the detector the channel it reports a loop on.
    pub(crate) fn set_control(&self, control: Control) {
        let _ = self.control.set(control);
    }

    /// True when `req` is the probe and probing is still on. Cheap: a type compare, then
    /// one atomic load, then a name compare.
    fn is_probe(&self, req: &Request<'_>) -> bool {
        req.qtype() == rtype::HINFO
            && !self.off.load(Ordering::Relaxed)
            && *req.qname() == self.qname
    }

    /// Counts one arrival of the probe from `client`; the third one is reported.
    pub(crate) fn arrived(&self, client: SocketAddr) {
        let seen = self.seen.fetch_add(1, Ordering::AcqRel) + 1;
        if seen > MAX_SEEN && !self.reported.swap(true, Ordering::AcqRel) {
            let msg = self.message(client);
            match self.control.get() {
                Some(control) => control.fatal(msg),
                None => tracing::error!("{msg}"),
            }
        }
    }

    /// CoreDNS's fatal message, with the `plugin/loop: ` prefix of its log line.
    fn message(&self, client: SocketAddr) -> String {
        let addr = self.addr.lock().unwrap_or_else(|p| p.into_inner()).clone();
        format!(
            "plugin/loop: Loop ({client} -> {addr}) detected for zone {}, see \
             https://coredns.io/plugins/loop#troubleshooting. Query: \"HINFO {}\"",
            quote(&self.zone.to_string()),
            self.qname
        )
    }
}

impl Plugin for Loop {
    fn name(&self) -> &'static str {
        "loop"
    }

    /// The probe is counted on the async path only: when the rest of the chain forwards
    /// (as it does in a loop), the chain runs twice, and the probe must count once.
    fn serve(&self, req: &Request<'_>, _resp: &mut Response, _next: Next<'_>) -> Step {
        if self.is_probe(req) {
            return Step::Async;
        }
        Step::Next
    }

    fn serve_async<'a>(
        &'a self,
        req: &'a Request<'a>,
        _resp: &'a mut Response,
        _next: Next<'a>,
    ) -> BoxFuture<'a, Step> {
        if self.is_probe(req) {
            self.arrived(req.client);
        }
        Box::pin(std::future::ready(Step::Next))
    }
}

/// `<random>.<random>.<zone>`, each random part a decimal number below 2^62, as CoreDNS
/// builds it.
pub(crate) fn probe_name(zone: &Name) -> Result<Name, NameError> {
    let second = random_below_2_62().to_string();
    let first = random_below_2_62().to_string();
    zone.prepend_label(second.as_bytes())?
        .prepend_label(first.as_bytes())
}

/// A random number below 2^62. Unpredictable enough for a probe name (which only has to
/// differ from anything a client would ask): `RandomState` is seeded from the OS once per
/// process and changes with every call.
pub(crate) fn random_below_2_62() -> u64 {
    let mut h = RandomState::new().build_hasher();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.write_u128(now);
    h.finish() >> 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_plugin::testing::{self, NxDomain};
    use signpost_plugin::{Chain, ControlMsg, Transport};
    use signpost_wire::rcode;
    use std::sync::Arc;
    use tokio::sync::mpsc::unbounded_channel;

    fn name(s: &str) -> Name {
        Name::from_text(s).unwrap()
    }

    fn detector(zone: &str, qname: &str) -> Arc<Loop> {
        Arc::new(Loop::with_qname(name(zone), name(qname)))
    }

    #[test]
    fn probe_name_is_two_numbers_in_the_zone() {
        for zone in [".", "example.org.", "10.in-addr.arpa."] {
            let z = name(zone);
            let a = probe_name(&z).unwrap();
            let b = probe_name(&z).unwrap();
            assert_ne!(a, b, "a fresh name every time");
            assert!(a.is_subdomain_of(&z));
            assert_eq!(a.label_count(), z.label_count() + 2);
            assert_eq!(a.strip_labels(2), z);
            for label in a.labels().take(2) {
                let n: u64 = std::str::from_utf8(label).unwrap().parse().unwrap();
                assert!(n < 1 << 62);
            }
        }
        // 255 bytes on the wire: the longest name there is.
        let long = name(&format!(
            "{}.{}.",
            vec!["a".repeat(63); 3].join("."),
            "b".repeat(61)
        ));
        assert!(probe_name(&long).is_err());
    }

    #[test]
    fn third_arrival_is_reported_once() {
        let lp = detector(".", "4547991504243258144.3688648895315093531.");
        lp.set_address(":1053".into());
        let (tx, mut rx) = unbounded_channel();
        lp.set_control(Control::new(tx));
        let client: SocketAddr = "127.0.0.1:55953".parse().unwrap();
        lp.arrived(client);
        lp.arrived(client);
        assert!(rx.try_recv().is_err(), "twice is not a loop");
        lp.arrived(client);
        assert_eq!(
            rx.try_recv().unwrap(),
            ControlMsg::Fatal(
                "plugin/loop: Loop (127.0.0.1:55953 -> :1053) detected for zone \".\", see \
                 https://coredns.io/plugins/loop#troubleshooting. \
                 Query: \"HINFO 4547991504243258144.3688648895315093531.\""
                    .into()
            )
        );
        lp.arrived(client);
        assert!(rx.try_recv().is_err(), "reported once");
    }

    #[test]
    fn zone_and_ipv6_addresses_in_the_report() {
        let lp = detector("example.org.", "1.2.example.org.");
        lp.set_address("[::1]:53".into());
        let (tx, mut rx) = unbounded_channel();
        lp.set_control(Control::new(tx));
        for _ in 0..3 {
            lp.arrived("[::1]:4000".parse().unwrap());
        }
        let ControlMsg::Fatal(msg) = rx.try_recv().unwrap() else {
            panic!("not fatal");
        };
        assert_eq!(
            msg,
            "plugin/loop: Loop ([::1]:4000 -> [::1]:53) detected for zone \"example.org.\", see \
             https://coredns.io/plugins/loop#troubleshooting. Query: \"HINFO 1.2.example.org.\""
        );
    }

    #[tokio::test]
    async fn counts_the_probe_once_per_arrival_through_a_chain() {
        let lp = detector(".", "1.2.example.org.");
        let (tx, mut rx) = unbounded_channel();
        lp.set_control(Control::new(tx));
        let chain = Chain::new(vec![lp.clone(), Arc::new(NxDomain)]);

        // Not the probe: other names, other types.
        for (qname, qtype) in [
            ("1.2.example.org.", rtype::A),
            ("3.2.example.org.", rtype::HINFO),
            ("example.org.", rtype::HINFO),
        ] {
            let req = testing::request(qname, qtype);
            let (outcome, _) = testing::run(&chain, &req).expect("sync path");
            assert_eq!(outcome.rcode, rcode::NXDOMAIN);
        }
        assert_eq!(lp.seen(), 0);

        // The probe (in any case) takes the async path and is counted there, once.
        let req = testing::request_with(
            "1.2.EXAMPLE.org.",
            rtype::HINFO,
            Transport::Udp,
            "127.0.0.1:5000",
        );
        assert!(
            testing::run(&chain, &req).is_none(),
            "no trace on the sync path"
        );
        assert_eq!(lp.seen(), 0);
        let (outcome, _) = testing::run_async(&chain, &req).await;
        assert_eq!(
            outcome.rcode,
            rcode::NXDOMAIN,
            "passed on to the next plugin"
        );
        assert_eq!(lp.seen(), 1);
        testing::run_async(&chain, &req).await;
        assert!(rx.try_recv().is_err());
        testing::run_async(&chain, &req).await;
        assert!(matches!(rx.try_recv(), Ok(ControlMsg::Fatal(_))));
    }

    #[test]
    fn disabled_passes_everything_on() {
        let lp = detector(".", "1.2.example.org.");
        lp.disable();
        assert!(lp.disabled());
        let chain = Chain::new(vec![lp.clone(), Arc::new(NxDomain)]);
        let req = testing::request("1.2.example.org.", rtype::HINFO);
        let (outcome, _) = testing::run(&chain, &req).expect("sync path once disabled");
        assert_eq!(outcome.rcode, rcode::NXDOMAIN);
        assert_eq!(lp.seen(), 0);
    }

    #[test]
    fn reset_forgets_arrivals() {
        let lp = detector(".", "1.2.");
        lp.arrived("127.0.0.1:1".parse().unwrap());
        lp.arrived("127.0.0.1:1".parse().unwrap());
        lp.reset();
        assert_eq!(lp.seen(), 0);
    }
}
