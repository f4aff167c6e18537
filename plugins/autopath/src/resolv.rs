//! The search list of a `resolv.conf`, read as Go's `dns.ClientConfigFromFile` reads it:
//! the last `search` or `domain` line wins, comments start with `#` or `;`.

use std::path::Path;

use signpost_corefile::go_text::{os_error_text, quote};
use signpost_wire::Name;

/// The search domains of a `resolv.conf` text, lower-cased and fully qualified (entries that
/// are not domain names are left out).
pub fn search_list(text: &str) -> Vec<Name> {
    let mut search: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let mut fields = line.split_whitespace();
        match fields.next() {
            Some("search") => search = fields.collect(),
            Some("domain") => search = fields.next().into_iter().collect(),
            _ => {}
        }
    }
    search
        .into_iter()
        .filter_map(|s| Name::from_text(s).ok())
        .map(|n| n.lowercase())
        .collect()
}

/// Read the search list of the file at `path`. The error reads as CoreDNS's
/// (`failed to parse "x": open x: no such file or directory`).
pub fn read_search_list(path: &str) -> Result<Vec<Name>, String> {
    std::fs::read_to_string(Path::new(path))
        .map(|text| search_list(&text))
        .map_err(|e| {
            format!(
                "failed to parse {}: open {path}: {}",
                quote(path),
                os_error_text(&e)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(v: &[Name]) -> Vec<String> {
        v.iter().map(Name::to_string).collect()
    }

    #[test]
    fn search_lines() {
        let conf = "nameserver 10.0.0.10\nsearch Default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n";
        assert_eq!(
            texts(&search_list(conf)),
            [
                "default.svc.cluster.local.",
                "svc.cluster.local.",
                "cluster.local."
            ]
        );
        // The last search/domain line wins; comments are skipped.
        assert_eq!(
            texts(&search_list(
                "search a.example\n# search b.example\ndomain c.example d\n"
            )),
            ["c.example."]
        );
        assert!(search_list("search a.example\ndomain\n").is_empty());
        assert!(search_list("nameserver 1.1.1.1\n").is_empty());
    }

    #[test]
    fn missing_file() {
        assert_eq!(
            read_search_list("/nonexistent/resolv.conf").unwrap_err(),
            "failed to parse \"/nonexistent/resolv.conf\": open /nonexistent/resolv.conf: no such file or directory"
        );
    }
}
