//! Domain names in wire form, held inline.
//!
//! A [`Name`] is the uncompressed wire encoding (length-prefixed labels ending in the root
//! label) in a fixed 255-byte array, so building, copying and hashing one never touches the
//! heap. Names are compared case-insensitively; [`Name::lowercase`] folds ASCII once so
//! that lookups can compare bytes.

use std::fmt;

/// Maximum wire length of a name (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// Maximum length of one label.
pub const MAX_LABEL_LEN: usize = 63;
/// Maximum compression pointers followed while reading one name; more means a loop.
const MAX_POINTERS: usize = 64;

/// Why a name could not be read or built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// The packet ended inside the name.
    Truncated,
    /// The name is longer than 255 bytes in wire form.
    TooLong,
    /// A label is longer than 63 bytes.
    LabelTooLong,
    /// A compression pointer points forward, at itself, or pointers loop.
    BadPointer,
    /// A label type other than a normal label or a pointer (e.g. the obsolete 0x40 types).
    BadLabelType,
    /// Text that is not a valid name (empty label, bad escape).
    BadText,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameError::Truncated => "name runs past the end of the message",
            NameError::TooLong => "name longer than 255 octets",
            NameError::LabelTooLong => "label longer than 63 octets",
            NameError::BadPointer => "bad compression pointer",
            NameError::BadLabelType => "unsupported label type",
            NameError::BadText => "malformed domain name",
        })
    }
}

impl std::error::Error for NameError {}

/// A domain name in uncompressed wire form.
#[derive(Clone, Copy)]
pub struct Name {
    len: u8,
    bytes: [u8; MAX_NAME_LEN],
}

impl Name {
    /// The root name `.`.
    pub const fn root() -> Name {
        Name {
            len: 1,
            bytes: [0; MAX_NAME_LEN],
        }
    }

    /// Read a possibly compressed name from `msg` at `offset`. Returns the name and the offset
    /// just after it in the original position (pointers followed do not move it).
    pub fn read(msg: &[u8], offset: usize) -> Result<(Name, usize), NameError> {
        let mut name = Name {
            len: 0,
            bytes: [0; MAX_NAME_LEN],
        };
        let mut pos = offset;
        let mut end = None;
        let mut jumps = 0;
        let mut out = 0usize;
        loop {
            let len = *msg.get(pos).ok_or(NameError::Truncated)? as usize;
            match len & 0xC0 {
                0x00 => {
                    if out + 1 + len > MAX_NAME_LEN {
                        return Err(NameError::TooLong);
                    }
                    if len == 0 {
                        name.bytes[out] = 0;
                        name.len = (out + 1) as u8;
                        return Ok((name, end.unwrap_or(pos + 1)));
                    }
                    let label = msg
                        .get(pos + 1..pos + 1 + len)
                        .ok_or(NameError::Truncated)?;
                    name.bytes[out] = len as u8;
                    name.bytes[out + 1..out + 1 + len].copy_from_slice(label);
                    out += 1 + len;
                    pos += 1 + len;
                }
                0xC0 => {
                    let low = *msg.get(pos + 1).ok_or(NameError::Truncated)? as usize;
                    let target = ((len & 0x3F) << 8) | low;
                    // Pointers must go backwards; with that, a bound on jumps stops loops.
                    if target >= pos || jumps >= MAX_POINTERS {
                        return Err(NameError::BadPointer);
                    }
                    jumps += 1;
                    if end.is_none() {
                        end = Some(pos + 2);
                    }
                    pos = target;
                }
                _ => return Err(NameError::BadLabelType),
            }
        }
    }

    /// Build from uncompressed wire bytes (must end in the root label, no pointers).
    pub fn from_wire(wire: &[u8]) -> Result<Name, NameError> {
        let mut p = 0usize;
        loop {
            let l = *wire.get(p).ok_or(NameError::Truncated)?;
            if l & 0xC0 != 0 {
                return Err(NameError::BadText);
            }
            if l == 0 {
                break;
            }
            p += 1 + l as usize;
        }
        if p + 1 != wire.len() {
            return Err(NameError::BadText);
        }
        Ok(Name::read(wire, 0)?.0)
    }

