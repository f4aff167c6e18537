//! `fallthrough [ZONES...]`: which names a plugin passes on instead of answering NXDOMAIN.
//!
//! Shared by every plugin that offers it, so the option reads and behaves the same
//! everywhere (CoreDNS's `plugin/pkg/fall`).

use signpost_corefile::{Dispenser, Error};
use signpost_wire::Name;

use crate::Zones;

/// The zones a plugin falls through for. Empty means "never".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fallthrough {
    zones: Vec<Name>,
}

impl Fallthrough {
    /// Fall through for every name.
    pub fn all() -> Fallthrough {
        Fallthrough {
            zones: vec![Name::root()],
        }
    }

    /// Read the arguments of a `fallthrough` line (the dispenser sits on the `fallthrough`
    /// token). No arguments means every zone.
    pub fn parse(d: &mut Dispenser<'_>) -> Result<Fallthrough, Error> {
        let args = d.remaining_args();
        if args.is_empty() {
            return Ok(Fallthrough::all());
        }
        let zones = Zones::parse_args(d, &args)?;
        Ok(Fallthrough {
            zones: zones.names().to_vec(),
        })
    }

    /// Set from explicit zones (empty list means every zone).
    pub fn from_zones(zones: Vec<Name>) -> Fallthrough {
        if zones.is_empty() {
            Fallthrough::all()
        } else {
            Fallthrough { zones }
        }
    }

    /// Does a query for `qname` fall through?
    pub fn through(&self, qname: &Name) -> bool {
        self.zones.iter().any(|z| qname.is_subdomain_of(z))
    }

    /// True when fallthrough is not configured.
    pub fn is_off(&self) -> bool {
        self.zones.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_zones() {
        let n = |s: &str| Name::from_text(s).unwrap();
        assert!(!Fallthrough::default().through(&n("a.example.")));
        assert!(Fallthrough::all().through(&n("a.example.")));
        let f = Fallthrough::from_zones(vec![n("in-addr.arpa."), n("ip6.arpa.")]);
        assert!(f.through(&n("1.0.0.10.in-addr.arpa.")));
        assert!(!f.through(&n("svc.cluster.local.")));
    }
}
