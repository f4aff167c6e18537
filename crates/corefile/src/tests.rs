//! Whole-language tests through the public API: structure, substitution,
//! imports, snippets, and every parse error with its exact text.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{parse, parse_file, ServerBlock};

const KUBEADM: &str = r".:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
";

fn keys(b: &ServerBlock) -> Vec<&str> {
    b.keys.iter().map(|k| k.text.as_str()).collect()
}

fn names(b: &ServerBlock) -> Vec<&str> {
    b.directives.iter().map(|d| d.name()).collect()
}

fn words(b: &ServerBlock, i: usize) -> Vec<&str> {
    b.directives[i]
        .tokens
        .iter()
        .map(|t| t.text.as_str())
        .collect()
}

fn err(text: &str) -> String {
    parse("Corefile", text).unwrap_err().to_string()
}

/// A scratch directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "signpost-corefile-{}-{}-{tag}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn kubeadm_corefile() {
    let blocks = parse("Corefile", KUBEADM).unwrap();
    assert_eq!(blocks.len(), 1);
    let b = &blocks[0];
    assert_eq!(keys(b), vec![".:53"]);
    assert_eq!(b.keys[0].line, 1);
    assert_eq!(
        names(b),
        vec![
            "errors",
            "health",
            "ready",
            "kubernetes",
            "prometheus",
            "forward",
            "cache",
            "loop",
            "reload",
            "loadbalance"
        ]
    );
    assert_eq!(words(b, 1), vec!["health", "{", "lameduck", "5s", "}"]);
    assert_eq!(
        words(b, 3),
        vec![
            "kubernetes",
            "cluster.local",
            "in-addr.arpa",
            "ip6.arpa",
            "{",
            "pods",
            "insecure",
            "fallthrough",
            "in-addr.arpa",
            "ip6.arpa",
            "ttl",
            "30",
            "}"
        ]
    );
    assert_eq!(words(b, 4), vec!["prometheus", ":9153"]);
    assert_eq!(words(b, 6)[..3], ["cache", "30", "{"]);
    let lines: Vec<u32> = b.directives.iter().map(|d| d.line()).collect();
    assert_eq!(lines, vec![2, 3, 6, 7, 12, 13, 16, 20, 21, 22]);
    assert!(b.directives.iter().all(|d| d.file() == "Corefile"));
    assert_eq!(b.directives[3].tokens.last().unwrap().line, 11);
    let zones = b.zone_addrs(53).unwrap();
    assert_eq!(zones.len(), 1);
    assert_eq!(zones[0].to_string(), "dns://.:53");
}

#[test]
fn multiple_keys_and_blocks() {
    let text = "example.org example.net:1053 {\n whoami\n}\n\
                a.org,\n  b.org, c.org {\n log\n}\n\
                d.org } {\n}";
    let err = parse("Corefile", text).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Corefile:8 - Error during parsing: Unexpected '}' because no matching opening brace"
    );
    let blocks = parse("Corefile", &text[..text.rfind("d.org").unwrap()]).unwrap();
    assert_eq!(blocks.len(), 2);
    assert_eq!(keys(&blocks[0]), vec!["example.org", "example.net:1053"]);
    assert_eq!(keys(&blocks[1]), vec!["a.org", "b.org", "c.org"]);
    assert_eq!(blocks[1].keys[1].line, 5);
    assert_eq!(names(&blocks[1]), vec!["log"]);
    // Brace on the line after the keys; block closed on the same line as a
    // nested block's close is fine too.
    let blocks = parse("Corefile", "example.org\n{\n whoami\n}\n. {\n}").unwrap();
    assert_eq!(blocks.len(), 2);
    assert_eq!(names(&blocks[0]), vec!["whoami"]);
    assert!(blocks[1].directives.is_empty());
}

#[test]
fn repeated_directives_stay_separate() {
    let b = &parse(
        "Corefile",
        ". {\n hosts a\n hosts b {\n  fallthrough\n }\n}",
    )
    .unwrap()[0];
    assert_eq!(names(b), vec!["hosts", "hosts"]);
    assert_eq!(words(b, 0), vec!["hosts", "a"]);
    assert_eq!(words(b, 1), vec!["hosts", "b", "{", "fallthrough", "}"]);
}

