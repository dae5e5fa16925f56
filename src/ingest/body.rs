//! Reference data and documents as they arrive in request bodies: JSON tables
//! (`{name, rows, id_column}`), documents as JSON (one or `{documents: [...]}`), JSON Lines
//! and CSV, and the column types reported for a table. It owns the shape rules and limits
//! of those bodies and the id rules they share with files (docs/CONTRACT.md, Concepts and API). It is
//! pure: bytes already in memory in, values or an `Error::Validation` naming the exact
//! field path (`documents[2].fields.amount`, `rows[3].vendor`, `line 4.id`) out. It never
//! touches SQLite or HTTP; `service` stores what it returns and `http` decides the status.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use super::csv::{self, CsvEvent, Encoding};
use super::{duplicate_id, empty_id, first_repeat, id_column as find_column};
use crate::error::{Error, Result};
use crate::matcher::ReferenceTable;

/// Errors in JSON bodies name this as their source.
const SOURCE: &str = "body";

/// At most this many documents in one body, whatever its form.
pub const MAX_DOCUMENTS_PER_BODY: usize = 100_000;
/// At most this many fields in one document.
pub const MAX_FIELDS_PER_DOCUMENT: usize = 256;
/// How deeply a JSON body may nest. Enforced by serde_json's default recursion limit,
/// which refuses deeper input before it can exhaust the stack; stated here so the API
/// documentation can quote it.
pub const MAX_JSON_DEPTH: usize = 128;
/// At most this many values in one HTTP body of documents or reference rows, counted while
/// it is parsed: for JSON each string, number, literal, array and object counts one, for a
/// CSV body of documents each field of each row. A parsed value costs 100 to 200 bytes of
/// memory whatever its size in the body, so a 60 MB body of short fields would otherwise
/// become gigabytes before any other limit looks at it; this bounds it near 120 MB, so
/// that the two uploads a server handles at once stay well under 512 MB together. 50,000
/// JSON documents of 8 fields, or 25,000 of 20, fit; larger loads are sent in several
/// bodies. Files imported on the command line have no such budget.
pub const MAX_BODY_VALUES: usize = 600_000;
/// At most this many distinct keys over the rows of a JSON reference table.
pub const MAX_REFERENCE_COLUMNS: usize = 1024;
/// At most this many cells (rows times columns) in a JSON reference table. A CSV body
/// pays at least a byte per cell, but a JSON row pays nothing for a key it leaves out, so
/// without this bound a few rows with many distinct keys and many empty rows would make
/// the column-major table far larger than the body.
pub const MAX_REFERENCE_CELLS: usize = 20_000_000;

/// What the values of a reference column look like, as reported to API clients so that
/// they (and strategy generation) can tell amounts and dates from names and codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    String,
    Integer,
    Number,
    Date,
    /// Every value is empty or blank.
    Empty,
}

/// The type of every column of `table`, in column order; see [`ColumnType`].
///
/// Blank values are ignored. A column is `Integer` when every value is `-?[0-9]+`
/// with at most 18 digits, `Number` when every value is a plain decimal
/// `-?[0-9]+(\.[0-9]+)?`, `Date` when every value is a real calendar date written
/// `YYYY-MM-DD`, and `String` otherwise. A whole part with a leading zero and more than
/// one digit (`0042`, `007.5`) is a code such as a postcode or an article number, not a
/// quantity, so it makes the column a `String`; so does a whole part of more than 18
/// digits (a bank or tracking reference, which a float would round).
pub fn column_types(table: &ReferenceTable) -> Vec<ColumnType> {
    table
        .values
        .iter()
        .map(|column| column_type(column.iter()))
        .collect()
}

fn column_type<'a>(values: impl Iterator<Item = &'a str>) -> ColumnType {
    let (mut seen, mut integer, mut number, mut date) = (false, true, true, true);
    for value in values {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        seen = true;
        let decimal = decimal_kind(value);
        integer &= decimal == Some(Decimal::Integer);
        number &= decimal.is_some();
        date &= is_iso_date(value);
        if !(number || date) {
            return ColumnType::String;
        }
    }
    match (seen, integer, number, date) {
        (false, ..) => ColumnType::Empty,
        (_, true, ..) => ColumnType::Integer,
        (_, _, true, _) => ColumnType::Number,
        (.., true) => ColumnType::Date,
        _ => ColumnType::String,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decimal {
    Integer,
    Fraction,
}

/// Most digits a whole part may have: every 18-digit integer fits an `i64`.
const MAX_WHOLE_DIGITS: usize = 18;

/// Whether `value` is a plain decimal in the sense of [`column_types`].
fn decimal_kind(value: &str) -> Option<Decimal> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = value.strip_prefix('-').unwrap_or(value);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    if !digits(whole)
        || whole.len() > MAX_WHOLE_DIGITS
        || (whole.len() > 1 && whole.starts_with('0'))
    {
        return None;
    }
    match fraction {
        None => Some(Decimal::Integer),
        Some(fraction) if digits(fraction) => Some(Decimal::Fraction),
        Some(_) => None,
    }
}

/// Whether `value` is exactly `YYYY-MM-DD` and a real calendar date (`2024-02-30` is not).
fn is_iso_date(value: &str) -> bool {
    let b = value.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return false;
    }
    let number = |range: std::ops::Range<usize>| {
        b[range]
            .iter()
            .fold(0u32, |n, c| n * 10 + u32::from(c - b'0'))
    };
    let year = i32::try_from(number(0..4)).unwrap_or(i32::MAX);
    chrono::NaiveDate::from_ymd_opt(year, number(5..7), number(8..10)).is_some()
}

/// A reference table sent as JSON, with the name and id column the body gave.
#[derive(Clone, Debug)]
pub struct JsonReference {
    pub name: Option<String>,
    pub id_column: Option<String>,
    pub table: ReferenceTable,
}

