//! Reference tables uploaded as XLSX workbooks: the first worksheet, its first filled row as
//! the header, every later filled row as a reference row, with the id rules CSV follows
//! (docs/CONTRACT.md, Concepts and API). It owns how a cell becomes text: whole numbers without `.0`,
//! date cells as ISO dates, errors and blanks as missing values. It is pure: bytes already
//! in memory in, a [`ReferenceTable`] or an `Error::Validation` naming the sheet row or
//! column out. It never touches SQLite or HTTP.
//!
//! Cells are read one at a time and kept only when they hold a value, rather than through
//! calamine's dense `Range`: a workbook of a few bytes may place one cell at `XFD1048576`,
//! and a dense range of that sheet would need some 17 billion cells.

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{open_workbook_from_rs, DataRef, ExcelDateTime, ExcelDateTimeType, Reader};
use calamine::{SheetType, Xlsx};

use super::body::{MAX_REFERENCE_CELLS, MAX_REFERENCE_COLUMNS};
use super::{first_repeat, id_column};
use crate::error::{Error, Result};
use crate::matcher::ReferenceTable;

/// At most this many bytes of cell text over a sheet. A cell may name a shared string
/// that other cells name too, so a small workbook can hold far more text than its size
/// suggests; CSV bodies need no such bound because every byte of their text is sent.
const MAX_TEXT_BYTES: usize = 128 << 20;

/// At most this many bytes inflated from the whole workbook, however large the upload.
/// Deflate packs up to about a thousand bytes into one, so a 64 MB upload could otherwise
/// unpack to tens of gigabytes inside the XML reader (a zip bomb) before any cell limit is
/// reached.
const MAX_INFLATED_BYTES: u64 = 256 << 20;
/// And at most this many times the upload's own size: real workbooks inflate 5 to 20
/// times; ...
const MAX_INFLATION_RATIO: u64 = 100;
/// ... but a small workbook may always inflate to this much.
const MIN_INFLATED_ALLOWANCE: u64 = 16 << 20;
/// calamine holds the whole shared-strings table in memory before the first cell is read,
/// at two to three times its XML size, so that member has a bound of its own: its XML ...
const MAX_SHARED_STRINGS_BYTES: u64 = 64 << 20;
/// ... and the strings in it (each costs memory even when empty).
const MAX_SHARED_STRINGS: u64 = 1_000_000;

/// At most this many filled cells in the first sheet. A cell is some 20 bytes of XML and
/// 60 bytes of memory once read, so the 256 MiB of XML a workbook may inflate to could
/// otherwise hold 13 million of them (over a gigabyte); 2,000,000 is 200,000 rows of 10
/// columns. Larger tables are uploaded as CSV.
const MAX_XLSX_CELLS: usize = 2_000_000;

/// What a workbook of `upload` bytes may inflate to in all.
fn inflate_limit(upload: usize) -> u64 {
    (upload as u64)
        .saturating_mul(MAX_INFLATION_RATIO)
        .clamp(MIN_INFLATED_ALLOWANCE, MAX_INFLATED_BYTES)
}

/// Excel's last date, 9999-12-31, is serial 2958465 (1900 system); later serials and
/// negative ones are shown as `#####` by Excel and kept here as numbers.
const SERIAL_END: f64 = 2_958_466.0;

const DAY_SECONDS: u64 = 86_400;

