//! Label and field selectors, parsed and evaluated locally.
//!
//! A watch on an API server hands its selectors to the server, which does the filtering. The
//! `manifests` source has no server, so it evaluates the same selectors itself; plugins can
//! also use [`LabelSelector::parse`] to reject a bad `labels` option at setup time, and its
//! `Display` to show the selector in the normal form Kubernetes tools print.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// Server-side selectors of a watch (the strings are passed to the API server as given).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Selectors {
    /// Label selector (`labelSelector=`), e.g. `app=web,tier in (a, b)`.
    pub labels: Option<String>,
    /// Field selector (`fieldSelector=`), e.g. `status.phase!=Succeeded`.
    pub fields: Option<String>,
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    /// `key=value` / `key==value`.
    Equals(String, String),
    /// `key!=value` (also true when the label is absent).
    NotEquals(String, String),
    /// `key in (v1, v2)`.
    In(String, Vec<String>),
    /// `key notin (v1, v2)` (also true when the label is absent).
    NotIn(String, Vec<String>),
    /// `key`.
    Exists(String),
    /// `!key`.
    DoesNotExist(String),
}

impl Requirement {
    fn key(&self) -> &str {
        match self {
            Requirement::Equals(k, _)
            | Requirement::NotEquals(k, _)
            | Requirement::In(k, _)
            | Requirement::NotIn(k, _)
            | Requirement::Exists(k)
            | Requirement::DoesNotExist(k) => k,
        }
    }

    fn matches(&self, labels: &dyn Fn(&str) -> Option<String>) -> bool {
        match self {
            Requirement::Equals(k, v) => labels(k).as_deref() == Some(v.as_str()),
            Requirement::NotEquals(k, v) => labels(k).as_deref() != Some(v.as_str()),
            Requirement::In(k, vs) => labels(k).is_some_and(|l| vs.contains(&l)),
            Requirement::NotIn(k, vs) => !labels(k).is_some_and(|l| vs.contains(&l)),
            Requirement::Exists(k) => labels(k).is_some(),
            Requirement::DoesNotExist(k) => labels(k).is_none(),
        }
    }
}

/// A parsed label selector: every requirement must hold (an empty selector matches all).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// Parses Kubernetes label-selector syntax: comma-separated requirements, each one of
    /// `key=value`, `key==value`, `key!=value`, `key in (v1, v2)`, `key notin (v1, v2)`,
    /// `key` (exists) or `!key` (does not exist).
    pub fn parse(text: &str) -> Result<LabelSelector, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let mut requirements = Vec::new();
        p.skip_ws();
        if p.at_end() {
            return Ok(LabelSelector { requirements });
        }
        loop {
            requirements.push(p.requirement()?);
            p.skip_ws();
            if p.at_end() {
                break;
            }
            if !p.eat(b',') {
                return Err(format!("expected ',' at position {} in '{text}'", p.i));
            }
        }
        Ok(LabelSelector { requirements })
    }

    /// True when the selector has no requirement.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether labels satisfy every requirement.
    pub fn matches<K: AsRef<str> + Ord, V: AsRef<str>>(&self, labels: &BTreeMap<K, V>) -> bool {
        let get = |k: &str| {
            labels
                .iter()
                .find(|(lk, _)| lk.as_ref() == k)
                .map(|(_, v)| v.as_ref().to_string())
        };
        self.requirements.iter().all(|r| r.matches(&get))
    }

    /// Whether the labels of a JSON object (`metadata.labels`) satisfy every requirement.
    pub fn matches_json(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let get = |k: &str| {
            labels
                .and_then(|l| l.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        self.requirements.iter().all(|r| r.matches(&get))
    }
}

/// The normal form Kubernetes prints after a round trip through `metav1.LabelSelector`:
/// requirements sorted by key, `==` written `=`, `!=` written `notin (v)`, set values sorted,
/// e.g. `application=nginx,environment in (production,qa,staging)`.
impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut reqs: Vec<&Requirement> = self.requirements.iter().collect();
        reqs.sort_by(|a, b| a.key().cmp(b.key()));
        let set = |vs: &[String]| {
            let mut vs = vs.to_vec();
            vs.sort();
            vs.dedup();
            vs.join(",")
        };
        for (i, r) in reqs.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match r {
                Requirement::Equals(k, v) => write!(f, "{k}={v}")?,
                Requirement::NotEquals(k, v) => write!(f, "{k} notin ({v})")?,
                Requirement::In(k, vs) => write!(f, "{k} in ({})", set(vs))?,
                Requirement::NotIn(k, vs) => write!(f, "{k} notin ({})", set(vs))?,
                Requirement::Exists(k) => write!(f, "{k}")?,
                Requirement::DoesNotExist(k) => write!(f, "!{k}")?,
            }
        }
        Ok(())
    }
}