/// Parses `{"name": "...", "rows": [{...}, ...], "id_column": "..."}` (`data` may stand for
/// `rows`, as the hosted APIs spell it).
///
/// The columns are the union of the rows' keys in first-seen order. A string is kept as
/// it is, a number becomes its JSON text (`1240.5`; integers without `.0`), a boolean
/// `true` or `false`, and null the empty (missing) value; arrays and objects are errors.
/// Row ids follow the CSV rules: the `id_column` (which every row must fill), else a
/// column named `id` or `row_id`, else `row_1`, `row_2`, ... in order. As with CSV the id
/// column stays among the columns.
pub fn reference_from_json(bytes: &[u8]) -> Result<JsonReference> {
    let Value::Object(body) = parse_json(bytes)? else {
        return Err(invalid(
            "",
            "must be a JSON object {\"name\", \"rows\": [...], \"id_column\"}",
        ));
    };
    let (mut name, mut id_column, mut rows) = (None, None, None);
    for (key, value) in body {
        match key.as_str() {
            "name" => name = optional_string(value, "name")?,
            "id_column" => id_column = optional_string(value, "id_column")?,
            // `data` is the hosted APIs' name for the rows (issue 17).
            "rows" | "data" if rows.is_some() => {
                return Err(invalid(key, "give the rows as rows or as data, not both"))
            }
            "rows" | "data" => rows = Some(value),
            _ => {
                return Err(invalid(
                    key,
                    "unknown key (expected name, rows or data, id_column)",
                ))
            }
        }
    }
    let rows = match rows {
        Some(Value::Array(rows)) if rows.is_empty() => {
            return Err(invalid("rows", "must not be empty"))
        }
        Some(Value::Array(rows)) => rows,
        Some(_) => return Err(invalid("rows", "must be an array of objects")),
        None => return Err(invalid("rows", "is required")),
    };
    let rows = rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| match row {
            Value::Object(row) => Ok(row),
            _ => Err(invalid(format!("rows[{i}]"), "must be an object")),
        })
        .collect::<Result<Vec<_>>>()?;
    let table = reference_table(&rows, id_column.as_deref())?;
    Ok(JsonReference {
        name,
        id_column,
        table,
    })
}

/// Builds the column-major table from checked row objects.
fn reference_table(rows: &[Map<String, Value>], named_id: Option<&str>) -> Result<ReferenceTable> {
    let mut columns: Vec<&str> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        for key in row.keys() {
            if index.contains_key(key.as_str()) {
                continue;
            }
            if columns.len() == MAX_REFERENCE_COLUMNS {
                return Err(invalid(
                    format!("rows[{i}].{key}"),
                    format!(
                        "is column {}; a table may have at most {MAX_REFERENCE_COLUMNS} columns",
                        MAX_REFERENCE_COLUMNS + 1
                    ),
                ));
            }
            index.insert(key, columns.len());
            columns.push(key);
        }
    }
    if rows.len().saturating_mul(columns.len()) > MAX_REFERENCE_CELLS {
        return Err(invalid(
            "rows",
            format!(
                "{} rows of {} columns exceed the {MAX_REFERENCE_CELLS} cells a JSON table may \
                 hold; send a table this large as CSV",
                rows.len(),
                columns.len()
            ),
        ));
    }
    let id_col = match named_id {
        Some(named) => Some(*index.get(named).ok_or_else(|| {
            invalid(
                "id_column",
                format!(
                    "column \"{named}\" is not a key of any row (keys: {})",
                    columns.join(", ")
                ),
            )
        })?),
        None => ["id", "row_id"].iter().find_map(|c| index.get(c).copied()),
    };
    let mut table = ReferenceTable::new(columns.iter().map(|c| c.to_string()).collect());
    let mut cells: Vec<Cow<str>> = Vec::with_capacity(columns.len());
    let mut generated: String;
    for (i, row) in rows.iter().enumerate() {
        cells.clear();
        cells.resize(columns.len(), Cow::Borrowed(""));
        for (key, value) in row {
            let text = cell_text(value).ok_or_else(|| {
                invalid(
                    format!("rows[{i}].{key}"),
                    "must be a string, number, boolean or null",
                )
            })?;
            if let Some(&c) = index.get(key.as_str()) {
                cells[c] = text;
            }
        }
        let id = match id_col {
            Some(c) => {
                let id = cells[c].trim();
                if id.is_empty() {
                    return Err(invalid(format!("rows[{i}].{}", columns[c]), "empty id"));
                }
                id
            }
            None => {
                generated = format!("row_{}", i + 1);
                &generated
            }
        };
        table.push_row(id, cells.iter().map(|c| c.as_ref()));
    }
    // Generated ids cannot repeat.
    let Some(c) = id_col else {
        return Ok(table);
    };
    if let Some((first, repeat)) = first_repeat(table.len(), |i| table.id(i)) {
        return Err(invalid(
            format!("rows[{repeat}].{}", columns[c]),
            format!("duplicate id \"{}\" (also rows[{first}])", table.id(repeat)),
        ));
    }
    Ok(table)
}

/// A reference cell's text; `None` for arrays and objects.
fn cell_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(number_text(n))),
        Value::Bool(true) => Some(Cow::Borrowed("true")),
        Value::Bool(false) => Some(Cow::Borrowed("false")),
        Value::Null => Some(Cow::Borrowed("")),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// A JSON number as text: integers as written, other numbers in the shortest decimal form
/// that reads back the same, without an exponent and without a trailing `.0` (`1240.0`
/// becomes `1240`), so that the CSV and JSON forms of one table hold the same text.
fn number_text(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        // Without serde_json's arbitrary_precision every other number is a finite f64,
        // and Rust's `Display` for f64 prints neither an exponent nor a trailing `.0`.
        n.as_f64().map(|f| f.to_string()).unwrap_or_default()
    }
}

/// The text the matcher sees for a document field: a string as it is (`None` when blank),
/// a number as its JSON text, and `None` for null and anything else.
pub fn field_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(number_text(n))),
        _ => None,
    }
}

/// One document as posted: the caller's id, a file name and the extracted fields, whose
/// values are strings, numbers or null (null means missing).
#[derive(Clone, Debug, PartialEq)]
pub struct NewDocument {
    pub external_id: Option<String>,
    pub filename: Option<String>,
    pub fields: Map<String, Value>,
}

/// Where a document sits in its body; it prefixes the field paths of errors.
#[derive(Clone, Copy, Debug)]
enum At {
    /// The body is the document.
    Body,
    /// `documents[i]` of a `{"documents": [...]}` body.
    Index(usize),
    /// A 1-based line of JSON Lines.
    Line(usize),
}

impl At {
    /// The error field for `path` inside the document: `fields.amount` becomes
    /// `documents[2].fields.amount` or `line 3.fields.amount`.
    fn field(self, path: &str) -> String {
        let place = self.to_string();
        match (place.is_empty(), path.is_empty()) {
            (true, _) => path.to_string(),
            (false, true) => place,
            (false, false) => format!("{place}.{path}"),
        }
    }
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Body => Ok(()),
            At::Index(i) => write!(f, "documents[{i}]"),
            At::Line(n) => write!(f, "line {n}"),
        }
    }
}

