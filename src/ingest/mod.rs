//! The only code that reads tabular files: CSV with a detected delimiter, UTF-8 with or
//! without a BOM or Windows-1252, and the id rules of SPEC section 4. Every problem is an
//! `Error::Validation` naming the file, the line or column, and what is wrong.

pub mod csv;

pub use self::csv::{read_csv, CsvEvent, CsvTable, Encoding};

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};
use crate::matcher::ReferenceTable;

/// Documents as read for offline matching: an id and the values of every column.
#[derive(Debug)]
pub struct Documents {
    pub name: String,
    pub columns: Vec<String>,
    pub ids: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Documents {
    /// Each document's values for `sources`, in that order; empty values are missing.
    pub fn values_for<'a>(&self, sources: impl Iterator<Item = &'a str>) -> Vec<Vec<Option<&str>>> {
        let index: Vec<Option<usize>> = sources
            .map(|s| self.columns.iter().position(|c| c == s))
            .collect();
        self.rows
            .iter()
            .map(|row| {
                index
                    .iter()
                    .map(|i| {
                        i.and_then(|i| row.get(i))
                            .map(String::as_str)
                            .filter(|v| !v.trim().is_empty())
                    })
                    .collect()
            })
            .collect()
    }
}

/// The id column: the named one (which must exist), else the first default present,
/// else `None` for generated ids.
fn id_column(
    name: &str,
    headers: &[String],
    named: Option<&str>,
    defaults: &[&str],
    flag: &str,
) -> Result<Option<usize>> {
    match named {
        Some(named) => match headers.iter().position(|h| h == named) {
            Some(i) => Ok(Some(i)),
            None => Err(Error::invalid(
                name,
                flag,
                format!(
                    "column \"{named}\" is not in the header (columns: {})",
                    headers.join(", ")
                ),
            )),
        },
        None => Ok(defaults
            .iter()
            .find_map(|d| headers.iter().position(|h| h == d))),
    }
}

fn empty_id(name: &str, line: u64, column: &str) -> Error {
    Error::invalid(
        name,
        format!("line {line}"),
        format!("empty id in column \"{column}\""),
    )
}

/// Resolves the id of every row: the named column, else the first default column present,
/// else `{prefix}1`, `{prefix}2`, ... in file order. Ids must be present and unique.
fn resolve_ids(
    table: &CsvTable,
    named: Option<&str>,
    defaults: &[&str],
    prefix: &str,
    flag: &str,
) -> Result<Vec<String>> {
    let Some(column) = id_column(&table.name, &table.headers, named, defaults, flag)? else {
        return Ok((1..=table.rows.len())
            .map(|i| format!("{prefix}{i}"))
            .collect());
    };
    let mut seen: HashMap<&str, u64> = HashMap::with_capacity(table.rows.len());
    let mut ids = Vec::with_capacity(table.rows.len());
    for (row, line) in table.rows.iter().zip(&table.lines) {
        let id = row.get(column).map(|s| s.trim()).unwrap_or("");
        if id.is_empty() {
            return Err(empty_id(&table.name, *line, &table.headers[column]));
        }
        if let Some(first) = seen.insert(id, *line) {
            return Err(Error::invalid(
                &table.name,
                format!("line {line}"),
                format!("duplicate id \"{id}\" (first on line {first})"),
            ));
        }
        ids.push(id.to_string());
    }
    Ok(ids)
}