    /// Parse presentation text: `example.org.`, `example.org` (taken as absolute), `.`.
    /// Supports `\DDD` and `\X` escapes.
    pub fn from_text(text: &str) -> Result<Name, NameError> {
        let mut name = Name::root();
        if text == "." || text.is_empty() {
            return if text.is_empty() {
                Err(NameError::BadText)
            } else {
                Ok(name)
            };
        }
        let src = text.as_bytes();
        let mut out = 0usize;
        let mut label_start = 0usize;
        let mut label_len = 0usize;
        let mut i = 0;
        let push = |name: &mut Name, out: &mut usize, b: u8, label_len: &mut usize| {
            if *label_len >= MAX_LABEL_LEN {
                return Err(NameError::LabelTooLong);
            }
            if *out + 2 > MAX_NAME_LEN - 1 {
                return Err(NameError::TooLong);
            }
            *out += 1;
            name.bytes[*out] = b;
            *label_len += 1;
            Ok(())
        };
        // name.bytes[label_start] holds the length of the label being written.
        while i < src.len() {
            let c = src[i];
            match c {
                b'.' => {
                    if label_len == 0 {
                        return Err(NameError::BadText);
                    }
                    name.bytes[label_start] = label_len as u8;
                    out += 1;
                    label_start = out;
                    label_len = 0;
                    i += 1;
                }
                b'\\' => {
                    let rest = &src[i + 1..];
                    if rest.len() >= 3 && rest[..3].iter().all(u8::is_ascii_digit) {
                        let v = (rest[0] - b'0') as u32 * 100
                            + (rest[1] - b'0') as u32 * 10
                            + (rest[2] - b'0') as u32;
                        if v > 255 {
                            return Err(NameError::BadText);
                        }
                        push(&mut name, &mut out, v as u8, &mut label_len)?;
                        i += 4;
                    } else if let Some(&e) = rest.first() {
                        push(&mut name, &mut out, e, &mut label_len)?;
                        i += 2;
                    } else {
                        return Err(NameError::BadText);
                    }
                }
                _ => {
                    push(&mut name, &mut out, c, &mut label_len)?;
                    i += 1;
                }
            }
        }
        if label_len > 0 {
            name.bytes[label_start] = label_len as u8;
            out += 1;
            label_start = out;
        }
        if label_start >= MAX_NAME_LEN {
            return Err(NameError::TooLong);
        }
        name.bytes[label_start] = 0;
        name.len = (label_start + 1) as u8;
        Ok(name)
    }

    /// The uncompressed wire bytes, root label included.
    pub fn wire(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// Wire length in bytes.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True for the root name.
    pub fn is_root(&self) -> bool {
        self.len == 1
    }

    /// Fold ASCII upper case to lower case in place.
    pub fn make_lowercase(&mut self) {
        let n = self.len as usize;
        let mut p = 0;
        while p < n && self.bytes[p] != 0 {
            let l = self.bytes[p] as usize;
            self.bytes[p + 1..p + 1 + l].make_ascii_lowercase();
            p += 1 + l;
        }
    }

    /// A lower-cased copy.
    pub fn lowercase(&self) -> Name {
        let mut n = *self;
        n.make_lowercase();
        n
    }

    /// Iterate the labels, leftmost first, without length bytes.
    pub fn labels(&self) -> Labels<'_> {
        Labels {
            wire: self.wire(),
            pos: 0,
        }
    }

    /// Number of labels, not counting the root.
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// Byte offsets where each suffix starts, leftmost (the whole name) first; the root is
    /// not included.
    pub fn suffix_offsets(&self) -> impl Iterator<Item = usize> + '_ {
        let w = self.wire();
        let mut p = 0usize;
        std::iter::from_fn(move || {
            if w[p] == 0 {
                None
            } else {
                let at = p;
                p += 1 + w[p] as usize;
                Some(at)
            }
        })
    }

    /// The name without its first `n` labels (the root stays).
    pub fn strip_labels(&self, n: usize) -> Name {
        let mut p = 0usize;
        let w = self.wire();
        for _ in 0..n {
            if w[p] == 0 {
                break;
            }
            p += 1 + w[p] as usize;
        }
        let mut out = Name::root();
        let rest = &w[p..];
        out.bytes[..rest.len()].copy_from_slice(rest);
        out.len = rest.len() as u8;
        out
    }

    /// The wire bytes of the suffix starting at byte offset `at` (as from `suffix_offsets`).
    pub fn suffix_wire(&self, at: usize) -> &[u8] {
        &self.wire()[at..]
    }

    /// True when `self` equals `zone` or lies below it (case-insensitive).
    pub fn is_subdomain_of(&self, zone: &Name) -> bool {
        let (s, z) = (self.wire(), zone.wire());
        if z.len() > s.len() {
            return false;
        }
        let start = s.len() - z.len();
        // The suffix must begin on a label boundary.
        let on_boundary =
            start == 0 || start == s.len() - 1 || self.suffix_offsets().any(|o| o == start);
        on_boundary && s[start..].eq_ignore_ascii_case(z)
    }

    /// Prepend one label. Fails when the result would be too long.
    pub fn prepend_label(&self, label: &[u8]) -> Result<Name, NameError> {
        if label.is_empty() || label.len() > MAX_LABEL_LEN {
            return Err(NameError::LabelTooLong);
        }
        let total = self.len() + 1 + label.len();
        if total > MAX_NAME_LEN {
            return Err(NameError::TooLong);
        }
        let mut out = Name::root();
        out.bytes[0] = label.len() as u8;
        out.bytes[1..1 + label.len()].copy_from_slice(label);
        out.bytes[1 + label.len()..total].copy_from_slice(self.wire());
        out.len = total as u8;
        Ok(out)
    }

    /// Join `self` (relative labels, its root dropped) in front of `zone`.
    pub fn concat(&self, zone: &Name) -> Result<Name, NameError> {
        let head = &self.wire()[..self.len() - 1];
        let total = head.len() + zone.len();
        if total > MAX_NAME_LEN {
            return Err(NameError::TooLong);
        }
        let mut out = Name::root();
        out.bytes[..head.len()].copy_from_slice(head);
        out.bytes[head.len()..total].copy_from_slice(zone.wire());
        out.len = total as u8;
        Ok(out)
    }

    /// Presentation form with a trailing dot, escaping as RFC 4343 / miekg/dns does.
    pub fn to_text(&self) -> String {
        self.to_string()
    }
}

