//! Placeholder substitution in token text.
//!
//! CoreDNS substitutes environment variables per token (in keys, directive
//! names and arguments, and import patterns), never in the raw file, so a
//! variable can not introduce extra words or braces. It understands
//! `{$VAR}` and `{%VAR%}`; we also accept Caddy v2's `{env.VAR}`. Unset
//! variables become the empty string. Unlike CoreDNS we do not rescan a
//! substituted value, so a value containing `{$X}` stays literal (CoreDNS
//! would expand it again, and loop forever on a self reference).
//!
//! Imports may pass arguments (`import snippet a b`); `{args[0]}`,
//! `{args[1]}`, ... in the imported tokens are replaced by them (missing
//! ones by the empty string).

/// Replaces environment placeholders in `s`.
pub(crate) fn expand(s: &str) -> String {
    if !s.contains('{') {
        return s.to_string();
    }
    let s = replace(s, "{%", "%}", lookup);
    let s = replace(&s, "{$", "}", lookup);
    replace(&s, "{env.", "}", lookup)
}

/// Replaces `{args[N]}` placeholders in `s` by `args[N]`.
pub(crate) fn expand_args(s: &str, args: &[String]) -> String {
    if !s.contains("{args[") {
        return s.to_string();
    }
    replace(s, "{args[", "]}", |idx| {
        idx.parse::<usize>()
            .ok()
            .and_then(|i| args.get(i).cloned())
            .unwrap_or_default()
    })
}

fn lookup(name: &str) -> String {
    std::env::var_os(name)
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Replaces every `start NAME end` in `s` by `value(NAME)`, scanning left to
/// right once. Empty names are left alone.
fn replace(s: &str, start: &str, end: &str, value: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(start) {
        let after = &rest[i + start.len()..];
        let Some(j) = after.find(end) else { break };
        if j == 0 {
            out.push_str(&rest[..i + start.len()]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..i]);
        out.push_str(&value(&after[..j]));
        rest = &after[j + end.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_forms() {
        std::env::set_var("SIGNPOST_ENV_TEST_A", "alpha");
        std::env::set_var("SIGNPOST_ENV_TEST_B", "{$SIGNPOST_ENV_TEST_A}");
        std::env::remove_var("SIGNPOST_ENV_TEST_UNSET");
        let cases = [
            ("plain", "plain"),
            ("{$SIGNPOST_ENV_TEST_A}", "alpha"),
            ("{env.SIGNPOST_ENV_TEST_A}", "alpha"),
            ("{%SIGNPOST_ENV_TEST_A%}", "alpha"),
            (
                "x{$SIGNPOST_ENV_TEST_A}y{$SIGNPOST_ENV_TEST_A}",
                "xalphayalpha",
            ),
            ("{$SIGNPOST_ENV_TEST_UNSET}", ""),
            ("a{$SIGNPOST_ENV_TEST_UNSET}b", "ab"),
            ("{$}", "{$}"),
            ("{$UNCLOSED", "{$UNCLOSED"),
            ("{}", "{}"),
            ("{$SIGNPOST_ENV_TEST_B}", "{$SIGNPOST_ENV_TEST_A}"),
        ];
        for (input, want) in cases {
            assert_eq!(expand(input), want, "input {input:?}");
        }
    }

    #[test]
    fn args() {
        let args = vec!["a".to_string(), "b".to_string()];
        assert_eq!(expand_args("{args[1]}-{args[0]}", &args), "b-a");
        assert_eq!(expand_args("x{args[5]}y", &args), "xy");
        assert_eq!(expand_args("none", &args), "none");
    }
}
