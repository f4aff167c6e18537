//! Tests that need upstream servers (all on loopback), and the setup tests.

mod forward_tests;
mod health_tests;
mod setup_tests;
mod upstream_server;

use std::sync::Arc;
use std::time::Duration;

use signpost_corefile::{parse, Dispenser};
use signpost_plugin::testing::NxDomain;
use signpost_plugin::{Chain, Plugin};

use crate::config::parse_stanza;
use crate::forward::{Forward, Timeouts};

/// Timeouts short enough for tests.
pub(crate) fn fast() -> Timeouts {
    Timeouts {
        query_deadline: Duration::from_secs(5),
        write: Duration::from_secs(1),
        hc_io: Duration::from_millis(100),
        hc_dial: Duration::from_millis(200),
    }
}

/// Build every `forward` of a one-block Corefile (with timeouts `t`), followed by a plugin that
/// answers NXDOMAIN, the way setup chains them.
pub(crate) fn build(text: &str, t: Timeouts) -> (Arc<Chain>, Vec<Arc<Forward>>) {
    let blocks = parse("Corefile", text).expect("corefile parses");
    let directives: Vec<_> = blocks[0]
        .directives
        .iter()
        .filter(|d| d.name() == "forward")
        .collect();
    let last = directives.len() - 1;
    let mut fwds = Vec::new();
    for (i, d) in directives.into_iter().enumerate() {
        let cfg = parse_stanza(&mut Dispenser::new(d)).expect("stanza parses");
        fwds.push(Arc::new(Forward::new(cfg, i < last, t)));
    }
    let mut plugins: Vec<Arc<dyn Plugin>> =
        fwds.iter().map(|f| f.clone() as Arc<dyn Plugin>).collect();
    plugins.push(Arc::new(NxDomain));
    (Chain::new(plugins), fwds)
}

/// Poll `cond` for up to two seconds.
pub(crate) async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cond()
}

/// A file in the temp directory, removed when dropped.
pub(crate) struct TempFile(pub(crate) std::path::PathBuf);

impl TempFile {
    pub(crate) fn new(tag: &str, content: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "signpost-forward-{}-{}-{tag}",
            std::process::id(),
            crate::random::query_id()
        ));
        std::fs::write(&path, content).expect("write temp file");
        TempFile(path)
    }

    pub(crate) fn path(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
