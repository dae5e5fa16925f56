//! CSV reading: one place that decides delimiters, encodings, headers and ragged rows.

use std::borrow::Cow;
use std::path::Path;

use crate::error::{Error, Result};

/// What a field or record that is not UTF-8 is told, with its line.
const NOT_UTF8: &str = "is not valid UTF-8; for a legacy export pass --encoding windows-1252";

/// The most bytes one field may hold: a vendor name or an address fits many times over, and
/// a runaway quote that swallows the rest of the file is reported at its line.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;
/// The most bytes one record may hold, all fields together.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// The most columns a header may name.
pub const MAX_COLUMNS: usize = 1024;
/// The most line breaks one quoted field may hold. An address or a note spans a few lines;
/// a stray quote that swallows the rows after it spans many, and is reported at the line
/// where it opened instead of silently turning the rest of the file into one cell.
pub const MAX_FIELD_LINES: u64 = 100;

/// How the bytes of a file are decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, with or without a byte order mark.
    #[default]
    Utf8,
    /// Legacy exports of Windows software.
    Windows1252,
}

impl std::str::FromStr for Encoding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "windows-1252" | "cp1252" | "latin1" | "iso-8859-1" => Ok(Encoding::Windows1252),
            other => Err(format!(
                "unknown encoding \"{other}\" (use utf-8 or windows-1252)"
            )),
        }
    }
}

/// A CSV file as text: a header and rows of the header's width.
#[derive(Debug, Clone)]
pub struct CsvTable {
    /// The file name as the user gave it, for messages.
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The 1-based line on which each row starts.
    pub lines: Vec<u64>,
}

impl CsvTable {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }
}

/// Reads and parses a CSV file.
pub fn read_csv(path: &Path, encoding: Encoding) -> Result<CsvTable> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_csv(&path.display().to_string(), &bytes, encoding)
}

/// The delimiter among `,` `;` and tab that occurs most often in the header line outside
/// quotes; `,` on a tie.
fn detect_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' | '\r' if !quoted => break,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let delimiters = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    delimiters[best]
}

/// Parses CSV bytes; `name` names the input in errors.
pub fn parse_csv(name: &str, bytes: &[u8], encoding: Encoding) -> Result<CsvTable> {
    let mut table = CsvTable {
        name: name.to_string(),
        headers: Vec::new(),
        rows: Vec::new(),
        lines: Vec::new(),
    };
    for_each_record(name, bytes, encoding, |event| {
        match event {
            CsvEvent::Header(headers) => table.headers = headers.to_vec(),
            CsvEvent::Record(record, line) => {
                table.lines.push(line);
                table.rows.push(record.iter().map(str::to_string).collect());
            }
        }
        Ok(())
    })?;
    Ok(table)
}

