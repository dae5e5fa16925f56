//! The one error type of refmatch. Every failure a user can cause is a variant with a clear
//! message; `exit_code` and `http` are the two tables that decide what each variant means to
//! the command line and to an HTTP client. Database and internal errors carry their detail
//! for the server's log only: `public_message` never shows SQL or internals to a client.

use std::path::{Path, PathBuf};

use r2d2_sqlite::rusqlite;

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

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that breaks the contract: a config, a CSV file, a truth file. The caller can fix it.
    #[error("{}", validation_text(origin, details))]
    Validation {
        /// What was being read, e.g. `config.json` or `documents.csv`.
        origin: String,
        details: Vec<FieldError>,
    },
    /// Reading or writing a file failed for reasons outside the input's content.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// A bug or an environment failure (thread pool could not start, ...).
    #[error("internal error: {0}")]
    Internal(String),
    /// No such resource in this workspace, e.g. `("run", "5b0e...")`.
    #[error("no {what} with id \"{id}\"")]
    NotFound { what: &'static str, id: String },
    /// The request contradicts the state: a duplicate external id, cancelling a finished run.
    #[error("{0}")]
    Conflict(String),
    /// No key, an unknown key or a revoked one.
    #[error("{0}")]
    Unauthorized(String),
    /// A valid key without the scope the route needs.
    #[error("{0}")]
    Forbidden(String),
    /// A request body over the configured limit, in bytes.
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: u64 },
    /// A body in a media type the route does not take.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The database cannot take the request now (locked, full, read-only); worth retrying.
    #[error("{0}")]
    Unavailable(String),
    /// A route exists for the path but not for the method.
    #[error("method not allowed here; allowed: {allowed}")]
    MethodNotAllowed { allowed: String },
    /// The key used up its requests for now; `retry_after` seconds until the next one.
    #[error("too many requests for this API key; retry in {retry_after} s")]
    RateLimited { retry_after: u64 },
    /// A request's head or body did not arrive within its deadline.
    #[error("{0}")]
    RequestTimeout(String),
    /// The request line and headers together are over `limit` bytes.
    #[error("the request line and headers are larger than the limit of {limit} bytes")]
    HeadersTooLarge { limit: u64 },
    /// A run the command line executed ended cancelled (by a user or another process).
    #[error("{0}")]
    Cancelled(String),
    /// A database failure that is not the caller's doing; the detail is for the log only.
    #[error("database error: {0}")]
    Database(#[source] rusqlite::Error),
}

/// `origin: field: message; field: message`, a field left out where it is empty.
fn validation_text(origin: &str, details: &[FieldError]) -> String {
    let mut out = format!("{origin}: ");
    for (i, d) in details.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        if d.field.is_empty() {
            out.push_str(&d.message);
        } else {
            out.push_str(&format!("{}: {}", d.field, d.message));
        }
    }
    out
}

/// What an error means to an HTTP client: status, error code, reason phrase, retryable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpError {
    pub status: u16,
    pub code: &'static str,
    pub reason: &'static str,
    pub retryable: bool,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Text that may hold what a client or a file sent, fit for one log line: control
/// characters (ESC, NUL, newlines, DEL and the C1 range) are written as `\xNN` or
/// `\u{NNNN}`, and a backslash as `\\`, so input can neither forge log lines nor drive
/// the terminal that reads them (issue 13).
pub fn loggable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() || c == '\\') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

impl Error {
    /// A validation error with a single detail.
    pub fn invalid(
        source: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Validation {
            origin: source.into(),
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
            Error::NotFound { .. }
            | Error::Conflict(_)
            | Error::PayloadTooLarge { .. }
            | Error::UnsupportedMediaType(_) => 2,
            Error::Io { .. }
            | Error::Internal(_)
            | Error::Unauthorized(_)
            | Error::Forbidden(_)
            | Error::Unavailable(_)
            | Error::MethodNotAllowed { .. }
            | Error::RateLimited { .. }
            | Error::RequestTimeout(_)
            | Error::HeadersTooLarge { .. }
            | Error::Cancelled(_)
            | Error::Database(_) => 1,
        }
    }