#[test]
fn quoted_strings_and_comments() {
    let text = "# leading comment\n. { # after brace\n  template IN A \"x y\" \"a\\\"b\"\n  # whole line\n  log \"multi\nline\" after\n  errors#glued\n}\n";
    let b = &parse("Corefile", text).unwrap()[0];
    assert_eq!(names(b), vec!["template", "log", "errors"]);
    assert_eq!(words(b, 0), vec!["template", "IN", "A", "x y", "a\"b"]);
    assert!(b.directives[0].tokens[3].quoted);
    assert_eq!(words(b, 1), vec!["log", "multi\nline", "after"]);
    assert_eq!(b.directives[1].tokens[2].line, 6);
    assert_eq!(b.directives[2].line(), 7);
}

#[test]
fn braceless_single_block() {
    let blocks = parse("Corefile", ".:1053\nwhoami\nlog {\n  class all\n}\n").unwrap();
    assert_eq!(blocks.len(), 1);
    assert_eq!(keys(&blocks[0]), vec![".:1053"]);
    assert_eq!(names(&blocks[0]), vec!["whoami", "log"]);
    let only_keys = parse("Corefile", "example.org").unwrap();
    assert_eq!(keys(&only_keys[0]), vec!["example.org"]);
    assert!(only_keys[0].directives.is_empty());
    assert!(parse("Corefile", "  # nothing\n").unwrap().is_empty());
}

#[test]
fn env_substitution() {
    std::env::set_var("SIGNPOST_T_ZONE", "example.org");
    std::env::set_var("SIGNPOST_T_UP", "8.8.8.8 ignored");
    std::env::remove_var("SIGNPOST_T_UNSET");
    let text = "{$SIGNPOST_T_ZONE}:{env.SIGNPOST_T_UNSET}1053 {\n forward . {env.SIGNPOST_T_UP}\n log x{$SIGNPOST_T_UNSET}y {%SIGNPOST_T_ZONE%}\n}";
    let b = &parse("Corefile", text).unwrap()[0];
    assert_eq!(keys(b), vec!["example.org:1053"]);
    // A value is one word even if it contains spaces.
    assert_eq!(words(b, 0), vec!["forward", ".", "8.8.8.8 ignored"]);
    assert_eq!(words(b, 1), vec!["log", "xy", "example.org"]);
    // An unset variable as the only key leaves the block without keys.
    assert_eq!(
        err("{$SIGNPOST_T_UNSET} {\n}"),
        "Corefile:1 - Error during parsing: Missing server block key"
    );
}

#[test]
fn snippets() {
    let text = "(common) {\n  errors\n  log {args[0]}\n}\n\
                (fwd) {\n  max_fails 3\n}\n\
                example.org {\n  import common extra\n  forward . 1.1.1.1 {\n    import fwd\n  }\n}\n\
                example.net {\n  import common\n}";
    let blocks = parse("Corefile", text).unwrap();
    assert_eq!(blocks.len(), 2);
    assert_eq!(names(&blocks[0]), vec!["errors", "log", "forward"]);
    assert_eq!(words(&blocks[0], 1), vec!["log", "extra"]);
    assert_eq!(
        blocks[0].directives[1].line(),
        3,
        "snippet tokens keep their own lines"
    );
    assert_eq!(
        words(&blocks[0], 2),
        vec!["forward", ".", "1.1.1.1", "{", "max_fails", "3", "}"]
    );
    assert_eq!(names(&blocks[1]), vec!["errors", "log"]);
    assert_eq!(words(&blocks[1], 1), vec!["log", ""]);
    // Top-level import of a snippet holding whole server blocks.
    let blocks = parse(
        "Corefile",
        "(blocks) {\n a.org {\n  whoami\n }\n}\nimport blocks\nb.org {\n}",
    )
    .unwrap();
    assert_eq!(blocks.len(), 2);
    assert_eq!(keys(&blocks[0]), vec!["a.org"]);
    assert_eq!(keys(&blocks[1]), vec!["b.org"]);
}

