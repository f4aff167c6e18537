//! Label selectors for the `labels` and `namespace_labels` options.
//!
//! CoreDNS reads these options with Kubernetes' `ParseToLabelSelector` and hands the
//! selector's normal form to the API server, so the same rules apply here: `=`/`==` become
//! equality terms, `in`, `notin`, `key` and `!key` become expressions, and `!=`, `>` and `<`
//! are rejected. The normal form sorts terms by key and `in` values alphabetically
//! (`environment in (production, staging, qa),application=nginx` becomes
//! `application=nginx,environment in (production,qa,staging)`).
//!
//! The index also evaluates the selector itself, so objects from a source that does not
//! filter (or a test feeding objects directly) are held to the same rule.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use signpost_k8s_model::Labels;

/// One term of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Equals(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Exists(String),
    DoesNotExist(String),
}

impl Term {
    fn key(&self) -> &str {
        match self {
            Term::Equals(k, _)
            | Term::In(k, _)
            | Term::NotIn(k, _)
            | Term::Exists(k)
            | Term::DoesNotExist(k) => k,
        }
    }

    fn matches(&self, labels: &Labels) -> bool {
        let get = |k: &str| labels.get(k).map(|v| &**v);
        match self {
            Term::Equals(k, v) => get(k) == Some(v.as_str()),
            Term::In(k, vs) => get(k).is_some_and(|l| vs.contains(l)),
            Term::NotIn(k, vs) => !get(k).is_some_and(|l| vs.contains(l)),
            Term::Exists(k) => get(k).is_some(),
            Term::DoesNotExist(k) => get(k).is_none(),
        }
    }
}

/// A parsed label selector (all terms must hold).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    terms: Vec<Term>,
}

impl Selector {
    /// Parse selector text; the error is the reason only (callers add their context).
    pub fn parse(text: &str) -> Result<Selector, String> {
        let raw = Parser::new(text)
            .parse()
            .map_err(|e| format!("couldn't parse the selector string \"{text}\": {e}"))?;
        // As ParseToLabelSelector: equality terms go to a map (the last one for a key wins),
        // the others stay expressions; then everything is sorted by key.
        let mut equals: BTreeMap<String, String> = BTreeMap::new();
        let mut terms = Vec::new();
        for (key, op, values) in raw {
            match op {
                Op::Equals => {
                    equals.insert(key, values.into_iter().next().unwrap_or_default());
                }
                Op::In => terms.push(Term::In(key, values.into_iter().collect())),
                Op::NotIn => terms.push(Term::NotIn(key, values.into_iter().collect())),
                Op::Exists => terms.push(Term::Exists(key)),
                Op::DoesNotExist => terms.push(Term::DoesNotExist(key)),
                Op::NotEquals => return Err("\"!=\" is not a valid label selector operator".into()),
                Op::Gt => return Err("\"gt\" isn't supported in label selectors".into()),
                Op::Lt => return Err("\"lt\" isn't supported in label selectors".into()),
            }
        }
        terms.extend(equals.into_iter().map(|(k, v)| Term::Equals(k, v)));
        terms.sort_by(|a, b| a.key().cmp(b.key()));
        Ok(Selector { terms })
    }

    /// Whether `labels` satisfy every term.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.terms.iter().all(|t| t.matches(labels))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(",");
            match t {
                Term::Equals(k, v) => write!(f, "{k}={v}")?,
                Term::In(k, vs) => write!(f, "{k} in ({})", list(vs))?,
                Term::NotIn(k, vs) => write!(f, "{k} notin ({})", list(vs))?,
                Term::Exists(k) => write!(f, "{k}")?,
                Term::DoesNotExist(k) => write!(f, "!{k}")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    End,
    Ident(String),
    Bang,
    Comma,
    Open,
    Close,
    Eq,
    DoubleEq,
    NotEq,
    Gt,
    Lt,
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::End => String::new(),
            Token::Ident(s) => s.clone(),
            Token::Bang => "!".into(),
            Token::Comma => ",".into(),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
            Token::Eq => "=".into(),
            Token::DoubleEq => "==".into(),
            Token::NotEq => "!=".into(),
            Token::Gt => ">".into(),
            Token::Lt => "<".into(),
        }
    }
}

/// Kubernetes' selector lexer and parser, reduced to what the options need.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