/// Parses one document `{"filename"?, "fields": {...}, "id"?}` or many
/// `{"documents": [document, ...]}`. An `id` (a string or a number, stored as text) is the
/// caller's id: it must not be blank nor repeat within the body.
pub fn documents_from_json(bytes: &[u8]) -> Result<Vec<NewDocument>> {
    let Value::Object(mut body) = parse_json(bytes)? else {
        return Err(invalid(
            "",
            "must be a JSON object: one document {\"fields\": {...}} or {\"documents\": [...]}",
        ));
    };
    let Some(documents) = body.remove("documents") else {
        return Ok(vec![document(body, At::Body)?]);
    };
    if let Some(key) = body.keys().next() {
        return Err(invalid(key.as_str(), "unknown key (expected documents)"));
    }
    let documents = match documents {
        Value::Array(documents) => documents,
        _ => return Err(invalid("documents", "must be an array of document objects")),
    };
    if documents.is_empty() {
        return Err(invalid("documents", "must not be empty"));
    }
    if documents.len() > MAX_DOCUMENTS_PER_BODY {
        return Err(invalid(
            "documents",
            format!(
                "has {} documents; at most {MAX_DOCUMENTS_PER_BODY} per body",
                documents.len()
            ),
        ));
    }
    let documents = documents
        .into_iter()
        .enumerate()
        .map(|(i, document_value)| match document_value {
            Value::Object(object) => document(object, At::Index(i)),
            _ => Err(invalid(
                At::Index(i).field(""),
                "must be an object {\"fields\": {...}}",
            )),
        })
        .collect::<Result<Vec<_>>>()?;
    check_unique_ids(&documents, At::Index)?;
    Ok(documents)
}

/// Parses JSON Lines: one document object (as in the single form of
/// [`documents_from_json`]) per non-blank line. Errors name the 1-based line.
pub fn documents_from_jsonl(bytes: &[u8]) -> Result<Vec<NewDocument>> {
    jsonl_within(bytes, MAX_BODY_VALUES)
}

/// Like [`documents_from_jsonl`] for a file the operator imports on the command line, which
/// no client controls: without the JSON value budget.
pub fn documents_from_local_jsonl(bytes: &[u8]) -> Result<Vec<NewDocument>> {
    jsonl_within(bytes, usize::MAX)
}

fn jsonl_within(bytes: &[u8], values: usize) -> Result<Vec<NewDocument>> {
    let bytes = strip_bom(bytes);
    let mut documents = Vec::new();
    let mut places = Vec::new();
    let budget = std::cell::Cell::new(values);
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let at = At::Line(i + 1);
        if documents.len() == MAX_DOCUMENTS_PER_BODY {
            return Err(invalid(
                at.field(""),
                format!("more than {MAX_DOCUMENTS_PER_BODY} documents in one body"),
            ));
        }
        let value: Value = parse_bounded(line, &budget).map_err(|e| {
            // serde counts lines and columns within this line; only the column means anything.
            let message = e.to_string();
            let position = format!(" at line {} column {}", e.line(), e.column());
            let message = message.strip_suffix(&position).unwrap_or(&message);
            invalid(at.field(""), format!("{message} at column {}", e.column()))
        })?;
        let Value::Object(object) = value else {
            return Err(invalid(
                at.field(""),
                "must be a JSON object {\"fields\": {...}}",
            ));
        };
        documents.push(document(object, at)?);
        places.push(at);
    }
    if documents.is_empty() {
        return Err(invalid(
            "",
            "has no documents; expected one JSON object per line",
        ));
    }
    check_unique_ids(&documents, |i| places[i])?;
    Ok(documents)
}

/// Checks one document object; `at` prefixes the field paths of its errors.
fn document(object: Map<String, Value>, at: At) -> Result<NewDocument> {
    let (mut external_id, mut filename, mut fields) = (None, None, None);
    let mut id_key: Option<String> = None;
    for (key, value) in object {
        match key.as_str() {
            // `document_id` is the hosted APIs' name for the caller's id (issue 17).
            "id" | "document_id" => {
                if let Some(first) = &id_key {
                    return Err(invalid(
                        at.field(&key),
                        format!("the document's id is already given as {first}; give id or document_id, not both"),
                    ));
                }
                external_id = document_id(value, at)?;
                id_key = Some(key);
            }
            "filename" => {
                filename = match value {
                    Value::String(s) if s.trim().is_empty() => None,
                    Value::String(s) => Some(s),
                    Value::Null => None,
                    _ => return Err(invalid(at.field("filename"), "must be a string or null")),
                }
            }
            "fields" => fields = Some(document_fields(value, at)?),
            _ => {
                return Err(invalid(
                    at.field(&key),
                    "unknown key (expected id or document_id, filename, fields)",
                ))
            }
        }
    }
    let fields = fields.ok_or_else(|| invalid(at.field("fields"), "is required"))?;
    Ok(NewDocument {
        external_id,
        filename,
        fields,
    })
}

/// The caller's id: a string (trimmed, not blank) or a number as its text; null is none.
fn document_id(value: Value, at: At) -> Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(Some(number_text(&n))),
        Value::String(s) => match s.trim() {
            "" => Err(invalid(at.field("id"), "empty id")),
            id if id.len() == s.len() => Ok(Some(s)),
            id => Ok(Some(id.to_string())),
        },
        _ => Err(invalid(at.field("id"), "must be a string or a number")),
    }
}

fn document_fields(value: Value, at: At) -> Result<Map<String, Value>> {
    let Value::Object(fields) = value else {
        return Err(invalid(
            at.field("fields"),
            "must be an object of string, number or null values",
        ));
    };
    if fields.len() > MAX_FIELDS_PER_DOCUMENT {
        return Err(invalid(
            at.field("fields"),
            format!(
                "has {} fields; at most {MAX_FIELDS_PER_DOCUMENT} per document",
                fields.len()
            ),
        ));
    }
    if let Some((key, _)) = fields
        .iter()
        .find(|(_, v)| !matches!(v, Value::String(_) | Value::Number(_) | Value::Null))
    {
        return Err(invalid(
            at.field(&format!("fields.{key}")),
            "must be a string, number or null",
        ));
    }
    Ok(fields)
}

