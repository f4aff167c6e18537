//! Option lines several plugins share, parsed once.

use signpost_corefile::go_text::atoi;
use signpost_corefile::{Dispenser, Error};

/// The `ttl SECONDS` line of *kubernetes*, *k8s_external* and *k8s_gateway*: one integer in
/// [0, 3600], read with Go's `strconv.Atoi` and CoreDNS's error texts. The dispenser sits on
/// `ttl`; extra arguments are ignored, as upstream does.
pub fn ttl_option(d: &mut Dispenser<'_>) -> Result<u32, Error> {
    let args = d.remaining_args();
    let first = args.first().ok_or_else(|| d.arg_err())?;
    let t = atoi(first).map_err(|e| d.err(e))?;
    if !(0..=3600).contains(&t) {
        return Err(d.err(format!("ttl must be in range [0, 3600]: {t}")));
    }
    Ok(t as u32)
}