/// Byte cursor for the label-selector grammar.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn text(&self, from: usize) -> String {
        String::from_utf8_lossy(&self.s[from..self.i]).into_owned()
    }

    /// A key or value: letters, digits and `-_./` (values may be empty).
    fn word(&mut self) -> String {
        let from = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || b"-_./".contains(&c))
        {
            self.i += 1;
        }
        self.text(from)
    }

    fn key(&mut self) -> Result<String, String> {
        self.skip_ws();
        let k = self.word();
        if k.is_empty() {
            return Err(format!("expected a label key at position {}", self.i));
        }
        validate_key(&k)?;
        Ok(k)
    }

    fn value(&mut self) -> Result<String, String> {
        self.skip_ws();
        let v = self.word();
        validate_value(&v)?;
        Ok(v)
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        self.skip_ws();
        if self.eat(b'!') {
            return Ok(Requirement::DoesNotExist(self.key()?));
        }
        let key = self.key()?;
        self.skip_ws();
        if self.eat(b'=') {
            self.eat(b'=');
            return Ok(Requirement::Equals(key, self.value()?));
        }
        if self.s[self.i..].starts_with(b"!=") {
            self.i += 2;
            return Ok(Requirement::NotEquals(key, self.value()?));
        }
        if self.at_end() || self.peek() == Some(b',') {
            return Ok(Requirement::Exists(key));
        }
        let from = self.i;
        let op = self.word();
        match op.as_str() {
            "in" => Ok(Requirement::In(key, self.set()?)),
            "notin" => Ok(Requirement::NotIn(key, self.set()?)),
            _ => Err(format!(
                "unknown operator '{}' after key '{key}'",
                if op.is_empty() {
                    self.peek()
                        .map_or(String::new(), |c| (c as char).to_string())
                } else {
                    self.text(from)
                }
            )),
        }
    }

    fn set(&mut self) -> Result<Vec<String>, String> {
        self.skip_ws();
        if !self.eat(b'(') {
            return Err(format!("expected '(' at position {}", self.i));
        }
        self.skip_ws();
        if self.peek() == Some(b')') {
            return Err("for 'in' and 'notin', the set of values can't be empty".into());
        }
        let mut values = Vec::new();
        loop {
            values.push(self.value()?);
            self.skip_ws();
            if self.eat(b')') {
                return Ok(values);
            }
            if !self.eat(b',') {
                return Err(format!("expected ',' or ')' at position {}", self.i));
            }
        }
    }
}

/// `[prefix/]name`: name 1..63 alphanumerics with `-_.` inside; prefix a DNS subdomain.
fn validate_key(k: &str) -> Result<(), String> {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix {
        if p.is_empty() || p.len() > 253 || p.contains('/') {
            return Err(format!("invalid label key '{k}': bad prefix"));
        }
    }
    if !valid_name(name) {
        return Err(format!("invalid label key '{k}'"));
    }
    Ok(())
}

/// Empty, or 1..63 alphanumerics with `-_.` inside.
fn validate_value(v: &str) -> Result<(), String> {
    if v.is_empty() || valid_name(v) {
        Ok(())
    } else {
        Err(format!("invalid label value '{v}'"))
    }
}

fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))
}

/// A parsed field selector: `path=value`, `path==value` or `path!=value`, comma-separated.
/// Paths are dotted JSON paths (`metadata.name`, `status.phase`); a missing field reads as "".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    terms: Vec<(String, bool, String)>,
}

