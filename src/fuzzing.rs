//! Fuzz harnesses: one function per untrusted-input entry point, taking raw bytes, shared
//! by the cargo-fuzz targets in `fuzz/`, the corpus replay test (`tests/fuzz_replay.rs`)
//! and the property tests below, so all three exercise exactly the same code.
//!
//! A harness calls the real parsers and asserts cheap invariants that hold for every
//! input they accept (a parsed date re-parses from its ISO form, multipart parts lie in the
//! body, an accepted config survives a JSON round trip). Errors are expected; a panic is a
//! bug. Harnesses keep no state between calls and touch no files, database or network.

use std::collections::HashSet;

use crate::config::{MatchConfig, RawConfig};
use crate::http::message::{parse_query, percent_decode, Method, Request, MAX_PAGE};
use crate::ingest::{self, body, csv::CsvTable, multipart, Encoding};
use crate::matcher::ReferenceTable;
use crate::parse::{normalize_text, parse_amount, parse_date, DateOrder};

/// CSV bytes through every reader of CSV: the plain table, reference tables (generated and
/// named ids), document bodies and truth files.
pub fn csv_ingest(data: &[u8]) {
    let utf8 = ingest::csv::parse_csv("fuzz.csv", data, Encoding::Utf8);
    let legacy = ingest::csv::parse_csv("fuzz.csv", data, Encoding::Windows1252);
    // Lines are counted by line feeds, so a bare CR (classic Mac) starts no new line.
    let bare_cr = data
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\r' && data.get(i + 1) != Some(&b'\n'));
    for table in [&utf8, &legacy].into_iter().flatten() {
        check_csv_table(table, !bare_cr);
    }
    // ASCII reads the same in both encodings (and has no BOM to strip).
    if data.is_ascii() {
        match (&utf8, &legacy) {
            (Ok(a), Ok(b)) => assert!(a.headers == b.headers && a.rows == b.rows),
            (Err(_), Err(_)) => {}
            _ => panic!("ASCII CSV accepted in one encoding only"),
        }
    }

    let generated = ingest::reference_from_csv("fuzz.csv", data, Encoding::Utf8, None, "id");
    if let Ok(reference) = &generated {
        check_reference(reference);
        if let Ok(table) = &utf8 {
            assert_eq!(reference.len(), table.rows.len());
            assert_eq!(reference.columns, table.headers);
        }
    }
    let first_column = utf8.as_ref().ok().and_then(|t| t.headers.first().cloned());
    if let Some(named) = first_column.as_deref() {
        if let Ok(reference) =
            ingest::reference_from_csv("fuzz.csv", data, Encoding::Utf8, Some(named), "id")
        {
            check_reference(&reference);
        }
    }

    if let Ok(documents) = body::documents_from_csv("fuzz.csv", data, Encoding::Utf8, None, None) {
        check_documents(&documents);
        if let Ok(table) = &utf8 {
            assert_eq!(documents.len(), table.rows.len());
        }
    }

    // The first column as the documents lets truth files (`document_id,row_id`) get past
    // the document check to the row and repeat checks.
    if let Ok(table) = &utf8 {
        let documents: HashSet<&str> = table
            .rows
            .iter()
            .filter_map(|row| row.first().map(String::as_str))
            .collect();
        let _ = ingest::truth_from_csv(table.clone(), &documents, &|id| id.starts_with("OI-"));
    }
}

/// An XLSX workbook, both as the raw bytes and with the bytes as the worksheet XML of an
/// otherwise valid workbook: mutated zip archives rarely survive their own checksums, so
/// the second form is what reaches the sheet reader and the cell conversion.
pub fn xlsx_ingest(data: &[u8]) {
    for workbook in [
        std::borrow::Cow::Borrowed(data),
        workbook_with_sheet(data).into(),
    ] {
        if let Ok(reference) = ingest::xlsx::reference_from_xlsx("fuzz.xlsx", &workbook, None, "id")
        {
            check_reference(&reference);
            let named = reference.columns.first().cloned().unwrap_or_default();
            if let Ok(again) =
                ingest::xlsx::reference_from_xlsx("fuzz.xlsx", &workbook, Some(&named), "id")
            {
                check_reference(&again);
            }
        }
    }
}

