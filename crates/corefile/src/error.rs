//! The one error type of this crate.
//!
//! CoreDNS users grep logs and CI output for messages such as
//! `plugin/hosts: Corefile:7 - Error during parsing: unknown property 'ttls'`,
//! so an error carries exactly the pieces that message is made of (plugin,
//! file, line, text) and renders them the way CoreDNS (Caddy v1) does. Caddy
//! renders syntax errors without the "Error during parsing: " part
//! (`Corefile:3 - Syntax error: Unexpected token 'x', expecting '}'`), and so
//! do we, keyed on the message text, so that callers never have to care.

use std::fmt;

/// Text that Caddy's syntax errors start with; such errors are rendered
/// without the "Error during parsing: " part.
const SYNTAX_PREFIX: &str = "Syntax error: ";

/// A positioned Corefile error.
///
/// `Display` gives CoreDNS's form:
/// `plugin/NAME: FILE:LINE - Error during parsing: MESSAGE` (the
/// `plugin/NAME: ` part only when [`Error::plugin`] is set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Plugin the error belongs to, if any (rendered as `plugin/NAME: `).
    pub plugin: Option<String>,
    /// File name as given by the user, or the imported file's path.
    pub file: String,
    /// 1-based line; 0 when no token was at hand.
    pub line: u32,
    /// The message proper.
    pub message: String,
}

impl Error {
    /// A new error without a plugin name.
    pub fn new(file: impl Into<String>, line: u32, message: impl Into<String>) -> Error {
        Error {
            plugin: None,
            file: file.into(),
            line,
            message: message.into(),
        }
    }

    /// Attributes the error to plugin `name`.
    #[must_use]
    pub fn with_plugin(mut self, name: &str) -> Error {
        self.plugin = Some(name.to_string());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(plugin) = &self.plugin {
            write!(f, "plugin/{plugin}: ")?;
        }
        write!(f, "{}:{} - ", self.file, self.line)?;
        if !self.message.starts_with(SYNTAX_PREFIX) {
            f.write_str("Error during parsing: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_forms() {
        let e = Error::new("Corefile", 7, "unknown property 'ttls'");
        assert_eq!(
            e.to_string(),
            "Corefile:7 - Error during parsing: unknown property 'ttls'"
        );
        assert_eq!(
            e.with_plugin("hosts").to_string(),
            "plugin/hosts: Corefile:7 - Error during parsing: unknown property 'ttls'"
        );
        let s = Error::new(
            "Corefile",
            3,
            "Syntax error: Unexpected token 'x', expecting '}'",
        );
        assert_eq!(
            s.to_string(),
            "Corefile:3 - Syntax error: Unexpected token 'x', expecting '}'"
        );
    }
}
