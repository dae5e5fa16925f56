//! The only code that reads tabular input: CSV files with a detected delimiter, UTF-8 with
//! or without a BOM or Windows-1252, the same CSV and JSON arriving as request bodies
//! (`body`, `multipart`), and the id rules of SPEC sections 1 and 4. Every problem is an
//! `Error::Validation` naming the input, the line, column or field, and what is wrong.

pub mod body;
pub mod csv;
pub mod multipart;

pub use self::csv::{read_csv, CsvEvent, CsvTable, Encoding};

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};
use crate::matcher::ReferenceTable;

/// Documents as read for offline matching: an id and the values of every column.
#[derive(Debug)]
pub struct Documents {
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

/// The earliest row whose id an earlier row already has, with that earlier row. Found by
/// sorting rather than with a set of owned ids: in id order (ties by position) the
/// earliest repeat is the second row of its group, beside the group's first.
fn first_repeat<'a>(len: usize, id: impl Fn(usize) -> &'a str + Sync) -> Option<(usize, usize)> {
    use rayon::slice::ParallelSliceMut;
    let mut order: Vec<usize> = (0..len).collect();
    order.par_sort_unstable_by(|&a, &b| id(a).cmp(id(b)).then(a.cmp(&b)));
    order
        .windows(2)
        .filter(|w| id(w[0]) == id(w[1]))
        .min_by_key(|w| w[1])
        .map(|w| (w[0], w[1]))
}

fn duplicate_id(name: &str, id: &str, line: u64, first_line: u64) -> Error {
    Error::invalid(
        name,
        format!("line {line}"),
        format!("duplicate id \"{id}\" (first on line {first_line})"),
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
    let mut ids = Vec::with_capacity(table.rows.len());
    for (row, line) in table.rows.iter().zip(&table.lines) {
        let id = row.get(column).map(|s| s.trim()).unwrap_or("");
        if id.is_empty() {
            return Err(empty_id(&table.name, *line, &table.headers[column]));
        }
        ids.push(id.to_string());
    }
    if let Some((first, repeat)) = first_repeat(ids.len(), |i| &ids[i]) {
        return Err(duplicate_id(
            &table.name,
            &ids[repeat],
            table.lines[repeat],
            table.lines[first],
        ));
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
    reference_from_csv(&name, &bytes, encoding, named_id, "--id-column")
}

/// Parses CSV bytes (a file or a request body) into a reference table; `name` names the
/// input in errors and `id_flag` is how the caller spelled the id column option
/// (`--id-column` on the command line, `id_column` over HTTP), so a missing named column
/// is reported under the name the user typed.
pub fn reference_from_csv(
    name: &str,
    bytes: &[u8],
    encoding: Encoding,
    named_id: Option<&str>,
    id_flag: &str,
) -> Result<ReferenceTable> {
    let mut reference = ReferenceTable::default();
    let mut id_col = None;
    let mut lines: Vec<u64> = Vec::new();
    let mut generated = String::new();
    csv::for_each_record(name, bytes, encoding, |event| {
        match event {
            CsvEvent::Header(headers) => {
                id_col = id_column(name, headers, named_id, &["id", "row_id"], id_flag)?;
                reference = ReferenceTable::new(headers.to_vec());
            }
            CsvEvent::Record(record, line) => {
                let id = match id_col {
                    Some(c) => {
                        let id = record.get(c).unwrap_or("").trim();
                        if id.is_empty() {
                            return Err(empty_id(name, line, &reference.columns[c]));
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
        return Err(Error::invalid(name, "", "has a header but no rows"));
    }
    if let Some((first, repeat)) = first_repeat(reference.len(), |i| reference.id(i)) {
        let id = reference.id(repeat);
        return Err(duplicate_id(name, id, lines[repeat], lines[first]));
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
    is_reference_id: &dyn Fn(&str) -> bool,
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
        if !true_row.is_empty() && !is_reference_id(true_row) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_repeat_is_reported_with_its_first_occurrence() {
        let ids = ["c", "a", "b", "a", "c", "a"];
        assert_eq!(first_repeat(ids.len(), |i| ids[i]), Some((1, 3)));
        let ids = ["x", "y", "z"];
        assert_eq!(first_repeat(ids.len(), |i| ids[i]), None);
    }

    #[test]
    fn reference_bodies_name_the_id_option_as_the_caller_spells_it() {
        let bytes = b"code;name\nA;x\nB;y\n";
        let table =
            reference_from_csv("body.csv", bytes, Encoding::Utf8, Some("code"), "id_column")
                .unwrap();
        assert_eq!(table.ids.iter().collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(table.columns, ["code", "name"]);
        let err = reference_from_csv("body.csv", bytes, Encoding::Utf8, Some("id"), "id_column")
            .unwrap_err();
        let Error::Validation { details, .. } = err else {
            panic!("{err}");
        };
        assert_eq!(details[0].field, "id_column");
    }

    #[test]
    fn generated_ids_follow_file_order() {
        let table = csv::parse_csv("d.csv", b"name\na\nb\n", Encoding::Utf8).unwrap();
        let docs = documents_from_csv(table, None).unwrap();
        assert_eq!(docs.ids, ["doc_1", "doc_2"]);
    }
}
