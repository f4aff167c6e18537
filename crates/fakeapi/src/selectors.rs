//! Label and field selectors, parsed the way the API server parses `labelSelector` and
//! `fieldSelector`, and matched against stored JSON objects.

use serde_json::Value;

/// One label requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelOp {
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
    Greater(i64),
    Less(i64),
}

/// A parsed label selector: every requirement must hold (comma means AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector {
    reqs: Vec<(String, LabelOp)>,
}

/// A parsed field selector: `field=value`, `field==value` or `field!=value`, comma means AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldSelector {
    terms: Vec<(String, bool, String)>,
}

/// Split on commas that are not inside a parenthesised value set.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 317
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
}

fn valid_value(v: &str) -> bool {
    v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn parse_err(part: &str, what: &str) -> String {
    format!("unable to parse requirement: {what} in {:?}", part.trim())
}

fn parse_value(part: &str, v: &str) -> Result<String, String> {
    let v = v.trim();
    if valid_value(v) {
        Ok(v.to_string())
    } else {
        Err(parse_err(part, &format!("invalid label value {v:?}")))
    }
}

/// Parse `(a, b, c)` into its values.
fn parse_set(part: &str, rest: &str) -> Result<Vec<String>, String> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| parse_err(part, "expected a parenthesised set of values"))?;
    let values: Vec<String> = inner
        .split(',')
        .map(|v| parse_value(part, v))
        .collect::<Result<_, _>>()?;
    Ok(values)
}

fn parse_requirement(part: &str) -> Result<(String, LabelOp), String> {
    let p = part.trim();
    if p.is_empty() {
        return Err(parse_err(part, "found an empty requirement"));
    }
    let key_ok = |k: &str| -> Result<String, String> {
        let k = k.trim();
        if valid_key(k) {
            Ok(k.to_string())
        } else {
            Err(parse_err(part, &format!("invalid label key {k:?}")))
        }
    };
    if let Some(k) = p.strip_prefix('!') {
        return Ok((key_ok(k)?, LabelOp::DoesNotExist));
    }
    if let Some((k, v)) = p.split_once("!=") {
        return Ok((key_ok(k)?, LabelOp::NotEquals(parse_value(part, v)?)));
    }
    if let Some((k, v)) = p.split_once("==") {
        return Ok((key_ok(k)?, LabelOp::Equals(parse_value(part, v)?)));
    }
    if let Some((k, v)) = p.split_once('=') {
        return Ok((key_ok(k)?, LabelOp::Equals(parse_value(part, v)?)));
    }
    for (sym, greater) in [('>', true), ('<', false)] {
        if let Some((k, v)) = p.split_once(sym) {
            let n: i64 = v
                .trim()
                .parse()
                .map_err(|_| parse_err(part, "expected an integer after > or <"))?;
            let op = if greater {
                LabelOp::Greater(n)
            } else {
                LabelOp::Less(n)
            };
            return Ok((key_ok(k)?, op));
        }
    }
    // `key in (..)`, `key notin (..)`, or a bare `key`.
    let end = p
        .find(|c: char| c.is_whitespace() || c == '(')
        .unwrap_or(p.len());
    let (k, rest) = p.split_at(end);
    let rest = rest.trim_start();
    if rest.is_empty() {
        return Ok((key_ok(k)?, LabelOp::Exists));
    }
    if let Some(set) = rest.strip_prefix("notin") {
        return Ok((key_ok(k)?, LabelOp::NotIn(parse_set(part, set)?)));
    }
    if let Some(set) = rest.strip_prefix("in") {
        return Ok((key_ok(k)?, LabelOp::In(parse_set(part, set)?)));
    }
    Err(parse_err(part, "expected one of =, ==, !=, in, notin"))
}

impl LabelSelector {
    /// Parse a `labelSelector` query value; the error text becomes a 400 message.
    pub(crate) fn parse(s: &str) -> Result<LabelSelector, String> {
        if s.trim().is_empty() {
            return Ok(LabelSelector::default());
        }
        let reqs = split_top_level(s)
            .into_iter()
            .map(parse_requirement)
            .collect::<Result<_, _>>()?;
        Ok(LabelSelector { reqs })
    }