impl Default for Name {
    fn default() -> Self {
        Name::root()
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.wire().eq_ignore_ascii_case(other.wire())
    }
}

impl Eq for Name {}

impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for b in self.wire() {
            state.write_u8(b.to_ascii_lowercase());
        }
    }
}

impl std::str::FromStr for Name {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Name, NameError> {
        Name::from_text(s)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str(".");
        }
        for label in self.labels() {
            for &b in label {
                match b {
                    b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b' ' | b'@' | b'$' => {
                        write!(f, "\\{}", b as char)?
                    }
                    0x21..=0x7E => write!(f, "{}", b as char)?,
                    _ => write!(f, "\\{:03}", b)?,
                }
            }
            f.write_str(".")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

/// Iterator over a name's labels.
pub struct Labels<'a> {
    wire: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let l = *self.wire.get(self.pos)? as usize;
        if l == 0 {
            return None;
        }
        let label = &self.wire[self.pos + 1..self.pos + 1 + l];
        self.pos += 1 + l;
        Some(label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        for t in ["example.org.", ".", "a.b.c.", "xn--bcher-kva.example."] {
            assert_eq!(Name::from_text(t).unwrap().to_string(), t);
        }
        assert_eq!(
            Name::from_text("example.org").unwrap().to_string(),
            "example.org."
        );
        assert_eq!(Name::from_text("a\\.b.c.").unwrap().label_count(), 2);
        assert_eq!(Name::from_text("a\\032b.").unwrap().to_string(), "a\\ b.");
        assert!(Name::from_text("a..b.").is_err());
        assert!(Name::from_text(&"a".repeat(64)).is_err());
        let long = vec!["abcdefghi"; 26].join(".");
        assert!(Name::from_text(&long).is_err());
    }

    #[test]
    fn compare_and_subdomain() {
        let a = Name::from_text("WWW.Example.ORG.").unwrap();
        let b = Name::from_text("www.example.org.").unwrap();
        assert_eq!(a, b);
        let zone = Name::from_text("example.org.").unwrap();
        assert!(a.is_subdomain_of(&zone));
        assert!(zone.is_subdomain_of(&zone));
        assert!(a.is_subdomain_of(&Name::root()));
        assert!(!Name::from_text("xexample.org.")
            .unwrap()
            .is_subdomain_of(&zone));
        assert!(!zone.is_subdomain_of(&a));
        assert_eq!(a.lowercase().wire(), b.wire());
        assert_eq!(a.strip_labels(1), zone);
        assert_eq!(a.strip_labels(9), Name::root());
    }

    #[test]
    fn read_compressed_and_reject_loops() {
        // "example.org." at 0, then "www" + pointer to 0.
        let mut msg = vec![7];
        msg.extend_from_slice(b"example");
        msg.push(3);
        msg.extend_from_slice(b"org");
        msg.push(0);
        let at = msg.len();
        msg.push(3);
        msg.extend_from_slice(b"www");
        msg.extend_from_slice(&[0xC0, 0x00]);
        let (n, end) = Name::read(&msg, at).unwrap();
        assert_eq!(n.to_string(), "www.example.org.");
        assert_eq!(end, msg.len());
        // A pointer to itself.
        assert_eq!(
            Name::read(&[0xC0, 0x00], 0).unwrap_err(),
            NameError::BadPointer
        );
        // A forward pointer.
        assert_eq!(
            Name::read(&[0xC0, 0x02, 0], 0).unwrap_err(),
            NameError::BadPointer
        );
        assert_eq!(Name::read(&[5, b'a'], 0).unwrap_err(), NameError::Truncated);
        assert_eq!(Name::read(&[0x40], 0).unwrap_err(), NameError::BadLabelType);
        // 5 labels of 63 bytes: over 255.
        let mut big = Vec::new();
        for _ in 0..5 {
            big.push(63);
            big.extend_from_slice(&[b'a'; 63]);
        }
        big.push(0);
        assert_eq!(Name::read(&big, 0).unwrap_err(), NameError::TooLong);
    }

    #[test]
    fn build_names() {
        let zone = Name::from_text("cluster.local.").unwrap();
        let n = zone.prepend_label(b"svc").unwrap();
        assert_eq!(n.to_string(), "svc.cluster.local.");
        let rel = Name::from_text("a.b.").unwrap();
        assert_eq!(rel.concat(&zone).unwrap().to_string(), "a.b.cluster.local.");
    }
}
