//! Response code names exactly as miekg/dns spells them: the `rcode` label of
//! `coredns_proxy_request_duration_seconds` and the arguments of `next` and `failover`.

use signpost_wire::Rcode;

/// miekg/dns's `RcodeToString` (16 is BADSIG, which is also BADVERS).
const NAMES: &[(Rcode, &str)] = &[
    (0, "NOERROR"),
    (1, "FORMERR"),
    (2, "SERVFAIL"),
    (3, "NXDOMAIN"),
    (4, "NOTIMP"),
    (5, "REFUSED"),
    (6, "YXDOMAIN"),
    (7, "YXRRSET"),
    (8, "NXRRSET"),
    (9, "NOTAUTH"),
    (10, "NOTZONE"),
    (11, "DSOTYPENI"),
    (16, "BADSIG"),
    (17, "BADKEY"),
    (18, "BADTIME"),
    (19, "BADMODE"),
    (20, "BADNAME"),
    (21, "BADALG"),
    (22, "BADTRUNC"),
    (23, "BADCOOKIE"),
];

/// The metric label for `rc`: its name, or the number for codes without one.
pub(crate) fn label(rc: Rcode) -> std::borrow::Cow<'static, str> {
    match NAMES.iter().find(|(c, _)| *c == rc) {
        Some((_, name)) => (*name).into(),
        None => rc.to_string().into(),
    }
}

/// miekg/dns's `StringToRcode` after upper-casing (which also knows `NOTIMPL`).
pub(crate) fn parse(s: &str) -> Option<Rcode> {
    let up = s.to_ascii_uppercase();
    if up == "NOTIMPL" {
        return Some(4);
    }
    NAMES.iter().find(|(_, n)| *n == up).map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_both_ways() {
        assert_eq!(label(3), "NXDOMAIN");
        assert_eq!(label(16), "BADSIG");
        assert_eq!(label(15), "15");
        assert_eq!(parse("nxdomain"), Some(3));
        assert_eq!(parse("NotImpl"), Some(4));
        assert_eq!(parse("NOTIMP"), Some(4));
        assert_eq!(parse("BADVERS"), None);
        assert_eq!(parse("nope"), None);
    }
}
