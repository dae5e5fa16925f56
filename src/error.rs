//! The one error type of refmatch. Every failure a user can cause is a variant with a clear
//! message; `exit_code` is the single place that decides what each variant means to the
//! command line (and, later, to HTTP).

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem with one named field of an input (a config key, a CSV column, a file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug)]
pub enum Error {
    /// Input that breaks the contract: a config, a CSV file, a truth file. The caller can fix it.
    Validation {
        /// What was being read, e.g. `config.json` or `documents.csv`.
        source: String,
        details: Vec<FieldError>,
    },
    /// Reading or writing a file failed for reasons outside the input's content.
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A bug or an environment failure (thread pool could not start, ...).
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A validation error with a single detail.
    pub fn invalid(
        source: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Validation {
            source: source.into(),
            details: vec![FieldError::new(field, message)],
        }
    }

    pub fn io(path: &Path, error: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            error,
        }
    }

    /// Process exit code: 2 for anything the user can fix in the input, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Validation { .. } => 2,
            Error::Io { error, .. } if error.kind() == std::io::ErrorKind::NotFound => 2,
            Error::Io { .. } | Error::Internal(_) => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Validation { source, details } => {
                write!(f, "{source}: ")?;
                for (i, d) in details.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    if d.field.is_empty() {
                        write!(f, "{}", d.message)?;
                    } else {
                        write!(f, "{}: {}", d.field, d.message)?;
                    }
                }
                Ok(())
            }
            Error::Io { path, error } => write!(f, "{}: {error}", path.display()),
            Error::Internal(message) => write!(f, "internal error: {message}"),
        }
    }
}

impl std::error::Error for Error {}
