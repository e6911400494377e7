//! Errors for loading the manifest and the runtime config.
//!
//! Loading never stops at the first mistake: every problem found in a
//! document is collected as a [`Problem`] that names the offending field by
//! its dotted path (`component.auth.sqlite_databases`,
//! `trigger.http[2].route`), so one run tells the user everything to fix.

use std::fmt;
use std::path::{Path, PathBuf};

/// One thing wrong with a field of a configuration document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the field, e.g. `component.auth.files[1]`.
    pub path: String,
    /// What is wrong with it.
    pub kind: ProblemKind,
}

/// The kinds of [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// A Spin feature (or an unknown key) that spinstack does not implement.
    /// The hint, when present, says why or what to use instead.
    Unsupported { hint: Option<String> },
    /// A required field is absent.
    Missing,
    /// The field has the wrong TOML type.
    WrongType {
        expected: &'static str,
        found: &'static str,
    },
    /// The field has the right type but an invalid value.
    Invalid(String),
}

impl Problem {
    pub(crate) fn unsupported(path: impl Into<String>, hint: Option<&str>) -> Self {
        Self {
            path: path.into(),
            kind: ProblemKind::Unsupported {
                hint: hint.map(str::to_owned),
            },
        }
    }

    pub(crate) fn missing(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            kind: ProblemKind::Missing,
        }
    }

    pub(crate) fn wrong_type(
        path: impl Into<String>,
        expected: &'static str,
        found: &'static str,
    ) -> Self {
        Self {
            path: path.into(),
            kind: ProblemKind::WrongType { expected, found },
        }
    }

    pub(crate) fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            kind: ProblemKind::Invalid(message.into()),
        }
    }

    /// True when this problem is about an unsupported feature or unknown key.
    pub fn is_unsupported(&self) -> bool {
        matches!(self.kind, ProblemKind::Unsupported { .. })
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = &self.path;
        match &self.kind {
            ProblemKind::Unsupported { hint: None } => {
                write!(f, "{path} is not supported by spinstack")
            }
            ProblemKind::Unsupported { hint: Some(hint) } => {
                write!(f, "{path} is not supported by spinstack ({hint})")
            }
            ProblemKind::Missing => write!(f, "{path} is required"),
            ProblemKind::WrongType { expected, found } => {
                write!(f, "{path} must be {expected}, found {found}")
            }
            ProblemKind::Invalid(message) => write!(f, "{path}: {message}"),
        }
    }
}

/// Which document a [`ConfigError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// The application manifest (`spin.toml`).
    Manifest,
    /// Spin's runtime-config TOML (`--runtime-config-file`).
    RuntimeConfig,
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Document::Manifest => "manifest",
            Document::RuntimeConfig => "runtime config",
        })
    }
}

/// Why a document could not be loaded.
#[derive(Debug)]
pub enum ConfigErrorKind {
    /// The file could not be read.
    Read(std::io::Error),
    /// The text is not valid TOML.
    Syntax(String),
    /// The TOML is valid but its content is not acceptable.
    Invalid(Vec<Problem>),
}

/// Error loading the manifest or the runtime config.
///
/// `Display` names the file and lists every problem, one per line when there
/// are several.
#[derive(Debug)]
pub struct ConfigError {
    document: Document,
    origin: Option<PathBuf>,
    kind: ConfigErrorKind,
}

/// Error from [`crate::Manifest`] loading.
pub type ManifestError = ConfigError;
/// Error from [`crate::RuntimeConfig`] loading.
pub type RuntimeConfigError = ConfigError;

impl ConfigError {
    pub(crate) fn new(document: Document, origin: Option<&Path>, kind: ConfigErrorKind) -> Self {
        Self {
            document,
            origin: origin.map(Path::to_path_buf),
            kind,
        }
    }

    /// Which document failed.
    pub fn document(&self) -> Document {
        self.document
    }

    /// The file that failed, when loaded from a file.
    pub fn origin(&self) -> Option<&Path> {
        self.origin.as_deref()
    }

    /// The cause.
    pub fn kind(&self) -> &ConfigErrorKind {
        &self.kind
    }

    /// The content problems found (empty for read and syntax errors).
    pub fn problems(&self) -> &[Problem] {
        match &self.kind {
            ConfigErrorKind::Invalid(problems) => problems,
            _ => &[],
        }
    }

    pub(crate) fn set_origin(&mut self, origin: &Path) {
        self.origin = Some(origin.to_path_buf());
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = self.document;
        let origin = match &self.origin {
            Some(path) => format!(" {}", path.display()),
            None => String::new(),
        };
        match &self.kind {
            ConfigErrorKind::Read(err) => write!(f, "cannot read {what}{origin}: {err}"),
            ConfigErrorKind::Syntax(message) => {
                write!(
                    f,
                    "{what}{origin} is not valid TOML: {}",
                    message.trim_end()
                )
            }
            ConfigErrorKind::Invalid(problems) => match problems.as_slice() {
                [single] => write!(f, "invalid {what}{origin}: {single}"),
                many => {
                    write!(f, "invalid {what}{origin} ({} problems):", many.len())?;
                    for problem in many {
                        write!(f, "\n  - {problem}")?;
                    }
                    Ok(())
                }
            },
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ConfigErrorKind::Read(err) => Some(err),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_messages_name_the_field() {
        assert_eq!(
            Problem::unsupported("component.auth.sqlite_databases", None).to_string(),
            "component.auth.sqlite_databases is not supported by spinstack"
        );
        assert_eq!(
            Problem::unsupported("component.a.foo", Some("unknown field")).to_string(),
            "component.a.foo is not supported by spinstack (unknown field)"
        );
        assert_eq!(
            Problem::missing("application.name").to_string(),
            "application.name is required"
        );
        assert_eq!(
            Problem::wrong_type("application.name", "a string", "an integer").to_string(),
            "application.name must be a string, found an integer"
        );
        assert_eq!(
            Problem::invalid("variables.X", "bad name").to_string(),
            "variables.X: bad name"
        );
    }

    #[test]
    fn single_and_multiple_problems_display() {
        let one = ConfigError::new(
            Document::Manifest,
            Some(Path::new("/app/spin.toml")),
            ConfigErrorKind::Invalid(vec![Problem::missing("application")]),
        );
        assert_eq!(
            one.to_string(),
            "invalid manifest /app/spin.toml: application is required"
        );

        let two = ConfigError::new(
            Document::RuntimeConfig,
            None,
            ConfigErrorKind::Invalid(vec![Problem::missing("a"), Problem::missing("b")]),
        );
        assert_eq!(
            two.to_string(),
            "invalid runtime config (2 problems):\n  - a is required\n  - b is required"
        );
        assert_eq!(two.problems().len(), 2);
    }
}
