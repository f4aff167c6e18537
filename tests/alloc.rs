//! The query path allocates nothing once warm, for an authoritative answer (hosts) and for a
//! cached one (cache in front), with metrics, errors and loadbalance in the chain, and for an
//! answer that passes a kubernetai stanza on to the next one.

use signpost_corefile::parse;
use signpost_plugin::testing::{allocations, CountingAlloc};
use signpost_plugin::Transport;
use signpost_server::{build, handle, BuildOptions, Handled, Router};
use signpost_wire::{build_query, rtype, Name, Response};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

const COREFILE: &str = "
auth.test {
    errors
    prometheus 127.0.0.1:9153
    loadbalance
    hosts {
        10.0.0.1 www.auth.test
        10.0.0.2 www.auth.test
    }
}
cached.test {
    errors
    prometheus 127.0.0.1:9153
    cache 30
    hosts {
        10.0.0.3 www.cached.test
    }
}
k8s.test {
    errors
    kubernetai a.k8s.test {
        endpoint http://127.0.0.1:9
        fallthrough
    }
    kubernetai k8s.test {
        endpoint http://127.0.0.1:9
    }
}
";

fn router() -> Router {
    let blocks = parse("Corefile", COREFILE).unwrap();
    let config = build(
        &blocks,
        &BuildOptions {
            plugins: signpost::plugins::PLUGINS,
            default_port: 53,
            corefile: None,
            listen_override: None,
        },
    )
    .unwrap();
    assert_eq!(config.listeners.len(), 1);
    config.listeners.into_iter().next().unwrap().router
}

fn allocations_for(router: &Router, name: &str, qtype: u16, resp: &mut Response) -> usize {
    let packet = build_query(7, &Name::from_text(name).unwrap(), qtype, true, Some(1232));
    let client = "127.0.0.1:5353".parse().unwrap();
    let local = "127.0.0.1:53".parse().unwrap();
    // Warm: first answers fill caches and create metric series.
    for _ in 0..3 {
        assert!(matches!(
            handle(router, &packet, client, local, Transport::Udp, resp),
            Handled::Reply
        ));
    }
    let before = allocations();
    let h = handle(router, &packet, client, local, Transport::Udp, resp);
    let after = allocations();
    assert!(matches!(h, Handled::Reply));
    assert!(resp.counts().0 > 0, "{name} answered");
    after - before
}

#[test]
fn warm_queries_do_not_allocate() {
    let router = router();
    let mut resp = Response::new();
    assert_eq!(
        allocations_for(&router, "www.auth.test.", rtype::A, &mut resp),
        0
    );
    assert_eq!(
        allocations_for(&router, "www.cached.test.", rtype::A, &mut resp),
        0
    );
    assert_eq!(
        allocations_for(&router, "k8s.test.", rtype::SOA, &mut resp),
        0
    );
}