impl FieldSelector {
    /// Parses the selector; `\,`, `\=` and `\\` escape those characters in values.
    pub fn parse(text: &str) -> Result<FieldSelector, String> {
        let mut terms = Vec::new();
        for term in split_unescaped(text, ',') {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            let (path, equal, value) = if let Some((p, v)) = term.split_once("!=") {
                (p, false, v)
            } else if let Some((p, v)) = term.split_once("==") {
                (p, true, v)
            } else if let Some((p, v)) = term.split_once('=') {
                (p, true, v)
            } else {
                return Err(format!("invalid field selector term '{term}'"));
            };
            let path = path.trim();
            if path.is_empty() {
                return Err(format!("invalid field selector term '{term}'"));
            }
            terms.push((path.to_string(), equal, unescape(value.trim())));
        }
        Ok(FieldSelector { terms })
    }

    /// Whether a JSON object satisfies every term.
    pub fn matches_json(&self, object: &Value) -> bool {
        self.terms.iter().all(|(path, equal, want)| {
            let mut v = Some(object);
            for part in path.split('.') {
                v = v.and_then(|v| v.get(part));
            }
            let got = match v {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (got == *want) == *equal
        })
    }
}

fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            c if c == sep && !escaped => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => escaped = false,
        }
    }
    out.push(&s[start..]);
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selector_operators() {
        let l = labels(&[("app", "web"), ("tier", "front"), ("env", "")]);
        let cases = [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app = web", true),
            ("app=db", false),
            ("app!=db", true),
            ("app!=web", false),
            ("missing!=x", true),
            ("tier in (front, back)", true),
            ("tier in (back)", false),
            ("missing in (x)", false),
            ("tier notin (back)", true),
            ("tier notin (front,back)", false),
            ("missing notin (x)", true),
            ("app", true),
            ("missing", false),
            ("!missing", true),
            ("!app", false),
            ("env=", true),
            ("env in (x,)", true),
            ("app=web,tier=front", true),
            ("app=web, tier=back", false),
            ("app=web,!missing,tier in (front)", true),
            ("example.com/x-y_z", false),
        ];
        for (text, want) in cases {
            let sel = LabelSelector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(sel.matches(&l), want, "{text}");
            let obj = json!({"metadata": {"labels": l}});
            assert_eq!(sel.matches_json(&obj), want, "{text} (json)");
        }
    }

    #[test]
    fn label_selector_errors() {
        for text in [
            "app=web,",
            ",app",
            "app >= 3",
            "app in web",
            "app in (a b)",
            "app=-bad",
            "-key=v",
            "app=web)",
            "/name=v",
            "a/b/c=v",
            "!",
            "env in ()",
        ] {
            assert!(LabelSelector::parse(text).is_err(), "{text} should fail");
        }
    }

    #[test]
    fn label_selector_normal_form() {
        let sel =
            LabelSelector::parse("environment in (production, staging, qa),application=nginx")
                .unwrap();
        assert_eq!(
            sel.to_string(),
            "application=nginx,environment in (production,qa,staging)"
        );
        let sel = LabelSelector::parse("b!=x, a==y, !c, d").unwrap();
        assert_eq!(sel.to_string(), "a=y,b notin (x),!c,d");
    }

    #[test]
    fn field_selector() {
        let pod = json!({
            "metadata": {"name": "p1", "namespace": "ns1"},
            "status": {"phase": "Running"}
        });
        let cases = [
            (
                "status.phase!=Succeeded,status.phase!=Failed,status.phase!=Unknown",
                true,
            ),
            ("status.phase=Running", true),
            ("status.phase==Running", true),
            ("status.phase!=Running", false),
            ("metadata.name=p1,metadata.namespace=ns1", true),
            ("metadata.namespace=other", false),
            ("spec.nodeName=", true),
            ("spec.nodeName!=", false),
            ("", true),
        ];
        for (text, want) in cases {
            let sel = FieldSelector::parse(text).unwrap();
            assert_eq!(sel.matches_json(&pod), want, "{text}");
        }
        assert!(FieldSelector::parse("status.phase").is_err());
        assert!(FieldSelector::parse("=x").is_err());
        let sel = FieldSelector::parse(r"metadata.name=a\,b").unwrap();
        assert!(sel.matches_json(&json!({"metadata": {"name": "a,b"}})));
    }
}