/// What `for_each_record` hands over: the header once, then each row.
pub enum CsvEvent<'a> {
    /// The column names, trimmed.
    Header(&'a [String]),
    /// A row of the header's width and the line it starts on.
    Record(&'a ::csv::StringRecord, u64),
}

/// Reads CSV bytes record by record without keeping them. The one place that decides
/// delimiters, encodings and malformed rows.
pub fn for_each_record(
    name: &str,
    bytes: &[u8],
    encoding: Encoding,
    on_event: impl FnMut(CsvEvent) -> Result<()>,
) -> Result<()> {
    for_each_record_in(name, bytes, encoding, on_event)
}

/// Like `for_each_record`, from any reader (a file), holding one record at a time.
pub fn for_each_record_in(
    name: &str,
    reader: impl std::io::Read,
    encoding: Encoding,
    mut on_event: impl FnMut(CsvEvent) -> Result<()>,
) -> Result<()> {
    use std::io::BufRead;
    let io_error = |e: std::io::Error| Error::invalid(name, "", format!("cannot be read: {e}"));
    let reader = LineBreaks {
        inner: reader,
        read: 0,
        breaks: std::collections::VecDeque::new(),
        quotes: QuoteScan::default(),
    };
    let mut reader = std::io::BufReader::with_capacity(1 << 16, reader);
    let head = reader.fill_buf().map_err(io_error)?;
    let bom = encoding == Encoding::Utf8 && head.starts_with(b"\xEF\xBB\xBF");
    // The csv reader counts bytes from after the BOM, `LineBreaks` from the input's start.
    let skipped: u64 = if bom { 3 } else { 0 };
    if bom {
        reader.consume(3);
    }
    let head = reader.fill_buf().map_err(io_error)?;
    // The header line decides the delimiter; a line cut by the buffer only loses counts.
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let delimiter = detect_delimiter(&String::from_utf8_lossy(first_line));
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid(name, "", "is empty; expected a header line"));
    }
    reader.get_mut().quotes.start(delimiter, skipped);
    let mut csv = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(reader);
    let csv_error = |e: ::csv::Error, line: Option<u64>| {
        let line = line.or(e.position().map(|p| p.line())).unwrap_or(1);
        let message = match e.kind() {
            ::csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("has {len} fields, the header has {expected_len}"),
            _ => e.to_string(),
        };
        Error::invalid(name, format!("line {line}"), message)
    };
    // UTF-8 fields are borrowed: a million-row table has millions of them.
    fn decode<'a>(
        name: &str,
        encoding: Encoding,
        field: &'a [u8],
        line: u64,
    ) -> Result<Cow<'a, str>> {
        match encoding {
            Encoding::Utf8 => std::str::from_utf8(field)
                .map(Cow::Borrowed)
                .map_err(|_| Error::invalid(name, format!("line {line}"), NOT_UTF8)),
            Encoding::Windows1252 => Ok(encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(field)
                .0),
        }
    }
    // A runaway quote found while reading is the error, whatever the csv crate made of it.
    let quote_error = |csv: &mut ::csv::Reader<std::io::BufReader<LineBreaks<_>>>| {
        csv.get_mut()
            .get_mut()
            .quotes
            .error
            .take()
            .map(|(line, message)| Error::invalid(name, format!("line {line}"), message))
    };
    let header_record = match csv.byte_headers() {
        Ok(record) => record.clone(),
        Err(e) => return Err(quote_error(&mut csv).unwrap_or_else(|| csv_error(e, None))),
    };
    check_record_size(name, &header_record, 1)?;
    let headers: Vec<String> = header_record
        .iter()
        .map(|h| decode(name, encoding, h, 1).map(|h| h.trim().to_string()))
        .collect::<Result<_>>()?;
    if headers.len() > MAX_COLUMNS {
        return Err(Error::invalid(
            name,
            "line 1",
            format!(
                "the header has {} columns; at most {MAX_COLUMNS}",
                headers.len()
            ),
        ));
    }
    for (i, h) in headers.iter().enumerate() {
        if headers[..i].contains(h) {
            return Err(Error::invalid(
                name,
                "line 1",
                format!("column \"{h}\" appears twice in the header"),
            ));
        }
    }
    on_event(CsvEvent::Header(&headers))?;
    let mut bytes = ::csv::ByteRecord::new();
    let mut record = ::csv::StringRecord::new();
    loop {
        match csv.read_byte_record(&mut bytes) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                // A blank line between records is not a row.
                if bytes.len() == 1
                    && bytes[0].iter().all(u8::is_ascii_whitespace)
                    && headers.len() > 1
                {
                    continue;
                }
                let line = record_line(&mut csv, &bytes, skipped);
                check_record_size(name, &bytes, line)?;
                if encoding == Encoding::Utf8 {
                    // The record's bytes become the record once checked as a whole, and
                    // are taken back for the next read: no field is copied.
                    let checked = ::csv::StringRecord::from_byte_record(std::mem::take(&mut bytes))
                        .map_err(|_| Error::invalid(name, format!("line {line}"), NOT_UTF8))?;
                    let handled = on_event(CsvEvent::Record(&checked, line));
                    bytes = checked.into_byte_record();
                    handled?;
                    continue;
                }
                record.clear();
                for field in bytes.iter() {
                    record.push_field(&decode(name, encoding, field, line)?);
                }
                on_event(CsvEvent::Record(&record, line))?;
            }
            Err(e) => {
                if let Some(error) = quote_error(&mut csv) {
                    return Err(error);
                }
                // The csv crate's line of a row of the wrong width has the same flaw.
                let line = matches!(e.kind(), ::csv::ErrorKind::UnequalLengths { .. })
                    .then(|| record_line(&mut csv, &bytes, skipped));
                return Err(csv_error(e, line));
            }
        }
    }
}