/// The first id that an earlier document of the same body already has is an error naming
/// both places.
fn check_unique_ids(documents: &[NewDocument], place: impl Fn(usize) -> At) -> Result<()> {
    let with_id: Vec<(usize, &str)> = documents
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.external_id.as_deref().map(|id| (i, id)))
        .collect();
    match first_repeat(with_id.len(), |k| with_id[k].1) {
        Some((first, repeat)) => {
            let (first, id) = with_id[first];
            let repeat = with_id[repeat].0;
            Err(invalid(
                place(repeat).field("id"),
                format!("duplicate id \"{id}\" (also {})", place(first)),
            ))
        }
        None => Ok(()),
    }
}

/// Parses documents from CSV bytes with the same delimiter, BOM and encoding rules as
/// files. The id column is the named one (which must exist), else `document_id` or `id`
/// when present, else there is no external id; ids must be filled and unique. The file
/// name column is the named one, else `filename` when present. Every other column is a
/// field with a string value; a blank cell is null.
pub fn documents_from_csv(
    name: &str,
    bytes: &[u8],
    encoding: Encoding,
    id_column: Option<&str>,
    filename_column: Option<&str>,
) -> Result<Vec<NewDocument>> {
    csv_documents_within(
        name,
        bytes,
        encoding,
        id_column,
        filename_column,
        usize::MAX,
    )
}

/// [`documents_from_csv`] for a body a client sent: at most [`MAX_BODY_VALUES`] fields in
/// all, counted as rows are read.
pub fn documents_from_csv_body(
    name: &str,
    bytes: &[u8],
    encoding: Encoding,
    id_column: Option<&str>,
    filename_column: Option<&str>,
) -> Result<Vec<NewDocument>> {
    csv_documents_within(
        name,
        bytes,
        encoding,
        id_column,
        filename_column,
        MAX_BODY_VALUES,
    )
}

fn csv_documents_within(
    name: &str,
    bytes: &[u8],
    encoding: Encoding,
    id_column: Option<&str>,
    filename_column: Option<&str>,
    max_values: usize,
) -> Result<Vec<NewDocument>> {
    let mut values = 0usize;
    let mut id_col = None;
    let mut id_header = String::new();
    let mut filename_col = None;
    // (column index, header) of every field column.
    let mut field_cols: Vec<(usize, String)> = Vec::new();
    let mut documents: Vec<NewDocument> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    csv::for_each_record(name, bytes, encoding, |event| {
        match event {
            CsvEvent::Header(headers) => {
                id_col = find_column(
                    name,
                    headers,
                    id_column,
                    &["document_id", "id"],
                    "id_column",
                )?;
                if let Some(c) = id_col {
                    id_header.clone_from(&headers[c]);
                }
                filename_col = find_column(
                    name,
                    headers,
                    filename_column,
                    &["filename"],
                    "filename_column",
                )?;
                field_cols = headers
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| Some(i) != id_col && Some(i) != filename_col)
                    .map(|(i, h)| (i, h.clone()))
                    .collect();
                if field_cols.len() > MAX_FIELDS_PER_DOCUMENT {
                    return Err(Error::invalid(
                        name,
                        "line 1",
                        format!(
                            "has {} field columns; at most {MAX_FIELDS_PER_DOCUMENT} per document",
                            field_cols.len()
                        ),
                    ));
                }
            }
            CsvEvent::Record(record, line) => {
                if documents.len() == MAX_DOCUMENTS_PER_BODY {
                    return Err(Error::invalid(
                        name,
                        format!("line {line}"),
                        format!("more than {MAX_DOCUMENTS_PER_BODY} documents in one body"),
                    ));
                }
                values = values.saturating_add(field_cols.len());
                if values > max_values {
                    return Err(Error::invalid(
                        name,
                        format!("line {line}"),
                        format!(
                            "brings the body over {max_values} fields in all; send fewer \
                             documents or columns per body"
                        ),
                    ));
                }
                let cell = |i: usize| record.get(i).unwrap_or("");
                let external_id = match id_col {
                    Some(c) => match cell(c).trim() {
                        "" => return Err(empty_id(name, line, &id_header)),
                        id => Some(id.to_string()),
                    },
                    None => None,
                };
                let filename = filename_col
                    .map(|c| cell(c).trim())
                    .filter(|f| !f.is_empty())
                    .map(str::to_string);
                let fields = field_cols
                    .iter()
                    .map(|(i, header)| {
                        let value = match cell(*i) {
                            v if v.trim().is_empty() => Value::Null,
                            v => Value::String(v.to_string()),
                        };
                        (header.clone(), value)
                    })
                    .collect();
                documents.push(NewDocument {
                    external_id,
                    filename,
                    fields,
                });
                lines.push(line);
            }
        }
        Ok(())
    })?;
    if documents.is_empty() {
        return Err(Error::invalid(name, "", "has a header but no rows"));
    }
    // With an id column every document has an id; without one there is nothing to repeat.
    let id = |i: usize| documents[i].external_id.as_deref().unwrap_or("");
    let repeat = id_col.and_then(|_| first_repeat(documents.len(), id));
    if let Some((first, repeat)) = repeat {
        return Err(duplicate_id(name, id(repeat), lines[repeat], lines[first]));
    }
    Ok(documents)
}

/// Parses a JSON body; a syntax error, invalid UTF-8 or nesting deeper than
/// [`MAX_JSON_DEPTH`] names no field and carries serde's line and column.
fn parse_json(bytes: &[u8]) -> Result<Value> {
    parse_bounded(strip_bom(bytes), &std::cell::Cell::new(MAX_BODY_VALUES))
        .map_err(|e| Error::json(SOURCE, ".", &e))
}

/// Parses one JSON text, taking one from `budget` per value as it is built; past the
/// budget parsing stops with an error, before the rest is read.
fn parse_bounded(bytes: &[u8], budget: &std::cell::Cell<usize>) -> serde_json::Result<Value> {
    use serde::de::DeserializeSeed;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = Bounded(budget).deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// A `serde_json::Value` seed that counts the values it builds against a budget.
#[derive(Clone, Copy)]
struct Bounded<'a>(&'a std::cell::Cell<usize>);

