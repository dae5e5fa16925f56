//! Parsing of `multipart/form-data` request bodies (RFC 7578): the boundary of a
//! Content-Type value, then each part's name, filename, content type and bytes, borrowed
//! from a body already read into memory. Pure: no I/O and no HTTP types.
//!
//! Built for hostile input: it never panics, runs in time linear in the body (the
//! delimiter search looks at each line start once, comparing at most the 72 bytes of the
//! delimiter), and allocates only the part list (at most [`MAX_PARTS`]) and header values
//! (at most 8 KiB per part). Every problem is an `Error::Validation` with source `body`.

use crate::error::{Error, Result};

/// One part of a multipart/form-data body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    /// The `name` parameter of Content-Disposition.
    pub name: String,
    /// The `filename` parameter, when the part is a file.
    pub filename: Option<String>,
    /// The part's Content-Type header, when present (e.g. `text/csv`).
    pub content_type: Option<String>,
    /// The part's bytes, borrowed from the body.
    pub data: &'a [u8],
}

/// At most this many parts per body.
pub const MAX_PARTS: usize = 64;

/// At most this many bytes of headers per part, line breaks included.
const MAX_HEADER_BYTES: usize = 8 * 1024;
/// At most this many header lines per part (continuation lines included).
const MAX_HEADER_LINES: usize = 32;
/// RFC 2046: a boundary has 1 to 70 characters.
const MAX_BOUNDARY_CHARS: usize = 70;

/// The `source` of every error.
const SOURCE: &str = "body";

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::invalid(SOURCE, field, message)
}

/// The boundary parameter of a `multipart/form-data; boundary=...` Content-Type value
/// (quoted or not, case-insensitive media type and parameter name). Error when the media
/// type is not multipart/form-data or the boundary is missing, empty, longer than 70
/// characters or not printable ASCII.
pub fn boundary(content_type: &str) -> Result<String> {
    let (media_type, rest) = content_type.split_once(';').unwrap_or((content_type, ""));
    let media_type = media_type.trim();
    if !media_type.eq_ignore_ascii_case("multipart/form-data") {
        return Err(invalid(
            "",
            format!("Content-Type is \"{media_type}\", not multipart/form-data"),
        ));
    }
    let params = parameters(rest).map_err(|m| invalid("", format!("Content-Type {m}")))?;
    let boundary = parameter(&params, "boundary")
        .map_err(|m| invalid("", format!("Content-Type {m}")))?
        .ok_or_else(|| {
            invalid(
                "",
                "multipart/form-data Content-Type has no boundary parameter",
            )
        })?;
    if boundary.is_empty() {
        return Err(invalid("", "multipart boundary is empty"));
    }
    if boundary.chars().count() > MAX_BOUNDARY_CHARS {
        return Err(invalid(
            "",
            format!("multipart boundary is longer than {MAX_BOUNDARY_CHARS} characters"),
        ));
    }
    if !boundary.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Err(invalid(
            "",
            "multipart boundary has characters other than printable ASCII",
        ));
    }
    Ok(boundary.to_string())
}

/// Parses the body. `content_type` is the request's whole Content-Type header value.
pub fn parse<'a>(content_type: &str, body: &'a [u8]) -> Result<Vec<Part<'a>>> {
    let boundary = boundary(content_type)?;
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut current = find_delimiter(body, 0, delimiter).ok_or_else(|| {
        invalid(
            "",
            format!("multipart body does not contain the boundary \"--{boundary}\""),
        )
    })?;
    let mut parts = Vec::new();
    while !current.closing {
        if parts.len() == MAX_PARTS {
            return Err(invalid(
                "",
                format!("multipart body has more than {MAX_PARTS} parts"),
            ));
        }
        let index = parts.len() + 1;
        let lines = header_lines(body, current.next, delimiter, index)?;
        let head = part_head(&lines.lines, index)?;
        let next = find_delimiter(body, lines.data_start, delimiter).ok_or_else(|| {
            invalid(
                "",
                format!("multipart body has no closing boundary \"--{boundary}--\""),
            )
        })?;
        parts.push(Part {
            name: head.name,
            filename: head.filename,
            content_type: head.content_type,
            data: body.get(lines.data_start..next.data_end).unwrap_or(&[]),
        });
        current = next;
    }
    Ok(parts)
}