fn check_record_size(name: &str, record: &::csv::ByteRecord, line: u64) -> Result<()> {
    let too_long = |message: String| Err(Error::invalid(name, format!("line {line}"), message));
    if record.as_slice().len() > MAX_RECORD_BYTES {
        return too_long(format!(
            "is {} bytes long; at most {MAX_RECORD_BYTES} bytes per row",
            record.as_slice().len()
        ));
    }
    match record.iter().position(|f| f.len() > MAX_FIELD_BYTES) {
        Some(i) => too_long(format!(
            "field {} is {} bytes long; at most {MAX_FIELD_BYTES} bytes per field",
            i + 1,
            record[i].len()
        )),
        None => Ok(()),
    }
}

/// A reader that notes where the line breaks (CR and LF) it hands on lie, as offsets from
/// the start of the input, and forgets them as records are read, so it holds only those of
/// the read-ahead.
struct LineBreaks<R> {
    inner: R,
    read: u64,
    breaks: std::collections::VecDeque<(u64, u8)>,
    quotes: QuoteScan,
}

/// Follows the quoting of the bytes read, as the csv crate reads it (a quote opens a field
/// only at its start, `""` inside is a quote), to find a quoted field still open at the end
/// of the input or spanning more than `MAX_FIELD_LINES` lines. Bytes read before the
/// delimiter is known wait in `pending`.
#[derive(Default)]
struct QuoteScan {
    delimiter: Option<u8>,
    pending: Vec<u8>,
    state: QuoteState,
    /// Line feeds seen so far.
    line_feeds: u64,
    /// The line where the open quote is and the line feeds inside it.
    opened: (u64, u64),
    /// Bytes of a byte order mark to pass over before scanning.
    skip: u64,
    error: Option<(u64, String)>,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    #[default]
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the field's end, or the first half of `""`.
    QuoteInQuoted,
}

impl QuoteScan {
    fn start(&mut self, delimiter: u8, skip: u64) {
        self.delimiter = Some(delimiter);
        self.skip = skip;
        let pending = std::mem::take(&mut self.pending);
        self.scan(&pending);
    }

    fn scan(&mut self, bytes: &[u8]) {
        let Some(delimiter) = self.delimiter else {
            self.pending.extend_from_slice(bytes);
            return;
        };
        let skip = (self.skip as usize).min(bytes.len());
        self.skip -= skip as u64;
        use QuoteState::*;
        for &b in &bytes[skip..] {
            if b == b'\n' {
                self.line_feeds += 1;
            }
            self.state = match (self.state, b) {
                (FieldStart, b'"') => {
                    self.opened = (self.line_feeds + 1, 0);
                    Quoted
                }
                (Quoted, b'"') => QuoteInQuoted,
                (Quoted, b'\n') => {
                    self.opened.1 += 1;
                    if self.opened.1 > MAX_FIELD_LINES && self.error.is_none() {
                        self.error = Some((
                            self.opened.0,
                            format!(
                                "a quoted field opens here and spans more than \
                                 {MAX_FIELD_LINES} lines; is a closing quote missing?"
                            ),
                        ));
                    }
                    Quoted
                }
                (Quoted, _) | (QuoteInQuoted, b'"') => Quoted,
                (_, b'\n' | b'\r') => FieldStart,
                (_, b) if b == delimiter => FieldStart,
                _ => Unquoted,
            };
        }
    }

