//! The only code that reads tabular files: CSV with a detected delimiter, UTF-8 with or
//! without a BOM or Windows-1252, and the id rules of SPEC section 4. Every problem is an
//! `Error::Validation` naming the file, the line or column, and what is wrong.

pub mod csv;

pub use self::csv::{read_csv, CsvTable, Encoding};

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

/// Resolves the id of every row: the named column, else the first default column present,
/// else `{prefix}1`, `{prefix}2`, ... in file order. Ids must be present and unique.
fn resolve_ids(
    table: &CsvTable,
    id_column: Option<&str>,
    defaults: &[&str],
    prefix: &str,
    flag: &str,
) -> Result<Vec<String>> {
    let column = match id_column {
        Some(name) => Some(table.column(name).ok_or_else(|| {
            Error::invalid(
                &table.name,
                flag,
                format!(
                    "column \"{name}\" is not in the header (columns: {})",
                    table.headers.join(", ")
                ),
            )
        })?),
        None => defaults.iter().find_map(|d| table.column(d)),
    };
    let Some(column) = column else {
        return Ok((1..=table.rows.len())
            .map(|i| format!("{prefix}{i}"))
            .collect());
    };
    let mut seen: HashMap<&str, u64> = HashMap::with_capacity(table.rows.len());
    let mut ids = Vec::with_capacity(table.rows.len());
    for (row, line) in table.rows.iter().zip(&table.lines) {
        let id = row.get(column).map(|s| s.trim()).unwrap_or("");
        let field = format!("line {line}");
        if id.is_empty() {
            return Err(Error::invalid(
                &table.name,
                field,
                format!("empty id in column \"{}\"", table.headers[column]),
            ));
        }
        if let Some(first) = seen.insert(id, *line) {
            return Err(Error::invalid(
                &table.name,
                field,
                format!("duplicate id \"{id}\" (first on line {first})"),
            ));
        }
        ids.push(id.to_string());
    }
    Ok(ids)
}

/// A reference table from a CSV file; ids from `id_column`, `id` or `row_id`, else `row_N`.
pub fn reference_from_csv(table: CsvTable, id_column: Option<&str>) -> Result<ReferenceTable> {
    if table.rows.is_empty() {
        return Err(Error::invalid(&table.name, "", "has a header but no rows"));
    }
    let ids = resolve_ids(&table, id_column, &["id", "row_id"], "row_", "--id-column")?;
    let mut reference = ReferenceTable::new(table.headers.clone());
    for (id, row) in ids.iter().zip(&table.rows) {
        reference.push_row(id, row.iter().map(String::as_str));
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
