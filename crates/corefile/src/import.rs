//! Where `import` finds its tokens, and how import loops are caught.
//!
//! A pattern that is not a snippet name is a file path or glob, relative to
//! the directory of the file containing the `import` (CoreDNS does the same,
//! so a Corefile can be moved together with its includes). Imported tokens
//! are named by the imported file's absolute, cleaned path, as in CoreDNS,
//! so errors point into the right file.
//!
//! CoreDNS stops runaway imports only by counting expansions; we also keep,
//! for every token, the chain of imports that produced it, so a cycle is
//! reported as such, naming the files or snippets involved.

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use crate::glob;

/// What an import pulls in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SourceKey {
    /// A file, by canonical path.
    File(PathBuf),
    /// A snippet, by name.
    Snippet(String),
}

/// An import source and the name to show for it.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    key: SourceKey,
    display: String,
}

impl Source {
    /// The top-level file (`name` as given by the user).
    pub(crate) fn root(name: &str) -> Source {
        let abs = absolute(Path::new(name));
        let key = fs::canonicalize(&abs).unwrap_or(abs);
        Source {
            key: SourceKey::File(key),
            display: name.to_string(),
        }
    }

    /// An imported file at absolute path `path`.
    pub(crate) fn file(path: &Path) -> Source {
        Source {
            key: SourceKey::File(fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())),
            display: path.to_string_lossy().into_owned(),
        }
    }

    /// A snippet.
    pub(crate) fn snippet(name: &str) -> Source {
        Source {
            key: SourceKey::Snippet(name.to_string()),
            display: format!("({name})"),
        }
    }
}

/// The chain of imports that produced a token, innermost first.
#[derive(Debug)]
pub(crate) struct Chain {
    source: Source,
    parent: Option<Rc<Chain>>,
}

impl Chain {
    /// A chain with just the top-level file.
    pub(crate) fn root(name: &str) -> Rc<Chain> {
        Rc::new(Chain {
            source: Source::root(name),
            parent: None,
        })
    }

    /// `self` extended by `source`, or an error message if `source` is
    /// already part of it.
    pub(crate) fn push(self: &Rc<Chain>, source: Source) -> Result<Rc<Chain>, String> {
        let mut path = vec![source.display.clone()];
        let mut cur = Some(self);
        while let Some(link) = cur {
            path.push(link.source.display.clone());
            if link.source.key == source.key {
                path.reverse();
                return Err(format!("Import cycle detected: {}", path.join(" -> ")));
            }
            cur = link.parent.as_ref();
        }
        Ok(Rc::new(Chain {
            source,
            parent: Some(Rc::clone(self)),
        }))
    }
}

/// Files matching `pattern`, imported from a file named `importing_file`,
/// as absolute paths in Go's `filepath.Glob` order.
pub(crate) fn resolve(pattern: &str, importing_file: &str) -> Result<Vec<PathBuf>, String> {
    let pat = Path::new(pattern);
    let full = if pat.is_absolute() {
        clean(pat)
    } else {
        let base = absolute(Path::new(importing_file));
        let dir = base.parent().unwrap_or(Path::new("/"));
        clean(&dir.join(pat))
    };
    for comp in full.components() {
        if let Component::Normal(seg) = comp {
            if glob::validate(&seg.to_string_lossy()).is_err() {
                return Err(format!(
                    "Failed to use import pattern {pattern}: syntax error in pattern"
                ));
            }
        }
    }
    let found = expand(&full);
    if found.is_empty() && !full.to_string_lossy().contains(['*', '?', '[', ']']) {
        return Err(format!("File to import not found: {pattern}"));
    }
    Ok(found)
}

/// Expands a cleaned absolute pattern path segment by segment.
fn expand(pattern: &Path) -> Vec<PathBuf> {
    let mut cands = vec![PathBuf::new()];
    for comp in pattern.components() {
        let seg = comp.as_os_str().to_string_lossy();
        if !matches!(comp, Component::Normal(_)) || !glob::has_meta(&seg) {
            for c in &mut cands {
                c.push(comp.as_os_str());
            }
            continue;
        }
        let mut next = Vec::new();
        for dir in &cands {
            let Ok(entries) = fs::read_dir(dir) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for name in names {
                if glob::matches(&seg, &name) == Ok(true) {
                    next.push(dir.join(name));
                }
            }
        }
        cands = next;
    }
    cands.retain(|p| fs::symlink_metadata(p).is_ok());
    cands
}

/// `path` made absolute against the current directory and cleaned.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return clean(path);
    }
    match std::env::current_dir() {
        Ok(cwd) => clean(&cwd.join(path)),
        Err(_) => clean(path),
    }
}

/// Lexically removes `.` and `..` components (like Go's `filepath.Clean`).
fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    let mut normals = 0usize;
    for comp in path.components() {
        match comp {
            Component::CurDir => {}
            Component::ParentDir if normals > 0 => {
                out.pop();
                normals -= 1;
            }
            Component::ParentDir if out.has_root() => {}
            Component::Normal(_) => {
                out.push(comp.as_os_str());
                normals += 1;
            }
            _ => out.push(comp.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning() {
        assert_eq!(clean(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(clean(Path::new("/../a")), PathBuf::from("/a"));
        assert_eq!(clean(Path::new("a/../../b")), PathBuf::from("../b"));
    }

    #[test]
    fn cycles() {
        let root = Chain::root("Corefile");
        let a = root.push(Source::snippet("a")).unwrap();
        let b = a.push(Source::snippet("b")).unwrap();
        assert_eq!(
            b.push(Source::snippet("a")).unwrap_err(),
            "Import cycle detected: (a) -> (b) -> (a)"
        );
    }
}