    /// At the end of the input.
    fn finish(&mut self) {
        if self.delimiter.is_some() && self.state == QuoteState::Quoted && self.error.is_none() {
            self.error = Some((
                self.opened.0,
                "a quoted field opens here and is never closed; rows after it would be \
                 lost in one cell"
                    .into(),
            ));
        }
    }
}

impl<R: std::io::Read> std::io::Read for LineBreaks<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if !buf.is_empty() {
            self.quotes.scan(buf.get(..n).unwrap_or_default());
            if n == 0 {
                self.quotes.finish();
            }
            if let Some((line, message)) = &self.quotes.error {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("line {line}: {message}"),
                ));
            }
        }
        let read = self.read;
        let bytes = buf.get(..n).unwrap_or_default().iter().enumerate();
        self.breaks.extend(
            bytes
                .filter(|(_, &b)| b == b'\r' || b == b'\n')
                .map(|(i, &b)| (read + i as u64, b)),
        );
        self.read += n as u64;
        Ok(n)
    }
}

impl<R> LineBreaks<R> {
    /// The byte at `offset` when it is a CR or LF; forgets the breaks before it.
    fn break_at(&mut self, offset: u64) -> Option<u8> {
        while self.breaks.front().is_some_and(|&(at, _)| at < offset) {
            self.breaks.pop_front();
        }
        self.breaks
            .front()
            .filter(|&&(at, _)| at == offset)
            .map(|&(_, b)| b)
    }
}