    /// The one table from variant to HTTP status and code (docs/CONTRACT.md, API).
    pub fn http(&self) -> HttpError {
        let (status, code, reason, retryable) = match self {
            Error::Validation { .. } => (400, "validation_error", "Bad Request", false),
            Error::Unauthorized(_) => (401, "unauthorized", "Unauthorized", false),
            Error::Forbidden(_) => (403, "insufficient_scope", "Forbidden", false),
            Error::NotFound { .. } => (404, "not_found", "Not Found", false),
            Error::MethodNotAllowed { .. } => {
                (405, "method_not_allowed", "Method Not Allowed", false)
            }
            Error::Conflict(_) | Error::Cancelled(_) => (409, "conflict", "Conflict", false),
            Error::RateLimited { .. } => (429, "rate_limited", "Too Many Requests", true),
            Error::RequestTimeout(_) => (408, "request_timeout", "Request Timeout", true),
            Error::HeadersTooLarge { .. } => (
                431,
                "headers_too_large",
                "Request Header Fields Too Large",
                false,
            ),
            Error::PayloadTooLarge { .. } => (413, "payload_too_large", "Payload Too Large", false),
            Error::UnsupportedMediaType(_) => (
                415,
                "unsupported_media_type",
                "Unsupported Media Type",
                false,
            ),
            Error::Unavailable(_) => (503, "unavailable", "Service Unavailable", true),
            Error::Io { .. } | Error::Internal(_) | Error::Database(_) => {
                (500, "internal_error", "Internal Server Error", false)
            }
        };
        HttpError {
            status,
            code,
            reason,
            retryable,
        }
    }

    /// The message a client may see: everything but internals, which stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            Error::Io { .. } | Error::Internal(_) | Error::Database(_) => {
                "the server failed to handle this request; the server log has the details".into()
            }
            Error::Validation { origin, details } => match details.as_slice() {
                [only] if only.field.is_empty() => format!("{origin}: {}", only.message),
                [only] => format!("{origin}: {}: {}", only.field, only.message),
                _ => format!("{origin}: {} problems, see details", details.len()),
            },
            other => other.to_string(),
        }
    }

    /// The per-field details of a validation error; empty for the other variants.
    pub fn details(&self) -> &[FieldError] {
        match self {
            Error::Validation { details, .. } => details,
            _ => &[],
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                Error::Unavailable("the database is busy; retry in a moment".into())
            }
            Some(ErrorCode::DiskFull) => {
                Error::Unavailable("the disk holding the database is full".into())
            }
            Some(ErrorCode::ReadOnly) => Error::Unavailable("the database is read-only".into()),
            _ => Error::Database(e),
        }
    }
}

impl From<r2d2::Error> for Error {
    fn from(e: r2d2::Error) -> Self {
        Error::Unavailable(format!("no database connection available: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_error_keeps_its_cause_as_the_source() {
        use std::error::Error as _;
        let cause = rusqlite::Error::InvalidColumnName("secret".into());
        let error = Error::from(cause);
        assert!(error.source().is_some(), "{error:?}");
        assert_eq!(error.http().status, 500);
        let io = Error::io(Path::new("x"), std::io::Error::other("gone"));
        assert_eq!(io.source().map(|s| s.to_string()).as_deref(), Some("gone"));
    }

    #[test]
    fn log_text_escapes_every_control_character() {
        assert_eq!(loggable("/v1/runs"), "/v1/runs");
        assert_eq!(
            loggable("/v1/\x1b[31mred\0\nGET /forged \u{9b}\\"),
            "/v1/\\x1b[31mred\\x00\\x0aGET /forged \\u{009b}\\\\"
        );
    }
}
