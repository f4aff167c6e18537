use std::sync::Arc;

use signpost_plugin::testing;
use signpost_plugin::{Chain, Next, OwnedRequest, Plugin, Request, ServerInfo, Step, Transport};
use signpost_wire::{rcode, rtype, Name, Owner, RData, Response};

use super::*;

/// Answers A with an address, MX with NXDOMAIN, and refuses everything else with an error.
struct Answer;

impl Plugin for Answer {
    fn name(&self) -> &'static str {
        "answer"
    }
    fn serve(&self, req: &Request<'_>, resp: &mut Response, _: Next<'_>) -> Step {
        match req.qtype() {
            rtype::A => {
                resp.start(&req.query, rcode::NOERROR);
                resp.answer(Owner::Question, 5, &RData::A("192.0.2.1".parse().unwrap()));
                Step::Answered
            }
            rtype::MX => {
                resp.start(&req.query, rcode::NXDOMAIN);
                Step::Answered
            }
            _ => Step::Error(rcode::REFUSED, None),
        }
    }
}

/// A request routed to server `addr`, zone `example.org.`.
fn request(
    addr: &str,
    qtype: u16,
    transport: Transport,
    client: &str,
    dnssec: bool,
) -> OwnedRequest {
    let mut r = testing::request_with("www.example.org.", qtype, transport, client);
    if dnssec {
        // The query ends with its OPT record; set DO, the top bit of the flags in its TTL.
        let n = r.packet.len();
        r.packet[n - 4] = 0x80;
    }
    r.server = Arc::new(ServerInfo {
        addr: addr.into(),
        zone: Name::from_text("example.org.").unwrap(),
        zone_text: "example.org.".into(),
        port: 53,
    });
    r
}

fn lines_for(server: &str) -> Vec<String> {
    let body = String::from_utf8(metrics_reply().body).unwrap();
    body.lines()
        .filter(|l| l.contains(&format!("server=\"{server}\"")))
        .map(str::to_string)
        .collect()
}

#[test]
fn counts_queries_with_coredns_series() {
    let server = "dns://:5301";
    let chain = Chain::new(vec![Arc::new(Metrics::default()), Arc::new(Answer)]);
    let queries = [
        request(server, rtype::A, Transport::Udp, "10.0.0.1:1000", false),
        request(
            server,
            rtype::A,
            Transport::Udp,
            "[::ffff:10.0.0.1]:1000",
            false,
        ),
        request(
            server,
            rtype::MX,
            Transport::Tcp,
            "[2001:db8::1]:1000",
            true,
        ),
        request(server, 99, Transport::Udp, "10.0.0.1:1000", false),
    ];
    for q in &queries {
        testing::run(&chain, q).unwrap();
    }
    let lines = lines_for(server);
    let has = |want: &str| {
        assert!(
            lines.iter().any(|l| l == want),
            "missing {want}\nin:\n{}",
            lines.join("\n")
        )
    };
    let labels = "server=\"dns://:5301\",view=\"\",zone=\"example.org.\"";
    has(&format!("coredns_dns_requests_total{{family=\"1\",proto=\"udp\",{},type=\"A\",view=\"\",zone=\"example.org.\"}} 2", "server=\"dns://:5301\""));
    has("coredns_dns_requests_total{family=\"2\",proto=\"tcp\",server=\"dns://:5301\",type=\"MX\",view=\"\",zone=\"example.org.\"} 1");
    has("coredns_dns_requests_total{family=\"1\",proto=\"udp\",server=\"dns://:5301\",type=\"other\",view=\"\",zone=\"example.org.\"} 1");
    has(&format!("coredns_dns_do_requests_total{{{labels}}} 1"));
    has(&format!(
        "coredns_dns_responses_total{{plugin=\"answer\",rcode=\"NOERROR\",{labels}}} 2"
    ));
    has(&format!(
        "coredns_dns_responses_total{{plugin=\"answer\",rcode=\"NXDOMAIN\",{labels}}} 1"
    ));
    has(&format!(
        "coredns_dns_responses_total{{plugin=\"answer\",rcode=\"REFUSED\",{labels}}} 1"
    ));
    has(&format!(
        "coredns_dns_request_duration_seconds_count{{{labels}}} 4"
    ));
    has(&format!(
        "coredns_dns_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 4"
    ));
    // Requests are 44 bytes (33 for the name, question and header plus an 11-byte OPT);
    // the A answer is 49, the others 33.
    has("coredns_dns_request_size_bytes_bucket{proto=\"udp\",server=\"dns://:5301\",view=\"\",zone=\"example.org.\",le=\"0\"} 0");
    has("coredns_dns_request_size_bytes_bucket{proto=\"udp\",server=\"dns://:5301\",view=\"\",zone=\"example.org.\",le=\"100\"} 3");
    has("coredns_dns_request_size_bytes_sum{proto=\"udp\",server=\"dns://:5301\",view=\"\",zone=\"example.org.\"} 132");
    has("coredns_dns_response_size_bytes_sum{proto=\"udp\",server=\"dns://:5301\",view=\"\",zone=\"example.org.\"} 131");
    has("coredns_dns_response_size_bytes_count{proto=\"tcp\",server=\"dns://:5301\",view=\"\",zone=\"example.org.\"} 1");
    // Series only appear once they counted something.
    assert!(!lines.iter().any(|l| l.contains("type=\"AAAA\"")));
    assert!(!lines.iter().any(|l| l.contains("rcode=\"SERVFAIL\"")));
}