/// The line on which `record` (just read) starts. The csv crate gives the line where it
/// began looking for the record, which is a line early after a CRLF (it stops on the CR
/// and reads the LF as the start of the next record) and after the empty lines it skips;
/// so the line feeds between there and the record's first byte are added.
fn record_line<R: std::io::Read>(
    csv: &mut ::csv::Reader<std::io::BufReader<LineBreaks<R>>>,
    record: &::csv::ByteRecord,
    skipped: u64,
) -> u64 {
    let Some(start) = record.position() else {
        return 0;
    };
    let breaks = csv.get_mut().get_mut();
    let (mut at, mut line) = (start.byte() + skipped, start.line());
    while let Some(b) = breaks.break_at(at) {
        line += u64::from(b == b'\n');
        at += 1;
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &[u8]) -> Result<CsvTable> {
        parse_csv("t.csv", text, Encoding::Utf8)
    }

    #[test]
    fn detects_delimiters_and_strips_a_bom() {
        let t = parse(b"\xEF\xBB\xBFid;name\n1;\"a;b\"\n").unwrap();
        assert_eq!(t.headers, ["id", "name"]);
        assert_eq!(t.rows, [["1", "a;b"]]);
        let t = parse(b"id\tname\r\n1\tx\r\n").unwrap();
        assert_eq!(t.rows, [["1", "x"]]);
        let t = parse(b"a,b;c\n1,2;3\n").unwrap();
        assert_eq!(t.headers, ["a", "b;c"]);
    }

    #[test]
    fn decodes_windows_1252_on_request() {
        let bytes = b"id,name\n1,M\xFCller\n";
        let err = parse(bytes).unwrap_err().to_string();
        assert!(
            err.contains("line 2") && err.contains("windows-1252"),
            "{err}"
        );
        let t = parse_csv("t.csv", bytes, Encoding::Windows1252).unwrap();
        assert_eq!(t.rows[0][1], "Müller");
    }

    #[test]
    fn rejects_empty_files_ragged_rows_and_duplicate_columns() {
        assert!(parse(b"").unwrap_err().to_string().contains("empty"));
        assert!(parse(b" \n\n").unwrap_err().to_string().contains("empty"));
        let err = parse(b"a,b\n1,2\n3\n").unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("1 fields"), "{err}");
        let err = parse(b"a,a\n1,2\n").unwrap_err().to_string();
        assert!(err.contains("appears twice"), "{err}");
    }

    #[test]
    fn rejects_oversized_fields_rows_and_headers_naming_the_line() {
        let field = "x".repeat(MAX_FIELD_BYTES + 1);
        let err = parse(format!("id,name\n1,ok\n2,{field}\n").as_bytes()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("line 3") && text.contains("field 2"),
            "{text}"
        );

        let just_fits = "x".repeat(MAX_FIELD_BYTES);
        assert!(parse(format!("id,name\n1,{just_fits}\n").as_bytes()).is_ok());

        let columns = MAX_RECORD_BYTES / MAX_FIELD_BYTES + 1;
        let header: Vec<String> = (0..columns).map(|i| format!("c{i}")).collect();
        let row = vec![just_fits.as_str(); columns].join(",");
        let text = format!("{}\n{row}\n", header.join(","));
        let err = parse(text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("per row"), "{err}");

        let wide: Vec<String> = (0..=MAX_COLUMNS).map(|i| format!("c{i}")).collect();
        let err = parse(wide.join(",").as_bytes()).unwrap_err().to_string();
        assert!(err.contains("columns"), "{err}");
    }

    #[test]
    fn records_the_starting_line_of_each_row() {
        let t = parse(b"a,b\n1,\"multi\nline\"\n3,4\n").unwrap();
        assert_eq!(t.lines, [2, 4]);
    }

    #[test]
    fn crlf_rows_are_not_reported_one_line_early() {
        let t = parse(b"a,b\r\n1,2\r\n3,\"x\r\ny\"\r\n5,6").unwrap();
        assert_eq!(t.lines, [2, 3, 5]);
        let t = parse(b"\xEF\xBB\xBFa,b\r\n1,2\r\n").unwrap();
        assert_eq!(t.lines, [2]);
        let err = parse(b"a,b\r\n1,2\r\n3\r\n").unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn rows_after_empty_lines_are_not_reported_one_line_early() {
        let t = parse(b"a,b\n1,2\n\n\n3,4\n").unwrap();
        assert_eq!(t.lines, [2, 5]);
        let t = parse(b"a,b\r\n\r\n1,2\r\n").unwrap();
        assert_eq!(t.lines, [3]);
    }

    #[test]
    fn a_quote_left_open_is_an_error_at_its_line_not_a_lost_rest_of_file() {
        // Regression (issue 13): `R1,"Acme Inc` swallowed every later row into one cell.
        let err = parse(b"id,name\nR1,\"Acme Inc\nR2,Beta\nR3,Gamma\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("never closed"),
            "{err}"
        );
        let err = parse(b"\xEF\xBB\xBFa;b\r\n1;2\r\n3;\"x\r\n\r\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
        // Closed before the end but spanning more lines than a cell would.
        let mut text = String::from("id,note\n1,ok\n2,\"runaway\n");
        text.push_str(&"3,row\n".repeat(MAX_FIELD_LINES as usize + 5));
        text.push_str("\"\n");
        let err = parse(text.as_bytes()).unwrap_err().to_string();
        assert!(
            err.contains("line 3") && err.contains("spans more than"),
            "{err}"
        );
        // Legitimate quoting: a multi-line address, doubled quotes, an inch mark inside an
        // unquoted field, a quote right after a closing one.
        let t = parse(
            b"id,addr,size\n1,\"1 Main St\nSuite 2\nTown\",\"5\"\" screen\"\n2,x,5\" screen\n3,\"a\"\"\",b\n",
        )
        .unwrap();
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[0][1], "1 Main St\nSuite 2\nTown");
        assert_eq!(t.rows[1][2], "5\" screen");
        assert_eq!(t.lines, [2, 5, 6]);
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&bytes);
            let _ = parse_csv("t.csv", &bytes, Encoding::Windows1252);
        }
    }
}