#[test]
fn import_file_and_glob() {
    let dir = TempDir::new("glob");
    dir.write("conf.d/a.conf", "log\n");
    dir.write(
        "conf.d/b.conf",
        "errors {\n  consolidate 5m \".* i/o timeout$\"\n}\n",
    );
    dir.write("conf.d/skip.txt", "bogus\n");
    dir.write("zones/example.org", "example.org {\n  whoami\n}\n");
    let main = dir.write(
        "Corefile",
        "import zones/*\n. {\n  import conf.d/*.conf\n  import conf.d/[x]*.conf\n  cache\n}\n",
    );
    let blocks = parse_file(&main).unwrap();
    assert_eq!(blocks.len(), 2);
    assert_eq!(keys(&blocks[0]), vec!["example.org"]);
    assert_eq!(
        blocks[0].directives[0].file(),
        dir.path("zones/example.org")
    );
    assert_eq!(names(&blocks[1]), vec!["log", "errors", "cache"]);
    assert_eq!(blocks[1].directives[1].line(), 1);
    assert_eq!(blocks[1].directives[2].file(), main.to_string_lossy());

    // The same text parsed with the file name given: relative to its directory.
    let text = std::fs::read_to_string(&main).unwrap();
    assert_eq!(parse(&main.to_string_lossy(), &text).unwrap(), blocks);

    // A single file, nested relative import, and an error inside it.
    dir.write("inc/one.conf", "import two.conf\n");
    dir.write("inc/two.conf", "whoami\nhosts {\n  ttls 5\n  } }\n");
    let main = dir.write("Single", ". {\n  import inc/one.conf\n}\n");
    let e = parse_file(&main).unwrap_err();
    assert_eq!(e.file, dir.path("inc/two.conf"));
    assert_eq!(
        e.to_string(),
        format!(
            "{}:4 - Error during parsing: Unexpected '}}' because no matching opening brace",
            dir.path("inc/two.conf")
        )
    );
}

#[test]
fn import_errors() {
    let dir = TempDir::new("errors");
    let main = dir.write("Corefile", ". {\n  import missing.conf\n}\n");
    let shown = main.to_string_lossy().into_owned();
    assert_eq!(
        parse_file(&main).unwrap_err().to_string(),
        format!("{shown}:2 - Error during parsing: File to import not found: missing.conf")
    );
    // A glob without matches is fine.
    dir.write("Corefile", ". {\n  import nothing/*.conf\n  whoami\n}\n");
    assert_eq!(names(&parse_file(&main).unwrap()[0]), vec!["whoami"]);
    // Self import through a glob.
    dir.write("Corefile", ". {\n  import *\n}\n");
    assert_eq!(
        parse_file(&main).unwrap_err().to_string(),
        format!("{shown}:2 - Error during parsing: Import cycle detected: {shown} -> {shown}")
    );
    // a -> b -> a
    dir.write("a.conf", "import b.conf\n");
    dir.write("b.conf", "import a.conf\n");
    dir.write("Corefile", ". {\n  import a.conf\n}\n");
    let (a, b) = (dir.path("a.conf"), dir.path("b.conf"));
    assert_eq!(
        parse_file(&main).unwrap_err().to_string(),
        format!("{b}:1 - Error during parsing: Import cycle detected: {a} -> {b} -> {a}")
    );
    // A directory.
    std::fs::create_dir_all(dir.0.join("sub")).unwrap();
    dir.write("Corefile", ". {\n  import sub\n}\n");
    assert_eq!(
        parse_file(&main).unwrap_err().to_string(),
        format!(
            "{shown}:2 - Error during parsing: Could not import {}: is a directory",
            dir.path("sub")
        )
    );
    // A broken pattern.
    dir.write("Corefile", ". {\n  import [x\n}\n");
    assert_eq!(
        parse_file(&main).unwrap_err().to_string(),
        format!("{shown}:2 - Error during parsing: Failed to use import pattern [x: syntax error in pattern")
    );
    // The top-level file itself.
    let missing = dir.0.join("nope");
    assert!(parse_file(&missing)
        .unwrap_err()
        .to_string()
        .starts_with(&format!(
            "{}:0 - Error during parsing: Could not read file: ",
            missing.display()
        )));
}