/// A config body: an accepted config validates, and its JSON form (what the service keeps
/// as the run's snapshot and parses again later) reads back as the same config.
pub fn config_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(raw) = RawConfig::from_json(text, "fuzz") else {
        return;
    };
    let Ok(config) = raw.validate("fuzz") else {
        return;
    };
    assert!(!config.mappings.is_empty() && config.mappings.len() <= crate::config::MAX_MAPPINGS);
    assert!((0.0..=1.0).contains(&config.threshold));
    for (i, m) in config.mappings.iter().enumerate() {
        assert!(m.weight > 0.0 && m.weight.is_finite());
        assert!(config.mappings[..i].iter().all(|o| o.name != m.name));
    }
    let snapshot = serde_json::to_string(&raw).expect("a RawConfig serializes");
    let again = MatchConfig::from_json(&snapshot, "snapshot")
        .unwrap_or_else(|e| panic!("snapshot {snapshot} does not read back: {e}"));
    assert_eq!(again, config, "snapshot {snapshot}");
}

/// One value string as a date, an amount and normalised text, with round trips through
/// the forms the parsers promise to read.
pub fn values(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for order in [DateOrder::Dmy, DateOrder::Mdy] {
        if let Some(date) = parse_date(&text, order) {
            for form in ["%Y-%m-%d", "%Y%m%d"] {
                let written = date.format(form).to_string();
                assert_eq!(
                    parse_date(&written, DateOrder::Dmy),
                    Some(date),
                    "{written}"
                );
                assert_eq!(
                    parse_date(&written, DateOrder::Mdy),
                    Some(date),
                    "{written}"
                );
            }
        }
    }

    if let Some(amount) = parse_amount(&text) {
        assert!(amount.value.is_finite());
        assert!(
            amount.value != 0.0 || amount.value.is_sign_positive(),
            "{text}"
        );
        if let Some(currency) = amount.currency {
            assert!(currency.0.iter().all(u8::is_ascii_uppercase));
        }
        if let Some(plain) = plain_number(amount.value.abs()) {
            let sign = if amount.value < 0.0 { "-" } else { "" };
            let currency = amount.currency;
            let code = currency.as_ref().map_or("", |c| c.as_str());
            let written = format!("{sign}{plain} {code}");
            let again = parse_amount(&written);
            assert_eq!(again, Some(amount), "{text:?} written as {written:?}");
        }
    }

    let normalized = normalize_text(&text);
    assert_eq!(normalize_text(&normalized), normalized);
}

/// A multipart body; the first line is the Content-Type header value, the rest the body.
pub fn multipart(data: &[u8]) {
    let (head, body) = split_first_line(data);
    let content_type = String::from_utf8_lossy(head);
    if let Ok(boundary) = multipart::boundary(&content_type) {
        assert!((1..=70).contains(&boundary.chars().count()));
    }
    let Ok(parts) = multipart::parse(&content_type, body) else {
        return;
    };
    assert!(parts.len() <= multipart::MAX_PARTS);
    let body_range = body.as_ptr_range();
    let mut previous_end = body_range.start;
    for part in &parts {
        if part.data.is_empty() {
            continue;
        }
        let range = part.data.as_ptr_range();
        assert!(body_range.start <= range.start && range.end <= body_range.end);
        // Parts come in body order and do not overlap.
        assert!(previous_end <= range.start);
        previous_end = range.end;
    }
}