/// The first part named `name`.
pub fn find<'p, 'a>(parts: &'p [Part<'a>], name: &str) -> Option<&'p Part<'a>> {
    parts.iter().find(|p| p.name == name)
}

/// A delimiter line found in the body.
#[derive(Debug, PartialEq, Eq)]
struct Delimiter {
    /// Where the data before it ends: before the CRLF (or LF) that precedes it.
    data_end: usize,
    /// Just after the delimiter line, where the next part's headers begin.
    next: usize,
    /// `--boundary--`: the last delimiter; what follows is the epilogue.
    closing: bool,
}

/// The first delimiter line at or after `from`: `delimiter` at the start of the body or of
/// a line, followed by `--` (closing) or by optional spaces or tabs and a line break.
/// Other occurrences are data. Each line start is looked at once, so this is linear.
fn find_delimiter(body: &[u8], from: usize, delimiter: &[u8]) -> Option<Delimiter> {
    let mut at = from;
    loop {
        let rest = body.get(at..)?;
        let line_start = at == 0 || at.checked_sub(1).and_then(|i| body.get(i)) == Some(&b'\n');
        if line_start && rest.starts_with(delimiter) {
            if let Some((next, closing)) = delimiter_line_end(body, at + delimiter.len()) {
                // The line break before the delimiter belongs to it, unless it is the one
                // that ended the headers (an empty part with no line break of its own).
                let mut data_end = at.saturating_sub(1).max(from);
                if data_end > from
                    && data_end.checked_sub(1).and_then(|i| body.get(i)) == Some(&b'\r')
                {
                    data_end -= 1;
                }
                return Some(Delimiter {
                    data_end,
                    next,
                    closing,
                });
            }
        }
        at += rest.iter().position(|&b| b == b'\n')? + 1;
    }
}

/// After the delimiter at `at`: `Some((next line, closing))` when it ends a delimiter line.
fn delimiter_line_end(body: &[u8], at: usize) -> Option<(usize, bool)> {
    let rest = body.get(at..)?;
    if rest.starts_with(b"--") {
        return Some((at + 2, true));
    }
    let padding = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let after = rest.get(padding..)?;
    if after.starts_with(b"\r\n") {
        Some((at + padding + 2, false))
    } else if after.starts_with(b"\n") {
        Some((at + padding + 1, false))
    } else {
        None
    }
}

/// A part's header lines (line breaks removed) and where its data starts.
struct HeaderLines<'a> {
    lines: Vec<&'a [u8]>,
    data_start: usize,
}

/// Reads the header lines of part `index` from `start` up to the empty line.
fn header_lines<'a>(
    body: &'a [u8],
    start: usize,
    delimiter: &[u8],
    index: usize,
) -> Result<HeaderLines<'a>> {
    // The empty line (CRLF) must start within MAX_HEADER_BYTES of `start`.
    let window_end = body.len().min(start.saturating_add(MAX_HEADER_BYTES + 2));
    let mut lines = Vec::new();
    let mut at = start;
    loop {
        let window = body.get(at..window_end).unwrap_or(&[]);
        let Some(end) = window.iter().position(|&b| b == b'\n') else {
            return Err(if window_end < body.len() {
                invalid(
                    "",
                    format!("part {index} has more than {MAX_HEADER_BYTES} bytes of headers"),
                )
            } else {
                invalid(
                    "",
                    format!("multipart body ends inside the headers of part {index}"),
                )
            });
        };
        let line = window.get(..end).unwrap_or(&[]);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        at += end + 1;
        if line.is_empty() {
            return Ok(HeaderLines {
                lines,
                data_start: at,
            });
        }
        if line.starts_with(delimiter) {
            return Err(invalid(
                "",
                format!("part {index} has no empty line after its headers"),
            ));
        }
        if lines.len() == MAX_HEADER_LINES {
            return Err(invalid(
                "",
                format!("part {index} has more than {MAX_HEADER_LINES} header lines"),
            ));
        }
        lines.push(line);
    }
}

/// What the headers of a part say.
struct PartHead {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
}

