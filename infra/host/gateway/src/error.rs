//! The error of loading `gateway.toml`: where (line, column) and what.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// A 1-based position in the configuration text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    /// In characters, not bytes.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` of `text` (clamped to the text).
    pub fn of_offset(text: &str, offset: usize) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a gateway configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read gateway config {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Malformed TOML, an unknown or missing key, or a value that breaks the policy.
    #[error("{origin}{}: {message}", position.map(|p| format!(", {p}")).unwrap_or_default())]
    Invalid {
        /// The file name, or `gateway.toml` for text given directly.
        origin: String,
        /// Absent only when the TOML parser gave no location.
        position: Option<Position>,
        message: String,
    },
}

impl ConfigError {
    pub(crate) fn at(source: &Source<'_>, span: Option<Range<usize>>, message: String) -> Self {
        ConfigError::Invalid {
            origin: source.origin.to_owned(),
            position: span.map(|span| Position::of_offset(source.text, span.start)),
            message,
        }
    }

    /// Where the problem is, when known.
    pub fn position(&self) -> Option<Position> {
        match self {
            ConfigError::Invalid { position, .. } => *position,
            ConfigError::Read { .. } => None,
        }
    }
}

/// The text being loaded and what to call it in messages.
pub(crate) struct Source<'a> {
    pub origin: &'a str,
    pub text: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(
            Position::of_offset(text, 0),
            Position { line: 1, column: 1 }
        );
        assert_eq!(
            Position::of_offset(text, 6),
            Position { line: 2, column: 1 }
        );
        // "bé" is three bytes and two characters.
        assert_eq!(
            Position::of_offset(text, 9),
            Position { line: 2, column: 3 }
        );
        assert_eq!(
            Position::of_offset(text, 999),
            Position { line: 3, column: 1 }
        );
    }

    #[test]
    fn display_names_file_line_and_column() {
        let source = Source {
            origin: "infra/gateway.toml",
            text: "x\ny = 1\n",
        };
        let error = ConfigError::at(&source, Some(4..5), "bad value".into());
        assert_eq!(
            error.to_string(),
            "infra/gateway.toml, line 2, column 3: bad value"
        );
    }
}
