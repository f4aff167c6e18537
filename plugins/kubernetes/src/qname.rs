//! The name grammar (spec §4, CoreDNS's `parseRequest`), read straight off the wire bytes of
//! the lower-cased query name: every part is a slice of the name, nothing is copied.

/// Maximum labels in a name (255 bytes of wire form).
const MAX_LABELS: usize = 128;

/// `svc` or `pod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Svc,
    Pod,
}

/// A parsed request. Empty slices mean "not given" (wildcards for port and protocol).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Request<'a> {
    /// `None` for the apex, `svc` and `pod` (no records, no error).
    pub(crate) kind: Option<Kind>,
    pub(crate) namespace: &'a [u8],
    pub(crate) service: &'a [u8],
    pub(crate) endpoint: &'a [u8],
    pub(crate) cluster: &'a [u8],
    pub(crate) port: &'a [u8],
    pub(crate) protocol: &'a [u8],
    /// `<service><namespace>` as wire labels (the index key); empty without a service.
    pub(crate) key: &'a [u8],
    /// Zonal names: the topology zone as wire labels (may be several).
    pub(crate) topo: Option<&'a [u8]>,
    /// Zonal `prefer` (else `pin`).
    pub(crate) prefer: bool,
}

/// The name does not fit the grammar (a name error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid;

/// Label start offsets of `rel` (wire labels without the root), leftmost first.
pub(crate) struct Labels<'a> {
    rel: &'a [u8],
    starts: [u8; MAX_LABELS],
    n: usize,
}

impl<'a> Labels<'a> {
    pub(crate) fn new(rel: &'a [u8]) -> Labels<'a> {
        let mut starts = [0u8; MAX_LABELS];
        let mut n = 0;
        let mut p = 0usize;
        while p < rel.len() && n < MAX_LABELS {
            starts[n] = p as u8;
            n += 1;
            p += 1 + rel[p] as usize;
        }
        Labels { rel, starts, n }
    }

    pub(crate) fn len(&self) -> usize {
        self.n
    }

    /// Label `i` without its length byte.
    pub(crate) fn get(&self, i: usize) -> &'a [u8] {
        let s = self.starts[i] as usize;
        let l = self.rel[s] as usize;
        &self.rel[s + 1..s + 1 + l]
    }

    /// Wire bytes of labels `from..to`.
    pub(crate) fn span(&self, from: usize, to: usize) -> &'a [u8] {
        let s = self.starts[from] as usize;
        let e = if to >= self.n {
            self.rel.len()
        } else {
            self.starts[to] as usize
        };
        &self.rel[s..e]
    }
}

fn strip_underscore(s: &[u8]) -> &[u8] {
    s.strip_prefix(b"_").unwrap_or(s)
}

/// Parse `rel` (the lower-cased name minus the zone, as wire labels without the root).
pub(crate) fn parse<'a>(
    labels: &Labels<'a>,
    multicluster: bool,
    zonal: bool,
) -> Result<Request<'a>, Invalid> {
    let mut r = Request::default();
    let n = labels.len();
    if n == 0 {
        return Ok(r);
    }
    let kind = match labels.get(n - 1) {
        b"svc" => Kind::Svc,
        b"pod" => Kind::Pod,
        _ => return Err(Invalid),
    };
    if n == 1 {
        // `svc.<zone>` / `pod.<zone>`: like the apex.
        return Ok(r);
    }
    r.kind = Some(kind);
    r.namespace = labels.get(n - 2);
    if n == 2 {
        return Ok(r);
    }
    r.service = labels.get(n - 3);
    r.key = labels.span(n - 3, n - 1);
    let extra = n - 3;
    match extra {
        0 => {}
        1 => r.endpoint = labels.get(0),
        2 => {
            let (a, b) = (labels.get(0), labels.get(1));
            if !multicluster || a.starts_with(b"_") || b.starts_with(b"_") {
                r.port = strip_underscore(a);
                r.protocol = strip_underscore(b);
            } else {
                r.endpoint = a;
                r.cluster = b;
            }
        }
        _ => {
            // `<topo-zone...>.pin|prefer._zone.<svc>.<ns>.svc`
            let anchor = extra - 1;
            if !zonal || multicluster || kind != Kind::Svc || labels.get(anchor) != b"_zone" {
                return Err(Invalid);
            }
            match labels.get(anchor - 1) {
                b"pin" => {}
                b"prefer" => r.prefer = true,
                _ => return Err(Invalid),
            }
            r.topo = Some(labels.span(0, anchor - 1));
        }
    }
    Ok(r)
}