/// Inflates every member of the archive into nothing, counting, and refuses the workbook
/// once the count passes `limit`, or the shared-strings member passes its own bounds. Sizes
/// the archive declares are not trusted: they can lie. Archives the zip reader cannot open
/// are left for calamine to report in its words.
fn check_inflated_size(name: &str, bytes: &[u8], limit: u64) -> Result<()> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let refuse = |message: String| Err(Error::invalid(name, "", message));
    let mut inflated = 0u64;
    let mut buffer = vec![0u8; 64 * 1024];
    for i in 0..archive.len() {
        let Ok(mut member) = archive.by_index(i) else {
            continue;
        };
        let shared_strings = member
            .name()
            .to_ascii_lowercase()
            .ends_with("sharedstrings.xml");
        let (mut member_bytes, mut strings) = (0u64, 0u64);
        // The last bytes of the previous read, so that a `<si` cut in two is counted.
        let mut carry = [0u8; 2];
        // A member that fails to inflate is calamine's to report; its bytes so far count,
        // since a bad checksum is only found at the end.
        while let Ok(read @ 1..) = std::io::Read::read(&mut member, &mut buffer) {
            inflated += read as u64;
            member_bytes += read as u64;
            if shared_strings {
                let chunk = &buffer[..read];
                let joined = [&carry[..], &chunk[..chunk.len().min(2)]].concat();
                strings += joined.windows(3).filter(|w| w == b"<si").count() as u64;
                strings += chunk.windows(3).filter(|w| w == b"<si").count() as u64;
                if read >= 2 {
                    carry.copy_from_slice(&chunk[read - 2..]);
                }
                if member_bytes > MAX_SHARED_STRINGS_BYTES || strings > MAX_SHARED_STRINGS {
                    return refuse(format!(
                        "has a shared-strings table over {} MiB or {MAX_SHARED_STRINGS} \
                         strings; a workbook may hold at most that",
                        MAX_SHARED_STRINGS_BYTES >> 20
                    ));
                }
            }
            if inflated > limit {
                return refuse(format!(
                    "unpacks to more than {} MiB; a workbook of this size may hold at most \
                     that much XML ({MAX_INFLATION_RATIO} times its size, at least {} MiB, \
                     at most {} MiB)",
                    limit >> 20,
                    MIN_INFLATED_ALLOWANCE >> 20,
                    MAX_INFLATED_BYTES >> 20
                ));
            }
        }
    }
    Ok(())
}

/// A cell that holds a value, at its 0-based sheet position.
struct FilledCell<'a> {
    row: u32,
    col: u32,
    text: Cow<'a, str>,
}

/// Reads the first sheet of an XLSX workbook (bytes in memory) as a reference table, with the
/// same id rules as CSV: the named id column (must exist; error field is `id_flag`), else a
/// column named `id` or `row_id`, else `row_1`, `row_2`, ... in sheet order; empty or
/// duplicate ids are errors naming the row (`row N` as the 1-based sheet row number).
///
/// The first sheet is the first worksheet in workbook order (chart sheets hold no cells).
/// The header is the first row with a value; the table starts at the leftmost column with
/// a value anywhere in the sheet and ends at the header's last named column, so empty
/// header cells in between become `column_N` (N counted from the table's first column) and
/// cells right of the header are ignored. Rows without a value in the table's columns are
/// skipped.
///
/// The spreadsheet reader is a dependency: a panic inside it on a crafted file is reported
/// as an unreadable workbook, for the CLI and the server alike.
pub fn reference_from_xlsx(
    name: &str,
    bytes: &[u8],
    named_id: Option<&str>,
    id_flag: &str,
) -> Result<ReferenceTable> {
    std::panic::catch_unwind(|| read_workbook(name, bytes, named_id, id_flag))
        .unwrap_or_else(|_| Err(Error::invalid(name, "", "is not a readable XLSX workbook")))
}

fn read_workbook(
    name: &str,
    bytes: &[u8],
    named_id: Option<&str>,
    id_flag: &str,
) -> Result<ReferenceTable> {
    let unreadable = |reason: &dyn std::fmt::Display| {
        Error::invalid(
            name,
            "",
            format!("is not a readable XLSX workbook: {reason}"),
        )
    };
    check_inflated_size(name, bytes, inflate_limit(bytes.len()))?;
    let mut workbook: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let sheet = workbook
        .sheets_metadata()
        .iter()
        .find(|sheet| sheet.typ == SheetType::WorkSheet)
        .map(|sheet| sheet.name.clone())
        .ok_or_else(|| unreadable(&"it has no worksheet"))?;
    let mut reader = workbook
        .worksheet_cells_reader(&sheet)
        .map_err(|e| unreadable(&e))?;
    let mut cells = Vec::new();
    let mut text_bytes = 0usize;
    while let Some(cell) = reader.next_cell().map_err(|e| unreadable(&e))? {
        let text = cell_text(cell.get_value());
        if text.is_empty() {
            continue;
        }
        text_bytes = text_bytes.saturating_add(text.len());
        if cells.len() == MAX_XLSX_CELLS.min(MAX_REFERENCE_CELLS) || text_bytes > MAX_TEXT_BYTES {
            return Err(Error::invalid(
                name,
                "",
                format!(
                    "holds more than {MAX_XLSX_CELLS} filled cells or {MAX_TEXT_BYTES} bytes \
                     of text in its first sheet; upload a table this large as CSV"
                ),
            ));
        }
        let (row, col) = cell.get_position();
        cells.push(FilledCell { row, col, text });
    }
    table_from_cells(name, cells, named_id, id_flag)
}

