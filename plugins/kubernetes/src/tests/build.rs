//! The standard test cluster (the builders live in [`crate::testing`]).

pub(crate) use crate::testing::*;

/// The standard cluster most tests use (namespace `testns`).
pub(crate) fn world() -> World {
    World {
        namespaces: vec![namespace("testns"), namespace("kube-system")],
        services: vec![
            svc("testns", "svc1", &["10.0.0.1"]).port("http", "TCP", 80),
            svc("testns", "svcempty", &["10.0.0.2"]).port("http", "TCP", 80),
            svc("testns", "svc6", &["1234:abcd::1"]).port("http", "TCP", 80),
            svc("testns", "dual", &["10.0.0.3", "10::3"]).port("http", "TCP", 80),
            svc("testns", "multiport", &["10.0.0.4"])
                .port("dns", "UDP", 53)
                .port("dns-tcp", "TCP", 53)
                .port("", "TCP", 8080),
            headless("testns", "hdls1").port("http", "TCP", 80),
            headless("testns", "hdlsprtls"),
            headless("testns", "hdlsempty").port("http", "TCP", 80),
            external("testns", "external", "ext.interwebs.test"),
            external(
                "testns",
                "external-to-service",
                "svc1.testns.svc.cluster.local",
            ),
            external("testns", "external-ip", "1.2.3.4"),
            external(
                "testns",
                "external-loop",
                "external-loop2.testns.svc.cluster.local",
            ),
            external(
                "testns",
                "external-loop2",
                "external-loop.testns.svc.cluster.local",
            ),
        ],
        slices: vec![
            slice(
                "testns",
                "svc1-abcde",
                "svc1",
                vec![ep(&["172.0.0.1"]).host("ep1a")],
            )
            .port("http", "TCP", 80),
            slice(
                "testns",
                "hdls1-v4",
                "hdls1",
                vec![
                    ep(&["172.0.0.2"]).host("dup-name"),
                    ep(&["172.0.0.3"]).host("dup-name"),
                    ep(&["172.0.0.4"]),
                    ep(&["172.0.0.5"]),
                    ep(&["172.0.0.9"]).ready(false),
                ],
            )
            .port("http", "TCP", 80),
            slice(
                "testns",
                "hdls1-v6",
                "hdls1",
                vec![ep(&["5678:abcd::1"]), ep(&["5678:abcd::2"])],
            )
            .port("http", "TCP", 80),
            slice(
                "testns",
                "hdlsprtls-x",
                "hdlsprtls",
                vec![ep(&["172.0.0.20"])],
            ),
        ],
        ..World::default()
    }
}
