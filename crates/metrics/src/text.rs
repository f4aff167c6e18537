//! Helpers for writing the Prometheus text exposition format (version 0.0.4).
//!
//! The output mirrors what the Go client (`github.com/prometheus/common/expfmt`)
//! produces, so scrapes of signpost look like scrapes of CoreDNS:
//!
//! * floats use Go's `strconv.FormatFloat(v, 'g', -1, 64)` rules (shortest
//!   round-trip digits, exponent form when the decimal exponent is `< -4` or
//!   `>= 6`, at least two exponent digits: `1e-05`, `1.5e+06`), with the
//!   special values `NaN`, `+Inf` and `-Inf`;
//! * label values escape `\`, `"` and newline; help text escapes `\` and newline;
//! * label pairs are written in label-name order (the Go client sorts them).
//!
//! These functions are public so that callback collectors (see
//! [`Registry::register_collector`](crate::Registry::register_collector)) can
//! produce output that is consistent with the built-in metric types.

use std::fmt::Write as _;

/// Appends `v` formatted the way the Prometheus Go client formats sample values.
pub fn write_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if v == 0.0 {
        // Also covers -0.0, which Go prints as "0" here.
        out.push('0');
        return;
    }
    if v < 0.0 {
        out.push('-');
    }
    // Rust's `{:e}` yields the shortest round-trip digits, e.g. "2.5e-4".
    let mut sci = String::with_capacity(32);
    let _ = write!(sci, "{:e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (lead, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    // `lead` is a single non-zero digit; `digits` are all significant digits.
    let ndigits = lead.len() + frac.len();

    if !(-4..6).contains(&exp) {
        out.push_str(lead);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        let _ = write!(out, "{e}");
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(lead);
        out.push_str(frac);
    } else {
        let int_len = exp as usize + 1;
        if ndigits <= int_len {
            out.push_str(lead);
            out.push_str(frac);
            for _ in 0..(int_len - ndigits) {
                out.push('0');
            }
        } else {
            // lead is one digit, so the integer part takes int_len - 1 chars of frac.
            out.push_str(lead);
            out.push_str(&frac[..int_len - 1]);
            out.push('.');
            out.push_str(&frac[int_len - 1..]);
        }
    }
}

/// Returns `v` formatted the way the Prometheus Go client formats sample values.
pub fn format_float(v: f64) -> String {
    let mut s = String::new();
    write_float(&mut s, v);
    s
}

/// Appends a label value with `\`, `"` and newline escaped.
pub fn write_escaped_label_value(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Appends help text with `\` and newline escaped.
fn write_escaped_help(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Appends the `# HELP` and `# TYPE` lines of a metric family.
///
/// `kind` is one of `counter`, `gauge`, `histogram`, `summary`, `untyped`.
pub fn write_header(out: &mut String, name: &str, help: &str, kind: &str) {
    out.push_str("# HELP ");
    out.push_str(name);
    out.push(' ');
    write_escaped_help(out, help);
    out.push_str("\n# TYPE ");
    out.push_str(name);
    out.push(' ');
    out.push_str(kind);
    out.push('\n');
}

/// Appends one sample line: `name{l1="v1",...} value`.
///
/// Label pairs are written sorted by label name (as the Go client does),
/// whatever order they are given in.
pub fn write_sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    let mut sorted: Vec<&(&str, &str)> = labels.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    out.push_str(name);
    if !sorted.is_empty() {
        out.push('{');
        for (i, (k, v)) in sorted.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(k);
            out.push_str("=\"");
            write_escaped_label_value(out, v);
            out.push('"');
        }
        out.push('}');
    }
    out.push(' ');
    write_float(out, value);
    out.push('\n');
}

/// Appends `{n1="v1",...,extra="x"}` for parallel name/value slices (already in
/// output order); nothing when there are no labels at all.
pub(crate) fn write_labels<N: AsRef<str>, V: AsRef<str>>(
    out: &mut String,
    names: &[N],
    values: &[V],
    extra: Option<(&str, &str)>,
) {
    if names.is_empty() && extra.is_none() {
        return;
    }
    out.push('{');
    let mut first = true;
    for (n, v) in names.iter().zip(values) {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(n.as_ref());
        out.push_str("=\"");
        write_escaped_label_value(out, v.as_ref());
        out.push('"');
    }
    if let Some((n, v)) = extra {
        if !first {
            out.push(',');
        }
        out.push_str(n);
        out.push_str("=\"");
        write_escaped_label_value(out, v);
        out.push('"');
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_go() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (0.00025, "0.00025"),
            (0.0005, "0.0005"),
            (0.000125, "0.000125"),
            (1e-5, "1e-05"),
            (2.5e-5, "2.5e-05"),
            (8.192, "8.192"),
            (0.1, "0.1"),
            (100.0, "100"),
            (511.0, "511"),
            (16e3, "16000"),
            (64e3, "64000"),
            (123456.0, "123456"),
            (999999.0, "999999"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (1.5e21, "1.5e+21"),
            (1e100, "1e+100"),
            (-3.25, "-3.25"),
            (12.5, "12.5"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ];
        for (v, want) in cases {
            assert_eq!(format_float(*v), *want, "formatting {v:?}");
        }
    }

    #[test]
    fn escaping() {
        let mut s = String::new();
        write_escaped_label_value(&mut s, "a\\b\"c\nd");
        assert_eq!(s, "a\\\\b\\\"c\\nd");
        let mut h = String::new();
        write_header(&mut h, "x", "line \"one\"\nback\\slash", "gauge");
        assert_eq!(h, "# HELP x line \"one\"\\nback\\\\slash\n# TYPE x gauge\n");
    }

    #[test]
    fn sample_sorts_labels() {
        let mut s = String::new();
        write_sample(
            &mut s,
            "coredns_build_info",
            &[
                ("version", "1.0"),
                ("revision", "abc"),
                ("goversion", "rust"),
            ],
            1.0,
        );
        assert_eq!(
            s,
            "coredns_build_info{goversion=\"rust\",revision=\"abc\",version=\"1.0\"} 1\n"
        );
        let mut s = String::new();
        write_sample(&mut s, "up", &[], 0.5);
        assert_eq!(s, "up 0.5\n");
    }
}
