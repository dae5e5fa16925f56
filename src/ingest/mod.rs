//! The only code that reads tabular input: CSV files with a detected delimiter, UTF-8 with
//! or without a BOM or Windows-1252, the same CSV and JSON arriving as request bodies
//! (`body`, `multipart`), and the id rules of docs/CONTRACT.md, Concepts and Command line. Every problem is an
//! `Error::Validation` naming the input, the line, column or field, and what is wrong.

pub mod body;
pub mod csv;
pub mod multipart;
pub mod xlsx;

pub use self::csv::{read_csv, CsvEvent, CsvTable, Encoding};

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};
use crate::matcher::ReferenceTable;

/// A documents file after a first pass: its header and every document's id, checked
/// (present, unique) before any document is matched or any output written.
#[derive(Debug)]
pub struct DocumentScan {
    pub name: String,
    pub headers: Vec<String>,
    pub ids: Vec<String>,
}

/// The first pass over a documents file: ids from `named_id`, `document_id` or `id`, else
/// `doc_1`, `doc_2`, ...; every CSV problem of the file surfaces here.
pub fn scan_documents(
    path: &std::path::Path,
    encoding: Encoding,
    named_id: Option<&str>,
) -> Result<DocumentScan> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let name = path.display().to_string();
    let mut scan = DocumentScan {
        name: name.clone(),
        headers: Vec::new(),
        ids: Vec::new(),
    };
    let mut id_col = None;
    let mut lines: Vec<u64> = Vec::new();
    csv::for_each_record_in(&name, file, encoding, |event| {
        match event {
            CsvEvent::Header(headers) => {
                id_col = id_column(
                    &name,
                    headers,
                    named_id,
                    &["document_id", "id"],
                    "--document-id-column",
                )?;
                scan.headers = headers.to_vec();
            }
            CsvEvent::Record(record, line) => {
                let id = match id_col {
                    Some(c) => {
                        let id = record.get(c).unwrap_or("").trim();
                        if id.is_empty() {
                            return Err(empty_id(&name, line, &scan.headers[c]));
                        }
                        id.to_string()
                    }
                    None => format!("doc_{}", scan.ids.len() + 1),
                };
                scan.ids.push(id);
                lines.push(line);
            }
        }
        Ok(())
    })?;
    if let Some((first, repeat)) = first_repeat(scan.ids.len(), |i| &scan.ids[i]) {
        return Err(duplicate_id(
            &name,
            &scan.ids[repeat],
            lines[repeat],
            lines[first],
        ));
    }
    Ok(scan)
}

/// The second pass: the documents in file order, `chunk` at a time, each as its values for
/// `sources` (`None` when empty), with the position of the chunk's first document. Memory
/// holds one chunk, whatever the file's length.
pub fn for_each_document_chunk(
    path: &std::path::Path,
    encoding: Encoding,
    sources: &[&str],
    chunk: usize,
    mut on_chunk: impl FnMut(usize, &[Vec<Option<String>>]) -> Result<()>,
) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let name = path.display().to_string();
    let mut columns: Vec<Option<usize>> = Vec::new();
    let mut batch: Vec<Vec<Option<String>>> = Vec::with_capacity(chunk);
    let mut first = 0;
    csv::for_each_record_in(&name, file, encoding, |event| {
        match event {
            CsvEvent::Header(headers) => {
                columns = sources
                    .iter()
                    .map(|s| headers.iter().position(|h| h == s))
                    .collect();
            }
            CsvEvent::Record(record, _) => {
                batch.push(
                    columns
                        .iter()
                        .map(|c| {
                            c.and_then(|c| record.get(c))
                                .filter(|v| !v.trim().is_empty())
                                .map(str::to_string)
                        })
                        .collect(),
                );
                if batch.len() >= chunk.max(1) {
                    on_chunk(first, &batch)?;
                    first += batch.len();
                    batch.clear();
                }
            }
        }
        Ok(())
    })?;
    if !batch.is_empty() {
        on_chunk(first, &batch)?;
    }
    Ok(())
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

/// Labelled data: each document's true reference row, `None` when it has none.
pub type Truth = HashMap<String, Option<String>>;

/// The row ids a truth table names, as `truth_from_csv` reads them (for checking them
/// all at once).
pub fn truth_row_ids(table: &CsvTable) -> impl Iterator<Item = &str> {
    let column = table.column("row_id");
    table.rows.iter().filter_map(move |row| {
        let id = row.get(column?)?.trim();
        (!id.is_empty()).then_some(id)
    })
}

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
        // Named only when there is something to report.
        let field = || format!("line {line}");
        let doc = row.get(doc_col).map(|s| s.trim()).unwrap_or("");
        let true_row = row.get(row_col).map(|s| s.trim()).unwrap_or("");
        if !document_ids.contains(doc) {
            return Err(Error::invalid(
                &table.name,
                field(),
                format!("document_id \"{doc}\" is not a document of the input"),
            ));
        }
        if !true_row.is_empty() && !is_reference_id(true_row) {
            return Err(Error::invalid(
                &table.name,
                field(),
                format!("row_id \"{true_row}\" is not a row of the reference"),
            ));
        }
        let value = (!true_row.is_empty()).then(|| true_row.to_string());
        if truth.insert(doc.to_string(), value).is_some() {
            return Err(Error::invalid(
                &table.name,
                field(),
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
    fn generated_ids_follow_file_order_and_chunks_cover_every_document() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, "name,x\na,1\nb,\nc,3\n").unwrap();
        let scan = scan_documents(&path, Encoding::Utf8, None).unwrap();
        assert_eq!(scan.ids, ["doc_1", "doc_2", "doc_3"]);
        let mut seen = Vec::new();
        for_each_document_chunk(
            &path,
            Encoding::Utf8,
            &["x", "missing"],
            2,
            |first, values| {
                seen.push((first, values.to_vec()));
                Ok(())
            },
        )
        .unwrap();
        let one = |v: &str| vec![Some(v.to_string()), None];
        assert_eq!(
            seen,
            [(0, vec![one("1"), vec![None, None]]), (2, vec![one("3")]),]
        );
    }
}