/// Does the wire-label run `wire` spell the dotted text `dotted` (`a.b` = `\x01a\x01b`)?
pub(crate) fn wire_eq_dotted(wire: &[u8], dotted: &[u8]) -> bool {
    let mut p = 0usize;
    let mut rest = dotted;
    let mut first = true;
    while p < wire.len() {
        if !first {
            match rest.split_first() {
                Some((b'.', r)) => rest = r,
                _ => return false,
            }
        }
        first = false;
        let l = wire[p] as usize;
        let label = &wire[p + 1..p + 1 + l];
        if rest.len() < l || !rest[..l].eq_ignore_ascii_case(label) {
            return false;
        }
        rest = &rest[l..];
        p += 1 + l;
    }
    rest.is_empty() && !first
}

#[cfg(test)]
mod tests {
    use super::*;
    use signpost_wire::Name;

    fn rel(text: &str) -> Vec<u8> {
        if text.is_empty() {
            return Vec::new();
        }
        let n = Name::from_text(text).unwrap();
        n.wire()[..n.len() - 1].to_vec()
    }

    fn show(r: &Request<'_>) -> String {
        let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        format!(
            "{:?} ns={} svc={} ep={} cl={} port={} proto={} topo={:?} prefer={}",
            r.kind,
            s(r.namespace),
            s(r.service),
            s(r.endpoint),
            s(r.cluster),
            s(r.port),
            s(r.protocol),
            r.topo.map(s),
            r.prefer
        )
    }

    fn p(text: &str, mc: bool, zonal: bool) -> Result<String, Invalid> {
        let w = rel(text);
        let l = Labels::new(&w);
        parse(&l, mc, zonal).map(|r| show(&r))
    }

    #[test]
    fn grammar() {
        assert_eq!(
            p("", false, false).unwrap(),
            "None ns= svc= ep= cl= port= proto= topo=None prefer=false"
        );
        assert!(p("svc", false, false).unwrap().starts_with("None"));
        assert!(p("pod", false, false).unwrap().starts_with("None"));
        assert_eq!(p("foo", false, false), Err(Invalid));
        assert_eq!(p("dns-version", false, false), Err(Invalid));
        assert_eq!(p("ns.dns", false, false), Err(Invalid));
        assert!(p("testns.svc", false, false)
            .unwrap()
            .starts_with("Some(Svc) ns=testns svc= "));
        assert!(p("svc1.testns.svc", false, false)
            .unwrap()
            .contains("ns=testns svc=svc1 ep= "));
        assert!(p("ep.svc1.testns.svc", false, false)
            .unwrap()
            .contains("ep=ep "));
        assert!(p("_http._tcp.svc1.testns.svc", false, false)
            .unwrap()
            .contains("port=http proto=tcp"));
        assert!(p("http.tcp.svc1.testns.svc", false, false)
            .unwrap()
            .contains("port=http proto=tcp"));
        assert!(p("_._tcp.svc1.testns.svc", false, false)
            .unwrap()
            .contains("port= proto=tcp"));
        assert!(p("ep.c1.svc1.testns.svc", true, false)
            .unwrap()
            .contains("ep=ep cl=c1 port= proto="));
        assert!(p("_http.c1.svc1.testns.svc", true, false)
            .unwrap()
            .contains("ep= cl= port=http proto=c1"));
        assert_eq!(p("a.b.c.svc1.testns.svc", false, false), Err(Invalid));
        assert!(p("us-east-1a.pin._zone.svc1.testns.svc", false, true)
            .unwrap()
            .contains("us-east-1a\") prefer=false"));
        assert!(p("a.b.prefer._zone.svc1.testns.svc", false, true)
            .unwrap()
            .contains("prefer=true"));
        assert_eq!(p("a.pin._zone.svc1.testns.svc", false, false), Err(Invalid));
        assert_eq!(p("a.pin._zone.svc1.testns.svc", true, true), Err(Invalid));
        assert_eq!(p("a.pin._zone.svc1.testns.pod", false, true), Err(Invalid));
        assert_eq!(p("a.keep._zone.svc1.testns.svc", false, true), Err(Invalid));
    }

    #[test]
    fn dotted_compare() {
        let w = rel("a.b");
        assert!(wire_eq_dotted(&w, b"a.b"));
        assert!(!wire_eq_dotted(&w, b"a.bc"));
        assert!(!wire_eq_dotted(&w, b"a"));
        assert!(!wire_eq_dotted(&w, b"ab"));
        assert!(wire_eq_dotted(&rel("zone-a"), b"zone-a"));
        assert!(!wire_eq_dotted(&[], b""));
    }
}