/// Reads Content-Disposition and Content-Type from the header lines of part `index`.
/// Errors name the part when its name is known, else say `part N`.
fn part_head(lines: &[&[u8]], index: usize) -> Result<PartHead> {
    let mut fields: Vec<(&str, String)> = Vec::with_capacity(lines.len());
    let mut malformed = false;
    for line in lines {
        let line = std::str::from_utf8(line).map_err(|_| {
            invalid(
                "",
                format!("part {index} has headers that are not valid UTF-8"),
            )
        })?;
        if line.starts_with([' ', '\t']) {
            // An obsolete folded continuation of the previous header.
            match fields.last_mut() {
                Some((_, value)) => {
                    if !value.is_empty() {
                        value.push(' ');
                    }
                    value.push_str(line.trim());
                }
                None => malformed = true,
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if is_header_name(name.trim_end()) => {
                fields.push((name.trim_end(), value.trim().to_string()));
            }
            _ => malformed = true,
        }
    }
    let headers = |wanted: &'static str| {
        fields
            .iter()
            .filter(move |(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value.as_str())
    };

    let mut dispositions = headers("content-disposition");
    let disposition = match (dispositions.next(), dispositions.next()) {
        (Some(value), None) => value,
        (None, _) => {
            return Err(invalid(
                "",
                format!("part {index} has no Content-Disposition header"),
            ))
        }
        (Some(_), Some(_)) => {
            return Err(invalid(
                "",
                format!("part {index} has more than one Content-Disposition header"),
            ))
        }
    };
    let (kind, rest) = disposition.split_once(';').unwrap_or((disposition, ""));
    let kind = kind.trim();
    if !kind.eq_ignore_ascii_case("form-data") {
        return Err(invalid(
            "",
            format!("part {index} has Content-Disposition \"{kind}\", not form-data"),
        ));
    }
    let disposition_error = |m: &str| invalid("", format!("part {index} Content-Disposition {m}"));
    let params = parameters(rest).map_err(disposition_error)?;
    let name = match parameter(&params, "name").map_err(|m| disposition_error(&m))? {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => {
            return Err(invalid(
                "",
                format!("part {index} has no name in its Content-Disposition header"),
            ))
        }
    };

    // From here on the part has a name: errors are about that field.
    if malformed {
        return Err(invalid(&name, "part has a malformed header line"));
    }
    let field_error = |m: String| invalid(&name, format!("Content-Disposition {m}"));
    let plain = parameter(&params, "filename").map_err(field_error)?;
    let extended = parameter(&params, "filename*").map_err(field_error)?;
    let filename = extended
        .and_then(decode_ext_value)
        .or_else(|| plain.map(str::to_string));

    let mut content_types = headers("content-type");
    let content_type = match (content_types.next(), content_types.next()) {
        (value, None) => value.filter(|v| !v.is_empty()).map(str::to_string),
        (_, Some(_)) => return Err(invalid(&name, "part has more than one Content-Type header")),
    };
    Ok(PartHead {
        name,
        filename,
        content_type,
    })
}

/// An HTTP token: visible ASCII, no separators a header name could not contain.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

/// The `name=value` parameters of a header value after its first `;`: names as written
/// (compare them case-insensitively), values unquoted (`\"` and `\\` escapes; any other
/// backslash is kept, as browsers send Windows paths unescaped). Parameters without `=`
/// are skipped; an unterminated quoted string is an error.
fn parameters(text: &str) -> std::result::Result<Vec<(&str, String)>, &'static str> {
    let mut params = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ';' || c.is_ascii_whitespace());
        if rest.is_empty() {
            return Ok(params);
        }
        let (name, after) = match rest.find(['=', ';']) {
            Some(i) => rest.split_at_checked(i).unwrap_or((rest, "")),
            None => (rest, ""),
        };
        let Some(value) = after.strip_prefix('=') else {
            rest = after;
            continue;
        };
        let value = value.trim_start();
        let (value, remainder) = match value.strip_prefix('"') {
            Some(quoted) => {
                let (value, remainder) =
                    unquote(quoted).ok_or("has an unterminated quoted string")?;
                // Anything between the closing quote and the next `;` is ignored.
                let remainder = remainder
                    .find(';')
                    .and_then(|i| remainder.get(i..))
                    .unwrap_or("");
                (value, remainder)
            }
            None => {
                let (token, remainder) = match value.find(';') {
                    Some(i) => value.split_at_checked(i).unwrap_or((value, "")),
                    None => (value, ""),
                };
                (token.trim_end().to_string(), remainder)
            }
        };
        let name = name.trim();
        if !name.is_empty() {
            params.push((name, value));
        }
        rest = remainder;
    }
}

