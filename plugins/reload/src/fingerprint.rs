//! What "the Corefile changed" means: the *parsed* Corefile changed.
//!
//! Like CoreDNS, the file is parsed (imports pasted in, environment variables substituted)
//! and the result is hashed, so editing an imported file triggers a reload while adding a
//! trailing space or a comment at the end of a line does not. Every token counts with its
//! file, line and text, as in CoreDNS's JSON rendering of its server blocks (so a comment on
//! a line of its own, which moves the lines below it, does trigger a reload there too).
//!
//! CoreDNS hashes with SHA-512; here a 64-bit FNV-1a hash does the job (change detection
//! needs no collision resistance against an attacker who can already write the Corefile),
//! which keeps cryptography out of the dependencies. The hash is rendered as 16 hex digits.

use std::fmt;
use std::path::Path;

use signpost_corefile::{parse, ServerBlock, Token};

/// Name of the hash, the `hash` label of `coredns_reload_version_info`.
pub(crate) const HASH_NAME: &str = "fnv1a64";

/// A hash of a parsed Corefile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint(u64);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Why a Corefile could not be fingerprinted.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The file could not be read (CoreDNS skips the check silently).
    Io(std::io::Error),
    /// The file does not parse (CoreDNS logs a warning and skips the check).
    Parse(String),
}

/// Reads, parses and hashes the Corefile at `path` (blocking file I/O).
pub(crate) fn fingerprint_file(path: &Path) -> Result<Fingerprint, ReadError> {
    let text = std::fs::read_to_string(path).map_err(ReadError::Io)?;
    let blocks =
        parse(&path.to_string_lossy(), &text).map_err(|e| ReadError::Parse(e.to_string()))?;
    Ok(fingerprint_blocks(&blocks))
}

/// Hashes parsed server blocks.
pub(crate) fn fingerprint_blocks(blocks: &[ServerBlock]) -> Fingerprint {
    let mut h = Fnv1a64::new();
    for block in blocks {
        h.tag(b'B');
        for key in &block.keys {
            h.tag(b'K');
            h.bytes(key.text.as_bytes());
        }
        for directive in &block.directives {
            h.tag(b'D');
            for token in &directive.tokens {
                token_into(&mut h, token);
            }
        }
    }
    Fingerprint(h.finish())
}

fn token_into(h: &mut Fnv1a64, token: &Token) {
    h.tag(if token.quoted { b'Q' } else { b'T' });
    h.bytes(token.file.as_bytes());
    h.bytes(&token.line.to_le_bytes());
    h.bytes(token.text.as_bytes());
}

/// 64-bit FNV-1a. Variable-length fields are length-prefixed so that no two different
/// token lists feed the same byte stream.
struct Fnv1a64(u64);

impl Fnv1a64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Fnv1a64 {
        Fnv1a64(Self::OFFSET)
    }

    fn raw(&mut self, data: &[u8]) {
        for &b in data {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn tag(&mut self, t: u8) {
        self.raw(&[t]);
    }

    fn bytes(&mut self, data: &[u8]) {
        self.raw(&(data.len() as u64).to_le_bytes());
        self.raw(data);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> Fingerprint {
        fingerprint_blocks(&parse("Corefile", text).unwrap())
    }

    #[test]
    fn fnv1a64_reference_values() {
        // Published test vectors of FNV-1a 64.
        let mut h = Fnv1a64::new();
        assert_eq!(h.finish(), 0xcbf29ce484222325);
        h.raw(b"a");
        assert_eq!(h.finish(), 0xaf63dc4c8601ec8c);
        let mut h = Fnv1a64::new();
        h.raw(b"foobar");
        assert_eq!(h.finish(), 0x85944171f73967e8);
    }

    #[test]
    fn same_tokens_same_hash() {
        let a = of(". {\n    whoami\n    reload 10s\n}\n");
        assert_eq!(a, of(". {\n    whoami   # hello\n    reload   10s\n}"));
        assert_eq!(a.to_string().len(), 16);
    }

    #[test]
    fn meaning_or_position_changes_the_hash() {
        let a = of(". {\n    whoami\n    reload 10s\n}\n");
        for other in [
            ". {\n    whoami\n    reload 11s\n}\n",
            ".:1053 {\n    whoami\n    reload 10s\n}\n",
            ". {\n    reload 10s\n    whoami\n}\n",
            ". {\n    whoami\n    reload \"10s\"\n}\n",
            "# moved\n. {\n    whoami\n    reload 10s\n}\n",
            ". {\n    whoami\n    reload 10s\n}\nexample.org {\n    whoami\n}\n",
        ] {
            assert_ne!(a, of(other), "{other}");
        }
        // Token boundaries matter: "ab c" is not "a bc".
        assert_ne!(of(". {\n    ab c\n}"), of(". {\n    a bc\n}"));
    }

    #[test]
    fn imported_files_count() {
        let dir = std::env::temp_dir().join(format!("signpost-reload-fp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let main = dir.join("Corefile");
        let inc = dir.join("extra.conf");
        std::fs::write(&main, ". {\n    import extra.conf\n}\n").unwrap();
        std::fs::write(&inc, "whoami\n").unwrap();
        let a = fingerprint_file(&main).unwrap();
        std::fs::write(&inc, "log\n").unwrap();
        let b = fingerprint_file(&main).unwrap();
        assert_ne!(a, b);
        std::fs::write(&main, ". {\n    import extra.conf\n").unwrap();
        assert!(matches!(fingerprint_file(&main), Err(ReadError::Parse(_))));
        assert!(matches!(
            fingerprint_file(&dir.join("missing")),
            Err(ReadError::Io(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