#[test]
fn parse_errors() {
    let cases = [
        (
            ". {\n  whoami\n",
            "Corefile:2 - Syntax error: Unexpected token 'whoami', expecting '}'",
        ),
        (". {", "Corefile:1 - Syntax error: Unexpected token '{', expecting '}'"),
        (
            ". {\n  forward . 1.1.1.1 {\n    max_fails 3\n",
            "Corefile:3 - Error during parsing: Unexpected EOF",
        ),
        // The `}` closes forward's block; the server block is left open.
        (
            ". {\n  forward . 1.1.1.1 {\n    max_fails 3\n}\n",
            "Corefile:4 - Syntax error: Unexpected token '}', expecting '}'",
        ),
        (
            ". {\n}\n}\n",
            "Corefile:3 - Error during parsing: Unexpected '}' because no matching opening brace",
        ),
        (
            ". {\n  whoami }\n",
            "Corefile:2 - Error during parsing: Unexpected '}' because no matching opening brace",
        ),
        (
            ".\nwhoami\n}\n",
            "Corefile:3 - Error during parsing: Unexpected '}' because no matching opening brace",
        ),
        (
            "a.org, {\n}",
            "Corefile:1 - Error during parsing: Expected another address but had '{' - check for extra comma",
        ),
        ("a.org,", "Corefile:1 - Error during parsing: Unexpected EOF"),
        ("{\n  whoami\n}", "Corefile:1 - Error during parsing: Missing server block key"),
        (
            "a.org {\n}\n\n, b.org {\n}",
            "Corefile:4 - Error during parsing: Empty server block key",
        ),
        (
            "example.org:99999 {\n}",
            "Corefile:1 - Error during parsing: Unable to parse server block key 'example.org:99999': invalid port '99999'",
        ),
        (
            ". {\n}\nbad..zone {\n}",
            "Corefile:3 - Error during parsing: Unable to parse server block key 'bad..zone': zone is not a valid domain name: bad..zone",
        ),
        (
            "foo://x {\n}",
            "Corefile:1 - Error during parsing: Unable to parse server block key 'foo://x': unsupported transport 'foo://'",
        ),
        (
            ". {\n  import\n}",
            "Corefile:2 - Error during parsing: Wrong argument count or unexpected line ending after 'import'",
        ),
        (
            ". {\n  import \"\"\n}",
            "Corefile:2 - Error during parsing: Import requires a non-empty filepath",
        ),
        (
            ". {\n  import no-such-snippet-or-file\n}",
            "Corefile:2 - Error during parsing: File to import not found: no-such-snippet-or-file",
        ),
        (
            "(s) {\n}\n(s) {\n}",
            "Corefile:3 - Error during parsing: redeclaration of previously declared snippet s",
        ),
        ("(s)\nwhoami\n", "Corefile:2 - Syntax error: Unexpected token 'whoami', expecting '{'"),
        ("(s) {\n  whoami\n", "Corefile:2 - Syntax error: Unexpected token 'whoami', expecting '}'"),
        (
            "(s) {\n  import s\n}\n. {\n  import s\n}",
            "Corefile:2 - Error during parsing: Import cycle detected: (s) -> (s)",
        ),
        (
            "(a) {\n  import b\n}\n(b) {\n  import a\n}\n. {\n  import a\n}",
            "Corefile:5 - Error during parsing: Import cycle detected: (a) -> (b) -> (a)",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(err(text), want, "input {text:?}");
    }
}

#[test]
fn errors_name_plugins_and_directives() {
    let b = &parse("Corefile", ". {\n  errors\n  foo bar\n}").unwrap()[0];
    let d = &b.directives[1];
    assert_eq!(
        d.err(format!("Unknown directive '{}'", d.name()))
            .to_string(),
        "Corefile:3 - Error during parsing: Unknown directive 'foo'"
    );
    assert_eq!(
        d.err("x").with_plugin("foo").to_string(),
        "plugin/foo: Corefile:3 - Error during parsing: x"
    );
}
