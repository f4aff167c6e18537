//! A plugin's zones and the longest-match lookup over them.

use signpost_corefile::{normalize_zone, Dispenser, Error};
use signpost_wire::Name;

/// CoreDNS's `OriginsFromArgsOrServerBlock`: zone arguments normalised and lower-cased (a
/// CIDR becomes its reverse zones, an invalid one is silently dropped, as upstream), or the
/// block's zones when there are none.
pub fn origins_from_args_or_block(args: &[String], block: &[Name]) -> Vec<Name> {
    if args.is_empty() {
        return block.iter().map(Name::lowercase).collect();
    }
    args.iter()
        .flat_map(|a| normalize_zone(a).unwrap_or_default())
        .filter_map(|z| Name::from_text(&z).ok())
        .map(|n| n.lowercase())
        .collect()
}

/// The zones a plugin is authoritative for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Zones {
    names: Vec<Name>,
}

impl Zones {
    /// From already normalized names.
    pub fn new(mut names: Vec<Name>) -> Zones {
        names.iter_mut().for_each(Name::make_lowercase);
        names.dedup();
        Zones { names }
    }

    /// Zone arguments as written in a Corefile (`example.org`, `10.0.0.0/8`), each normalized
    /// the way CoreDNS does; a CIDR becomes its reverse zones.
    pub fn parse_args(d: &Dispenser<'_>, args: &[String]) -> Result<Zones, Error> {
        let mut names = Vec::new();
        for a in args {
            let zones = normalize_zone(a).map_err(|e| d.err(e))?;
            for z in zones {
                let n =
                    Name::from_text(&z).map_err(|e| d.err(format!("invalid zone '{a}': {e}")))?;
                names.push(n);
            }
        }
        Ok(Zones::new(names))
    }

    /// Args if any were given, else the server block's zones.
    pub fn parse_or(d: &Dispenser<'_>, args: &[String], block: &[Name]) -> Result<Zones, Error> {
        if args.is_empty() {
            Ok(Zones::new(block.to_vec()))
        } else {
            Zones::parse_args(d, args)
        }
    }

    /// The zones.
    pub fn names(&self) -> &[Name] {
        &self.names
    }

    /// The longest zone containing `qname`.
    pub fn matches(&self, qname: &Name) -> Option<&Name> {
        self.names
            .iter()
            .filter(|z| qname.is_subdomain_of(z))
            .max_by_key(|z| z.len())
    }

    /// True when no zone is set.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_match() {
        let n = |s: &str| Name::from_text(s).unwrap();
        let z = Zones::new(vec![n("."), n("example.org."), n("sub.example.org.")]);
        assert_eq!(
            z.matches(&n("a.sub.example.org.")),
            Some(&n("sub.example.org."))
        );
        assert_eq!(z.matches(&n("example.org.")), Some(&n("example.org.")));
        assert_eq!(z.matches(&n("example.com.")), Some(&n(".")));
        let z = Zones::new(vec![n("example.org.")]);
        assert_eq!(z.matches(&n("example.com.")), None);
    }
}
