//! A small shell-style wildcard matcher for `import` patterns.
//!
//! CoreDNS expands import patterns with Go's `filepath.Glob`; we only need
//! its matching rules for a single path segment: `*` (any run of
//! characters), `?` (any one character), `[abc]`, `[a-z]`, `[^a-z]` or
//! `[!a-z]` (a character class) and `\x` (a literal `x`). Matching is applied
//! segment by segment by the import code, so wildcards never cross `/`.

/// Whether `s` contains wildcard syntax.
pub(crate) fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '\\'])
}

/// Checks that `pattern` is well formed (classes closed, no dangling `\`).
pub(crate) fn validate(pattern: &str) -> Result<(), BadPattern> {
    let p: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err(BadPattern);
                }
                i += 2;
            }
            '[' => i = class(&p, i + 1, '\0')?.1,
            _ => i += 1,
        }
    }
    Ok(())
}

/// Whether `name` matches `pattern` as a whole.
pub(crate) fn matches(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // Position of the last `*` seen and the name index it currently covers up to.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' if ni < n.len() => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' if ni < n.len() => {
                    let (ok, next) = class(&p, pi + 1, n[ni])?;
                    if ok {
                        pi = next;
                        ni += 1;
                        continue;
                    }
                }
                '\\' => {
                    let lit = *p.get(pi + 1).ok_or(BadPattern)?;
                    if ni < n.len() && n[ni] == lit {
                        pi += 2;
                        ni += 1;
                        continue;
                    }
                }
                c if ni < n.len() && c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        } else if ni == n.len() {
            return Ok(true);
        }
        // Mismatch: let the last `*` swallow one more character.
        match star {
            Some((sp, sn)) if sn < n.len() => {
                star = Some((sp, sn + 1));
                pi = sp + 1;
                ni = sn + 1;
            }
            _ => return Ok(false),
        }
    }
}

/// A malformed pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadPattern;

/// Matches `c` against the class starting at `p[i]` (just after `[`).
/// Returns whether it matched and the index just after the closing `]`.
fn class(p: &[char], mut i: usize, c: char) -> Result<(bool, usize), BadPattern> {
    let negate = matches!(p.get(i), Some('^' | '!'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        match p.get(i) {
            None => return Err(BadPattern),
            Some(']') if !first => return Ok((matched != negate, i + 1)),
            Some(']') => return Err(BadPattern),
            Some(_) => {}
        }
        first = false;
        let lo = class_char(p, &mut i)?;
        let hi = if p.get(i) == Some(&'-') && !matches!(p.get(i + 1), Some(']') | None) {
            i += 1;
            class_char(p, &mut i)?
        } else {
            lo
        };
        if lo <= c && c <= hi {
            matched = true;
        }
    }
}

/// Reads one (possibly `\`-escaped) character of a class.
fn class_char(p: &[char], i: &mut usize) -> Result<char, BadPattern> {
    let mut c = *p.get(*i).ok_or(BadPattern)?;
    if c == '\\' {
        *i += 1;
        c = *p.get(*i).ok_or(BadPattern)?;
    }
    *i += 1;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        let cases = [
            ("*", "", true),
            ("*", "abc", true),
            ("*.conf", "a.conf", true),
            ("*.conf", ".conf", true),
            ("*.conf", "a.conf.bak", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("?", "a", true),
            ("?", "", false),
            ("??", "a", false),
            ("[abc]x", "bx", true),
            ("[abc]x", "dx", false),
            ("[a-c]", "b", true),
            ("[^a-c]", "b", false),
            ("[!a-c]", "d", true),
            ("[a-]", "-", true),
            (r"\*", "*", true),
            (r"\*", "a", false),
            ("zone.[0-9]*", "zone.7.db", true),
            ("exact", "exact", true),
            ("exact", "exacT", false),
        ];
        for (pat, name, want) in cases {
            assert_eq!(matches(pat, name), Ok(want), "{pat:?} vs {name:?}");
        }
    }

    #[test]
    fn bad_patterns() {
        for pat in ["[", "[abc", "[]", r"a\", "[a-"] {
            assert_eq!(validate(pat), Err(BadPattern), "{pat:?}");
        }
        for pat in ["*", "a?[bc]*", r"\[", "[a-z]"] {
            assert_eq!(validate(pat), Ok(()), "{pat:?}");
        }
        assert!(has_meta("a*"));
        assert!(!has_meta("a.conf"));
    }
}