/// Builds the table from the filled cells of a sheet, in any order.
fn table_from_cells(
    name: &str,
    mut cells: Vec<FilledCell>,
    named_id: Option<&str>,
    id_flag: &str,
) -> Result<ReferenceTable> {
    // Writers put cells in sheet order, but calamine accepts any; a stable sort keeps the
    // later of two cells at one position last, so it wins when rows are filled below.
    cells.sort_by_key(|cell| (cell.row, cell.col));
    let Some(header_row) = cells.first().map(|cell| cell.row) else {
        return Err(Error::invalid(name, "", "is empty; expected a header row"));
    };
    let left = cells.iter().map(|cell| cell.col).min().unwrap_or(0);
    let header_len = cells.iter().take_while(|c| c.row == header_row).count();
    let (header, data) = cells.split_at(header_len);
    let right = header.iter().map(|cell| cell.col).max().unwrap_or(left);
    let header_field = format!("row {}", u64::from(header_row) + 1);
    let width = (right - left) as usize + 1;
    if width > MAX_REFERENCE_COLUMNS {
        return Err(Error::invalid(
            name,
            header_field,
            format!(
                "has {width} columns; a table may have at most {MAX_REFERENCE_COLUMNS} columns"
            ),
        ));
    }
    let headers = header_names(name, &header_field, header, left, width)?;
    let rows: Vec<&[FilledCell]> = data
        .chunk_by(|a, b| a.row == b.row)
        .filter(|row| row.iter().any(|cell| cell.col <= right))
        .collect();
    if rows.is_empty() {
        return Err(Error::invalid(name, "", "has a header but no rows"));
    }
    if rows.len().saturating_mul(width) > MAX_REFERENCE_CELLS {
        return Err(Error::invalid(
            name,
            "",
            format!(
                "{} rows of {width} columns exceed the {MAX_REFERENCE_CELLS} cells a table may \
                 hold",
                rows.len()
            ),
        ));
    }
    let id_col = id_column(name, &headers, named_id, &["id", "row_id"], id_flag)?;
    let mut table = ReferenceTable::new(headers);
    let mut sheet_rows: Vec<u64> = Vec::with_capacity(rows.len());
    let mut values: Vec<&str> = vec![""; width];
    let mut generated: String;
    for row in rows {
        values.fill("");
        for cell in row {
            if let Some(value) = values.get_mut((cell.col - left) as usize) {
                *value = &cell.text;
            }
        }
        let sheet_row = row.first().map_or(0, |cell| u64::from(cell.row) + 1);
        let id = match id_col {
            Some(c) => match values.get(c).copied().unwrap_or("") {
                "" => {
                    let column = table.columns.get(c).map_or("", String::as_str);
                    return Err(Error::invalid(
                        name,
                        format!("row {sheet_row}"),
                        format!("empty id in column \"{column}\""),
                    ));
                }
                id => id,
            },
            None => {
                generated = format!("row_{}", sheet_rows.len() + 1);
                &generated
            }
        };
        table.push_row(id, values.iter().copied());
        sheet_rows.push(sheet_row);
    }
    if let Some((first, repeat)) = first_repeat(table.len(), |i| table.id(i)) {
        let row = |i: usize| sheet_rows.get(i).copied().unwrap_or(0);
        return Err(Error::invalid(
            name,
            format!("row {}", row(repeat)),
            format!(
                "duplicate id \"{}\" (first on row {})",
                table.id(repeat),
                row(first)
            ),
        ));
    }
    Ok(table)
}