fn special(c: u8) -> bool {
    matches!(c, b'!' | b'=' | b',' | b'(' | b')' | b'<' | b'>') || c.is_ascii_whitespace()
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        Parser {
            s: text.as_bytes(),
            i: 0,
        }
    }

    fn lex(&mut self) -> Token {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
        let Some(&c) = self.s.get(self.i) else {
            return Token::End;
        };
        let next = self.s.get(self.i + 1).copied();
        let (tok, len) = match (c, next) {
            (b'!', Some(b'=')) => (Token::NotEq, 2),
            (b'!', _) => (Token::Bang, 1),
            (b'=', Some(b'=')) => (Token::DoubleEq, 2),
            (b'=', _) => (Token::Eq, 1),
            (b',', _) => (Token::Comma, 1),
            (b'(', _) => (Token::Open, 1),
            (b')', _) => (Token::Close, 1),
            (b'>', _) => (Token::Gt, 1),
            (b'<', _) => (Token::Lt, 1),
            _ => {
                let start = self.i;
                let mut end = start;
                while end < self.s.len() && !special(self.s[end]) {
                    end += 1;
                }
                let word = String::from_utf8_lossy(&self.s[start..end]).into_owned();
                self.i = end;
                return Token::Ident(word);
            }
        };
        self.i += len;
        tok
    }

    fn peek(&mut self) -> Token {
        let at = self.i;
        let t = self.lex();
        self.i = at;
        t
    }

    fn parse(mut self) -> Result<Vec<(String, Op, Vec<String>)>, String> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Token::End => return Ok(out),
                Token::Ident(_) | Token::Bang => {
                    out.push(self.requirement()?);
                    match self.lex() {
                        Token::End => return Ok(out),
                        Token::Comma => {
                            if let Token::End | Token::Comma = self.peek() {
                                return Err(format!(
                                    "found '{}', expected: identifier after ','",
                                    self.peek().text()
                                ));
                            }
                        }
                        t => {
                            return Err(format!(
                                "found '{}', expected: ',' or 'end of string'",
                                t.text()
                            ))
                        }
                    }
                }
                t => {
                    return Err(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        t.text()
                    ))
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<(String, Op, Vec<String>), String> {
        let mut negated = false;
        let mut tok = self.lex();
        if tok == Token::Bang {
            negated = true;
            tok = self.lex();
        }
        let Token::Ident(key) = tok else {
            return Err(format!("found '{}', expected: identifier", tok.text()));
        };
        validate_key(&key)?;
        if let Token::End | Token::Comma = self.peek() {
            let op = if negated {
                Op::DoesNotExist
            } else {
                Op::Exists
            };
            return Ok((key, op, Vec::new()));
        }
        if negated {
            return Err(format!(
                "found '{}', expected: ',' or 'end of string'",
                self.peek().text()
            ));
        }
        let op = match self.lex() {
            Token::Eq | Token::DoubleEq => Op::Equals,
            Token::NotEq => Op::NotEquals,
            Token::Gt => Op::Gt,
            Token::Lt => Op::Lt,
            Token::Ident(w) if w == "in" => Op::In,
            Token::Ident(w) if w == "notin" => Op::NotIn,
            t => {
                return Err(format!(
                    "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                    t.text()
                ))
            }
        };
        let values = if matches!(op, Op::In | Op::NotIn) {
            self.value_list()?
        } else {
            vec![self.exact_value()?]
        };
        for v in &values {
            validate_value(v)?;
        }
        if matches!(op, Op::Gt | Op::Lt) && values[0].parse::<i64>().is_err() {
            return Err(format!(
                "for 'Gt', 'Lt' operators, the value must be an integer: {}",
                values[0]
            ));
        }
        Ok((key, op, values))
    }

    fn exact_value(&mut self) -> Result<String, String> {
        match self.peek() {
            Token::End | Token::Comma => Ok(String::new()),
            Token::Ident(v) => {
                self.lex();
                Ok(v)
            }
            t => Err(format!("found '{}', expected: identifier", t.text())),
        }
    }

    fn value_list(&mut self) -> Result<Vec<String>, String> {
        let t = self.lex();
        if t != Token::Open {
            return Err(format!("found '{}', expected: '('", t.text()));
        }
        let mut values = Vec::new();
        if self.peek() == Token::Close {
            self.lex();
            return Err("for 'in', 'notin' operators, values set can't be empty".into());
        }
        loop {
            match self.lex() {
                Token::Ident(v) => {
                    values.push(v);
                    match self.lex() {
                        Token::Comma => continue,
                        Token::Close => return Ok(values),
                        t => return Err(format!("found '{}', expected: ',' or ')'", t.text())),
                    }
                }
                Token::Comma => values.push(String::new()),
                Token::Close => {
                    values.push(String::new());
                    return Ok(values);
                }
                t => {
                    return Err(format!(
                        "found '{}', expected: ',', or identifier",
                        t.text()
                    ))
                }
            }
        }
    }
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63 long.
fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn validate_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            })
    });
    if prefix_ok && valid_name(name) {
        Ok(())
    } else {
        Err(format!(
            "invalid label key \"{key}\": name part must consist of alphanumeric characters, \
             '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

fn validate_value(v: &str) -> Result<(), String> {
    if v.is_empty() || valid_name(v) {
        Ok(())
    } else {
        Err(format!(
            "invalid label value: \"{v}\": a valid label must be an empty string or consist of \
             alphanumeric characters, '-', '_' or '.', and must start and end with an \
             alphanumeric character"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().copied().collect()
    }

    #[test]
    fn normal_form() {
        let s =
            Selector::parse("environment in (production, staging, qa),application=nginx").unwrap();
        assert_eq!(
            s.to_string(),
            "application=nginx,environment in (production,qa,staging)"
        );
        assert_eq!(
            Selector::parse("environment=prod").unwrap().to_string(),
            "environment=prod"
        );
        assert_eq!(
            Selector::parse("b, !a, c notin (x), d==1")
                .unwrap()
                .to_string(),
            "!a,b,c notin (x),d=1"
        );
    }

    #[test]
    fn matching() {
        let s = Selector::parse("app=web,tier in (a, b),!skip,zone notin (z)").unwrap();
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "a")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "c")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "a"), ("skip", "")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "a"), ("zone", "z")])));
        assert!(Selector::default().matches(&labels(&[])));
    }

    #[test]
    fn errors() {
        for bad in [
            "environment in (production, qa",
            "a!=b",
            "a>1",
            "in (",
            "a in ()",
            "=x",
            "a,,b",
            "a b",
            "!a=b",
            "-bad-=x",
        ] {
            assert!(Selector::parse(bad).is_err(), "{bad} should fail");
        }
        assert_eq!(
            Selector::parse("environment in (production, qa").unwrap_err(),
            "couldn't parse the selector string \"environment in (production, qa\": \
             found '', expected: ',' or ')'"
        );
        assert_eq!(
            Selector::parse("a!=b").unwrap_err(),
            "\"!=\" is not a valid label selector operator"
        );
    }
}