/// Reads a reference table from a CSV file straight into the matcher's column-major form,
/// without holding the file as rows. Ids from `named_id`, `id` or `row_id`, else `row_N`.
pub fn read_reference(
    path: &std::path::Path,
    encoding: Encoding,
    named_id: Option<&str>,
) -> Result<ReferenceTable> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let name = path.display().to_string();
    let mut reference = ReferenceTable::default();
    let mut id_col = None;
    let mut lines: Vec<u64> = Vec::new();
    let mut generated = String::new();
    csv::for_each_record(&name, &bytes, encoding, |event| {
        match event {
            CsvEvent::Header(headers) => {
                id_col = id_column(&name, headers, named_id, &["id", "row_id"], "--id-column")?;
                reference = ReferenceTable::new(headers.to_vec());
            }
            CsvEvent::Record(record, line) => {
                let id = match id_col {
                    Some(c) => {
                        let id = record.get(c).unwrap_or("").trim();
                        if id.is_empty() {
                            return Err(empty_id(&name, line, &reference.columns[c]));
                        }
                        id
                    }
                    None => {
                        generated = format!("row_{}", lines.len() + 1);
                        &generated
                    }
                };
                reference.push_row(id, record.iter());
                lines.push(line);
            }
        }
        Ok(())
    })?;
    if reference.is_empty() {
        return Err(Error::invalid(&name, "", "has a header but no rows"));
    }
    // Duplicates are found by sorting rather than with a set of a million owned ids. In id
    // order (ties by position) the earliest repeat in the file is the second row of its
    // group, beside the group's first.
    let mut order: Vec<u32> = (0..reference.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| {
        reference
            .id(a as usize)
            .cmp(reference.id(b as usize))
            .then(a.cmp(&b))
    });
    let repeat = order
        .windows(2)
        .filter(|w| reference.id(w[0] as usize) == reference.id(w[1] as usize))
        .min_by_key(|w| w[1]);
    if let Some(&[first, repeat]) = repeat {
        return Err(Error::invalid(
            &name,
            format!("line {}", lines[repeat as usize]),
            format!(
                "duplicate id \"{}\" (first on line {})",
                reference.id(repeat as usize),
                lines[first as usize]
            ),
        ));
    }
    Ok(reference)
}

/// Documents from a CSV file; ids from `id_column`, `document_id` or `id`, else `doc_N`.
pub fn documents_from_csv(table: CsvTable, id_column: Option<&str>) -> Result<Documents> {
    let ids = resolve_ids(
        &table,
        id_column,
        &["document_id", "id"],
        "doc_",
        "--document-id-column",
    )?;
    Ok(Documents {
        name: table.name,
        columns: table.headers,
        ids,
        rows: table.rows,
    })
}

/// Labelled data: each document's true reference row, `None` when it has none.
pub type Truth = HashMap<String, Option<String>>;

/// Reads a truth CSV (`document_id,row_id`) and checks it against the inputs: a document
/// listed twice or an id unknown to the inputs is an error.
pub fn truth_from_csv(
    table: CsvTable,
    document_ids: &HashSet<&str>,
    reference_ids: &HashSet<&str>,
) -> Result<Truth> {
    let column = |name: &str| {
        table.column(name).ok_or_else(|| {
            Error::invalid(
                &table.name,
                "header",
                format!(
                    "needs the columns document_id and row_id (found: {})",
                    table.headers.join(", ")
                ),
            )
        })
    };
    let (doc_col, row_col) = (column("document_id")?, column("row_id")?);
    let mut truth = Truth::with_capacity(table.rows.len());
    for (row, line) in table.rows.iter().zip(&table.lines) {
        let field = format!("line {line}");
        let doc = row.get(doc_col).map(|s| s.trim()).unwrap_or("");
        let true_row = row.get(row_col).map(|s| s.trim()).unwrap_or("");
        if !document_ids.contains(doc) {
            return Err(Error::invalid(
                &table.name,
                field,
                format!("document_id \"{doc}\" is not a document of the input"),
            ));
        }
        if !true_row.is_empty() && !reference_ids.contains(true_row) {
            return Err(Error::invalid(
                &table.name,
                field,
                format!("row_id \"{true_row}\" is not a row of the reference"),
            ));
        }
        let value = (!true_row.is_empty()).then(|| true_row.to_string());
        if truth.insert(doc.to_string(), value).is_some() {
            return Err(Error::invalid(
                &table.name,
                field,
                format!("document_id \"{doc}\" is listed twice"),
            ));
        }
    }
    Ok(truth)
}