/// The column names: each header cell's text, `column_N` where it is empty; a name given
/// twice is an error, as in a CSV header.
fn header_names(
    name: &str,
    field: &str,
    header: &[FilledCell],
    left: u32,
    width: usize,
) -> Result<Vec<String>> {
    let mut names = vec![String::new(); width];
    for cell in header {
        if let Some(slot) = names.get_mut((cell.col - left) as usize) {
            *slot = cell.text.to_string();
        }
    }
    for (i, slot) in names.iter_mut().enumerate() {
        if slot.is_empty() {
            *slot = format!("column_{}", i + 1);
        }
    }
    for (i, column) in names.iter().enumerate() {
        if names[..i].contains(column) {
            return Err(Error::invalid(
                name,
                field,
                format!("column \"{column}\" appears twice in the header"),
            ));
        }
    }
    Ok(names)
}

/// A cell as the text the matcher sees, trimmed; empty for blanks and error values
/// (`#N/A`, `#DIV/0!`), which are missing rather than text to match.
fn cell_text<'a>(value: &DataRef<'a>) -> Cow<'a, str> {
    match value {
        DataRef::SharedString(s) => Cow::Borrowed(s.trim()),
        DataRef::String(s) => Cow::Owned(s.trim().to_string()),
        DataRef::Int(i) => Cow::Owned(i.to_string()),
        DataRef::Float(f) => Cow::Owned(float_text(*f)),
        DataRef::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        DataRef::DateTime(datetime) => Cow::Owned(datetime_text(datetime)),
        DataRef::DateTimeIso(s) => Cow::Owned(iso_datetime_text(s.trim())),
        DataRef::DurationIso(s) => Cow::Owned(s.trim().to_string()),
        DataRef::Error(_) | DataRef::Empty => Cow::Borrowed(""),
    }
}

/// A number in the shortest decimal form that reads back the same, as the JSON path
/// writes it: Rust's `Display` for f64 prints neither an exponent nor a trailing `.0`, so
/// `1240.0` is `1240`. Not-a-number and infinities are missing values.
fn float_text(f: f64) -> String {
    if !f.is_finite() {
        String::new()
    } else if f == 0.0 {
        // `-0` would read as a different value than `0` to people, not to the parsers.
        "0".to_string()
    } else {
        f.to_string()
    }
}

/// A date-formatted serial as an ISO date, with `THH:MM:SS` when it has a time of day;
/// a serial below one day (a time-formatted cell) as `HH:MM:SS`; a duration as Excel
/// shows `[h]:mm:ss`. Seconds are rounded, as Excel displays them.
fn datetime_text(datetime: &ExcelDateTime) -> String {
    let serial = datetime.as_f64();
    if !(0.0..SERIAL_END).contains(&serial) {
        return float_text(serial);
    }
    // In range, `serial * 86400` is below 2.6e11 and the cast is exact after rounding.
    let seconds = (serial * DAY_SECONDS as f64).round() as u64;
    let (days, time) = (seconds / DAY_SECONDS, seconds % DAY_SECONDS);
    let clock = |hours: u64| format!("{hours:02}:{:02}:{:02}", time / 60 % 60, time % 60);
    if datetime.is_duration() {
        return clock(days * 24 + time / 3600);
    }
    if days == 0 {
        return clock(time / 3600);
    }
    // The epoch is not readable from `ExcelDateTime`, but equality with a 1900-system value
    // of the same serial tells it.
    let is_1904 = *datetime != ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, false);
    let day = ExcelDateTime::new(days as f64, ExcelDateTimeType::DateTime, is_1904);
    let (year, month, day, ..) = day.to_ymd_hms_milli();
    let date = format!("{year:04}-{month:02}-{day:02}");
    if time == 0 {
        date
    } else {
        format!("{date}T{}", clock(time / 3600))
    }
}

/// A date cell stored as ISO text (`t="d"`): the date alone when the time is midnight.
fn iso_datetime_text(text: &str) -> String {
    match text.split_once('T') {
        Some((date, time)) if time.chars().all(|c| matches!(c, '0' | ':' | '.' | 'Z')) => {
            date.to_string()
        }
        _ => text.to_string(),
    }
}