impl Bounded<'_> {
    fn take<E: serde::de::Error>(self) -> std::result::Result<(), E> {
        match self.0.get().checked_sub(1) {
            Some(left) => {
                self.0.set(left);
                Ok(())
            }
            None => Err(E::custom(format!(
                "holds more than {MAX_BODY_VALUES} JSON values; send fewer documents or \
                 fields per body"
            ))),
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Bounded<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Bounded<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> std::result::Result<Value, E> {
        self.take()?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Value, E> {
        self.take()?;
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Value, E> {
        self.take()?;
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Value, E> {
        self.take()?;
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Value, E> {
        self.take()?;
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> std::result::Result<Value, E> {
        self.take()?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Value, E> {
        self.take()?;
        Ok(Value::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> std::result::Result<Value, E> {
        self.visit_unit()
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Value, A::Error> {
        self.take()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Value, A::Error> {
        self.take()?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Some Windows tools start UTF-8 text with a byte order mark, which JSON does not allow.
fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// A string or null.
fn optional_string(value: Value, key: &str) -> Result<Option<String>> {
    match value {
        Value::String(s) => Ok(Some(s)),
        Value::Null => Ok(None),
        _ => Err(invalid(key, "must be a string")),
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::invalid(SOURCE, field, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// The single detail of a validation error as `(field, message)`.
    fn detail<T: std::fmt::Debug>(result: Result<T>) -> (String, String) {
        match result {
            Err(Error::Validation {
                origin: source,
                details,
            }) => {
                assert_eq!(details.len(), 1, "{details:?}");
                assert!(source == "body" || source.ends_with(".csv"), "{source}");
                (details[0].field.clone(), details[0].message.clone())
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn assert_invalid<T: std::fmt::Debug>(result: Result<T>, field: &str, needle: &str) {
        let (f, message) = detail(result);
        assert_eq!(f, field, "message: {message}");
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }

    fn table(column: &[&str]) -> ReferenceTable {
        let mut table = ReferenceTable::new(vec!["c".into()]);
        for (i, value) in column.iter().enumerate() {
            table.push_row(&format!("r{i}"), [*value]);
        }
        table
    }

    fn type_of(column: &[&str]) -> ColumnType {
        column_types(&table(column))[0]
    }

    fn row(table: &ReferenceTable, i: usize) -> Vec<&str> {
        table.values.iter().map(|c| c.get(i)).collect()
    }

    #[test]
    fn column_types_follow_the_values() {
        assert_eq!(type_of(&[]), ColumnType::Empty);
        assert_eq!(type_of(&["", "  "]), ColumnType::Empty);
        assert_eq!(type_of(&["1", "-42", " 7 ", ""]), ColumnType::Integer);
        assert_eq!(type_of(&["0", "-0"]), ColumnType::Integer);
        assert_eq!(type_of(&["999999999999999999"]), ColumnType::Integer);
        assert_eq!(type_of(&["1240.00", "3", "-0.5"]), ColumnType::Number);
        assert_eq!(type_of(&["2024-02-29", "1999-12-31"]), ColumnType::Date);
        assert_eq!(type_of(&["Acme", "1"]), ColumnType::String);
        assert_eq!(type_of(&["2024-01-01", "5"]), ColumnType::String);
    }

    #[test]
    fn codes_and_near_misses_are_strings() {
        // A leading zero marks a code (postcode, article number), not a quantity.
        assert_eq!(type_of(&["0042"]), ColumnType::String);
        assert_eq!(type_of(&["007.5"]), ColumnType::String);
        // Beyond 18 digits a value is a reference that a float would round.
        assert_eq!(type_of(&["1234567890123456789"]), ColumnType::String);
        for value in ["+1", "1.", ".5", "-", "1e3", "1,5", "1 000", "١٢"] {
            assert_eq!(type_of(&[value]), ColumnType::String, "{value}");
        }
        for value in [
            "2024-02-30",
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "2024/01/01",
        ] {
            assert_eq!(type_of(&[value]), ColumnType::String, "{value}");
        }
        assert_eq!(type_of(&["2024-10-02T10:00:00"]), ColumnType::String);
    }

    #[test]
    fn column_types_serialise_in_snake_case() {
        let json = serde_json::to_string(&[ColumnType::String, ColumnType::Empty]).unwrap();
        assert_eq!(json, r#"["string","empty"]"#);
    }

    #[test]
    fn a_json_table_unites_the_keys_of_its_rows() {
        let body = br#"{"name": "vendors", "rows": [
            {"id": "v1", "vendor": "Acme", "amount": 1240.5},
            {"id": 2, "amount": 100, "active": true, "vendor": null},
            {"id": "v3", "note": "x", "amount": 1240.0, "active": false}]}"#;
        let reference = reference_from_json(body).unwrap();
        assert_eq!(reference.name.as_deref(), Some("vendors"));
        assert_eq!(reference.id_column, None);
        let table = &reference.table;
        assert_eq!(table.columns, ["id", "vendor", "amount", "active", "note"]);
        assert_eq!(table.ids.iter().collect::<Vec<_>>(), ["v1", "2", "v3"]);
        assert_eq!(row(table, 0), ["v1", "Acme", "1240.5", "", ""]);
        assert_eq!(row(table, 1), ["2", "", "100", "true", ""]);
        assert_eq!(row(table, 2), ["v3", "", "1240", "false", "x"]);
        use ColumnType::*;
        assert_eq!(
            column_types(table),
            [String, String, Number, String, String]
        );
    }

    #[test]
    fn json_table_ids_come_from_the_named_or_a_default_column_or_are_generated() {
        let body = br#"{"rows": [{"code": "A", "row_id": "x"}, {"code": " B ", "row_id": "y"}],
                        "id_column": "code"}"#;
        let reference = reference_from_json(body).unwrap();
        assert_eq!(reference.id_column.as_deref(), Some("code"));
        assert_eq!(reference.table.ids.iter().collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(reference.table.columns, ["code", "row_id"]);

        let body = br#"{"rows": [{"row_id": "x"}, {"row_id": "y"}]}"#;
        let ids: Vec<_> = reference_from_json(body)
            .unwrap()
            .table
            .ids
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(ids, ["x", "y"]);

        let body = br#"{"name": null, "rows": [{"v": 1}, {}, {"v": 1}]}"#;
        let reference = reference_from_json(body).unwrap();
        assert_eq!(reference.name, None);
        assert_eq!(
            reference.table.ids.iter().collect::<Vec<_>>(),
            ["row_1", "row_2", "row_3"]
        );
    }

    #[test]
    fn json_tables_with_a_bad_shape_are_rejected_naming_the_key() {
        let r = |body: &str| reference_from_json(body.as_bytes());
        assert_invalid(r(r#"[1]"#), "", "must be a JSON object");
        assert_invalid(r(r#"{"rows": [{}], "extra": 1}"#), "extra", "unknown key");
        assert_invalid(r(r#"{"name": "x"}"#), "rows", "is required");
        assert_invalid(r(r#"{"rows": []}"#), "rows", "must not be empty");
        assert_invalid(r(r#"{"rows": {"a": 1}}"#), "rows", "must be an array");
        assert_invalid(
            r(r#"{"rows": [{}, {}, {}, 5]}"#),
            "rows[3]",
            "must be an object",
        );
        assert_invalid(
            r(r#"{"name": 5, "rows": [{}]}"#),
            "name",
            "must be a string",
        );
        assert_invalid(
            r(r#"{"id_column": [], "rows": [{}]}"#),
            "id_column",
            "must be a string",
        );
        let body = r#"{"rows": [{}, {}, {}, {"vendor": ["a"]}]}"#;
        assert_invalid(
            r(body),
            "rows[3].vendor",
            "must be a string, number, boolean or null",
        );
        assert_invalid(
            r(r#"{"rows": [{"vendor": {"a": 1}}]}"#),
            "rows[0].vendor",
            "boolean",
        );
    }

    #[test]
    fn json_table_ids_must_be_present_and_unique() {
        let r = |body: &str| reference_from_json(body.as_bytes());
        let body = r#"{"rows": [{"a": 1}], "id_column": "code"}"#;
        assert_invalid(
            r(body),
            "id_column",
            "\"code\" is not a key of any row (keys: a)",
        );
        let body = r#"{"rows": [{"code": "A"}, {"a": 1}], "id_column": "code"}"#;
        assert_invalid(r(body), "rows[1].code", "empty id");
        let body = r#"{"rows": [{"id": "A"}, {"id": " "}]}"#;
        assert_invalid(r(body), "rows[1].id", "empty id");
        let body = r#"{"rows": [{"id": "A"}, {"id": null}]}"#;
        assert_invalid(r(body), "rows[1].id", "empty id");
        let body = r#"{"rows": [{"id": "A"}, {"id": "B"}, {"id": "X"}, {"id": "C"},
                                 {"id": "B"}, {"id": "X"}]}"#;
        assert_invalid(r(body), "rows[4].id", "duplicate id \"B\" (also rows[1])");
        // A number id and the same text are the same id.
        let body = r#"{"rows": [{"id": 7}, {"id": "7"}]}"#;
        assert_invalid(r(body), "rows[1].id", "duplicate id \"7\" (also rows[0])");
    }

    #[test]
    fn json_tables_are_bounded_in_width_and_cells() {
        let keys: Map<std::string::String, Value> = (0..=MAX_REFERENCE_COLUMNS)
            .map(|i| (format!("k{i}"), Value::Null))
            .collect();
        let body = json!({"rows": [{}, keys]}).to_string();
        let last = format!("rows[1].k{MAX_REFERENCE_COLUMNS}");
        assert_invalid(
            reference_from_json(body.as_bytes()),
            &last,
            "at most 1024 columns",
        );

        let keys: Map<std::string::String, Value> =
            (0..1000).map(|i| (format!("k{i}"), Value::Null)).collect();
        let mut rows = vec![Value::Object(keys)];
        rows.resize(MAX_REFERENCE_CELLS / 1000 + 1, json!({}));
        let body = json!({ "rows": rows }).to_string();
        assert_invalid(
            reference_from_json(body.as_bytes()),
            "rows",
            "send a table this large as CSV",
        );
    }

    #[test]
    fn json_values_are_counted_while_parsing_and_stop_it() {
        // Regression (issue 13): a 63 MB body of 7,000,000 fields was a 1.6 GB tree before
        // any limit looked at it.
        let budget = std::cell::Cell::new(6);
        let value = parse_bounded(br#"{"a": [1, "x", null], "b": true}"#, &budget).unwrap();
        assert_eq!(value, json!({"a": [1, "x", null], "b": true}));
        assert_eq!(budget.get(), 0);
        let budget = std::cell::Cell::new(5);
        let err = parse_bounded(br#"{"a": [1, "x", null], "b": true}"#, &budget).unwrap_err();
        assert!(err.to_string().contains("JSON values"), "{err}");
        // Across the lines of JSON Lines, and not for a file imported on the command line.
        let line = format!(
            "{{\"fields\": {{{}}}}}\n",
            (0..99)
                .map(|i| format!("\"f{i}\": 1"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let many = line.repeat(MAX_BODY_VALUES / 100);
        assert_invalid(
            documents_from_jsonl(many.as_bytes()),
            "line 5941",
            "JSON values",
        );
        assert_eq!(
            documents_from_local_jsonl(many.as_bytes()).unwrap().len(),
            MAX_BODY_VALUES / 100
        );
    }

    #[test]
    fn csv_document_fields_are_counted_as_rows_are_read() {
        // Regression (issue 13): a 61 MB CSV of 300,000 rows x 100 columns held 1.8 GB
        // before the 100,000 documents limit stopped it.
        let mut csv = (0..100)
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>()
            .join(",");
        csv.push('\n');
        let row = vec!["1"; 100].join(",") + "\n";
        csv.push_str(&row.repeat(MAX_BODY_VALUES / 100 + 1));
        let result = documents_from_csv_body("d.csv", csv.as_bytes(), Encoding::Utf8, None, None);
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains("line 6002") && message.contains("600000 fields"),
            "{message}"
        );
        let all = documents_from_csv("d.csv", csv.as_bytes(), Encoding::Utf8, None, None);
        assert_eq!(all.unwrap().len(), MAX_BODY_VALUES / 100 + 1);
    }

    #[test]
    fn invalid_json_names_no_field_and_gives_the_position() {
        assert_invalid(
            reference_from_json(b"{\"rows\": [\n{]}"),
            "body",
            "line 2, column 2",
        );
        assert_invalid(reference_from_json(b""), "body", "ends early");
        assert_invalid(
            reference_from_json(b"{\"name\": \"\xFF\"}"),
            "body",
            "line 1",
        );
        assert_invalid(
            documents_from_json(b"{\"fields\": {}\n,}"),
            "body",
            "line 2, column 2",
        );
        assert_invalid(
            documents_from_json(b"{\"fields\": {\"a\": \"\xC3\x28\"}}"),
            "body",
            "line 1",
        );
        assert_invalid(documents_from_json(b"{\"fields\": \xFF}"), "body", "column");
        assert_invalid(
            documents_from_json(b"{} x"),
            "body",
            "more after the JSON value",
        );
    }

    #[test]
    fn nesting_beyond_the_recursion_limit_is_a_validation_error() {
        let deep = |depth: usize| {
            format!(
                r#"{{"fields": {{"a": {}1{}}}}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            )
        };
        assert_invalid(
            documents_from_json(deep(MAX_JSON_DEPTH - 3).as_bytes()),
            "fields.a",
            "string, number or null",
        );
        assert_invalid(
            documents_from_json(deep(MAX_JSON_DEPTH * 100).as_bytes()),
            "body",
            "nests too deeply",
        );
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let body = b"\xEF\xBB\xBF{\"fields\": {\"a\": \"1\"}}";
        assert_eq!(documents_from_json(body).unwrap().len(), 1);
        assert_eq!(documents_from_jsonl(body).unwrap().len(), 1);
        assert!(reference_from_json(b"\xEF\xBB\xBF{\"rows\": [{}]}").is_ok());
    }

    #[test]
    fn one_document() {
        let body = br#"{"filename": "inv.pdf", "id": 42,
                        "fields": {"vendor": "Acme", "amount": 1240.5, "po": null, "n": 3}}"#;
        let docs = documents_from_json(body).unwrap();
        assert_eq!(
            docs,
            [NewDocument {
                external_id: Some("42".into()),
                filename: Some("inv.pdf".into()),
                fields: json!({"vendor": "Acme", "amount": 1240.5, "po": null, "n": 3})
                    .as_object()
                    .unwrap()
                    .clone(),
            }]
        );
        let docs = documents_from_json(br#"{"fields": {}, "filename": null, "id": null}"#).unwrap();
        assert_eq!(docs[0].external_id, None);
        assert_eq!(docs[0].filename, None);
        let docs =
            documents_from_json(br#"{"fields": {}, "id": " D-1 ", "filename": " "}"#).unwrap();
        assert_eq!(docs[0].external_id.as_deref(), Some("D-1"));
        assert_eq!(docs[0].filename, None);
    }

    #[test]
    fn many_documents() {
        let body = br#"{"documents": [
            {"id": "a", "fields": {"x": "1"}},
            {"fields": {"x": 2}},
            {"id": "b", "filename": "b.pdf", "fields": {}}]}"#;
        let docs = documents_from_json(body).unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].external_id.as_deref(), Some("a"));
        assert_eq!(docs[1].external_id, None);
        assert_eq!(docs[1].fields["x"], json!(2));
        assert_eq!(docs[2].filename.as_deref(), Some("b.pdf"));
    }

    #[test]
    fn documents_with_a_bad_shape_are_rejected_naming_the_path() {
        let d = |body: &str| documents_from_json(body.as_bytes());
        assert_invalid(d("[]"), "", "must be a JSON object");
        assert_invalid(
            d(r#"{"fields": {}, "vendor": "x"}"#),
            "vendor",
            "unknown key",
        );
        assert_invalid(d(r#"{"filename": "a"}"#), "fields", "is required");
        assert_invalid(d(r#"{"fields": [1]}"#), "fields", "must be an object");
        assert_invalid(
            d(r#"{"fields": {"ok": "1", "paid": true}}"#),
            "fields.paid",
            "string, number or null",
        );
        assert_invalid(
            d(r#"{"fields": {"a": {"b": 1}}}"#),
            "fields.a",
            "string, number or null",
        );
        assert_invalid(
            d(r#"{"fields": {}, "id": true}"#),
            "id",
            "string or a number",
        );
        assert_invalid(d(r#"{"fields": {}, "id": ""}"#), "id", "empty id");
        assert_invalid(
            d(r#"{"fields": {}, "filename": 3}"#),
            "filename",
            "string or null",
        );

        assert_invalid(d(r#"{"documents": []}"#), "documents", "must not be empty");
        assert_invalid(d(r#"{"documents": {}}"#), "documents", "must be an array");
        assert_invalid(
            d(r#"{"documents": [{"fields": {}}], "fields": {}}"#),
            "fields",
            "unknown key (expected documents)",
        );
        assert_invalid(
            d(r#"{"documents": [{"fields": {}}, 3]}"#),
            "documents[1]",
            "must be an object",
        );
        let body =
            r#"{"documents": [{"fields": {}}, {"fields": {}}, {"fields": {"amount": [1]}}]}"#;
        assert_invalid(
            d(body),
            "documents[2].fields.amount",
            "string, number or null",
        );
        assert_invalid(
            d(r#"{"documents": [{"id": {}, "fields": {}}]}"#),
            "documents[0].id",
            "string or a number",
        );
        assert_invalid(
            d(r#"{"documents": [{"fields": {}, "x": 1}]}"#),
            "documents[0].x",
            "unknown key",
        );
        assert_invalid(
            d(r#"{"documents": [{}]}"#),
            "documents[0].fields",
            "is required",
        );
    }

    #[test]
    fn duplicate_document_ids_name_both_positions() {
        let body = br#"{"documents": [{"id": "a", "fields": {}}, {"fields": {}}, {"id": "b", "fields": {}},
                                      {"id": 1, "fields": {}}, {"id": "1", "fields": {}}, {"id": "a", "fields": {}}]}"#;
        assert_invalid(
            documents_from_json(body),
            "documents[4].id",
            "duplicate id \"1\" (also documents[3])",
        );
    }

    #[test]
    fn document_limits_name_the_field() {
        let fields: Map<std::string::String, Value> = (0..=MAX_FIELDS_PER_DOCUMENT)
            .map(|i| (format!("f{i}"), json!(i)))
            .collect();
        let body = json!({"documents": [{"fields": {}}, {"fields": fields}]}).to_string();
        assert_invalid(
            documents_from_json(body.as_bytes()),
            "documents[1].fields",
            "at most 256",
        );
        let body = json!({"documents": vec![json!({"fields": {}}); MAX_DOCUMENTS_PER_BODY + 1]})
            .to_string();
        assert_invalid(
            documents_from_json(body.as_bytes()),
            "documents",
            "at most 100000",
        );
    }

    #[test]
    fn json_lines() {
        let body = b"{\"id\": \"a\", \"fields\": {\"total\": \"12\"}}\r\n\n  \n{\"fields\": {\"total\": 3}}";
        let docs = documents_from_jsonl(body).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].external_id.as_deref(), Some("a"));
        assert_eq!(docs[1].fields["total"], json!(3));
    }

    #[test]
    fn json_lines_errors_name_the_line() {
        let l = |body: &str| documents_from_jsonl(body.as_bytes());
        let ok = r#"{"fields": {}}"#;
        assert_invalid(
            l(&format!("{ok}\n\n{{\"fields\": {{\"total\": true}}}}")),
            "line 3.fields.total",
            "string, number or null",
        );
        assert_invalid(
            l(&format!("{ok}\n{{\"fields\": }}")),
            "line 2",
            "expected value at column 12",
        );
        assert_invalid(l(&format!("{ok}\n[1]")), "line 2", "must be a JSON object");
        assert_invalid(
            l(&format!("{ok}\n{{\"fields\": {{}}, \"x\": 1}}")),
            "line 2.x",
            "unknown key",
        );
        assert_invalid(l(&format!("{ok}\n{{}}")), "line 2.fields", "is required");
        assert_invalid(l(" \n\n"), "", "has no documents");
        assert_invalid(l(""), "", "has no documents");
        let body = "{\"id\": \"a\", \"fields\": {}}\n{\"id\": \"b\", \"fields\": {}}\n\n{\"id\": \"a\", \"fields\": {}}";
        assert_invalid(l(body), "line 4.id", "duplicate id \"a\" (also line 1)");
        let body = format!("{ok}\n").repeat(MAX_DOCUMENTS_PER_BODY + 1);
        assert_invalid(l(&body), "line 100001", "more than 100000");
    }

    fn csv_docs(text: &str, id: Option<&str>, filename: Option<&str>) -> Result<Vec<NewDocument>> {
        documents_from_csv("docs.csv", text.as_bytes(), Encoding::Utf8, id, filename)
    }

    #[test]
    fn csv_documents_take_ids_and_file_names_from_their_columns() {
        let docs = csv_docs(
            "document_id;filename;vendor;amount\nd1;a.pdf;Acme;1.240,00\nd2;;;7\n",
            None,
            None,
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].external_id.as_deref(), Some("d1"));
        assert_eq!(docs[0].filename.as_deref(), Some("a.pdf"));
        assert_eq!(
            Value::Object(docs[0].fields.clone()),
            json!({"vendor": "Acme", "amount": "1.240,00"})
        );
        assert_eq!(docs[1].filename, None);
        assert_eq!(
            Value::Object(docs[1].fields.clone()),
            json!({"vendor": null, "amount": "7"})
        );

        let docs = csv_docs("id,name\n1,x\n", None, None).unwrap();
        assert_eq!(docs[0].external_id.as_deref(), Some("1"));
        assert_eq!(docs[0].fields.keys().collect::<Vec<_>>(), ["name"]);

        let docs = csv_docs("ref,file,id\nR1,f.pdf,7\n", Some("ref"), Some("file")).unwrap();
        assert_eq!(docs[0].external_id.as_deref(), Some("R1"));
        assert_eq!(docs[0].filename.as_deref(), Some("f.pdf"));
        assert_eq!(Value::Object(docs[0].fields.clone()), json!({"id": "7"}));

        let docs = csv_docs("name\nx\ny\n", None, None).unwrap();
        assert!(docs
            .iter()
            .all(|d| d.external_id.is_none() && d.filename.is_none()));

        let docs = documents_from_csv(
            "docs.csv",
            b"name\nM\xFCller\n",
            Encoding::Windows1252,
            None,
            None,
        )
        .unwrap();
        assert_eq!(docs[0].fields["name"], json!("Müller"));
    }

    #[test]
    fn csv_document_errors_name_the_line_or_option() {
        let (field, message) = detail(csv_docs("a,b\n1,2\n", Some("doc"), None));
        assert_eq!(field, "id_column");
        assert!(
            message.contains("\"doc\" is not in the header"),
            "{message}"
        );
        let (field, _) = detail(csv_docs("a,b\n1,2\n", None, Some("file")));
        assert_eq!(field, "filename_column");
        assert_invalid(
            csv_docs("id,a\nx,1\n,2\n", None, None),
            "line 3",
            "empty id in column \"id\"",
        );
        assert_invalid(
            csv_docs("id,a\nx,1\ny,2\nx,3\n", None, None),
            "line 4",
            "duplicate id \"x\" (first on line 2)",
        );
        assert_invalid(csv_docs("id,a\n", None, None), "", "header but no rows");
        assert_invalid(csv_docs("", None, None), "", "empty");
        assert_invalid(csv_docs("a,b\n1\n", None, None), "line 2", "1 fields");
        let header: Vec<_> = (0..=MAX_FIELDS_PER_DOCUMENT)
            .map(|i| format!("f{i}"))
            .collect();
        let text = format!("id,{}\n", header.join(","));
        assert_invalid(csv_docs(&text, None, None), "line 1", "at most 256");
    }

    #[test]
    fn field_text_is_what_the_matcher_sees() {
        assert_eq!(field_text(&json!("Acme")).as_deref(), Some("Acme"));
        assert_eq!(field_text(&json!(" a ")).as_deref(), Some(" a "));
        assert_eq!(field_text(&json!("  ")), None);
        assert_eq!(field_text(&json!(1240.5)).as_deref(), Some("1240.5"));
        assert_eq!(field_text(&json!(1240.0)).as_deref(), Some("1240"));
        assert_eq!(field_text(&json!(-3)).as_deref(), Some("-3"));
        assert_eq!(
            field_text(&json!(u64::MAX)).as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!(field_text(&json!(null)), None);
        assert_eq!(field_text(&json!(true)), None);
        assert_eq!(field_text(&json!([1])), None);
    }

    #[test]
    fn numbers_become_plain_decimal_text() {
        let text = |s: &str| number_text(&serde_json::from_str(s).unwrap());
        assert_eq!(text("1240.50"), "1240.5");
        assert_eq!(text("1e3"), "1000");
        assert_eq!(text("1.5e-3"), "0.0015");
        assert_eq!(text("-0.0"), "-0");
        assert_eq!(text("12345678901234567890123"), "12345678901234568000000");
    }

    proptest! {
        #[test]
        fn json_bodies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = documents_from_json(&bytes);
            let _ = documents_from_jsonl(&bytes);
            let _ = reference_from_json(&bytes);
        }

        #[test]
        fn json_like_bodies_never_panic(text in r#"[\[\]{}":,. \n0-9a-z\-]{0,200}"#) {
            for body in [
                text.clone(),
                format!(r#"{{"documents": [{text}]}}"#),
                format!(r#"{{"fields": {{{text}}}}}"#),
                format!(r#"{{"rows": [{text}]}}"#),
            ] {
                let _ = documents_from_json(body.as_bytes());
                let _ = documents_from_jsonl(body.as_bytes());
                let _ = reference_from_json(body.as_bytes());
            }
        }

        #[test]
        fn column_types_never_panic(values in proptest::collection::vec(".{0,12}", 0..8)) {
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            let _ = type_of(&values);
        }
    }
}
