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
        // A detail about the whole input names it as its field: said once.
        if d.field.is_empty() || d.field == origin {
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

/// Refuses a JSON array where an object is expected. serde reads a struct from an array
/// too, its fields in declaration order, so `["name", [], 0.5]` would pass for a config;
/// every object refmatch decodes is a JSON object, so an array is refused by name first.
pub fn refuse_array(origin: &str, text: &str) -> Result<()> {
    if text.trim_start().starts_with('[') {
        return Err(Error::invalid(
            origin,
            origin,
            "must be a JSON object, not an array",
        ));
    }
    Ok(())
}

/// A JSON decoding failure at `path` (serde_path_to_error's spelling, `.` for the root) in
/// refmatch's own words: the field it concerns, never empty (a missing or unknown key is
/// named with its path), and what the field must be, never serde's wording with Rust type
/// names and positions (issue 17). `root` names the field when the whole text is at fault.
pub fn json_problem(root: &str, path: &str, error: &serde_json::Error) -> FieldError {
    use serde_json::error::Category;
    let path = if path == "." { "" } else { path };
    // serde_path_to_error's path ends with an unknown key already, not with a missing one.
    let at = |key: &str| match (path.is_empty(), key.is_empty()) {
        (true, true) => root.to_string(),
        (true, false) if path == key => key.to_string(),
        (true, false) => key.to_string(),
        (false, true) => path.to_string(),
        (false, false) if path == key || path.ends_with(&format!(".{key}")) => path.to_string(),
        (false, false) => format!("{path}.{key}"),
    };
    let text = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let text = text.strip_suffix(&position).unwrap_or(&text);
    let place = format!("(line {}, column {})", error.line(), error.column());
    match error.classify() {
        Category::Eof => {
            return FieldError::new(root, format!("is not complete JSON: it ends early {place}"))
        }
        Category::Syntax | Category::Io => {
            let message = if text.contains("recursion limit") {
                format!("nests too deeply to be read {place}")
            } else if text.contains("trailing characters") {
                format!("has more after the JSON value {place}")
            } else if text.contains("unicode") || text.contains("UTF-8") {
                format!("is not valid UTF-8 {place}")
            } else {
                format!("is not valid JSON {place}")
            };
            // The text as a whole is at fault, wherever the parser stopped.
            return FieldError::new(root, message);
        }
        Category::Data => {}
    }
    let quoted = |s: &str| -> Vec<String> {
        s.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    if let Some(rest) = text.strip_prefix("missing field ") {
        let names = quoted(rest);
        let name = names.first().map_or("", String::as_str);
        return FieldError::new(at(name), "is required");
    }
    if let Some(rest) = text.strip_prefix("unknown field ") {
        let names = quoted(rest);
        let (name, known) = names.split_first().map_or(("", &[][..]), |(n, k)| (n, k));
        let message = if known.is_empty() {
            "is not a key this object takes".to_string()
        } else {
            format!(
                "is not a key this object takes (known keys: {})",
                known.join(", ")
            )
        };
        return FieldError::new(at(name), message);
    }
    if let Some(rest) = text.strip_prefix("unknown variant ") {
        let names = quoted(rest);
        let (got, allowed) = names.split_first().map_or(("", &[][..]), |(n, k)| (n, k));
        return FieldError::new(
            at(""),
            format!("must be one of {}, got \"{got}\"", allowed.join(", ")),
        );
    }
    if let Some(rest) = text.strip_prefix("duplicate field ") {
        let names = quoted(rest);
        let name = names.first().map_or("", String::as_str);
        return FieldError::new(at(name), "is given twice");
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = text.strip_prefix(prefix) {
            let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
            return FieldError::new(
                at(""),
                format!(
                    "must be {}, got {}",
                    plain_expected(expected),
                    plain_got(got)
                ),
            );
        }
    }
    if let Some(rest) = text.strip_prefix("invalid length ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return FieldError::new(
            at(""),
            format!("must hold {}, got {got} items", plain_expected(expected)),
        );
    }
    // Messages of refmatch's own deserializers are already in its words.
    FieldError::new(at(""), text)
}

/// What serde expected, as a person would say it.
fn plain_expected(expected: &str) -> String {
    let e = expected.trim();
    let plain = match e {
        "f64" | "f32" => "a number",
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number of 0 or more",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        "a boolean" => "true or false",
        "a string" | "a borrowed string" | "a character" => "a string",
        "a sequence" => "an array",
        "a map" => "an object",
        "" => "something else",
        _ if e.starts_with("struct ") => "an object",
        _ if e.starts_with("a sequence") || e.starts_with("an array") => "an array",
        _ => return e.replace('`', "\""),
    };
    plain.to_string()
}

/// What serde got (`string "x"`, `integer `5``, `map`), as a person would say it.
fn plain_got(got: &str) -> String {
    let g = got.trim();
    if let Some(s) = g.strip_prefix("string ") {
        return format!("the string {s}");
    }
    for (prefix, kind) in [
        ("integer ", "the number "),
        ("floating point ", "the number "),
        ("boolean ", ""),
    ] {
        if let Some(v) = g.strip_prefix(prefix) {
            return format!("{kind}{}", v.trim_matches('`'));
        }
    }
    match g {
        "map" => "an object".into(),
        "sequence" => "an array".into(),
        "null" | "unit value" => "null".into(),
        other => other.replace('`', "\""),
    }
}

impl Error {
    /// A JSON decoding failure of `origin` at `path`, named in refmatch's words.
    pub fn json(origin: &str, path: &str, error: &serde_json::Error) -> Self {
        Error::Validation {
            origin: origin.into(),
            details: vec![json_problem(origin, path, error)],
        }
    }

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
                [only] if only.field.is_empty() || only.field == *origin => {
                    format!("{origin}: {}", only.message)
                }
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

    /// The detail serde_path_to_error and `json_problem` give for `text` as a `T`.
    fn problem<T: serde::de::DeserializeOwned>(text: &str) -> FieldError {
        let mut de = serde_json::Deserializer::from_str(text);
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(_) => panic!("{text} must not decode"),
            Err(e) => json_problem("body", &e.path().to_string(), e.inner()),
        }
    }

    #[test]
    fn json_problems_are_named_in_our_words() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Inner {
            weight: f64,
            count: Option<usize>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Outer {
            items: Vec<Inner>,
            flag: Option<bool>,
        }
        // issue 17: "missing field `field_mappings` at line 1 column 17" with no field.
        let missing = problem::<Outer>(r#"{"flag": true}"#);
        assert_eq!(
            (missing.field.as_str(), missing.message.as_str()),
            ("items", "is required")
        );
        let nested = problem::<Outer>(r#"{"items": [{"count": 1}]}"#);
        assert_eq!(nested.field, "items[0].weight");
        let unknown = problem::<Outer>(r#"{"items": [{"weight": 1, "wieght": 1}]}"#);
        assert_eq!(unknown.field, "items[0].wieght");
        assert!(
            unknown.message.contains("known keys: weight, count"),
            "{}",
            unknown.message
        );
        let typed = problem::<Outer>(r#"{"items": [{"weight": "high"}]}"#);
        assert_eq!(
            (typed.field.as_str(), typed.message.as_str()),
            (
                "items[0].weight",
                "must be a number, got the string \"high\""
            )
        );
        let negative = problem::<Outer>(r#"{"items": [{"weight": 1, "count": -1}]}"#);
        assert_eq!(
            negative.message,
            "must be a whole number of 0 or more, got the number -1"
        );
        let shape = problem::<Outer>(r#"{"items": {"a": 1}}"#);
        assert_eq!(shape.message, "must be an array, got an object");
        let broken = problem::<Outer>(r#"{"items": ["#);
        assert_eq!(broken.field, "body");
        assert!(
            broken.message.starts_with("is not complete JSON"),
            "{}",
            broken.message
        );
        for detail in [missing, nested, unknown, typed, negative, shape, broken] {
            assert!(!detail.field.is_empty());
            assert!(!detail.message.contains('`'), "{}", detail.message);
            assert!(!detail.message.contains(" at line "), "{}", detail.message);
        }
    }

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