/// A zip archive of `files`, stored without compression: per file a local header and the
/// data, then the central directory and its end record. The tests and the fuzz harness (`fuzzing`)
/// build workbooks with it.
pub fn stored_zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let (mut out, mut directory) = (Vec::new(), Vec::new());
    for (path, data) in files {
        let mut common = Vec::new(); // from "version needed" to "extra field length"
        common.extend(20u16.to_le_bytes()); // version needed: 2.0
        common.extend(0u16.to_le_bytes()); // flags
        common.extend(0u16.to_le_bytes()); // method: stored
        common.extend(0u16.to_le_bytes()); // time 00:00
        common.extend(0x21u16.to_le_bytes()); // date 1980-01-01
        common.extend(crc32(data).to_le_bytes());
        common.extend((data.len() as u32).to_le_bytes()); // compressed size
        common.extend((data.len() as u32).to_le_bytes()); // size
        common.extend((path.len() as u16).to_le_bytes());
        common.extend(0u16.to_le_bytes()); // extra field length
        let offset = out.len() as u32;
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend(&common);
        out.extend(path.as_bytes());
        out.extend(*data);
        directory.extend(0x0201_4b50u32.to_le_bytes());
        directory.extend(20u16.to_le_bytes()); // version made by
        directory.extend(&common);
        directory.extend([0u8; 10]); // comment length, disk, internal and external attributes
        directory.extend(offset.to_le_bytes());
        directory.extend(path.as_bytes());
    }
    let (start, count) = (out.len() as u32, files.len() as u16);
    out.extend(&directory);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]); // this disk, directory disk
    out.extend(count.to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend((directory.len() as u32).to_le_bytes());
    out.extend(start.to_le_bytes());
    out.extend(0u16.to_le_bytes()); // comment length
    out
}