/// The contents of a quoted string whose opening quote is already consumed, and the text
/// after its closing quote; `None` when it never closes.
fn unquote(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, text.get(i + 1..).unwrap_or(""))),
            '\\' => match chars.peek() {
                Some(&(_, escaped @ ('"' | '\\'))) => {
                    value.push(escaped);
                    chars.next();
                }
                _ => value.push('\\'),
            },
            c => value.push(c),
        }
    }
    None
}

/// The one value of parameter `name` (case-insensitive); an error when it is repeated.
fn parameter<'p>(
    params: &'p [(&str, String)],
    name: &str,
) -> std::result::Result<Option<&'p str>, String> {
    let mut values = params
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str());
    match (values.next(), values.next()) {
        (value, None) => Ok(value),
        (_, Some(_)) => Err(format!("has the parameter \"{name}\" twice")),
    }
}

/// An RFC 5987 `charset'language'percent-encoded` value in UTF-8 or ISO-8859-1; `None`
/// for other charsets or bad encoding (the plain `filename` is used then).
fn decode_ext_value(value: &str) -> Option<String> {
    let mut pieces = value.splitn(3, '\'');
    let (charset, _language, encoded) = (pieces.next()?, pieces.next()?, pieces.next()?);
    let bytes = percent_decode(encoded)?;
    if charset.eq_ignore_ascii_case("utf-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case("iso-8859-1") {
        Some(bytes.into_iter().map(char::from).collect())
    } else {
        None
    }
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let hex = |b: Option<u8>| {
        b.and_then(|b| char::from(b).to_digit(16))
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let high = hex(bytes.next())?;
            let low = hex(bytes.next())?;
            out.push((high << 4) | low);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CT: &str = "multipart/form-data; boundary=XyZ";

    /// The field and message of a validation error.
    fn error(result: Result<Vec<Part<'_>>>) -> (String, String) {
        match result {
            Err(Error::Validation {
                origin: source,
                details,
            }) => {
                assert_eq!(source, "body");
                assert_eq!(details.len(), 1);
                (details[0].field.clone(), details[0].message.clone())
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn part<'a>(name: &str, filename: Option<&str>, ct: Option<&str>, data: &'a [u8]) -> Part<'a> {
        Part {
            name: name.to_string(),
            filename: filename.map(str::to_string),
            content_type: ct.map(str::to_string),
            data,
        }
    }

    #[test]
    fn parses_a_curl_body_with_a_file_and_a_field() {
        let ct = "multipart/form-data; boundary=------------------------d74496d66958873e";
        let body = b"--------------------------d74496d66958873e\r\n\
            Content-Disposition: form-data; name=\"documents\"; filename=\"docs.csv\"\r\n\
            Content-Type: text/csv\r\n\
            \r\n\
            id,name\r\n1,Acme\r\n\
            \r\n\
            --------------------------d74496d66958873e\r\n\
            Content-Disposition: form-data; name=\"config\"\r\n\
            \r\n\
            {\"a\":1}\r\n\
            --------------------------d74496d66958873e--\r\n";
        let parts = parse(ct, body).unwrap();
        assert_eq!(
            parts,
            [
                part(
                    "documents",
                    Some("docs.csv"),
                    Some("text/csv"),
                    b"id,name\r\n1,Acme\r\n"
                ),
                part("config", None, None, b"{\"a\":1}"),
            ]
        );
        assert_eq!(find(&parts, "config").unwrap().data, b"{\"a\":1}");
        assert_eq!(find(&parts, "nope"), None);
    }

    #[test]
    fn find_returns_the_first_part_of_a_name() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n\
            --XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n2\r\n--XyZ--";
        let parts = parse(CT, body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(find(&parts, "a").unwrap().data, b"1");
    }

    #[test]
    fn reads_quoted_boundaries_and_ignores_case() {
        let ct = "Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b:c=d\"";
        assert_eq!(boundary(ct).unwrap(), "a b:c=d");
        let body = b"--a b:c=d\r\ncontent-DISPOSITION: Form-Data; NAME=\"x\"; FileName=y.txt\r\n\
            CONTENT-TYPE: text/plain\r\n\r\nhello\r\n--a b:c=d--\r\n";
        assert_eq!(
            parse(ct, body).unwrap(),
            [part("x", Some("y.txt"), Some("text/plain"), b"hello")]
        );
        assert_eq!(
            boundary("multipart/form-data;boundary=abc ; x=1").unwrap(),
            "abc"
        );
        assert_eq!(
            boundary("multipart/form-data; boundary=\"q\\\"uote\"").unwrap(),
            "q\"uote"
        );
    }

    #[test]
    fn rejects_bad_content_types() {
        let message = |ct: &str| error(parse(ct, b"--a--")).1;
        assert!(message("text/csv").contains("not multipart/form-data"));
        assert!(message("multipart/mixed; boundary=a").contains("not multipart/form-data"));
        assert!(message("").contains("not multipart/form-data"));
        assert!(message("multipart/form-data").contains("no boundary"));
        assert!(message("multipart/form-data; boundary=").contains("empty"));
        assert!(message("multipart/form-data; boundary=\"\"").contains("empty"));
        assert!(message("multipart/form-data; boundary=\"abc").contains("unterminated"));
        assert!(message("multipart/form-data; boundary=a; boundary=b").contains("twice"));
        assert!(message("multipart/form-data; boundary=a\u{1}b").contains("printable"));
        let long = format!("multipart/form-data; boundary={}", "b".repeat(71));
        assert!(message(&long).contains("longer than 70"));
        let max = format!("multipart/form-data; boundary={}", "b".repeat(70));
        assert_eq!(boundary(&max).unwrap().len(), 70);
    }

    #[test]
    fn accepts_lf_only_bodies() {
        let body = b"--XyZ\nContent-Disposition: form-data; name=\"f\"; filename=\"a.csv\"\n\
            Content-Type: text/csv\n\na,b\n1,2\n\n--XyZ\n\
            Content-Disposition: form-data; name=\"g\"\n\nv\n--XyZ--\n";
        assert_eq!(
            parse(CT, body).unwrap(),
            [
                part("f", Some("a.csv"), Some("text/csv"), b"a,b\n1,2\n"),
                part("g", None, None, b"v"),
            ]
        );
    }

    #[test]
    fn ignores_preamble_epilogue_and_transport_padding() {
        let body = b"This is the preamble.\r\n--XyZ is not a delimiter here\r\n\
            --XyZ \t\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n\
            --XyZ--\r\nepilogue\r\n--XyZ\r\nContent-Disposition: form-data; name=b\r\n\r\nB\r\n";
        assert_eq!(parse(CT, body).unwrap(), [part("a", None, None, b"A")]);
        // A closing delimiter only: no parts.
        assert_eq!(parse(CT, b"--XyZ--\r\n").unwrap(), []);
    }

    #[test]
    fn keeps_near_delimiters_and_line_breaks_in_data() {
        let data: &[u8] =
            b"\r\n--XyZ-x\r\n--Xy\r\n--XyZZ\r\n --XyZ\r\n-- XyZ\r\nX--XyZ\r\n\r\n\n\r";
        let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=d\r\n\r\n".to_vec();
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n--XyZ--");
        assert_eq!(parse(CT, &body).unwrap(), [part("d", None, None, data)]);
    }

    #[test]
    fn parts_may_be_empty() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n\
            --XyZ\r\nContent-Disposition: form-data; name=b; filename=\"\"\r\n\
            Content-Type: application/octet-stream\r\n\r\n\r\n--XyZ--\r\n";
        assert_eq!(
            parse(CT, body).unwrap(),
            [
                part("a", None, None, b""),
                part("b", Some(""), Some("application/octet-stream"), b""),
            ]
        );
        // Without the line break of its own, the delimiter right after the headers.
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n--XyZ--";
        assert_eq!(parse(CT, body).unwrap(), [part("a", None, None, b"")]);
    }

    #[test]
    fn reads_parameters_in_any_form() {
        let body = b"--XyZ\r\nContent-Disposition: form-data;filename = \"C:\\dir\\a \\\"b\\\";c.csv\" ;  name=f\r\n\r\n\
            x\r\n--XyZ\r\nContent-Disposition: form-data; name=\"g\"; filename=\"plain.csv\"; \
            filename*=UTF-8''%e2%82%ac%20rates.csv\r\n\r\ny\r\n\
            --XyZ\r\nContent-Disposition: form-data; name=\"h\"; filename=\"p\"; filename*=bogus\r\n\
            Content-Type:\r\n  text/plain;\r\n\tcharset=utf-8\r\n\r\nz\r\n--XyZ--";
        let parts = parse(CT, body).unwrap();
        assert_eq!(parts[0].name, "f");
        assert_eq!(parts[0].filename.as_deref(), Some("C:\\dir\\a \"b\";c.csv"));
        assert_eq!(parts[1].filename.as_deref(), Some("€ rates.csv"));
        assert_eq!(parts[2].filename.as_deref(), Some("p"));
        assert_eq!(
            parts[2].content_type.as_deref(),
            Some("text/plain; charset=utf-8")
        );
    }

    #[test]
    fn rejects_bodies_without_delimiters_or_closing_boundary() {
        let (field, message) = error(parse(CT, b""));
        assert_eq!(field, "");
        assert_eq!(
            message,
            "multipart body does not contain the boundary \"--XyZ\""
        );
        assert!(error(parse(CT, b"hello --XyZ\r\n"))
            .1
            .contains("does not contain"));
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\ndata\r\n";
        assert_eq!(
            error(parse(CT, body)).1,
            "multipart body has no closing boundary \"--XyZ--\""
        );
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\ndata\r\n--XyZ";
        assert!(error(parse(CT, body)).1.contains("no closing boundary"));
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n";
        assert!(error(parse(CT, body))
            .1
            .contains("ends inside the headers of part 1"));
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n--XyZ--\r\n";
        assert!(error(parse(CT, body)).1.contains("no empty line"));
    }

    #[test]
    fn rejects_parts_without_form_data_disposition_or_name() {
        let case = |headers: &str| {
            let body = format!("--XyZ\r\n{headers}\r\n\r\ndata\r\n--XyZ--\r\n");
            error(parse(CT, body.as_bytes()))
        };
        let no_name = "part 1 has no name in its Content-Disposition header";
        assert_eq!(
            case("Content-Disposition: form-data"),
            (String::new(), no_name.into())
        );
        assert_eq!(case("Content-Disposition: form-data; name=\"\"").1, no_name);
        assert_eq!(
            case("Content-Disposition: form-data; filename=a").1,
            no_name
        );
        assert!(case("Content-Type: text/plain")
            .1
            .contains("no Content-Disposition"));
        assert!(case("Content-Disposition: attachment; name=a")
            .1
            .contains("\"attachment\", not form-data"));
        assert!(case("Content-Disposition: form-data; name=\"a")
            .1
            .contains("unterminated"));
        assert!(case("Content-Disposition: form-data; name=a; name=b")
            .1
            .contains("twice"));
        assert!(
            case("Content-Disposition: form-data; name=a\r\nContent-Disposition: form-data")
                .1
                .contains("more than one Content-Disposition")
        );
        // Once the name is known, errors name the field.
        assert_eq!(
            case("Content-Disposition: form-data; name=a\r\nContent-Type: a\r\nContent-Type: b"),
            (
                "a".into(),
                "part has more than one Content-Type header".into()
            )
        );
        assert_eq!(
            case("Content-Disposition: form-data; name=a\r\nno colon"),
            ("a".into(), "part has a malformed header line".into())
        );
        let (field, message) = error(parse(
            CT,
            b"--XyZ\r\nContent-Disposition: form-data; name=\xFF\r\n\r\n\r\n--XyZ--",
        ));
        assert_eq!(field, "");
        assert!(message.contains("not valid UTF-8"), "{message}");
    }

    #[test]
    fn limits_header_size_and_lines() {
        let with_headers = |extra: &str| {
            format!("--XyZ\r\nContent-Disposition: form-data; name=a\r\n{extra}\r\nv\r\n--XyZ--")
        };
        let lines = "X-A: 1\r\n".repeat(MAX_HEADER_LINES - 1);
        assert!(parse(CT, with_headers(&lines).as_bytes()).is_ok());
        let lines = "X-A: 1\r\n".repeat(MAX_HEADER_LINES);
        let (_, message) = error(parse(CT, with_headers(&lines).as_bytes()));
        assert_eq!(message, "part 1 has more than 32 header lines");
        // 8 KiB of headers with their line breaks is the most.
        let first = "Content-Disposition: form-data; name=a\r\n".len();
        let filler = format!("X-Long: {}\r\n", "x".repeat(MAX_HEADER_BYTES - first - 10));
        let body =
            format!("--XyZ\r\nContent-Disposition: form-data; name=a\r\n{filler}\r\nv\r\n--XyZ--");
        assert!(parse(CT, body.as_bytes()).is_ok());
        let filler = format!("X-Long: {}\r\n", "x".repeat(MAX_HEADER_BYTES - first - 9));
        let body =
            format!("--XyZ\r\nContent-Disposition: form-data; name=a\r\n{filler}\r\nv\r\n--XyZ--");
        let (_, message) = error(parse(CT, body.as_bytes()));
        assert_eq!(message, "part 1 has more than 8192 bytes of headers");
    }

    #[test]
    fn allows_at_most_max_parts() {
        let body = |n: usize| {
            let mut body = String::new();
            for i in 0..n {
                body.push_str(&format!(
                    "--XyZ\r\nContent-Disposition: form-data; name=p{i}\r\n\r\n{i}\r\n"
                ));
            }
            body + "--XyZ--\r\n"
        };
        assert_eq!(
            parse(CT, body(MAX_PARTS).as_bytes()).unwrap().len(),
            MAX_PARTS
        );
        let (field, message) = error(parse(CT, body(MAX_PARTS + 1).as_bytes()));
        assert_eq!(field, "");
        assert_eq!(message, "multipart body has more than 64 parts");
    }

    #[test]
    fn adversarial_bodies_take_linear_time() {
        // Quadratic search would take minutes on these.
        let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n".to_vec();
        body.extend(b"\r\n--Xy".repeat(300_000));
        assert!(error(parse(CT, &body)).1.contains("no closing boundary"));
        let almost = b"\n--XyZ-\n--XyZ \t x".repeat(100_000);
        assert!(error(parse(CT, &almost)).1.contains("does not contain"));
        let long = format!("multipart/form-data; boundary={}", "b".repeat(70));
        let body = format!("\n--{}", "b".repeat(69)).repeat(30_000);
        assert!(parse(&long, body.as_bytes()).is_err());
    }

    /// A part as the round-trip test writes it.
    #[derive(Debug, Clone)]
    struct Owned {
        name: String,
        filename: Option<String>,
        content_type: Option<String>,
        data: Vec<u8>,
        filename_first: bool,
    }

    fn quote(text: &str) -> String {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    }

    fn encode(
        boundary: &str,
        parts: &[Owned],
        eol: &str,
        preamble: &[u8],
        epilogue: &[u8],
    ) -> Vec<u8> {
        let mut body = preamble.to_vec();
        if !preamble.is_empty() {
            body.extend_from_slice(eol.as_bytes());
        }
        for p in parts {
            let name = format!("name={}", quote(&p.name));
            let mut disposition = String::from("Content-Disposition: form-data");
            match (&p.filename, p.filename_first) {
                (Some(f), true) => disposition += &format!("; filename={}; {name}", quote(f)),
                (Some(f), false) => disposition += &format!("; {name}; filename={}", quote(f)),
                (None, _) => disposition += &format!("; {name}"),
            }
            body.extend_from_slice(format!("--{boundary}{eol}{disposition}{eol}").as_bytes());
            if let Some(ct) = &p.content_type {
                body.extend_from_slice(format!("Content-Type: {ct}{eol}").as_bytes());
            }
            body.extend_from_slice(eol.as_bytes());
            body.extend_from_slice(&p.data);
            body.extend_from_slice(eol.as_bytes());
        }
        body.extend_from_slice(format!("--{boundary}--").as_bytes());
        body.extend_from_slice(epilogue);
        body
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn owned_part() -> impl Strategy<Value = Owned> {
        (
            "[a-zA-Z0-9_.-]{1,12}",
            proptest::option::of("[a-zA-Z0-9 ._()\"\\\\é中;=-]{0,16}"),
            proptest::option::of(prop_oneof![
                Just("text/csv".to_string()),
                Just("application/json".to_string()),
                Just("text/plain; charset=utf-8".to_string()),
            ]),
            proptest::collection::vec(any::<u8>(), 0..64),
            any::<bool>(),
        )
            .prop_map(
                |(name, filename, content_type, data, filename_first)| Owned {
                    name,
                    filename,
                    content_type,
                    data,
                    filename_first,
                },
            )
    }

    /// Bodies made of the pieces that matter, to reach deep into the parser.
    fn tricky_body() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"--b".to_vec()),
            Just(b"--b--".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r".to_vec()),
            Just(b" ".to_vec()),
            Just(b"Content-Disposition: form-data; name=\"a\"".to_vec()),
            Just(b"\r\n--b\r\nContent-Disposition: form-data; name=a\r\n\r\n".to_vec()),
            Just(b"\r\n--b--".to_vec()),
            Just(b"; filename*=UTF-8''%e2%82".to_vec()),
            Just(b"; filename=\"x\\".to_vec()),
            Just(b"Content-Type: text/plain".to_vec()),
            Just(b"\"".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ];
        proptest::collection::vec(piece, 0..48).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_input(
            ct in prop_oneof![any::<String>(), Just(CT.to_string()), "multipart/form-data; boundary=\"?[-a-z]{0,3}\"?"],
            body in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let _ = parse(&ct, &body);
            let _ = boundary(&ct);
        }

        #[test]
        fn never_panics_on_tricky_bodies(
            ct in prop_oneof![Just("multipart/form-data; boundary=b"), Just("multipart/form-data; boundary=\"b\"")],
            body in tricky_body(),
        ) {
            if let Ok(parts) = parse(ct, &body) {
                prop_assert!(parts.len() <= MAX_PARTS);
                let range = body.as_ptr_range();
                for p in &parts {
                    let data = p.data.as_ptr_range();
                    prop_assert!(range.start <= data.start && data.end <= range.end);
                    prop_assert!(!p.name.is_empty());
                }
            }
        }

        #[test]
        fn round_trips_encoded_parts(
            boundary in "[0-9A-Za-z'()+_,./:=?-]{1,70}",
            quoted in any::<bool>(),
            crlf in any::<bool>(),
            parts in proptest::collection::vec(owned_part(), 0..6),
            preamble in proptest::collection::vec(any::<u8>(), 0..32),
            epilogue in proptest::collection::vec(any::<u8>(), 0..32),
        ) {
            let delimiter = format!("--{boundary}");
            prop_assume!(!contains(&preamble, delimiter.as_bytes()));
            for p in &parts {
                prop_assume!(!contains(&p.data, delimiter.as_bytes()));
                // With bare LF line breaks, a CR ending the data reads as part of a CRLF.
                prop_assume!(crlf || !p.data.ends_with(b"\r"));
            }
            let ct = if quoted {
                format!("multipart/form-data; boundary=\"{boundary}\"")
            } else {
                format!("multipart/form-data; boundary={boundary}")
            };
            let eol = if crlf { "\r\n" } else { "\n" };
            let body = encode(&boundary, &parts, eol, &preamble, &epilogue);
            let parsed = parse(&ct, &body).unwrap();
            prop_assert_eq!(parsed.len(), parts.len());
            for (got, want) in parsed.iter().zip(&parts) {
                prop_assert_eq!(&got.name, &want.name);
                prop_assert_eq!(&got.filename, &want.filename);
                prop_assert_eq!(&got.content_type, &want.content_type);
                prop_assert_eq!(got.data, &want.data[..]);
            }
        }
    }
}