/// A request as the router and handlers decode it: the first line is the request target
/// (`/path?query`), the rest the body, read as every body type the API accepts.
pub fn request_decoding(data: &[u8]) {
    let (head, body) = split_first_line(data);
    let target = String::from_utf8_lossy(head);
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));

    let _ = crate::http::routes::resolve(path);
    for plus_is_space in [false, true] {
        let decoded = percent_decode(path, plus_is_space);
        assert_eq!(
            percent_decode(&percent_encode(&decoded), plus_is_space),
            decoded
        );
        if !path.contains(['%', '+']) {
            assert_eq!(decoded, path);
        }
    }

    let request = Request {
        method: Method::Get,
        path: path.to_string(),
        query: parse_query(query),
        media_type: None,
        content_type: None,
        authorization: None,
        body: body.to_vec(),
        request_id: "req_fuzz".into(),
        negotiation: Default::default(),
    };
    assert!(request.query.len() <= query.len());
    if let Ok(n) = request.param_usize("page", 1, 1, MAX_PAGE) {
        assert!(n >= 1);
    }
    if let Ok(limit) = request.list_limit() {
        assert!((1..=crate::http::message::MAX_LIMIT).contains(&limit));
    }
    if let Ok(Some(x)) = request.param_f64("min_confidence") {
        assert!(x.is_finite());
    }
    let _ = request.param_bool("matched");
    let _ = request.param("encoding").map(str::parse::<Encoding>);
    let _ = request
        .param("status")
        .map(crate::store::results::ReviewStatus::parse);
    let _ = request.json();

    if let Ok(documents) = body::documents_from_json(body) {
        assert!(!documents.is_empty());
        check_documents(&documents);
    }
    if let Ok(documents) = body::documents_from_jsonl(body) {
        check_documents(&documents);
    }
    if let Ok(reference) = body::reference_from_json(body) {
        check_reference(&reference.table);
        assert_eq!(
            body::column_types(&reference.table).len(),
            reference.table.columns.len()
        );
    }
}

fn check_csv_table(table: &CsvTable, line_feeds_only: bool) {
    assert_eq!(table.rows.len(), table.lines.len());
    for row in &table.rows {
        assert_eq!(row.len(), table.headers.len());
    }
    if line_feeds_only {
        // Rows start on increasing lines after the header.
        assert!(
            table.lines.windows(2).all(|w| w[0] < w[1]),
            "{:?}",
            table.lines
        );
        assert!(
            table.lines.first().is_none_or(|&l| l >= 2),
            "{:?}",
            table.lines
        );
    }
}

/// What every reader promises of a reference table it accepts.
fn check_reference(reference: &ReferenceTable) {
    assert!(!reference.is_empty());
    assert_eq!(reference.values.len(), reference.columns.len());
    for column in &reference.values {
        assert_eq!(column.len(), reference.len());
    }
    let mut ids = HashSet::new();
    for id in reference.ids.iter() {
        assert!(!id.trim().is_empty(), "blank id");
        assert!(ids.insert(id), "duplicate id {id:?}");
    }
}

fn check_documents(documents: &[body::NewDocument]) {
    assert!(documents.len() <= body::MAX_DOCUMENTS_PER_BODY);
    let mut ids = HashSet::new();
    for document in documents {
        assert!(document.fields.len() <= body::MAX_FIELDS_PER_DOCUMENT);
        if let Some(id) = &document.external_id {
            assert!(!id.trim().is_empty(), "blank id");
            assert!(ids.insert(id), "duplicate id {id:?}");
        }
    }
}