#[test]
fn chain_running_out_is_counted_with_an_empty_plugin() {
    let server = "dns://:5302";
    let chain = Chain::new(vec![Arc::new(Metrics::default())]);
    testing::run(
        &chain,
        &request(server, rtype::AAAA, Transport::Udp, "10.0.0.1:1", false),
    )
    .unwrap();
    assert!(lines_for(server).contains(
        &"coredns_dns_responses_total{plugin=\"\",rcode=\"SERVFAIL\",server=\"dns://:5302\",view=\"\",zone=\"example.org.\"} 1".to_string()
    ));
}

#[test]
fn labels() {
    assert_eq!(table::rcode_label(rcode::NXDOMAIN), "NXDOMAIN");
    assert_eq!(table::rcode_label(16), "BADSIG");
    assert_eq!(table::rcode_label(13), "RCODE13");
    assert_eq!(table::rcode_label(4000), "RCODE4000");
    assert_eq!(table::type_index(rtype::A), 0);
    assert_eq!(table::type_index(rtype::CAA), 19);
}

#[test]
fn setup_registers_route_and_process_wide_metrics() {
    let (chain, parts) = testing::setup(&[PLUGIN], ". {\n prometheus\n}").unwrap();
    assert_eq!(chain.names(), ["prometheus"]);
    assert_eq!(parts.http.len(), 1);
    assert_eq!(
        (parts.http[0].addr.as_str(), parts.http[0].path.as_str()),
        (DEFAULT_ADDR, "/metrics")
    );
    let reply = (parts.http[0].handler)();
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.content_type,
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let body = String::from_utf8(reply.body).unwrap();
    assert!(body.contains("# TYPE coredns_panics_total counter\ncoredns_panics_total "));
    assert!(body.contains("# HELP coredns_build_info A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.\n"));
    assert!(body.contains(&format!(
        "coredns_build_info{{goversion=\"{}\",revision=\"\",version=\"{}\"}} 1\n",
        env!("SIGNPOST_RUSTC_VERSION"),
        env!("CARGO_PKG_VERSION")
    )));
    #[cfg(target_os = "linux")]
    assert!(body.contains("\nprocess_open_fds "));

    let (_, parts) = testing::setup(
        &[PLUGIN],
        ". {\n prometheus 127.0.0.1:9253 {\n  runtime_metrics\n }\n}",
    )
    .unwrap();
    assert_eq!(parts.http[0].addr, "127.0.0.1:9253");
}

#[test]
fn plugin_enabled_is_set_and_reset() {
    mark_enabled("dns://:5303", "example.org.", "whoami");
    let body = String::from_utf8(metrics_reply().body).unwrap();
    assert!(body.contains("coredns_plugin_enabled{name=\"whoami\",server=\"dns://:5303\",view=\"\",zone=\"example.org.\"} 1\n"));
    reset_enabled();
    let body = String::from_utf8(metrics_reply().body).unwrap();
    assert!(!body.contains("coredns_plugin_enabled"));
}

#[test]
fn parse_errors() {
    let err = |c: &str| {
        testing::setup(&[PLUGIN], c)
            .expect_err("should fail")
            .to_string()
    };
    let at = |line: u32, msg: &str| {
        format!("plugin/prometheus: Corefile:{line} - Error during parsing: {msg}")
    };
    assert_eq!(
        err(". {\n prometheus localhost\n}"),
        at(2, "address localhost: missing port in address")
    );
    assert_eq!(
        err(". {\n prometheus a:1 b:2\n}"),
        at(
            2,
            "Wrong argument count or unexpected line ending after 'b:2'"
        )
    );
    assert_eq!(
        err(". {\n prometheus {\n  runtime_metrics all\n }\n}"),
        at(
            3,
            "Wrong argument count or unexpected line ending after 'all'"
        )
    );
    assert_eq!(
        err(". {\n prometheus {\n  tls\n }\n}"),
        at(
            3,
            "Wrong argument count or unexpected line ending after 'tls'"
        )
    );
    assert_eq!(
        err(". {\n prometheus {\n  tls web.yml\n }\n}"),
        at(3, "tls is not supported")
    );
    assert_eq!(
        err(". {\n prometheus {\n  path /m\n }\n}"),
        at(3, "unknown option: path")
    );
    assert!(err(". {\n prometheus\n prometheus :9154\n}")
        .ends_with("Error during parsing: this plugin can only be used once per Server Block"));
}

#[global_allocator]
static GLOBAL: testing::CountingAlloc = testing::CountingAlloc;

#[test]
fn counting_does_not_allocate() {
    let server = "dns://:5304";
    let metrics = Metrics::default();
    let owned = request(server, rtype::A, Transport::Udp, "10.0.0.1:1", true);
    let req = owned.request().unwrap();
    let mut resp = Response::new();
    resp.start(&req.query, rcode::NOERROR);
    let outcome = signpost_plugin::Outcome {
        rcode: rcode::NOERROR,
        plugin: "answer",
        error: None,
    };
    metrics.after(&req, &mut resp, &outcome, false);
    let before = testing::allocations();
    for _ in 0..100 {
        metrics.after(&req, &mut resp, &outcome, false);
    }
    assert_eq!(testing::allocations(), before);
    assert!(lines_for(server).contains(
        &"coredns_dns_requests_total{family=\"1\",proto=\"udp\",server=\"dns://:5304\",type=\"A\",view=\"\",zone=\"example.org.\"} 101".to_string()
    ));
}