/// CRC-32 (IEEE), bit by bit: the inputs are small and speed does not matter here.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
    use proptest::prelude::*;

    /// A cell as a test writes it; its column is its position in the row.
    enum Cell {
        /// Inline text.
        S(&'static str),
        /// A number written as Rust's `Debug` prints it (`1240.0`).
        N(f64),
        /// A serial in the date style (`numFmtId` 14).
        D(f64),
        B(bool),
        /// An error value such as `#N/A`.
        E(&'static str),
        /// No cell at all.
        Gap,
        /// Cell XML as given, wherever its `r` puts it.
        Raw(&'static str),
    }
    use Cell::*;

    /// A stored zip of `files`.
    fn zip(files: &[(&str, String)]) -> Vec<u8> {
        let files: Vec<(&str, &[u8])> = files.iter().map(|(p, d)| (*p, d.as_bytes())).collect();
        stored_zip(&files)
    }

    /// A workbook of one sheet holding `rows`, each at its 1-based sheet row number.
    fn workbook(rows: &[(u32, &[Cell])]) -> Vec<u8> {
        const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        const PKG: &str = "http://schemas.openxmlformats.org/package/2006";
        let mut sheet = format!("<worksheet xmlns=\"{MAIN}\"><sheetData>");
        for (r, cells) in rows {
            sheet += &format!("<row r=\"{r}\">");
            for (c, cell) in cells.iter().enumerate() {
                let at = format!("{}{r}", char::from(b'A' + c as u8));
                sheet += &match cell {
                    S(s) => format!("<c r=\"{at}\" t=\"inlineStr\"><is><t>{s}</t></is></c>"),
                    N(n) => format!("<c r=\"{at}\"><v>{n:?}</v></c>"),
                    D(n) => format!("<c r=\"{at}\" s=\"1\"><v>{n}</v></c>"),
                    B(b) => format!("<c r=\"{at}\" t=\"b\"><v>{}</v></c>", u8::from(*b)),
                    E(e) => format!("<c r=\"{at}\" t=\"e\"><v>{e}</v></c>"),
                    Gap => String::new(),
                    Raw(xml) => xml.to_string(),
                };
            }
            sheet += "</row>";
        }
        sheet += "</sheetData></worksheet>";
        let part = |path: &str, kind: &str| {
            format!(
                "<Override PartName=\"/xl/{path}\" ContentType=\"application/\
                 vnd.openxmlformats-officedocument.spreadsheetml.{kind}+xml\"/>"
            )
        };
        let relationship = |id: &str, kind: &str, target: &str| {
            format!("<Relationship Id=\"{id}\" Type=\"{REL}/{kind}\" Target=\"{target}\"/>")
        };
        zip(&[
            (
                "[Content_Types].xml",
                format!(
                    "<Types xmlns=\"{PKG}/content-types\"><Default Extension=\"rels\" \
                     ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
                     {}{}{}</Types>",
                    part("workbook.xml", "sheet.main"),
                    part("worksheets/sheet1.xml", "worksheet"),
                    part("styles.xml", "styles")
                ),
            ),
            (
                "_rels/.rels",
                format!(
                    "<Relationships xmlns=\"{PKG}/relationships\">{}</Relationships>",
                    relationship("rId1", "officeDocument", "xl/workbook.xml")
                ),
            ),
            (
                "xl/workbook.xml",
                format!(
                    "<workbook xmlns=\"{MAIN}\" xmlns:r=\"{REL}\"><sheets>\
                     <sheet name=\"Vendors\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
                ),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                format!(
                    "<Relationships xmlns=\"{PKG}/relationships\">{}{}</Relationships>",
                    relationship("rId1", "worksheet", "worksheets/sheet1.xml"),
                    relationship("rId2", "styles", "styles.xml")
                ),
            ),
            (
                "xl/styles.xml",
                format!(
                    "<styleSheet xmlns=\"{MAIN}\"><cellXfs count=\"2\"><xf numFmtId=\"0\"/>\
                     <xf numFmtId=\"14\" applyNumberFormat=\"1\"/></cellXfs></styleSheet>"
                ),
            ),
            ("xl/worksheets/sheet1.xml", sheet),
        ])
    }

    fn read(bytes: &[u8], named_id: Option<&str>) -> Result<ReferenceTable> {
        reference_from_xlsx("vendors.xlsx", bytes, named_id, "id_column")
    }

    fn rows(table: &ReferenceTable) -> Vec<Vec<&str>> {
        (0..table.len())
            .map(|r| {
                let values = table.values.iter().map(|column| column.get(r));
                std::iter::once(table.id(r)).chain(values).collect()
            })
            .collect()
    }

    /// The one detail of a validation error, as (field, message).
    fn invalid(result: Result<ReferenceTable>) -> (String, String) {
        match result {
            Err(Error::Validation {
                origin: source,
                details,
            }) if details.len() == 1 => {
                assert_eq!(source, "vendors.xlsx");
                (details[0].field.clone(), details[0].message.clone())
            }
            other => panic!("expected one validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_workbook_that_unpacks_past_the_limit_is_refused_by_counting_not_by_its_word() {
        let member = "x".repeat(2 << 20);
        let archive = zip(&[("xl/sharedStrings.xml", member)]);
        let err = check_inflated_size("big.xlsx", &archive, 1 << 20)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unpacks to more than 1 MiB"), "{err}");
        assert!(check_inflated_size("big.xlsx", &archive, 4 << 20).is_ok());
        // Not a zip at all: calamine reports it, in its words.
        assert!(check_inflated_size("x.xlsx", b"not a zip", 1).is_ok());
    }

    #[test]
    fn the_inflate_limit_follows_the_upload_and_shared_strings_have_their_own() {
        // Regression (issue 13): a 2.5 MB workbook could inflate to 1,000 MiB of shared
        // strings, which calamine held at 3.3 GB.
        assert_eq!(inflate_limit(1000), MIN_INFLATED_ALLOWANCE);
        assert_eq!(inflate_limit(1 << 20), 100 << 20);
        assert_eq!(inflate_limit(64 << 20), MAX_INFLATED_BYTES);
        let many = "<si><t>a</t></si>".repeat(MAX_SHARED_STRINGS as usize + 1);
        let archive = zip(&[("xl/sharedStrings.xml", many.clone())]);
        let err = check_inflated_size("s.xlsx", &archive, u64::MAX)
            .unwrap_err()
            .to_string();
        assert!(err.contains("shared-strings table"), "{err}");
        // The same bytes in another member are only counted towards the total.
        let archive = zip(&[("xl/worksheets/sheet1.xml", many)]);
        assert!(check_inflated_size("s.xlsx", &archive, u64::MAX).is_ok());
    }

    #[test]
    fn ids_come_from_an_id_column_and_cells_become_text() {
        let bytes = workbook(&[
            (
                1,
                &[S(" name "), S("id"), S("amount"), S("rate"), S("since")],
            ),
            (2, &[S("Acme"), N(7.0), N(1240.0), N(12.5), D(45352.0)]),
            (3, &[S("Globex"), S("G-2"), N(-3.0), B(true), D(45352.75)]),
            (
                4,
                &[S("Initech"), S("I-3"), E("#N/A"), B(false), E("#DIV/0!")],
            ),
        ]);
        let table = read(&bytes, None).unwrap();
        assert_eq!(table.columns, ["name", "id", "amount", "rate", "since"]);
        assert_eq!(
            rows(&table),
            [
                ["7", "Acme", "7", "1240", "12.5", "2024-03-01"],
                ["G-2", "Globex", "G-2", "-3", "true", "2024-03-01T18:00:00"],
                ["I-3", "Initech", "I-3", "", "false", ""],
            ]
        );
    }

    #[test]
    fn excel_serials_follow_the_1900_calendar() {
        // Serial 45352 is 2024-03-01 (1899-12-30 plus 45352 days), and 45353 the day after.
        let bytes = workbook(&[
            (1, &[S("day")]),
            (2, &[D(45352.0)]),
            (3, &[D(45353.0)]),
            (4, &[D(0.5)]),
            (5, &[D(45_352.999_999_9)]),
        ]);
        let table = read(&bytes, None).unwrap();
        let days: Vec<&str> = table.values[0].iter().collect();
        assert_eq!(days, ["2024-03-01", "2024-03-02", "12:00:00", "2024-03-02"]);
    }

    #[test]
    fn dates_of_either_epoch_times_durations_and_odd_numbers_read_as_excel_shows_them() {
        let date = |serial, is_1904| {
            datetime_text(&ExcelDateTime::new(
                serial,
                ExcelDateTimeType::DateTime,
                is_1904,
            ))
        };
        // The 1904 system counts 1462 days fewer to the same date.
        assert_eq!(date(45352.0, false), "2024-03-01");
        assert_eq!(date(45352.0 - 1462.0, true), "2024-03-01");
        assert_eq!(date(45352.25, true), "2028-03-02T06:00:00");
        assert_eq!(date(3_000_000.0, false), "3000000");
        let duration = ExcelDateTime::new(1.5 + 0.5 / 24.0, ExcelDateTimeType::TimeDelta, false);
        assert_eq!(datetime_text(&duration), "36:30:00");
        assert_eq!(iso_datetime_text("2024-03-01T00:00:00.000Z"), "2024-03-01");
        assert_eq!(
            iso_datetime_text("2024-03-01T10:15:00"),
            "2024-03-01T10:15:00"
        );
        assert_eq!(float_text(-0.0), "0");
        assert_eq!(float_text(f64::NAN), "");
        assert_eq!(float_text(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    fn without_an_id_column_ids_are_generated_in_sheet_order() {
        let bytes = workbook(&[
            (1, &[S("name"), S("city")]),
            (2, &[S("Acme"), S("Berlin")]),
            (4, &[S("Globex")]),
        ]);
        let table = read(&bytes, None).unwrap();
        assert_eq!(
            rows(&table),
            [["row_1", "Acme", "Berlin"], ["row_2", "Globex", ""]]
        );
    }

    #[test]
    fn empty_rows_are_skipped_short_rows_padded_and_cells_beyond_the_header_ignored() {
        let bytes = workbook(&[
            (1, &[S("row_id"), Gap, S("city")]),
            (2, &[S("a"), S("x"), S("Berlin"), S("ignored")]),
            (3, &[S("   "), Gap, Gap, S("ignored too")]),
            (4, &[E("#N/A")]),
            (5, &[S("b")]),
        ]);
        let table = read(&bytes, None).unwrap();
        assert_eq!(table.columns, ["row_id", "column_2", "city"]);
        assert_eq!(
            rows(&table),
            [["a", "a", "x", "Berlin"], ["b", "b", "", ""]]
        );
    }

    #[test]
    fn a_named_id_column_must_exist_and_is_reported_under_the_callers_flag() {
        let bytes = workbook(&[
            (1, &[S("code"), S("id")]),
            (2, &[S("C1"), S("1")]),
            (3, &[S("C2"), S("2")]),
        ]);
        let table = read(&bytes, Some("code")).unwrap();
        assert_eq!(table.ids.iter().collect::<Vec<_>>(), ["C1", "C2"]);
        let (field, message) = invalid(read(&bytes, Some("vendor_no")));
        assert_eq!(field, "id_column");
        assert!(
            message.contains("\"vendor_no\" is not in the header"),
            "{message}"
        );
        let (field, _) = invalid(reference_from_xlsx(
            "vendors.xlsx",
            &bytes,
            Some("vendor_no"),
            "--id-column",
        ));
        assert_eq!(field, "--id-column");
    }

    #[test]
    fn duplicate_and_empty_ids_name_the_sheet_rows() {
        let bytes = workbook(&[
            (1, &[S("id"), S("name")]),
            (2, &[S("A"), S("x")]),
            (3, &[N(7.0), S("y")]),
            (5, &[S("7"), S("z")]),
        ]);
        let (field, message) = invalid(read(&bytes, None));
        assert_eq!(field, "row 5");
        assert_eq!(message, "duplicate id \"7\" (first on row 3)");
        let bytes = workbook(&[
            (1, &[S("id"), S("name")]),
            (2, &[S("A"), S("x")]),
            (3, &[Gap, S("y")]),
        ]);
        assert_eq!(
            invalid(read(&bytes, None)),
            ("row 3".into(), "empty id in column \"id\"".into())
        );
    }

    #[test]
    fn a_header_name_given_twice_is_an_error_naming_it() {
        let bytes = workbook(&[(2, &[S("id"), S("name"), S("id ")]), (3, &[S("A")])]);
        assert_eq!(
            invalid(read(&bytes, None)),
            (
                "row 2".into(),
                "column \"id\" appears twice in the header".into()
            )
        );
    }

    #[test]
    fn a_header_without_rows_or_an_empty_sheet_is_an_error() {
        let bytes = workbook(&[(1, &[S("id"), S("name")]), (2, &[Gap, Gap, S("right")])]);
        let (_, message) = invalid(read(&bytes, None));
        assert_eq!(message, "has a header but no rows");
        let (_, message) = invalid(read(&workbook(&[]), None));
        assert_eq!(message, "is empty; expected a header row");
    }

    #[test]
    fn bytes_that_are_no_workbook_are_a_validation_error() {
        for bytes in [&b""[..], b"id,name\n1,Acme\n", b"PK\x03\x04 truncated"] {
            let (field, message) = invalid(read(bytes, None));
            assert_eq!(field, "");
            assert!(
                message.starts_with("is not a readable XLSX workbook: "),
                "{message}"
            );
        }
        let no_sheets = zip(&[("xl/workbook.xml", "<workbook/>".into())]);
        let (_, message) = invalid(read(&no_sheets, None));
        assert!(
            message.starts_with("is not a readable XLSX workbook"),
            "{message}"
        );
    }

    #[test]
    fn a_header_wider_than_the_column_limit_is_refused() {
        let far = Raw("<c r=\"XFD1\" t=\"inlineStr\"><is><t>far</t></is></c>");
        let bytes = workbook(&[(1, &[S("id"), far]), (2, &[S("A")])]);
        let (field, message) = invalid(read(&bytes, None));
        assert_eq!(field, "row 1");
        assert!(message.starts_with("has 16384 columns"), "{message}");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = read(&bytes, None);
        }

        #[test]
        fn corrupted_workbooks_never_panic(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
        ) {
            let mut bytes = workbook(&[(1, &[S("id"), S("n")]), (2, &[S("A"), N(1.5)])]);
            for (at, byte) in flips {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            let _ = read(&bytes, None);
        }
    }
}