fn split_first_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// Every byte escaped, so decoding must give the text back whatever `plus_is_space` says.
fn percent_encode(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// `value` written as plain digits the amount parser reads back exactly: `f64`'s shortest
/// round-trip form, with a fourth decimal where exactly three would read as a thousands
/// group (`1.234` is 1234). `None` when it is longer than the parser reads.
fn plain_number(value: f64) -> Option<String> {
    let mut plain = value.to_string();
    if plain.split_once('.').is_some_and(|(_, f)| f.len() == 3) {
        plain.push('0');
    }
    (plain.len() <= 64).then_some(plain)
}

/// A stored (uncompressed) zip of a minimal workbook with `sheet` as its only worksheet and
/// two shared strings, so that `t="s"` cells resolve.
fn workbook_with_sheet(sheet: &[u8]) -> Vec<u8> {
    const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
    const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="21" applyNumberFormat="1"/></cellXfs></styleSheet>"#;
    const SHARED: &str = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>id</t></si><si><t>V-1</t></si></sst>"#;
    let files: [(&str, &[u8]); 6] = [
        ("[Content_Types].xml", b"<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"),
        ("_rels/.rels", RELS.as_bytes()),
        ("xl/workbook.xml", WORKBOOK.as_bytes()),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes()),
        ("xl/styles.xml", STYLES.as_bytes()),
        ("xl/sharedStrings.xml", SHARED.as_bytes()),
    ];
    let all: Vec<(&str, &[u8])> = files
        .iter()
        .copied()
        .chain([("xl/worksheets/sheet1.xml", sheet)])
        .collect();
    ingest::xlsx::stored_zip(&all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_wrapped_workbook_reads_as_a_sheet() {
        let sheet = br#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>d</t></is></c></row><row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" s="1"><v>45352</v></c></row></sheetData></worksheet>"#;
        let table =
            ingest::xlsx::reference_from_xlsx("t.xlsx", &workbook_with_sheet(sheet), None, "id")
                .unwrap();
        assert_eq!(table.columns, ["id", "d"]);
        assert_eq!(table.id(0), "V-1");
        assert_eq!(table.values[1].get(0), "2024-03-01");
    }

    #[test]
    fn plain_numbers_read_back() {
        assert_eq!(plain_number(1.234).as_deref(), Some("1.2340"));
        assert_eq!(plain_number(1234.5).as_deref(), Some("1234.5"));
        assert_eq!(plain_number(1e70), None);
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..256)
    }

    /// CSV-ish text: a header, then lines of cells with quotes, delimiters and line breaks.
    fn csv_like() -> impl Strategy<Value = String> {
        "(id|row_id|document_id|name|\"a,b\")([,;\t](id|name|total|\"q\"\"x\"| )){0,3}\r?\n([0-9a-zA-Z\",;\t \r\n\u{fc}]{0,16}\n){0,6}"
    }

    fn date_like() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,4}[-./ ][0-9]{1,2}[-./ ][0-9]{1,4}",
            "[0-9]{8}",
            "[0-9]{1,2}(st|nd|\\.)? (Oct|October|Okt|août|de octubre|mrt) (de )?[0-9]{2,4}",
            "(Jan|Feb|Dez) [0-9]{1,2}, [0-9]{4}( [0-9]{1,2}:[0-9]{2}( pm)?)?",
            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{0,8}Z?",
        ]
    }

    fn amount_like() -> impl Strategy<Value = String> {
        "[-(+\u{2212}]?(\\$|€|£|US\\$|CHF |kr |EUR)?[0-9]{1,3}([.,' \u{a0}][0-9]{3}){0,3}([.,][0-9]{1,4})?( ?(EUR|USD|chf|kr|zł|Fr\\.|SEK|nan))?[)-]?"
    }

    fn multipart_like() -> impl Strategy<Value = Vec<u8>> {
        let part = (
            "[a-z_]{1,8}",
            proptest::option::of("[a-z.]{1,8}"),
            "[a-z0-9,\r\n-]{0,24}",
        );
        (
            "[A-Za-z0-9'()+_,./:=?-]{1,12}",
            proptest::collection::vec(part, 0..4),
            any::<bool>(),
        )
            .prop_map(|(boundary, parts, close)| {
                let mut text = format!("multipart/form-data; boundary={boundary}\n");
                for (name, filename, data) in parts {
                    text.push_str(&format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\""
                    ));
                    if let Some(filename) = filename {
                        text.push_str(&format!("; filename=\"{filename}\""));
                    }
                    text.push_str(&format!("\r\n\r\n{data}\r\n"));
                }
                if close {
                    text.push_str(&format!("--{boundary}--\r\n"));
                }
                text.into_bytes()
            })
    }

    fn config_like() -> impl Strategy<Value = String> {
        let mapping = (
            "[a-z ]{0,3}",
            "[a-z]{1,3}",
            prop_oneof![
                Just(r#""strategy":"exact""#),
                Just(r#""strategy":"fuzzy","min_similarity":0.5"#),
                Just(r#""strategy":"date_range","tolerance_days":3,"date_order":"mdy""#),
                Just(r#""strategy":"numeric_range","tolerance_abs":1.5"#),
                Just(r#""strategy":"identifier","name":"id""#),
            ],
            0.0f64..1.0,
        );
        (proptest::collection::vec(mapping, 1..4), proptest::option::of(0.0f64..1.2))
            .prop_map(|(mappings, threshold)| {
                let n = mappings.len() as f64;
                let mappings: Vec<String> = mappings
                    .into_iter()
                    .enumerate()
                    .map(|(i, (source, target, strategy, skew))| {
                        // Weights summing to one within the tolerance about half the time.
                        let weight = if i == 0 { 1.0 / n + skew * 2e-6 } else { 1.0 / n };
                        format!(r#"{{"source":"{source}","target":"{target}",{strategy},"weight":{weight}}}"#)
                    })
                    .collect();
                let threshold = threshold.map_or(String::new(), |t| format!(r#","threshold":{t}"#));
                format!(r#"{{"field_mappings":[{}]{threshold}}}"#, mappings.join(","))
            })
    }

    fn request_like() -> impl Strategy<Value = String> {
        (
            "/v1/(documents|keys|matching/runs|reference-data)(/[a-z0-9%+]{0,6}){0,4}",
            "(limit|page|min_confidence|matched|status|encoding)=[0-9a-z.%+-]{0,6}(&[a-z_]{1,8}=[0-9a-z%+]{0,4}){0,3}",
            prop_oneof![
                Just(r#"{"documents":[{"id":"a","fields":{"x":1}},{"id":"a","fields":{}}]}"#),
                Just(r#"{"fields":{"amount":"1.234,56 EUR","n":null},"filename":"f.pdf"}"#),
                Just(r#"{"rows":[{"id":"A","v":1.5},{"id":" ","v":true}],"id_column":"id"}"#),
                Just(r#"{"rows":[{"v":"2024-02-30"},{"w":12}],"name":"t"}"#),
                Just("{\"fields\":{}}\n\n{\"id\":3,\"fields\":{\"a\":\"b\"}}\n"),
            ],
        )
            .prop_map(|(path, query, body)| format!("{path}?{query}\n{body}"))
    }

    proptest! {
        #[test]
        fn csv_ingest_never_panics(data in bytes()) {
            csv_ingest(&data);
        }

        #[test]
        fn csv_ingest_holds_on_csv_like_text(text in csv_like()) {
            csv_ingest(text.as_bytes());
        }

        #[test]
        fn xlsx_ingest_never_panics(data in bytes()) {
            xlsx_ingest(&data);
        }

        #[test]
        fn xlsx_ingest_holds_on_sheet_like_xml(
            cells in proptest::collection::vec(
                ("[A-C]", 1u32..5, prop_oneof![
                    Just(r#" t="s"><v>0</v>"#), Just(r#" t="s"><v>1</v>"#), Just(r#" t="b"><v>1</v>"#),
                    Just(r#" t="e"><v>#REF!</v>"#), Just(r#" s="1"><v>45352</v>"#), Just(r#"><v>12.5</v>"#),
                    Just(r#" t="inlineStr"><is><t>x</t></is>"#), Just(r#" s="2"><v>-1e9</v>"#),
                ]),
                0..8,
            )
        ) {
            let mut sheet = String::from(r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>"#);
            for (col, row, cell) in cells {
                sheet.push_str(&format!(r#"<row r="{row}"><c r="{col}{row}"{cell}</c></row>"#));
            }
            sheet.push_str("</sheetData></worksheet>");
            xlsx_ingest(sheet.as_bytes());
        }

        #[test]
        fn config_parse_never_panics(data in bytes()) {
            config_parse(&data);
        }

        #[test]
        fn config_parse_round_trips_config_like_json(text in config_like()) {
            config_parse(text.as_bytes());
        }

        #[test]
        fn values_never_panic(data in bytes()) {
            values(&data);
        }

        #[test]
        fn values_round_trip_date_like_text(text in date_like()) {
            values(text.as_bytes());
        }

        #[test]
        fn values_round_trip_amount_like_text(text in amount_like()) {
            values(text.as_bytes());
        }

        #[test]
        fn multipart_never_panics(data in bytes()) {
            multipart(&data);
        }

        #[test]
        fn multipart_parts_lie_in_multipart_like_bodies(data in multipart_like()) {
            multipart(&data);
        }

        #[test]
        fn request_decoding_never_panics(data in bytes()) {
            request_decoding(&data);
        }

        #[test]
        fn request_decoding_holds_on_request_like_text(text in request_like()) {
            request_decoding(text.as_bytes());
        }
    }
}