    /// Does the object's `metadata.labels` satisfy every requirement?
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels");
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.reqs.iter().all(|(k, op)| match op {
            LabelOp::Equals(v) => get(k) == Some(v.as_str()),
            LabelOp::NotEquals(v) => get(k) != Some(v.as_str()),
            LabelOp::In(vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelOp::NotIn(vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            LabelOp::Exists => get(k).is_some(),
            LabelOp::DoesNotExist => get(k).is_none(),
            LabelOp::Greater(n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x > *n),
            LabelOp::Less(n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x < *n),
        })
    }
}

/// The fields the real server accepts in a field selector for this plural (beyond
/// `metadata.name` and `metadata.namespace`, which every type accepts).
fn extra_fields(plural: &str) -> &'static [&'static str] {
    match plural {
        "pods" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "services" => &["spec.clusterIP", "spec.type"],
        "namespaces" => &["status.phase"],
        "nodes" => &["spec.unschedulable"],
        _ => &[],
    }
}

impl FieldSelector {
    /// Parse a `fieldSelector` for resources of this plural. Unknown fields are refused with the
    /// API server's message (`field label not supported: X`).
    pub(crate) fn parse(s: &str, plural: &str) -> Result<FieldSelector, String> {
        let mut terms = Vec::new();
        if s.trim().is_empty() {
            return Ok(FieldSelector { terms });
        }
        for part in s.split(',') {
            let part = part.trim();
            let (field, eq, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                ));
            };
            let field = field.trim();
            let known = matches!(field, "metadata.name" | "metadata.namespace")
                || extra_fields(plural).contains(&field);
            if !known {
                return Err(format!("field label not supported: {field}"));
            }
            terms.push((field.to_string(), eq, value.trim().to_string()));
        }
        Ok(FieldSelector { terms })
    }

    /// Does every term hold? A missing field compares as the empty string, as on the real server.
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.terms.iter().all(|(field, eq, want)| {
            let mut cur = Some(obj);
            for seg in field.split('.') {
                cur = cur.and_then(|v| v.get(seg));
            }
            let got = match cur {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            (got == *want) == *eq
        })
    }
}

/// A label and a field selector together.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selectors {
    pub(crate) labels: LabelSelector,
    pub(crate) fields: FieldSelector,
}

impl Selectors {
    /// Both selectors hold for this object.
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "a", "namespace": "ns1", "labels": labels}, "status": {"phase": "Running"}})
    }

    #[test]
    fn label_operators() {
        let o = obj(json!({"app": "web", "tier": "front", "n": "5"}));
        let cases = [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app!=db", true),
            ("missing!=x", true),
            ("app in (web, db)", true),
            ("app in (db)", false),
            ("app notin (db)", true),
            ("missing notin (db)", true),
            ("app notin (web)", false),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("app=web,tier=front", true),
            ("app=web,tier=back", false),
            ("app in (web,db),!missing", true),
            ("n>4", true),
            ("n<4", false),
        ];
        for (sel, want) in cases {
            let s = LabelSelector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(s.matches(&o), want, "{sel}");
        }
    }

    #[test]
    fn label_parse_errors() {
        for bad in [
            "app in web",
            "app=we b",
            "=x",
            "app~web",
            "a,,b",
            "app in (a b)",
        ] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn field_selectors() {
        let o = obj(json!({}));
        let m = |s: &str, plural: &str| FieldSelector::parse(s, plural).map(|f| f.matches(&o));
        assert_eq!(m("metadata.name=a", "services"), Ok(true));
        assert_eq!(m("metadata.name==b", "services"), Ok(false));
        assert_eq!(m("metadata.namespace!=ns1", "services"), Ok(false));
        assert_eq!(
            m("metadata.name=a,metadata.namespace=ns1", "services"),
            Ok(true)
        );
        assert_eq!(m("status.phase=Running", "pods"), Ok(true));
        assert_eq!(m("status.phase!=Running", "pods"), Ok(false));
        assert_eq!(
            m("status.phase=Running", "services"),
            Err("field label not supported: status.phase".to_string())
        );
        assert!(m("nonsense", "pods").is_err());
    }
}
