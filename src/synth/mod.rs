//! `synth`: generated vendor-invoice sets for tests and benchmarks, in exactly the formats
//! of `fixtures/invoices/`: an accounts-payable ledger (the reference rows), the fields an
//! extractor returned from invoices with the noise real extraction produces (the
//! documents), the truth that links them, and the fixture config to match them with. This
//! module owns only the generator: it writes CSV to the writers it is handed and must not
//! depend on the matcher or the parsers, so that a set is never bent towards what the
//! matcher finds easy. Output is a pure function of the options, the same bytes on every
//! machine: one self-contained PRNG (SplitMix64) split into streams per purpose, integer
//! arithmetic for everything printed, and no hash-map iteration. The ledger is streamed
//! (vendors merged by date, memory per vendor, not per row); only the documents are held,
//! to be shuffled.
//!
//! Two profiles: `clean` writes the sets made before profiles existed, with the noise of
//! the hand-made fixtures; `realistic` (the default) adds the noise real extraction
//! produces and vendors with short plain invoice numbers, at the rates of the one table
//! in `realistic.rs` and `docs/synth.md`. The ledger and the split of the documents
//! (true row, near miss, unknown vendor) are drawn the same way in both.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

mod realistic;
mod rng;

use rng::{portable_exp, stream, Rng, Sample};

/// The matching config of the fixtures, written beside every generated set.
pub const CONFIG_JSON: &str = include_str!("../../fixtures/invoices/config.json");

pub const REFERENCE_HEADER: [&str; 7] = [
    "id",
    "vendor_name",
    "invoice_number",
    "invoice_date",
    "total",
    "currency",
    "po_number",
];
pub const DOCUMENTS_HEADER: [&str; 8] = [
    "document_id",
    "filename",
    "vendor_name",
    "invoice_number",
    "invoice_date",
    "total",
    "currency",
    "po_number",
];
pub const TRUTH_HEADER: [&str; 2] = ["document_id", "row_id"];

/// Past this the purchase-order numbers (`PO-45` + 8 digits) run out of digits.
pub const MAX_REFERENCE_ROWS: u64 = 20_000_000;
/// Documents are held in memory to be shuffled; this keeps that well under a gigabyte.
pub const MAX_DOCUMENTS: u64 = 2_000_000;

/// How messy the generated documents and invoice numbers are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SynthProfile {
    /// The noise of the hand-made fixtures (`fixtures/README.md`), which the matcher was
    /// tuned on: the sets written before profiles existed, byte for byte.
    Clean,
    /// The noise real extraction produces, at the rates of the table in
    /// `realistic` (and `docs/synth.md`): OCR confusions, misread and transposed
    /// digits, missing fields, shifted dates, short plain numbers that vendors share.
    #[default]
    Realistic,
}

impl SynthProfile {
    pub fn name(self) -> &'static str {
        match self {
            SynthProfile::Clean => "clean",
            SynthProfile::Realistic => "realistic",
        }
    }
}

impl std::str::FromStr for SynthProfile {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "clean" => Ok(SynthProfile::Clean),
            "realistic" => Ok(SynthProfile::Realistic),
            other => Err(format!(
                "unknown profile \"{other}\" (use realistic or clean)"
            )),
        }
    }
}

/// What to generate. Errors name the command-line flags, the way these values arrive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthOptions {
    pub reference_rows: u64,
    pub documents: u64,
    pub seed: u64,
    pub profile: SynthProfile,
}

impl SynthOptions {
    pub fn validate(&self) -> Result<()> {
        let invalid = |field: &str, message: String| Err(Error::invalid("synth", field, message));
        if self.reference_rows == 0 {
            return invalid(
                "--reference-rows",
                "must be at least 1: documents are matched against reference rows".into(),
            );
        }
        if self.reference_rows > MAX_REFERENCE_ROWS {
            return invalid(
                "--reference-rows",
                format!("must be at most {MAX_REFERENCE_ROWS}"),
            );
        }
        if self.documents > MAX_DOCUMENTS {
            return invalid("--documents", format!("must be at most {MAX_DOCUMENTS}"));
        }
        let counts = DocumentCounts::of(self.documents);
        if counts.with_row > self.reference_rows {
            return invalid(
                "--documents",
                format!(
                    "{} documents need {} distinct true rows, more than the {} reference rows",
                    self.documents, counts.with_row, self.reference_rows
                ),
            );
        }
        Ok(())
    }
}

/// One destination table. `path` only names it in errors.
pub struct Sink<'a> {
    pub path: &'a Path,
    pub writer: &'a mut dyn Write,
}

/// Where `generate` writes the three tables.
pub struct SynthSinks<'a> {
    pub reference: Sink<'a>,
    pub documents: Sink<'a>,
    pub truth: Sink<'a>,
}

/// What was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthSummary {
    pub reference_rows: u64,
    pub vendors: u64,
    pub documents: u64,
    /// Documents with a true row, each a different row.
    pub with_row: u64,
    /// Documents of a known vendor citing an invoice number it never issued.
    pub near_misses: u64,
    /// Documents of vendors that have no row at all.
    pub unknown_vendors: u64,
}

/// Writes a generated set: the ledger to `reference`, then the shuffled documents and
/// their truth. The same options always write the same bytes.
pub fn generate(options: &SynthOptions, sinks: &mut SynthSinks<'_>) -> Result<SynthSummary> {
    options.validate()?;
    let counts = DocumentCounts::of(options.documents);
    let mut names = NameBook::default();
    let vendors = plan_vendors(
        options.reference_rows,
        options.seed,
        options.profile,
        &mut names,
    );
    let vendor_count = vendors.len() as u64;
    let id_width = digit_count(1_000 + 3 * options.reference_rows).max(6);
    let mut ledger = Ledger::new(vendors, options.seed, options.reference_rows);
    let mut documents_rng = Rng::new(options.seed, stream::DOCUMENTS);

    let mut drafts = Vec::with_capacity(options.documents as usize);
    write_ledger(
        &mut ledger,
        options,
        counts,
        id_width,
        &mut sinks.reference,
        &mut documents_rng,
        &mut drafts,
    )?;
    let mut unknown = Rng::new(options.seed, stream::UNKNOWN);
    for _ in 0..counts.unknown {
        let vendor = unknown_vendor(&ledger, options.profile, &mut names, &mut unknown);
        let issued = unknown_invoice(&vendor, &mut unknown);
        drafts.push(extract(&issued, None, options.profile, &mut documents_rng));
    }
    let mut shuffle = Rng::new(options.seed, stream::SHUFFLE);
    for i in (1..drafts.len()).rev() {
        let j = shuffle.below(i as u64 + 1) as usize;
        drafts.swap(i, j);
    }
    write_documents(&drafts, id_width, sinks)?;

    Ok(SynthSummary {
        reference_rows: options.reference_rows,
        vendors: vendor_count,
        documents: drafts.len() as u64,
        with_row: drafts.iter().filter(|d| d.row_id.is_some()).count() as u64,
        near_misses: counts.near_misses,
        unknown_vendors: counts.unknown,
    })
}

/// Streams the ledger to `sink` and, as rows go by, drafts the documents that have a
/// true row and the near misses (numbers a vendor skipped, or had not reached yet).
fn write_ledger(
    ledger: &mut Ledger,
    options: &SynthOptions,
    counts: DocumentCounts,
    id_width: usize,
    sink: &mut Sink<'_>,
    rng: &mut Rng,
    drafts: &mut Vec<DocDraft>,
) -> Result<()> {
    let rows = options.reference_rows;
    let mut true_rows = Sample::new(
        counts.with_row,
        rows,
        Rng::new(options.seed, stream::TRUE_ROWS),
    );
    let mut anchors = Sample::new(
        counts.near_misses,
        rows,
        Rng::new(options.seed, stream::NEAR_MISSES),
    );
    let mut pending = vec![PendingNearMisses::default(); ledger.vendors.len()];
    let path = sink.path;
    let mut reference = csv::Writer::from_writer(&mut *sink.writer);
    reference
        .write_record(REFERENCE_HEADER)
        .map_err(csv_error(path))?;
    let mut cells = RowCells::default();
    while let Some(row) = ledger.next_row() {
        let vendor = ledger.vendor(row.vendor);
        cells.fill(&row, vendor, id_width);
        reference
            .write_record([
                cells.id.as_str(),
                vendor.display.as_str(),
                cells.number.as_str(),
                cells.date.as_str(),
                cells.total.as_str(),
                vendor.currency,
                cells.po.as_str(),
            ])
            .map_err(csv_error(path))?;

        if true_rows.take() {
            let issued = Issued::row(&row, vendor);
            drafts.push(extract(&issued, Some(row.id), options.profile, rng));
        }
        let waiting = &mut pending[row.vendor];
        if anchors.take() {
            if rng.chance(0.5) {
                waiting.beyond_last += 1;
            } else {
                waiting.in_gap += 1;
            }
        }
        let current_po = ledger.current_po(row.vendor);
        for (seq, year, day) in waiting.resolve(&row, vendor.format.family.yearly(), rng) {
            let issued = Issued {
                vendor,
                seq,
                year,
                day,
                cents: vendor.amounts.draw(rng, year),
                // Now and then the vendor's current PO, which the ledger has.
                po: current_po.filter(|_| rng.chance(0.1)),
            };
            drafts.push(extract(&issued, None, options.profile, rng));
        }
    }
    reference.flush().map_err(|e| Error::io(path, e))
}

/// A vendor the ledger does not have; a third resemble one it has.
fn unknown_vendor(
    ledger: &Ledger,
    profile: SynthProfile,
    names: &mut NameBook,
    rng: &mut Rng,
) -> Vendor {
    let name = if rng.chance(0.3) {
        let of = &ledger
            .vendor(rng.below(ledger.vendors.len() as u64) as usize)
            .name;
        names.variant(rng, of).unwrap_or_else(|| names.fresh(rng))
    } else {
        names.fresh(rng)
    };
    Vendor::plan(name, 1 + rng.below(60), profile, rng)
}

fn unknown_invoice<'a>(vendor: &'a Vendor, rng: &mut Rng) -> Issued<'a> {
    let day = FIRST_DAY + rng.below(LEDGER_DAYS) as i64;
    let year = ymd(day).year;
    let seq = if vendor.format.family.yearly() {
        1 + rng.below(500)
    } else {
        vendor.first_seq + rng.below(500)
    };
    Issued {
        vendor,
        seq,
        year,
        day,
        cents: vendor.amounts.draw(rng, year),
        po: rng
            .chance(0.3)
            .then(|| PO_FIRST + rng.below(PO_LIMIT - PO_FIRST)),
    }
}

fn write_documents(drafts: &[DocDraft], id_width: usize, sinks: &mut SynthSinks<'_>) -> Result<()> {
    let doc_width = digit_count(drafts.len() as u64).max(4);
    let (documents_path, truth_path) = (sinks.documents.path, sinks.truth.path);
    let mut documents = csv::Writer::from_writer(&mut *sinks.documents.writer);
    let mut truth = csv::Writer::from_writer(&mut *sinks.truth.writer);
    documents
        .write_record(DOCUMENTS_HEADER)
        .map_err(csv_error(documents_path))?;
    truth
        .write_record(TRUTH_HEADER)
        .map_err(csv_error(truth_path))?;
    let (mut document_id, mut row_id) = (String::new(), String::new());
    for (i, draft) in drafts.iter().enumerate() {
        document_id.clear();
        document_id.push_str("D-");
        push_padded(&mut document_id, i as u64 + 1, doc_width);
        row_id.clear();
        if let Some(id) = draft.row_id {
            push_ledger_id(&mut row_id, id, id_width);
        }
        documents
            .write_record(std::iter::once(document_id.as_str()).chain(draft.fields()))
            .map_err(csv_error(documents_path))?;
        truth
            .write_record([document_id.as_str(), row_id.as_str()])
            .map_err(csv_error(truth_path))?;
    }
    documents
        .flush()
        .map_err(|e| Error::io(documents_path, e))?;
    truth.flush().map_err(|e| Error::io(truth_path, e))
}

fn csv_error(path: &Path) -> impl Fn(csv::Error) -> Error + '_ {
    move |e| match e.into_kind() {
        csv::ErrorKind::Io(error) => Error::io(path, error),
        other => Error::Internal(format!("{}: {other:?}", path.display())),
    }
}

/// How the documents split: about 90% with a true row, the rest half near misses, half
/// unknown vendors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DocumentCounts {
    with_row: u64,
    near_misses: u64,
    unknown: u64,
}

impl DocumentCounts {
    fn of(documents: u64) -> DocumentCounts {
        let without_row = (documents + 5) / 10;
        let near_misses = without_row.div_ceil(2);
        DocumentCounts {
            with_row: documents - without_row,
            near_misses,
            unknown: without_row - near_misses,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Calendar and number text

/// 2024-01-01 as days since 1970-01-01: the ledger spans three years from it.
const FIRST_DAY: i64 = 19_723;
const LEDGER_DAYS: u64 = 1_096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ymd {
    year: i32,
    month: u32,
    day: u32,
}

/// The calendar date of a day number (Hinnant's `civil_from_days`): integers only.
fn ymd(days: i64) -> Ymd {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Ymd {
        year: year as i32,
        month: month as u32,
        day: day as u32,
    }
}

fn digit_count(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Appends `n` in decimal, zero-padded to `width` digits.
fn push_padded(out: &mut String, n: u64, width: usize) {
    for _ in digit_count(n)..width {
        out.push('0');
    }
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut rest = n;
    loop {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend(buf[at..].iter().map(|&b| char::from(b)));
}

fn push_ledger_id(out: &mut String, id: u64, width: usize) {
    out.push_str("OI-");
    push_padded(out, id, width);
}

/// The ways a date is written on an invoice; numeric ones day first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DateStyle {
    Iso,
    Dotted,
    Slashed,
    Dashed,
    Compact,
    DayMonEnglish,
    DayMonthEnglish,
    MonthDayEnglish,
    MonDayEnglish,
    German,
    French,
    Spanish,
    Italian,
    Dutch,
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_ES: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];
const MONTHS_IT: [&str; 12] = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
];
const MONTHS_NL: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

fn push_date(out: &mut String, days: i64, style: DateStyle) {
    let Ymd { year, month, day } = ymd(days);
    let (year, month, day) = (
        u64::try_from(year).unwrap_or(0),
        month as usize,
        u64::from(day),
    );
    let month_index = month.saturating_sub(1).min(11);
    let numeric = |out: &mut String, sep: char| {
        push_padded(out, day, 2);
        out.push(sep);
        push_padded(out, month as u64, 2);
        out.push(sep);
        push_padded(out, year, 4);
    };
    // Day, then a month name, then the year: `2 Mar 2026`, `2. März 2026`.
    let named = |out: &mut String, after_day: &str, name: &str, before_year: &str| {
        push_padded(out, day, 1);
        out.push_str(after_day);
        out.push_str(name);
        out.push_str(before_year);
        push_padded(out, year, 4);
    };
    match style {
        DateStyle::Iso => {
            push_padded(out, year, 4);
            out.push('-');
            push_padded(out, month as u64, 2);
            out.push('-');
            push_padded(out, day, 2);
        }
        DateStyle::Dotted => numeric(out, '.'),
        DateStyle::Slashed => numeric(out, '/'),
        DateStyle::Dashed => numeric(out, '-'),
        DateStyle::Compact => {
            push_padded(out, year, 4);
            push_padded(out, month as u64, 2);
            push_padded(out, day, 2);
        }
        DateStyle::DayMonEnglish => {
            named(out, " ", &MONTHS_EN[month_index][..3], " ");
        }
        DateStyle::DayMonthEnglish => named(out, " ", MONTHS_EN[month_index], " "),
        DateStyle::MonthDayEnglish | DateStyle::MonDayEnglish => {
            let name = MONTHS_EN[month_index];
            out.push_str(if style == DateStyle::MonDayEnglish {
                &name[..3]
            } else {
                name
            });
            out.push(' ');
            push_padded(out, day, 1);
            out.push_str(", ");
            push_padded(out, year, 4);
        }
        DateStyle::German => named(out, ". ", MONTHS_DE[month_index], " "),
        DateStyle::French => named(out, " ", MONTHS_FR[month_index], " "),
        DateStyle::Spanish => named(out, " de ", MONTHS_ES[month_index], " de "),
        DateStyle::Italian => named(out, " ", MONTHS_IT[month_index], " "),
        DateStyle::Dutch => named(out, " ", MONTHS_NL[month_index], " "),
    }
}

/// The ways an amount is written: separators, and a currency code or symbol around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AmountStyle {
    /// `1240.00`, as the ledger has it.
    Plain,
    /// `1,240.00`
    Anglo,
    /// `£1,240.00`
    AngloSymbol,
    /// `USD 1,240.00`
    AngloCode,
    /// `1.240,00`
    Euro,
    /// `1240,00`
    EuroUngrouped,
    /// `EUR 1.240,00`
    EuroCodeBefore,
    /// `1.240,00 EUR`
    EuroCodeAfter,
    /// `1.240,00 €`
    EuroSymbolAfter,
    /// `€1240,00`, `€1240`
    SymbolCompact,
    /// `$1240.00`, `$1240`
    SymbolCompactAnglo,
    /// `CHF 1'240.00`
    Swiss,
    /// `1'240.00`
    SwissPlain,
}

fn currency_symbol(currency: &str) -> &'static str {
    match currency {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        _ => "Fr.",
    }
}

/// Appends `cents` with thousands grouped by `group` (if any) and, unless `whole`, two
/// decimals after `decimal`.
fn push_amount(out: &mut String, cents: u64, whole: bool, group: Option<char>, decimal: char) {
    let units = cents / 100;
    let mut text = String::new();
    push_padded(&mut text, units, 1);
    match group {
        Some(sep) => {
            let lead = text.len() % 3;
            for (i, c) in text.chars().enumerate() {
                if i > 0 && (i + 3 - lead) % 3 == 0 {
                    out.push(sep);
                }
                out.push(c);
            }
        }
        None => out.push_str(&text),
    }
    if !whole {
        out.push(decimal);
        push_padded(out, cents % 100, 2);
    }
}

fn push_styled_amount(
    out: &mut String,
    cents: u64,
    whole: bool,
    currency: &str,
    style: AmountStyle,
) {
    let symbol = currency_symbol(currency);
    match style {
        AmountStyle::Plain => push_amount(out, cents, whole, None, '.'),
        AmountStyle::Anglo => push_amount(out, cents, whole, Some(','), '.'),
        AmountStyle::AngloSymbol => {
            out.push_str(symbol);
            push_amount(out, cents, whole, Some(','), '.');
        }
        AmountStyle::AngloCode | AmountStyle::Swiss => {
            out.push_str(currency);
            out.push(' ');
            let group = if style == AmountStyle::Swiss {
                '\''
            } else {
                ','
            };
            push_amount(out, cents, whole, Some(group), '.');
        }
        AmountStyle::Euro => push_amount(out, cents, whole, Some('.'), ','),
        AmountStyle::EuroUngrouped => push_amount(out, cents, whole, None, ','),
        AmountStyle::EuroCodeBefore => {
            out.push_str(currency);
            out.push(' ');
            push_amount(out, cents, whole, Some('.'), ',');
        }
        AmountStyle::EuroCodeAfter | AmountStyle::EuroSymbolAfter => {
            push_amount(out, cents, whole, Some('.'), ',');
            out.push(' ');
            out.push_str(if style == AmountStyle::EuroCodeAfter {
                currency
            } else {
                symbol
            });
        }
        AmountStyle::SymbolCompact | AmountStyle::SymbolCompactAnglo => {
            out.push_str(if currency == "CHF" { currency } else { symbol });
            let decimal = if style == AmountStyle::SymbolCompact {
                ','
            } else {
                '.'
            };
            push_amount(out, cents, whole, None, decimal);
        }
        AmountStyle::SwissPlain => push_amount(out, cents, whole, Some('\''), '.'),
    }
}

// ---------------------------------------------------------------------------------------
// Vendor names

/// The language a vendor's name, dates and amounts are written in; indexes `SECTORS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lang {
    De = 0,
    Fr = 1,
    Es = 2,
    It = 3,
    Nl = 4,
    En = 5,
}

#[derive(Debug)]
struct LegalForm {
    name: &'static str,
    /// How extraction writes it instead; a leading comma attaches to the word before.
    variants: &'static [&'static str],
}

const GMBH: LegalForm = LegalForm {
    name: "GmbH",
    variants: &["Gmbh", "GMBH", "GmbH.", "Ges.m.b.H."],
};
const AG: LegalForm = LegalForm {
    name: "AG",
    variants: &["A.G.", "Aktiengesellschaft", "AG."],
};
const GMBH_CO_KG: LegalForm = LegalForm {
    name: "GmbH & Co. KG",
    variants: &[
        "GmbH & Co KG",
        "GmbH&Co. KG",
        "GmbH & Co.KG",
        "GmbH u. Co. KG",
    ],
};
const EK: LegalForm = LegalForm {
    name: "e.K.",
    variants: &["e. K.", "eK", "e.Kfm."],
};
const SA_CH: LegalForm = LegalForm {
    name: "SA",
    variants: &["S.A.", "AG", "S.A"],
};
const SAS: LegalForm = LegalForm {
    name: "SAS",
    variants: &["S.A.S.", "Sas", "S.A.S"],
};
const SARL: LegalForm = LegalForm {
    name: "SARL",
    variants: &["S.A.R.L.", "Sàrl", "Sarl"],
};
const SA: LegalForm = LegalForm {
    name: "S.A.",
    variants: &["SA", "S.A", "S. A."],
};
const SL: LegalForm = LegalForm {
    name: "S.L.",
    variants: &["SL", "S.L.U.", "S.L"],
};
const SRL: LegalForm = LegalForm {
    name: "S.r.l.",
    variants: &["Srl", "S.R.L.", "SRL", "s.r.l."],
};
const SPA: LegalForm = LegalForm {
    name: "S.p.A.",
    variants: &["SpA", "S.P.A.", "Spa"],
};
const BV: LegalForm = LegalForm {
    name: "B.V.",
    variants: &["BV", "B.V", "bv"],
};
const NV: LegalForm = LegalForm {
    name: "N.V.",
    variants: &["NV", "N.V"],
};
const LTD: LegalForm = LegalForm {
    name: "Ltd",
    variants: &["Ltd.", "Limited", "LTD"],
};
const LIMITED: LegalForm = LegalForm {
    name: "Limited",
    variants: &["Ltd", "Ltd.", "Ltd"],
};
const PLC: LegalForm = LegalForm {
    name: "PLC",
    variants: &["plc", "Plc", "P.L.C."],
};
const INC: LegalForm = LegalForm {
    name: "Inc.",
    variants: &["Inc", "Incorporated", ", Inc."],
};
const LLC: LegalForm = LegalForm {
    name: "LLC",
    variants: &[", LLC", "L.L.C.", "Llc"],
};
const CORP: LegalForm = LegalForm {
    name: "Corp.",
    variants: &["Corp", "Corporation", ", Corp."],
};

/// Everything about where a vendor is based that shows in its name and paperwork.
#[derive(Debug)]
struct Country {
    lang: Lang,
    /// Weight among vendors.
    share: u64,
    currencies: &'static [(&'static str, u64)],
    legal_forms: &'static [(&'static LegalForm, u64)],
    /// Surnames, places and brand words the name is built around.
    stems: &'static [&'static str],
    /// Cities and regions that tell two otherwise equal names apart.
    places: &'static [&'static str],
    /// `& Söhne`, `& Fils`, ...
    family: &'static str,
    /// Percent of names with the industry first (`Elektro Schäfer`, `Transports Guérin`).
    industry_first: u64,
    invoice_prefixes: &'static [&'static str],
    /// The word for invoice in file names.
    invoice_word: &'static str,
    date_styles: &'static [(DateStyle, u64)],
    amount_styles: &'static [(AmountStyle, u64)],
}

const EURO_AMOUNTS: &[(AmountStyle, u64)] = &[
    (AmountStyle::Euro, 5),
    (AmountStyle::EuroUngrouped, 2),
    (AmountStyle::EuroCodeBefore, 2),
    (AmountStyle::EuroCodeAfter, 2),
    (AmountStyle::EuroSymbolAfter, 2),
    (AmountStyle::SymbolCompact, 1),
    (AmountStyle::Anglo, 1),
];
const ANGLO_AMOUNTS: &[(AmountStyle, u64)] = &[
    (AmountStyle::Anglo, 5),
    (AmountStyle::AngloSymbol, 4),
    (AmountStyle::AngloCode, 2),
    (AmountStyle::SymbolCompactAnglo, 1),
];
const SWISS_AMOUNTS: &[(AmountStyle, u64)] = &[
    (AmountStyle::Swiss, 4),
    (AmountStyle::SwissPlain, 3),
    (AmountStyle::Euro, 1),
    (AmountStyle::AngloCode, 1),
];

// Word lists wrapped as prose: one word per line would bury the structure.
#[rustfmt::skip]
static COUNTRIES: [Country; 8] = [
    Country {
        lang: Lang::De,
        share: 28,
        currencies: &[("EUR", 1)],
        legal_forms: &[(&GMBH, 60), (&AG, 10), (&GMBH_CO_KG, 18), (&EK, 12)],
        stems: &[
            "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
            "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
            "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hartmann",
            "Lange", "Werner", "Krause", "Lehmann", "Köhler", "Maier", "Huber", "Kaiser",
            "Fuchs", "Scholz", "Möller", "Vogel", "Keller", "Berger", "Roth", "Beck", "Lorenz",
            "Baumann", "Albrecht", "Winkler", "Gröner", "Krämer", "Weißenfels", "Rheinland",
            "Nordwind", "Hanse", "Elbtal", "Schwarzwald", "Bodensee", "Westfalen", "Taunus",
            "Spessart", "Harz", "Mainfranken", "Nordlicht", "Isartal", "Allgäu", "Eifel",
            "Emsland", "Vogtland", "Sauerland", "Odenwald", "Donautal", "Neckartal",
        ],
        places: &[
            "Hamburg", "München", "Köln", "Frankfurt", "Stuttgart", "Düsseldorf", "Leipzig",
            "Dresden", "Hannover", "Nürnberg", "Bremen", "Essen", "Dortmund", "Bonn",
            "Mannheim", "Augsburg", "Kiel", "Freiburg", "Würzburg", "Regensburg", "Ulm",
            "Rostock", "Kassel", "Erfurt", "Mainz", "Trier", "Aachen", "Münster", "Bielefeld",
            "Karlsruhe", "Heilbronn", "Passau", "Lübeck", "Göttingen", "Jena", "Potsdam",
            "Chemnitz", "Magdeburg", "Osnabrück", "Nord", "Süd", "West", "Ost", "Mitte",
        ],
        family: "& Söhne",
        industry_first: 30,
        invoice_prefixes: &["RE", "RG", "R", "AR"],
        invoice_word: "rechnung",
        date_styles: &[
            (DateStyle::Dotted, 6),
            (DateStyle::German, 3),
            (DateStyle::Compact, 1),
        ],
        amount_styles: EURO_AMOUNTS,
    },
    Country {
        lang: Lang::De,
        share: 6,
        currencies: &[("CHF", 9), ("EUR", 1)],
        legal_forms: &[(&AG, 60), (&GMBH, 35), (&SA_CH, 5)],
        stems: &[
            "Alpenblick", "Bergkristall", "Zürichsee", "Gotthard", "Säntis", "Pilatus", "Rigi",
            "Jura", "Emmental", "Engadin", "Aare", "Limmat", "Titlis", "Seeland", "Toggenburg",
            "Brunner", "Meier", "Steiner", "Gerber", "Frei", "Baumgartner", "Moser", "Widmer",
            "Zürcher", "Keller", "Huber", "Wyss", "Graf", "Studer", "Bühler", "Hofer", "Kälin",
            "Suter", "Fässler", "Egli",
        ],
        places: &[
            "Zürich", "Bern", "Basel", "Luzern", "Zug", "Winterthur", "St. Gallen", "Lugano",
            "Chur", "Thun", "Aarau", "Olten", "Biel", "Schaffhausen", "Baden", "Wil", "Sion",
            "Frauenfeld", "Uster", "Emmen",
        ],
        family: "& Co.",
        industry_first: 20,
        invoice_prefixes: &["RE", "R", "F"],
        invoice_word: "rechnung",
        date_styles: &[(DateStyle::Dotted, 8), (DateStyle::German, 2)],
        amount_styles: SWISS_AMOUNTS,
    },
    Country {
        lang: Lang::Fr,
        share: 13,
        currencies: &[("EUR", 1)],
        legal_forms: &[(&SAS, 45), (&SARL, 40), (&SA, 15)],
        stems: &[
            "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
            "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Bertrand", "Roux",
            "Vincent", "Fournier", "Morel", "Girard", "Mercier", "Dupont", "Lambert", "Bonnet",
            "Guérin", "Rousseau", "Faure", "Blanc", "Chevalier", "Gauthier", "Perrin",
            "Clément", "Fontaine", "Garnier", "Brunet", "Lemaire", "Gaillard", "Barbier",
            "Renard", "Picard", "Masson", "Marchand", "Dumas", "Lyonnaise", "Provençale",
            "Normande", "Bretonne", "Alsacienne", "Savoyarde", "Atlantique", "du Rhône",
            "de la Loire", "des Alpes",
        ],
        places: &[
            "Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Bordeaux", "Lille", "Rennes",
            "Reims", "Grenoble", "Dijon", "Angers", "Nîmes", "Tours", "Metz", "Brest",
            "Limoges", "Amiens", "Orléans", "Rouen", "Caen", "Nancy", "Besançon", "Poitiers",
            "Pau", "Annecy", "Valence", "Chambéry", "Troyes", "Lorient", "Nord", "Sud", "Ouest",
            "Est", "Centre",
        ],
        family: "& Fils",
        industry_first: 100,
        invoice_prefixes: &["FAC", "F", "FA", "FC"],
        invoice_word: "facture",
        date_styles: &[
            (DateStyle::Slashed, 6),
            (DateStyle::French, 3),
            (DateStyle::Compact, 1),
        ],
        amount_styles: EURO_AMOUNTS,
    },
    Country {
        lang: Lang::Es,
        share: 9,
        currencies: &[("EUR", 1)],
        legal_forms: &[(&SL, 70), (&SA, 30)],
        stems: &[
            "García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
            "Pérez", "Gómez", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz",
            "Álvarez", "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez",
            "Vázquez", "Ramos", "Serrano", "Blanco", "Molina", "Morales", "Suárez", "Ortega",
            "Delgado", "Castro", "Rubio", "Marín", "Iglesias", "Núñez", "Medina", "Garrido",
            "Ibáñez", "Peñalara", "Cortés", "Castillo", "Lozano", "Guerrero", "Prieto",
            "Méndez", "Levante", "Cantábrica", "Ibérica", "Mediterránea", "Andaluza", "Gallega",
            "Castellana", "Aragonesa", "Óptima",
        ],
        places: &[
            "Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Málaga", "Murcia",
            "Bilbao", "Alicante", "Córdoba", "Valladolid", "Vigo", "Gijón", "Granada", "Oviedo",
            "Pamplona", "Almería", "Burgos", "Salamanca", "Logroño", "Huelva", "Cádiz", "León",
            "Tarragona", "Lleida", "Girona", "Norte", "Sur", "Centro",
        ],
        family: "e Hijos",
        industry_first: 100,
        invoice_prefixes: &["FV", "F", "FAC", "A"],
        invoice_word: "factura",
        date_styles: &[
            (DateStyle::Slashed, 6),
            (DateStyle::Spanish, 3),
            (DateStyle::Compact, 1),
        ],
        amount_styles: EURO_AMOUNTS,
    },
    Country {
        lang: Lang::It,
        share: 10,
        currencies: &[("EUR", 1)],
        legal_forms: &[(&SRL, 70), (&SPA, 30)],
        stems: &[
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa",
            "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro",
            "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone", "Longo",
            "Gentile", "Martinelli", "Vitale", "Serra", "Coppola", "De Santis", "Marchetti",
            "Parisi", "Villa", "Ferri", "Fabbri", "Marini", "Grasso", "Valentini", "Sala",
            "Gatti", "Pellegrini", "Palumbo", "Farina", "Monti", "Cattaneo", "Morelli", "Amato",
            "Ducale", "Adriatica", "Lombarda", "Toscana", "Veneta", "Emiliana", "Ligure",
            "Padana",
        ],
        places: &[
            "Milano", "Torino", "Genova", "Bologna", "Firenze", "Napoli", "Bari", "Verona",
            "Padova", "Trieste", "Brescia", "Parma", "Modena", "Bergamo", "Vicenza", "Trento",
            "Bolzano", "Udine", "Ancona", "Perugia", "Pescara", "Salerno", "Lecce", "Como",
            "Varese", "Nord", "Sud", "Centro",
        ],
        family: "& Figli",
        industry_first: 100,
        invoice_prefixes: &["FT", "FATT", "FE", "F"],
        invoice_word: "fattura",
        date_styles: &[
            (DateStyle::Slashed, 6),
            (DateStyle::Italian, 3),
            (DateStyle::Dashed, 1),
        ],
        amount_styles: EURO_AMOUNTS,
    },
    Country {
        lang: Lang::Nl,
        share: 9,
        currencies: &[("EUR", 1)],
        legal_forms: &[(&BV, 85), (&NV, 15)],
        stems: &[
            "De Jong", "Jansen", "De Vries", "Van den Berg", "Van der Berg", "Van Dijk",
            "Bakker", "Visser", "Smit", "Meijer", "De Boer", "Mulder", "De Groot", "Bos", "Vos",
            "Hendriks", "Van Leeuwen", "Dekker", "Brouwer", "De Wit", "Dijkstra", "Smits",
            "De Graaf", "Van der Meer", "Van der Linden", "Kok", "Jacobs", "De Haan",
            "Vermeulen", "Van den Heuvel", "Van der Veen", "Van den Broek", "De Bruijn",
            "Van der Heijden", "Schouten", "Van Beek", "Willems", "Van Vliet", "Hoekstra",
            "Maas", "Verhoeven", "Koster", "Van Dam", "Prins", "Blom", "Huisman", "Hoogstraten",
            "Rijnmond", "Twente", "Brabant", "Veluwe", "Zeeland", "Amstel", "Maasland",
        ],
        places: &[
            "Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Groningen", "Tilburg", "Almere",
            "Breda", "Nijmegen", "Arnhem", "Haarlem", "Enschede", "Amersfoort", "Apeldoorn",
            "Zwolle", "Leiden", "Maastricht", "Dordrecht", "Delft", "Venlo", "Noord", "Zuid",
            "Oost", "West",
        ],
        family: "& Zonen",
        industry_first: 0,
        invoice_prefixes: &["F", "FACT", "INV", "VF"],
        invoice_word: "factuur",
        date_styles: &[
            (DateStyle::Dashed, 6),
            (DateStyle::Dutch, 3),
            (DateStyle::Compact, 1),
        ],
        amount_styles: EURO_AMOUNTS,
    },
    Country {
        lang: Lang::En,
        share: 13,
        currencies: &[("GBP", 85), ("EUR", 15)],
        legal_forms: &[(&LTD, 50), (&LIMITED, 35), (&PLC, 15)],
        stems: &[
            "Thistle", "Redgate", "Greenfield", "Harbour", "Ironbridge", "Kingsway",
            "Riverside", "Oakwood", "Highland", "Pennine", "Cotswold", "Thames", "Severn",
            "Mersey", "Clyde", "Wessex", "Mercia", "Albion", "Britannia", "Crown", "Heritage",
            "Ashford", "Whitfield", "Hawthorn", "Kestrel", "Merlin", "Osprey", "Northgate",
            "Westbrook", "Southbank", "Bridgewater", "Blackstone", "Silverdale", "Lakeland",
            "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Robinson",
            "Wright", "Thompson", "Evans", "Walker", "Roberts", "Hall", "Clarke", "Crane",
            "Hughes", "Edwards", "Turner",
        ],
        places: &[
            "London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol", "Sheffield",
            "Liverpool", "Edinburgh", "Cardiff", "Leicester", "Nottingham", "Coventry",
            "Belfast", "Aberdeen", "Norwich", "Exeter", "Plymouth", "York", "Oxford",
            "Cambridge", "Northern", "Southern", "Midlands", "Scotland", "Wales",
        ],
        family: "& Sons",
        industry_first: 0,
        invoice_prefixes: &["INV", "SI", "IN", "SIN"],
        invoice_word: "invoice",
        date_styles: &[
            (DateStyle::DayMonEnglish, 5),
            (DateStyle::Slashed, 3),
            (DateStyle::DayMonthEnglish, 2),
        ],
        amount_styles: ANGLO_AMOUNTS,
    },
    Country {
        lang: Lang::En,
        share: 12,
        currencies: &[("USD", 92), ("EUR", 8)],
        legal_forms: &[(&INC, 45), (&LLC, 35), (&CORP, 20)],
        stems: &[
            "Keystone", "Cascade", "Lakeshore", "Bluepeak", "Alpha", "Summit", "Pinnacle",
            "Frontier", "Liberty", "Patriot", "Eagle", "Redwood", "Sierra", "Granite", "Prairie",
            "Heartland", "Bayview", "Silverline", "Northstar", "Brightwater", "Oakridge",
            "Evergreen", "Horizon", "Meridian", "Apex", "Vertex", "Zenith", "Pioneer", "Atlas",
            "Titan", "Beacon", "Canyon", "Mesa", "Timberline", "Ironwood", "Blue Ridge",
            "Miller", "Davis", "Anderson", "Carter", "Mitchell", "Parker", "Collins", "Stewart",
            "Morris", "Reed", "Cooper", "Bailey", "Murphy",
        ],
        places: &[
            "Dallas", "Houston", "Denver", "Boston", "Chicago", "Atlanta", "Phoenix", "Seattle",
            "Portland", "Austin", "Columbus", "Detroit", "Memphis", "Nashville", "Omaha",
            "Tulsa", "Reno", "Boise", "Raleigh", "Richmond", "Midwest", "Pacific", "Atlantic",
            "Southwest", "Northeast",
        ],
        family: "& Sons",
        industry_first: 0,
        invoice_prefixes: &["INV", "IN", "BL"],
        invoice_word: "invoice",
        date_styles: &[
            (DateStyle::MonthDayEnglish, 6),
            (DateStyle::MonDayEnglish, 3),
            (DateStyle::Compact, 1),
        ],
        amount_styles: ANGLO_AMOUNTS,
    },
];

/// Industry words per sector, `[De, Fr, Es, It, Nl, En]`. Words of one sector and
/// language are siblings (`Haustechnik` / `Gebäudetechnik`) that near-duplicate vendors
/// share; the same sector in another language makes the sister company abroad.
type Sector = [&'static [&'static str]; 6];

const SECTORS: &[Sector] = &[
    [
        &["Logistik", "Spedition", "Transporte"],
        &["Transports", "Logistique", "Messageries"],
        &["Logística", "Transportes"],
        &["Trasporti", "Logistica", "Spedizioni"],
        &["Logistiek", "Transport", "Expeditie"],
        &["Logistics", "Freight", "Haulage"],
    ],
    [
        &["Haustechnik", "Gebäudetechnik", "Installationstechnik"],
        &["Génie Climatique", "Installations", "Thermique"],
        &["Instalaciones", "Fontanería"],
        &["Impianti", "Termoidraulica"],
        &["Installatietechniek", "Installaties"],
        &["Building Services", "Mechanical Services", "Plumbing"],
    ],
    [
        &["Papier", "Verpackung", "Papierhandel"],
        &["Emballages", "Papeterie", "Cartonnages"],
        &["Embalajes", "Papelera"],
        &["Imballaggi", "Cartotecnica"],
        &["Verpakkingen", "Verpakking", "Papier"],
        &["Packaging", "Paper", "Cartons"],
    ],
    [
        &["Elektro", "Elektrotechnik", "Elektroanlagen"],
        &["Électricité", "Électricité Générale"],
        &["Electricidad", "Instalaciones Eléctricas"],
        &["Elettrica", "Impianti Elettrici"],
        &["Elektrotechniek", "Elektro"],
        &["Electrical", "Electrics"],
    ],
    [
        &["Druckerei", "Druck", "Druckservice"],
        &["Imprimerie", "Impressions"],
        &["Imprenta", "Artes Gráficas"],
        &["Tipografia", "Stampa", "Arti Grafiche"],
        &["Drukkerij", "Drukwerk"],
        &["Print", "Printing", "Press"],
    ],
    [
        &["IT-Service", "IT-Systeme", "Datentechnik"],
        &["Informatique", "Systèmes"],
        &["Informática", "Sistemas"],
        &["Informatica", "Sistemi"],
        &["ICT", "Automatisering"],
        &["IT Services", "Software", "Cloud Services"],
    ],
    [
        &["Bürosysteme", "Bürobedarf", "Büroausstattung"],
        &["Fournitures de Bureau", "Bureautique"],
        &["Suministros de Oficina", "Material de Oficina"],
        &["Forniture Ufficio", "Cancelleria"],
        &["Kantoorartikelen", "Kantoorinrichting"],
        &["Office Supplies", "Office Solutions", "Office Systems"],
    ],
    [
        &["Personaldienste", "Personalservice", "Zeitarbeit"],
        &["Intérim", "Ressources Humaines"],
        &["Recursos Humanos", "Trabajo Temporal"],
        &["Lavoro Temporaneo", "Risorse Umane"],
        &["Uitzendbureau", "Personeelsdiensten"],
        &["Recruitment", "Staffing"],
    ],
    [
        &["Maschinenbau", "Metallbau", "Stahlbau"],
        &["Mécanique", "Usinage", "Chaudronnerie"],
        &["Maquinaria", "Mecanizados"],
        &["Officine Meccaniche", "Meccanica"],
        &["Machinebouw", "Metaalbewerking"],
        &["Engineering", "Industrial", "Machinery"],
    ],
    [
        &["Gebäudereinigung", "Reinigung", "Reinigungsdienst"],
        &["Nettoyage", "Propreté"],
        &["Limpiezas", "Servicios de Limpieza"],
        &["Pulizie", "Servizi di Pulizia"],
        &["Schoonmaak", "Schoonmaakdiensten"],
        &["Cleaning", "Cleaning Services"],
    ],
    [
        &["Catering", "Gastronomie", "Großküchen"],
        &["Restauration", "Traiteur"],
        &["Catering", "Restauración"],
        &["Ristorazione", "Catering"],
        &["Catering", "Horeca"],
        &["Catering", "Foods", "Hospitality"],
    ],
    [
        &["Sicherheitsdienst", "Sicherheitstechnik", "Wachschutz"],
        &["Sécurité", "Gardiennage"],
        &["Seguridad", "Vigilancia"],
        &["Sicurezza", "Vigilanza"],
        &["Beveiliging", "Bewaking"],
        &["Security", "Security Services"],
    ],
    [
        &["Werkzeuge", "Befestigungstechnik", "Schrauben"],
        &["Outillage", "Quincaillerie", "Visserie"],
        &["Ferretería", "Herramientas", "Suministros Industriales"],
        &["Ferramenta", "Utensileria", "Bulloneria"],
        &["Gereedschappen", "Bevestigingsmiddelen"],
        &["Fasteners", "Tools", "Hardware"],
    ],
    [
        &["Treuhand", "Beratung", "Steuerberatung"],
        &["Conseil", "Expertise Comptable"],
        &["Consultoría", "Asesores"],
        &["Consulenza", "Studio Associato"],
        &["Advies", "Consultancy"],
        &["Consulting", "Advisory", "Partners"],
    ],
    [
        &["Präzision", "Feinmechanik", "Präzisionstechnik"],
        &["Précision", "Composants"],
        &["Precisión", "Componentes"],
        &["Precisione", "Componenti"],
        &["Precisietechniek", "Fijnmechanica"],
        &["Precision", "Components", "Manufacturing"],
    ],
    [
        &["Medien", "Werbung", "Medienservice"],
        &["Médias", "Communication"],
        &["Comunicación", "Publicidad"],
        &["Comunicazione", "Pubblicità"],
        &["Media", "Reclame"],
        &["Media", "Marketing", "Creative"],
    ],
    [
        &["Bau", "Hochbau", "Bauunternehmung"],
        &["Construction", "Bâtiment", "Travaux Publics"],
        &["Construcciones", "Obras"],
        &["Costruzioni", "Edilizia"],
        &["Bouw", "Aannemers"],
        &["Construction", "Builders", "Contractors"],
    ],
    [
        &["Energie", "Energietechnik", "Solartechnik"],
        &["Énergie", "Énergies"],
        &["Energía", "Energías"],
        &["Energia", "Energie"],
        &["Energie", "Energietechniek"],
        &["Energy", "Power", "Utilities"],
    ],
    [
        &["Kaffeerösterei", "Lebensmittel", "Getränke"],
        &["Torréfaction", "Boissons", "Alimentation"],
        &["Cafés", "Bebidas", "Alimentación"],
        &["Caffè", "Torrefazione", "Bevande"],
        &["Koffiebranderij", "Dranken", "Levensmiddelen"],
        &["Coffee", "Beverages", "Food Supplies"],
    ],
    [
        &["Kältetechnik", "Klimatechnik", "Lüftungstechnik"],
        &["Froid", "Climatisation"],
        &["Refrigeración", "Climatización"],
        &["Refrigerazione", "Climatizzazione"],
        &["Koeltechniek", "Klimaattechniek"],
        &["Refrigeration", "Air Conditioning", "HVAC"],
    ],
    [
        &["Fahrzeugtechnik", "Autohaus", "Nutzfahrzeuge"],
        &["Automobiles", "Location de Véhicules"],
        &["Automoción", "Vehículos"],
        &["Autoveicoli", "Noleggio"],
        &["Autobedrijf", "Wagenpark"],
        &["Fleet Services", "Vehicle Hire", "Motors"],
    ],
    [
        &["Chemie", "Labortechnik"],
        &["Chimie", "Laboratoires"],
        &["Química", "Laboratorios"],
        &["Chimica", "Laboratori"],
        &["Chemie", "Laboratoria"],
        &["Chemicals", "Laboratories"],
    ],
];

/// Invented brand words (`Velora`, `Cordex`) join the stems of every country.
const BRAND_HEADS: [&str; 20] = [
    "Nor", "Vel", "Tek", "Lum", "Cor", "Zen", "Qua", "Sol", "Vis", "Mar", "Tri", "Ori", "Alt",
    "Bel", "Cal", "Dex", "Ema", "Fle", "Gra", "Hel",
];
const BRAND_TAILS: [&str; 15] = [
    "dex", "ion", "ora", "ix", "eon", "ava", "tec", "lio", "via", "nova", "ris", "mont", "sys",
    "tra", "lux",
];

/// A vendor name as parts, so that extraction noise can drop or vary one of them.
#[derive(Clone, Debug)]
struct VendorName {
    country: &'static Country,
    stem: String,
    /// `& Weber`, `& Söhne`: a distinguishing partner after the stem.
    partner: Option<String>,
    sector: usize,
    word: usize,
    industry_first: bool,
    /// Distinguishing cities or regions after the industry.
    places: Vec<&'static str>,
    legal: &'static LegalForm,
}

impl VendorName {
    fn industry(&self) -> &'static str {
        let words = SECTORS[self.sector][self.country.lang as usize];
        words[self.word % words.len()]
    }

    /// The words before the legal form, with where the stem and the industry are.
    fn core(&self) -> Core<'_> {
        let mut words = Vec::with_capacity(3 + self.places.len());
        if self.industry_first {
            words.push(self.industry());
        }
        let stem = words.len();
        words.push(self.stem.as_str());
        if let Some(partner) = &self.partner {
            words.push(partner.as_str());
        }
        let industry = if self.industry_first {
            0
        } else {
            words.push(self.industry());
            words.len() - 1
        };
        words.extend(self.places.iter().copied());
        Core {
            words,
            stem,
            industry,
        }
    }

    fn display(&self) -> String {
        let mut out = self.core().words.join(" ");
        push_legal(&mut out, self.legal.name);
        out
    }

    /// Two vendors may not share this: the name without its legal form, case folded.
    fn key(&self) -> String {
        self.core().words.join(" ").to_lowercase()
    }

    /// Up to three capitals from the stem's words and the industry: `VDB`, `KS`.
    fn initials(&self) -> String {
        let words = self
            .stem
            .split_whitespace()
            .chain(self.industry().split_whitespace());
        let letters =
            words.filter_map(|w| strip_diacritics(w).chars().find(char::is_ascii_alphabetic));
        letters.take(3).map(|c| c.to_ascii_uppercase()).collect()
    }

    /// For file names: `mueller`, `vanderberg-verpakkingen`.
    fn slug(&self, with_industry: bool) -> String {
        let mut slug = slugify(&self.stem);
        if with_industry {
            let industry = slugify(self.industry().split_whitespace().next().unwrap_or(""));
            if !industry.is_empty() {
                slug.push('-');
                slug.push_str(&industry);
            }
        }
        slug
    }
}

struct Core<'a> {
    words: Vec<&'a str>,
    stem: usize,
    industry: usize,
}

fn push_legal(out: &mut String, legal: &str) {
    if !legal.starts_with(',') && !out.is_empty() {
        out.push(' ');
    }
    out.push_str(legal);
}

/// Lower-case ASCII letters and digits only, umlauts written out.
fn slugify(text: &str) -> String {
    strip_diacritics(&expand_umlauts(text))
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The letters a character is written with when its accent is lost; empty for a
/// character without one.
fn strip_diacritic(c: char) -> &'static str {
    match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => "a",
        'è' | 'é' | 'ê' | 'ë' => "e",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' => "o",
        'ù' | 'ú' | 'û' | 'ü' => "u",
        'ñ' => "n",
        'ç' => "c",
        'ß' => "ss",
        'À' | 'Á' | 'Â' | 'Ä' => "A",
        'È' | 'É' | 'Ê' => "E",
        'Í' | 'Î' => "I",
        'Ó' | 'Ô' | 'Ö' => "O",
        'Ú' | 'Ü' => "U",
        'Ñ' => "N",
        'Ç' => "C",
        _ => "",
    }
}

fn strip_diacritics(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match strip_diacritic(c) {
            "" => out.push(c),
            folded => out.push_str(folded),
        }
    }
    out
}

/// `Müller` as `Mueller`, `Weißenfels` as `Weissenfels`.
fn expand_umlauts(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'Ä' => out.push_str("Ae"),
            'Ö' => out.push_str("Oe"),
            'Ü' => out.push_str("Ue"),
            'ß' => out.push_str("ss"),
            _ => out.push(c),
        }
    }
    out
}

/// Hands out vendor names, never the same one twice (known and unknown vendors alike).
#[derive(Default)]
struct NameBook {
    used: HashSet<String>,
}

impl NameBook {
    fn claim(&mut self, name: &VendorName) -> bool {
        self.used.insert(name.key())
    }

    fn fresh(&mut self, rng: &mut Rng) -> VendorName {
        let weights: Vec<(usize, u64)> = COUNTRIES
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.share))
            .collect();
        let country = &COUNTRIES[rng.pick_weighted(&weights)];
        // Each eight failed draws add a distinguishing word; the space of names grows
        // by a factor of tens with each, so this ends quickly at any vendor count.
        let mut attempt = 0usize;
        loop {
            let name = random_name(rng, country, attempt / 8);
            if self.claim(&name) {
                return name;
            }
            attempt += 1;
        }
    }

    /// A near duplicate of `of`: a sibling industry word, a stem one letter off, or the
    /// sister company abroad. `None` when the variants drawn were taken.
    fn variant(&mut self, rng: &mut Rng, of: &VendorName) -> Option<VendorName> {
        for _ in 0..4 {
            let mut name = of.clone();
            match rng.below(3) {
                0 => {
                    let siblings = SECTORS[name.sector][name.country.lang as usize].len();
                    if siblings < 2 {
                        continue;
                    }
                    name.word =
                        (name.word + 1 + rng.below(siblings as u64 - 1) as usize) % siblings;
                }
                1 => name.stem = tweak_stem(rng, &name.stem)?,
                _ => {
                    let abroad: Vec<usize> = (0..COUNTRIES.len())
                        .filter(|&i| COUNTRIES[i].lang != of.country.lang)
                        .collect();
                    name.country = &COUNTRIES[rng.pick(&abroad)];
                    name.word = rng.below(3) as usize;
                    name.legal = rng.pick_weighted(name.country.legal_forms);
                    name.industry_first = rng.below(100) < name.country.industry_first;
                }
            }
            if self.claim(&name) {
                return Some(name);
            }
        }
        None
    }
}

fn random_name(rng: &mut Rng, country: &'static Country, extra_words: usize) -> VendorName {
    let stem = if rng.chance(0.15) {
        format!("{}{}", rng.pick(&BRAND_HEADS), rng.pick(&BRAND_TAILS))
    } else {
        rng.pick(country.stems).to_string()
    };
    let mut name = VendorName {
        country,
        stem,
        partner: None,
        sector: rng.below(SECTORS.len() as u64) as usize,
        word: rng.below(3) as usize,
        industry_first: rng.below(100) < country.industry_first,
        places: Vec::new(),
        legal: rng.pick_weighted(country.legal_forms),
    };
    for _ in 0..extra_words {
        if name.partner.is_none() && rng.chance(0.4) {
            let partner = if rng.chance(0.3) {
                country.family.to_string()
            } else {
                format!("& {}", rng.pick(country.stems))
            };
            name.partner = Some(partner);
        } else {
            let place = rng.pick(country.places);
            if !name.places.contains(&place) {
                name.places.push(place);
            }
        }
    }
    name
}

/// A stem one step away: `Van der Berg` / `Van den Berg`, `Bianchi` / `Bianchini`, or one
/// vowel changed.
fn tweak_stem(rng: &mut Rng, stem: &str) -> Option<String> {
    for (from, to) in [(" der ", " den "), (" den ", " der ")] {
        if stem.contains(from) {
            return Some(stem.replacen(from, to, 1));
        }
    }
    if stem.ends_with('i') && rng.chance(0.5) {
        return Some(format!("{stem}ni"));
    }
    let chars: Vec<char> = stem.chars().collect();
    let vowels: Vec<usize> = (1..chars.len())
        .filter(|&i| "aeiou".contains(chars[i]))
        .collect();
    if vowels.is_empty() {
        return None;
    }
    let at = rng.pick(&vowels);
    let others: Vec<char> = "aeiou".chars().filter(|&v| v != chars[at]).collect();
    let mut tweaked = chars;
    tweaked[at] = rng.pick(&others);
    Some(tweaked.into_iter().collect())
}

// ---------------------------------------------------------------------------------------
// Invoice numbers

/// The shapes of invoice numbers vendors use. Year-bearing ones restart every year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NumberFamily {
    /// `INV-2025-0142`
    PrefixYearSeq,
    /// `RE-2025/00871`
    PrefixYearSlashSeq,
    /// `F2025-1203`
    PrefixGluedYearSeq,
    /// `FAC-000731`
    PrefixSeq,
    /// `2025-88123`
    YearSeq,
    /// `SI/24/0099`
    PrefixShortYearSeq,
    /// `INV0413189`
    PrefixGluedSeq,
    /// `485771`
    Plain,
    /// `348/2026`, not padded
    SeqSlashYear,
    /// `2025001251`
    YearGluedSeq,
    /// `LI-24-003487`
    PrefixShortYearDashSeq,
    /// `2025.0377`
    YearDotSeq,
    /// `10452`: short, not padded, started low; many vendors issue the same ones. Only
    /// the realistic profile draws it, so `ALL` leaves it out.
    Short,
}

impl NumberFamily {
    const ALL: [NumberFamily; 12] = [
        NumberFamily::PrefixYearSeq,
        NumberFamily::PrefixYearSlashSeq,
        NumberFamily::PrefixGluedYearSeq,
        NumberFamily::PrefixSeq,
        NumberFamily::YearSeq,
        NumberFamily::PrefixShortYearSeq,
        NumberFamily::PrefixGluedSeq,
        NumberFamily::Plain,
        NumberFamily::SeqSlashYear,
        NumberFamily::YearGluedSeq,
        NumberFamily::PrefixShortYearDashSeq,
        NumberFamily::YearDotSeq,
    ];

    fn yearly(self) -> bool {
        !matches!(
            self,
            NumberFamily::PrefixSeq
                | NumberFamily::PrefixGluedSeq
                | NumberFamily::Plain
                | NumberFamily::Short
        )
    }

    fn has_prefix(self) -> bool {
        matches!(
            self,
            NumberFamily::PrefixYearSeq
                | NumberFamily::PrefixYearSlashSeq
                | NumberFamily::PrefixGluedYearSeq
                | NumberFamily::PrefixSeq
                | NumberFamily::PrefixShortYearSeq
                | NumberFamily::PrefixGluedSeq
                | NumberFamily::PrefixShortYearDashSeq
        )
    }

    /// Digits the sequence is padded to; 0 for none.
    fn min_width(self) -> usize {
        match self {
            NumberFamily::PrefixYearSeq
            | NumberFamily::PrefixGluedYearSeq
            | NumberFamily::PrefixShortYearSeq
            | NumberFamily::YearDotSeq => 4,
            NumberFamily::PrefixYearSlashSeq | NumberFamily::YearSeq => 5,
            NumberFamily::PrefixSeq
            | NumberFamily::Plain
            | NumberFamily::YearGluedSeq
            | NumberFamily::PrefixShortYearDashSeq => 6,
            NumberFamily::PrefixGluedSeq => 7,
            NumberFamily::SeqSlashYear | NumberFamily::Short => 0,
        }
    }
}

/// A vendor's invoice-number format. The width always fits the vendor's sequence, so
/// the text is unique per (year, sequence).
#[derive(Clone, Debug)]
struct NumberFormat {
    family: NumberFamily,
    prefix: String,
    width: usize,
}

impl NumberFormat {
    fn render(&self, seq: u64, year: i32, out: &mut String) {
        let year = u64::try_from(year).unwrap_or(0);
        let p = self.prefix.as_str();
        let w = self.width;
        let push = |out: &mut String, parts: &[Part]| {
            for part in parts {
                match *part {
                    Part::Text(t) => out.push_str(t),
                    Part::Year => push_padded(out, year, 4),
                    Part::ShortYear => push_padded(out, year % 100, 2),
                    Part::Seq => push_padded(out, seq, w),
                }
            }
        };
        use Part::{Seq, ShortYear, Text, Year};
        match self.family {
            NumberFamily::PrefixYearSeq => push(out, &[Text(p), Text("-"), Year, Text("-"), Seq]),
            NumberFamily::PrefixYearSlashSeq => {
                push(out, &[Text(p), Text("-"), Year, Text("/"), Seq])
            }
            NumberFamily::PrefixGluedYearSeq => push(out, &[Text(p), Year, Text("-"), Seq]),
            NumberFamily::PrefixSeq => push(out, &[Text(p), Text("-"), Seq]),
            NumberFamily::YearSeq => push(out, &[Year, Text("-"), Seq]),
            NumberFamily::PrefixShortYearSeq => {
                push(out, &[Text(p), Text("/"), ShortYear, Text("/"), Seq])
            }
            NumberFamily::PrefixGluedSeq => push(out, &[Text(p), Seq]),
            NumberFamily::Plain => push(out, &[Seq]),
            NumberFamily::SeqSlashYear => push(out, &[Seq, Text("/"), Year]),
            NumberFamily::YearGluedSeq => push(out, &[Year, Seq]),
            NumberFamily::PrefixShortYearDashSeq => {
                push(out, &[Text(p), Text("-"), ShortYear, Text("-"), Seq])
            }
            NumberFamily::YearDotSeq => push(out, &[Year, Text("."), Seq]),
            NumberFamily::Short => push(out, &[Seq]),
        }
    }
}

enum Part<'a> {
    Text(&'a str),
    Year,
    ShortYear,
    Seq,
}

/// Where a yearly sequence restarts: somewhere in `1..=YEAR_START_MAX`.
const YEAR_START_MAX: u64 = 100;

// ---------------------------------------------------------------------------------------
// Vendors and the ledger

/// One vendor per this many reference rows.
const ROWS_PER_VENDOR: u64 = 50;
/// Zipf-Mandelbrot weights `(rank + ZIPF_OFFSET)^-1.5`: a few big vendors (the largest
/// about 5% of the rows at any size) and a long tail of vendors with a handful of rows.
const ZIPF_OFFSET: u64 = 10;
/// Share of vendors made as a near duplicate of an earlier one.
const NEAR_DUPLICATE_VENDORS: f64 = 0.04;
const PO_FIRST: u64 = 10_000;
const PO_LIMIT: u64 = 100_000_000;

/// Rows per vendor, largest first: one each, the rest by Zipf weights, all in integers.
fn vendor_volumes(rows: u64) -> Vec<u64> {
    let vendors = ((rows + ROWS_PER_VENDOR / 2) / ROWS_PER_VENDOR).max(1);
    // k^1.5 as k * sqrt(k), the root in 16.16 fixed point: integers, exact everywhere.
    let weights: Vec<u64> = (0..vendors)
        .map(|rank| {
            let k = rank + ZIPF_OFFSET;
            (1u64 << 60) / (k * (k << 32).isqrt())
        })
        .collect();
    let total: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    let spare = u128::from(rows - vendors);
    let mut volumes: Vec<u64> = weights
        .iter()
        .map(|&w| 1 + (spare * u128::from(w) / total) as u64)
        .collect();
    let assigned: u64 = volumes.iter().sum();
    for volume in volumes.iter_mut().take((rows - assigned) as usize) {
        *volume += 1;
    }
    volumes
}

/// How a vendor's totals are drawn: log-normal around its own median, and for
/// subscription vendors mostly a fixed amount that changes once a year.
#[derive(Clone, Debug)]
struct AmountModel {
    ln_median: f64,
    sigma: f64,
    /// Cents in the first year, and the change per year.
    fixed: Option<(u64, u64)>,
}

/// ln(40) and ln(100): medians are log-uniform between 40 and 4,000.
const LN_40: f64 = 3.688_879_454_113_936;
const LN_100: f64 = 4.605_170_185_988_092;
const MIN_CENTS: u64 = 500;
const MAX_CENTS: u64 = 999_999_999;

impl AmountModel {
    fn plan(rng: &mut Rng) -> AmountModel {
        let ln_median = LN_40 + rng.unit() * LN_100;
        let sigma = 0.5 + 0.6 * rng.unit();
        let fixed = rng.chance(0.03).then(|| {
            let cents =
                ((portable_exp(ln_median) * 100.0).round() as u64 / 100 * 100).max(MIN_CENTS);
            let step = if rng.chance(0.5) {
                0
            } else {
                cents / 1_000 * 100
            };
            (cents, step)
        });
        AmountModel {
            ln_median,
            sigma,
            fixed,
        }
    }

    fn draw(&self, rng: &mut Rng, year: i32) -> u64 {
        if let Some((cents, step)) = self.fixed {
            if rng.chance(0.7) {
                return cents + step * u64::try_from(year - 2024).unwrap_or(0);
            }
        }
        let value = portable_exp(self.ln_median + self.sigma * rng.normal());
        ((value * 100.0).round() as u64).clamp(MIN_CENTS, MAX_CENTS)
    }
}

#[derive(Debug)]
struct Vendor {
    name: VendorName,
    display: String,
    slug: String,
    currency: &'static str,
    format: NumberFormat,
    rows: u64,
    /// Offset of its first possible day from `FIRST_DAY`, and the days it is active.
    first_day: u64,
    span_days: u64,
    /// Sequence numbers go up by 1 to this between two of our invoices (other customers
    /// get the numbers in between).
    max_increment: u64,
    /// Where a sequence that never restarts starts.
    first_seq: u64,
    amounts: AmountModel,
    po_share: f64,
    new_po_share: f64,
}

impl Vendor {
    fn plan(name: VendorName, rows: u64, profile: SynthProfile, rng: &mut Rng) -> Vendor {
        let country = name.country;
        let currency = rng.pick_weighted(country.currencies);
        let short =
            profile == SynthProfile::Realistic && rng.chance(realistic::rate::SHORT_NUMBER_VENDORS);
        let family = if short {
            NumberFamily::Short
        } else {
            rng.pick(&NumberFamily::ALL)
        };
        let prefix = if !family.has_prefix() {
            String::new()
        } else if rng.chance(0.5) && name.initials().len() >= 2 {
            name.initials()
        } else {
            rng.pick(country.invoice_prefixes).to_string()
        };
        let max_increment = match rows {
            0..=2_000 => 40,
            2_001..=20_000 => 12,
            _ => 4,
        };
        let unit = 10u64.pow(family.min_width().saturating_sub(1) as u32);
        let first_seq = match family {
            NumberFamily::Plain => unit + rng.below(3 * unit),
            NumberFamily::Short => realistic::short_first_number(rng),
            _ if family.yearly() => 0,
            _ => 1 + rng.below(3 * unit),
        };
        let last_seq = first_seq.max(YEAR_START_MAX) + (rows + 1) * max_increment;
        let width = match family {
            NumberFamily::SeqSlashYear | NumberFamily::Short => 0,
            _ => family.min_width().max(digit_count(last_seq)),
        };
        let (first_day, span_days) = if rows > 100 || rng.chance(0.65) {
            (0, LEDGER_DAYS)
        } else {
            let span = 90 + rng.below(LEDGER_DAYS - 90 + 1);
            (rng.below(LEDGER_DAYS - span + 1), span)
        };
        let amounts = AmountModel::plan(rng);
        let po_share = rng.pick_weighted(&[(0.0, 2), (0.7, 4), (0.9, 9), (1.0, 5)]);
        let new_po_share = if amounts.fixed.is_some() {
            0.05
        } else {
            rng.pick_weighted(&[(0.2, 1), (0.6, 2), (0.9, 1)])
        };
        Vendor {
            display: name.display(),
            slug: name.slug(rng.chance(0.4)),
            name,
            currency,
            format: NumberFormat {
                family,
                prefix,
                width,
            },
            rows,
            first_day,
            span_days,
            max_increment,
            first_seq,
            amounts,
            po_share,
            new_po_share,
        }
    }
}

fn plan_vendors(rows: u64, seed: u64, profile: SynthProfile, names: &mut NameBook) -> Vec<Vendor> {
    let volumes = vendor_volumes(rows);
    let mut rng = Rng::new(seed, stream::VENDORS);
    let mut vendors: Vec<Vendor> = Vec::with_capacity(volumes.len());
    for volume in volumes {
        let name = if !vendors.is_empty() && rng.chance(NEAR_DUPLICATE_VENDORS) {
            let of = &vendors[rng.below(vendors.len() as u64) as usize].name;
            names
                .variant(&mut rng, of)
                .unwrap_or_else(|| names.fresh(&mut rng))
        } else {
            names.fresh(&mut rng)
        };
        vendors.push(Vendor::plan(name, volume, profile, &mut rng));
    }
    vendors
}

/// A vendor's place in its sequence while the ledger is written.
#[derive(Debug)]
struct Cursor {
    rng: Rng,
    emitted: u64,
    seq: u64,
    year: i32,
    day: i64,
    po: Option<u64>,
}

/// The row before, of the same vendor: where a gap in its numbers can be.
#[derive(Clone, Copy, Debug)]
struct Previous {
    seq: u64,
    year: i32,
    day: i64,
}

#[derive(Clone, Copy, Debug)]
struct LedgerRow {
    vendor: usize,
    id: u64,
    seq: u64,
    year: i32,
    day: i64,
    cents: u64,
    po: Option<u64>,
    previous: Option<Previous>,
    /// The vendor's last row.
    last: bool,
}

/// The ledger as a stream in date order: each vendor's rows are drawn in its own rising
/// sequence and the vendors merged by date, so memory is per vendor, not per row.
struct Ledger {
    vendors: Vec<Vendor>,
    cursors: Vec<Cursor>,
    /// `(date key, vendor)` of each vendor's next row; ties go to the lower vendor.
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    next_id: u64,
    ids: Rng,
    po_numbers: Rng,
    next_po: u64,
    po_gap: u64,
}

/// The date key of row `i` of a vendor, in 2^-32 days from `FIRST_DAY`: row `i` of `n`
/// falls in the i-th n-th of the vendor's span, so dates rise with the sequence.
fn date_key(vendor: &Vendor, i: u64, rng: &mut Rng) -> u64 {
    let jitter = rng.next_u64() >> 32;
    let position = ((u128::from(i) << 32) | u128::from(jitter)) * u128::from(vendor.span_days)
        / u128::from(vendor.rows.max(1));
    (vendor.first_day << 32) + position as u64
}

impl Ledger {
    fn new(vendors: Vec<Vendor>, seed: u64, rows: u64) -> Ledger {
        let mut cursors = Vec::with_capacity(vendors.len());
        let mut heap = BinaryHeap::with_capacity(vendors.len());
        for (i, vendor) in vendors.iter().enumerate() {
            let mut rng = Rng::new(seed, stream::VENDOR_ROWS + i as u64);
            heap.push(Reverse((date_key(vendor, 0, &mut rng), i as u32)));
            cursors.push(Cursor {
                rng,
                emitted: 0,
                seq: vendor.first_seq,
                year: 0,
                day: FIRST_DAY,
                po: None,
            });
        }
        let mut ids = Rng::new(seed, stream::IDS);
        let next_id = 100 + ids.below(900);
        let mut po_numbers = Rng::new(seed, stream::PO_NUMBERS);
        let next_po = PO_FIRST + po_numbers.below(5_000);
        Ledger {
            vendors,
            cursors,
            heap,
            next_id,
            ids,
            po_numbers,
            next_po,
            // Purchase orders are numbered in time order across vendors, with gaps, and
            // must stay within 8 digits at `MAX_REFERENCE_ROWS`.
            po_gap: (40_000_000 / rows.max(1)).clamp(1, 8),
        }
    }

    fn vendor(&self, index: usize) -> &Vendor {
        &self.vendors[index]
    }

    fn current_po(&self, vendor: usize) -> Option<u64> {
        self.cursors[vendor].po
    }

    fn next_row(&mut self) -> Option<LedgerRow> {
        let Reverse((key, index)) = self.heap.pop()?;
        let vendor_index = index as usize;
        let vendor = &self.vendors[vendor_index];
        let cursor = &mut self.cursors[vendor_index];
        let rng = &mut cursor.rng;
        let day = FIRST_DAY + (key >> 32) as i64;
        let year = ymd(day).year;
        let previous = (cursor.emitted > 0).then_some(Previous {
            seq: cursor.seq,
            year: cursor.year,
            day: cursor.day,
        });
        let seq = match previous {
            None if !vendor.format.family.yearly() => vendor.first_seq,
            Some(p) if !vendor.format.family.yearly() || p.year == year => {
                let step = if rng.chance(0.35) {
                    1
                } else {
                    2 + rng.below(vendor.max_increment - 1)
                };
                p.seq + step
            }
            _ => 1 + rng.below(YEAR_START_MAX),
        };
        let cents = vendor.amounts.draw(rng, year);
        let po = if rng.chance(vendor.po_share) {
            if cursor.po.is_none() || rng.chance(vendor.new_po_share) {
                cursor.po = Some(self.next_po);
                self.next_po += 1 + self.po_numbers.below(self.po_gap);
            }
            cursor.po
        } else {
            None
        };
        cursor.seq = seq;
        cursor.year = year;
        cursor.day = day;
        cursor.emitted += 1;
        let last = cursor.emitted >= vendor.rows;
        if !last {
            let key = date_key(vendor, cursor.emitted, &mut cursor.rng);
            self.heap.push(Reverse((key, index)));
        }
        let id = self.next_id;
        self.next_id += 1 + self.ids.below(3);
        Some(LedgerRow {
            vendor: vendor_index,
            id,
            seq,
            year,
            day,
            cents,
            po,
            previous,
            last,
        })
    }
}

/// The text of one ledger row, in buffers reused across rows.
#[derive(Default)]
struct RowCells {
    id: String,
    number: String,
    date: String,
    total: String,
    po: String,
}

impl RowCells {
    fn fill(&mut self, row: &LedgerRow, vendor: &Vendor, id_width: usize) {
        self.id.clear();
        push_ledger_id(&mut self.id, row.id, id_width);
        self.number.clear();
        vendor.format.render(row.seq, row.year, &mut self.number);
        self.date.clear();
        push_date(&mut self.date, row.day, DateStyle::Iso);
        self.total.clear();
        push_amount(&mut self.total, row.cents, false, None, '.');
        self.po.clear();
        if let Some(po) = row.po {
            push_po(&mut self.po, po);
        }
    }
}

fn push_po(out: &mut String, po: u64) {
    out.push_str("PO-45");
    push_padded(out, po, 8);
}

/// Near misses waiting for a vendor's numbers to show a gap, or for its last row.
#[derive(Clone, Copy, Debug, Default)]
struct PendingNearMisses {
    in_gap: u64,
    beyond_last: u64,
}

impl PendingNearMisses {
    /// `(seq, year, day)` of never-issued numbers this row makes known: one inside the gap
    /// before it, and at the vendor's last row every one still waiting, past its end.
    fn resolve(&mut self, row: &LedgerRow, yearly: bool, rng: &mut Rng) -> Vec<(u64, i32, i64)> {
        let mut found = Vec::new();
        if let (true, Some(prev)) = (self.in_gap > 0, row.previous) {
            if yearly && row.year != prev.year {
                found.push((prev.seq + 1 + rng.below(3), prev.year, prev.day));
                self.in_gap -= 1;
            } else if row.seq > prev.seq + 1 {
                let seq = prev.seq + 1 + rng.below(row.seq - prev.seq - 1);
                let day = prev.day + rng.below((row.day - prev.day) as u64 + 1) as i64;
                found.push((seq, prev.year, day));
                self.in_gap -= 1;
            }
        }
        if row.last {
            let mut seq = row.seq;
            for _ in 0..self.in_gap + self.beyond_last {
                seq += 1 + rng.below(2);
                // A few days later, but within the year the number carries.
                let mut day = row.day;
                for _ in 0..rng.below(6) {
                    if ymd(day + 1).year != row.year {
                        break;
                    }
                    day += 1;
                }
                found.push((seq, row.year, day));
            }
            *self = PendingNearMisses::default();
        }
        found
    }
}

// ---------------------------------------------------------------------------------------
// Documents: what an extractor returns from an invoice

/// Noise rates per document, after the counts out of 150 in fixtures/README.md. A fifth
/// of the documents are extracted cleanly, as there; the others get every rate scaled by
/// `1 / (1 - CLEAN)`, so that the overall rates stay these.
mod rate {
    pub const CLEAN: f64 = 0.2;

    pub const LEGAL_FORM_CHANGED: f64 = 0.18;
    /// Of the changed legal forms, the share dropped rather than written differently.
    pub const LEGAL_FORM_DROPPED: f64 = 0.4;
    pub const NAME_TYPO: f64 = 0.09;
    /// Of names with accents.
    pub const DIACRITICS_LOST: f64 = 0.25;
    /// Of German names with umlauts.
    pub const UMLAUTS_WRITTEN_OUT: f64 = 0.08;
    pub const WORD_DROPPED: f64 = 0.03;
    pub const WORD_ORDER_CHANGED: f64 = 0.015;
    pub const ALL_CAPS: f64 = 0.11;
    pub const LOWER_CASE: f64 = 0.01;

    pub const NUMBER_MISSING: f64 = 0.05;
    pub const NUMBER_SEPARATORS: f64 = 0.11;
    pub const NUMBER_PREFIX_DROPPED: f64 = 0.06;
    pub const NUMBER_LOOK_ALIKE: f64 = 0.08;
    pub const NUMBER_LOWER_CASE: f64 = 0.04;
    pub const NUMBER_TRANSPOSED: f64 = 0.02;

    pub const DATE_MISSING: f64 = 0.05;
    pub const DATE_SHIFTED: f64 = 0.10;
    pub const DATE_REFORMATTED: f64 = 0.39;

    pub const TOTAL_MISSING: f64 = 0.03;
    pub const TOTAL_ROUNDED: f64 = 0.06;
    pub const TOTAL_OFF: f64 = 0.03;
    pub const TOTAL_REFORMATTED: f64 = 0.40;

    pub const CURRENCY_SYMBOL: f64 = 0.12;
    pub const CURRENCY_EMPTY: f64 = 0.12;

    /// Of documents whose row has a PO number, 60% show it.
    pub const PO_DROPPED: f64 = 0.40;
    pub const PO_REWRITTEN: f64 = 0.19;
    pub const PO_LOOK_ALIKE: f64 = 0.05;
}

/// An invoice as its vendor issued it: a ledger row, or one the ledger does not have.
struct Issued<'a> {
    vendor: &'a Vendor,
    seq: u64,
    year: i32,
    day: i64,
    cents: u64,
    po: Option<u64>,
}

impl<'a> Issued<'a> {
    fn row(row: &LedgerRow, vendor: &'a Vendor) -> Issued<'a> {
        Issued {
            vendor,
            seq: row.seq,
            year: row.year,
            day: row.day,
            cents: row.cents,
            po: row.po,
        }
    }
}

/// Separates the fields of a draft; generated text never holds it.
const FIELD_SEPARATOR: char = '\0';

/// One document before shuffling: its true row and its seven extracted fields in one
/// string, so that many drafts stay small.
struct DocDraft {
    row_id: Option<u64>,
    text: String,
}

impl DocDraft {
    fn fields(&self) -> impl Iterator<Item = &str> {
        self.text.split(FIELD_SEPARATOR)
    }
}

fn extract(
    issued: &Issued<'_>,
    row_id: Option<u64>,
    profile: SynthProfile,
    rng: &mut Rng,
) -> DocDraft {
    match profile {
        SynthProfile::Clean => extract_clean(issued, row_id, rng),
        SynthProfile::Realistic => realistic::extract(issued, row_id, rng),
    }
}

/// The documents of the clean profile: the fixtures' noise, a fifth of them untouched.
fn extract_clean(issued: &Issued<'_>, row_id: Option<u64>, rng: &mut Rng) -> DocDraft {
    let vendor = issued.vendor;
    let country = vendor.name.country;
    let mut text = String::with_capacity(160);
    push_filename(&mut text, issued, rng);
    let scale = if rng.chance(rate::CLEAN) {
        0.0
    } else {
        1.0 / (1.0 - rate::CLEAN)
    };
    let noise = &mut Noise { rng, scale };
    text.push(FIELD_SEPARATOR);
    text.push_str(&noisy_vendor_name(&vendor.name, noise));
    text.push(FIELD_SEPARATOR);
    if !noise.hit(rate::NUMBER_MISSING) {
        let mut clean = String::new();
        vendor.format.render(issued.seq, issued.year, &mut clean);
        text.push_str(&noisy_number(&clean, noise));
    }
    text.push(FIELD_SEPARATOR);
    if !noise.hit(rate::DATE_MISSING) {
        let mut day = issued.day;
        if noise.hit(rate::DATE_SHIFTED) {
            let shift = 1 + noise.rng.below(4) as i64;
            day += if noise.rng.chance(0.5) { shift } else { -shift };
        }
        let style = if noise.hit(rate::DATE_REFORMATTED) {
            noise.rng.pick_weighted(country.date_styles)
        } else {
            DateStyle::Iso
        };
        push_date(&mut text, day, style);
    }
    text.push(FIELD_SEPARATOR);
    push_noisy_total(&mut text, issued.cents, vendor.currency, country, noise);
    text.push(FIELD_SEPARATOR);
    if noise.hit(rate::CURRENCY_SYMBOL) {
        text.push_str(currency_symbol(vendor.currency));
    } else if !noise.hit(rate::CURRENCY_EMPTY) {
        text.push_str(vendor.currency);
    }
    text.push(FIELD_SEPARATOR);
    if let Some(po) = issued.po {
        if !noise.hit(rate::PO_DROPPED) {
            push_noisy_po(&mut text, po, noise);
        }
    }
    DocDraft { row_id, text }
}

/// The noise draws of one document: every rate scaled, by 0 for a clean document.
struct Noise<'a> {
    rng: &'a mut Rng,
    scale: f64,
}

impl Noise<'_> {
    fn hit(&mut self, rate: f64) -> bool {
        self.rng.chance(rate * self.scale)
    }
}

/// `invoice-nordwind-02575.pdf`, `nordwind-rechnung-02575.pdf` or a bare
/// `scan-20250406-006.pdf`.
fn push_filename(out: &mut String, issued: &Issued<'_>, rng: &mut Rng) {
    let vendor = issued.vendor;
    match rng.below(20) {
        0..=10 => {
            out.push_str("invoice-");
            out.push_str(&vendor.slug);
            out.push('-');
            push_padded(out, issued.seq, vendor.format.width);
        }
        11..=15 => {
            out.push_str(&vendor.slug);
            out.push('-');
            out.push_str(vendor.name.country.invoice_word);
            out.push('-');
            push_padded(out, issued.seq, vendor.format.width);
        }
        _ => {
            out.push_str("scan-");
            push_date(out, issued.day + rng.below(7) as i64, DateStyle::Compact);
            out.push('-');
            push_padded(out, 1 + rng.below(40), 3);
        }
    }
    out.push_str(".pdf");
}

fn noisy_vendor_name(name: &VendorName, noise: &mut Noise<'_>) -> String {
    let core = name.core();
    let mut tokens: Vec<String> = core.words.iter().map(|w| w.to_string()).collect();
    if noise.hit(rate::WORD_ORDER_CHANGED) {
        tokens.swap(core.stem, core.industry);
    } else if noise.hit(rate::WORD_DROPPED) {
        let others: Vec<usize> = (0..tokens.len()).filter(|&i| i != core.stem).collect();
        tokens.remove(noise.rng.pick(&others));
    }
    if noise.hit(rate::NAME_TYPO) {
        let long: Vec<usize> = (0..tokens.len())
            .filter(|&i| tokens[i].chars().filter(|c| c.is_alphabetic()).count() >= 4)
            .collect();
        if !long.is_empty() {
            let at = noise.rng.pick(&long);
            tokens[at] = typo(&tokens[at], noise.rng);
        }
    }
    let mut out = tokens.join(" ");
    if !noise.hit(rate::LEGAL_FORM_CHANGED) {
        push_legal(&mut out, name.legal.name);
    } else if !noise.rng.chance(rate::LEGAL_FORM_DROPPED) {
        push_legal(&mut out, noise.rng.pick(name.legal.variants));
    }
    if name.country.lang == Lang::De
        && out.contains(['ä', 'ö', 'ü', 'Ä', 'Ö', 'Ü', 'ß'])
        && noise.hit(rate::UMLAUTS_WRITTEN_OUT)
    {
        out = expand_umlauts(&out);
    } else if !out.is_ascii() && noise.hit(rate::DIACRITICS_LOST) {
        out = strip_diacritics(&out);
    }
    if noise.hit(rate::ALL_CAPS) {
        out = out.to_uppercase();
    } else if noise.hit(rate::LOWER_CASE) {
        out = out.to_lowercase();
    }
    out
}

/// One letter swapped with the next, dropped or replaced; never the first letter.
fn typo(word: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() < 4 {
        return word.to_string();
    }
    let at = 1 + rng.below(chars.len() as u64 - 2) as usize;
    match rng.below(3) {
        0 => chars.swap(at, at + 1),
        1 => {
            chars.remove(at);
        }
        _ => {
            let letters: Vec<char> = ('a'..='z').filter(|&c| c != chars[at]).collect();
            chars[at] = rng.pick(&letters);
        }
    }
    chars.into_iter().collect()
}

fn noisy_number(clean: &str, noise: &mut Noise<'_>) -> String {
    let mut number = clean.to_string();
    if noise.hit(rate::NUMBER_PREFIX_DROPPED) {
        number = drop_prefix(&number);
    }
    if noise.hit(rate::NUMBER_SEPARATORS) {
        number = change_separators(&number, noise.rng);
    }
    if noise.hit(rate::NUMBER_TRANSPOSED) {
        number = transpose_digits(&number, noise.rng);
    }
    if noise.hit(rate::NUMBER_LOOK_ALIKE) {
        number = look_alike(&number, noise.rng);
    }
    if noise.hit(rate::NUMBER_LOWER_CASE) {
        number = number.to_lowercase();
    }
    number
}

/// `INV-2025-0142` as `2025-0142`; numbers without a letter prefix stay as they are.
fn drop_prefix(number: &str) -> String {
    let rest = number.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    if rest.len() == number.len() || !rest.contains(|c: char| c.is_ascii_digit()) {
        return number.to_string();
    }
    rest.trim_start_matches(['-', '/', '.', ' ']).to_string()
}

fn is_number_separator(c: char) -> bool {
    matches!(c, '-' | '/' | '.')
}

/// Every separator replaced by the same other one (or dropped); a number without
/// separators gets a space after its prefix.
fn change_separators(number: &str, rng: &mut Rng) -> String {
    if !number.contains(is_number_separator) {
        let digits_at = number.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
        if digits_at == 0 {
            return number.to_string();
        }
        let (prefix, rest) = number.split_at(digits_at);
        return format!("{prefix}{}{rest}", rng.pick(&[" ", "-"]));
    }
    let replacement = rng.pick(&["", " ", "-", "/", " - ", "."]);
    let mut out = String::with_capacity(number.len() + 4);
    for c in number.chars() {
        if is_number_separator(c) {
            out.push_str(replacement);
        } else {
            out.push(c);
        }
    }
    out
}

/// Two different adjacent digits swapped.
fn transpose_digits(number: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = number.chars().collect();
    let spots: Vec<usize> = (0..chars.len().saturating_sub(1))
        .filter(|&i| {
            chars[i].is_ascii_digit() && chars[i + 1].is_ascii_digit() && chars[i] != chars[i + 1]
        })
        .collect();
    if spots.is_empty() {
        return number.to_string();
    }
    let at = rng.pick(&spots);
    chars.swap(at, at + 1);
    chars.into_iter().collect()
}

/// One character read as its OCR look-alike: 0/O, 1/I/l, 5/S, 8/B.
fn look_alike(number: &str, rng: &mut Rng) -> String {
    fn swap(c: char) -> &'static [char] {
        match c {
            '0' => &['O'],
            '1' => &['I', 'l'],
            '5' => &['S'],
            '8' => &['B'],
            'O' => &['0'],
            'I' => &['1'],
            'S' => &['5'],
            'B' => &['8'],
            _ => &[],
        }
    }
    let mut chars: Vec<char> = number.chars().collect();
    let spots: Vec<usize> = (0..chars.len())
        .filter(|&i| !swap(chars[i]).is_empty())
        .collect();
    if spots.is_empty() {
        return number.to_string();
    }
    let at = rng.pick(&spots);
    chars[at] = rng.pick(swap(chars[at]));
    chars.into_iter().collect()
}

fn push_noisy_total(
    out: &mut String,
    cents: u64,
    currency: &str,
    country: &Country,
    noise: &mut Noise<'_>,
) {
    if noise.hit(rate::TOTAL_MISSING) {
        return;
    }
    let mut cents = cents;
    let mut whole = false;
    if noise.hit(rate::TOTAL_ROUNDED) {
        cents = (cents + 50) / 100 * 100;
        whole = noise.rng.chance(0.6);
    } else if noise.hit(rate::TOTAL_OFF) {
        // Less than 1 % (at most 0.8 %) off, at least a cent.
        let delta = (cents * (1 + noise.rng.below(8)) / 1_000).max(1);
        cents = if noise.rng.chance(0.5) {
            cents + delta
        } else {
            cents - delta
        };
    }
    let style = if noise.hit(rate::TOTAL_REFORMATTED) {
        noise.rng.pick_weighted(country.amount_styles)
    } else {
        AmountStyle::Plain
    };
    push_styled_amount(out, cents, whole, currency, style);
}

fn push_noisy_po(out: &mut String, po: u64, noise: &mut Noise<'_>) {
    let mut text = String::with_capacity(16);
    push_po(&mut text, po);
    if noise.hit(rate::PO_REWRITTEN) {
        let digits = text.trim_start_matches("PO-").to_string();
        let prefix = noise.rng.pick(&["", "PO ", "PO-Nr. ", "PO", "P.O. "]);
        text = format!("{prefix}{digits}");
    }
    if noise.hit(rate::PO_LOOK_ALIKE) {
        text = look_alike(&text, noise.rng);
    }
    out.push_str(&text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse_amount, parse_date, DateOrder};
    use chrono::{Datelike, NaiveDate};

    #[test]
    fn splitmix64_matches_the_published_sequence() {
        let mut rng = Rng(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn calendar_agrees_with_chrono() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        assert_eq!(
            NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() - epoch,
            chrono::TimeDelta::days(FIRST_DAY)
        );
        for days in FIRST_DAY - 400..FIRST_DAY + LEDGER_DAYS as i64 + 400 {
            let date = epoch + chrono::TimeDelta::days(days);
            let got = ymd(days);
            assert_eq!(
                (got.year, got.month, got.day),
                (date.year(), date.month(), date.day())
            );
        }
        assert_eq!(ymd(FIRST_DAY + LEDGER_DAYS as i64 - 1).year, 2026);
        assert_eq!(ymd(FIRST_DAY + LEDGER_DAYS as i64).year, 2027);
    }

    #[test]
    fn portable_exp_is_accurate() {
        for i in -200..=200 {
            let x = f64::from(i) / 10.0;
            let (ours, std) = (portable_exp(x), x.exp());
            assert!(((ours - std) / std).abs() < 1e-14, "{x}: {ours} vs {std}");
        }
    }

    #[test]
    fn every_date_style_reads_back_as_the_same_day() {
        let styles = [
            DateStyle::Iso,
            DateStyle::Dotted,
            DateStyle::Slashed,
            DateStyle::Dashed,
            DateStyle::Compact,
            DateStyle::DayMonEnglish,
            DateStyle::DayMonthEnglish,
            DateStyle::MonthDayEnglish,
            DateStyle::MonDayEnglish,
            DateStyle::German,
            DateStyle::French,
            DateStyle::Spanish,
            DateStyle::Italian,
            DateStyle::Dutch,
        ];
        for days in (FIRST_DAY..FIRST_DAY + LEDGER_DAYS as i64).step_by(7) {
            let Ymd { year, month, day } = ymd(days);
            let want = NaiveDate::from_ymd_opt(year, month, day);
            for style in styles {
                let mut text = String::new();
                push_date(&mut text, days, style);
                assert_eq!(parse_date(&text, DateOrder::Dmy), want, "{style:?}: {text}");
            }
        }
    }

    #[test]
    fn every_amount_style_reads_back_as_the_same_value() {
        let styles = [
            AmountStyle::Plain,
            AmountStyle::Anglo,
            AmountStyle::AngloSymbol,
            AmountStyle::AngloCode,
            AmountStyle::Euro,
            AmountStyle::EuroUngrouped,
            AmountStyle::EuroCodeBefore,
            AmountStyle::EuroCodeAfter,
            AmountStyle::EuroSymbolAfter,
            AmountStyle::SymbolCompact,
            AmountStyle::SymbolCompactAnglo,
            AmountStyle::Swiss,
            AmountStyle::SwissPlain,
        ];
        for cents in [500, 999, 12_345, 100_000, 124_000, 123_456_789, MAX_CENTS] {
            for currency in ["EUR", "USD", "GBP", "CHF"] {
                for style in styles {
                    for whole in [false, true] {
                        let mut text = String::new();
                        push_styled_amount(&mut text, cents, whole, currency, style);
                        let want = if whole { cents / 100 * 100 } else { cents };
                        let got = parse_amount(&text).map(|a| (a.value * 100.0).round() as u64);
                        assert_eq!(got, Some(want), "{style:?} {currency}: {text}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_fixture_examples_render_as_written() {
        let mut text = String::new();
        push_styled_amount(
            &mut text,
            124_000,
            false,
            "EUR",
            AmountStyle::EuroCodeBefore,
        );
        assert_eq!(text, "EUR 1.240,00");
        text.clear();
        push_styled_amount(&mut text, 124_000, true, "EUR", AmountStyle::SymbolCompact);
        assert_eq!(text, "€1240");
        text.clear();
        push_date(&mut text, FIRST_DAY + 366 + 365 + 60, DateStyle::German);
        assert_eq!(text, "2. März 2026");
        text.clear();
        push_date(
            &mut text,
            FIRST_DAY + 366 + 365 + 60,
            DateStyle::MonthDayEnglish,
        );
        assert_eq!(text, "March 2, 2026");
        let format = NumberFormat {
            family: NumberFamily::PrefixYearSlashSeq,
            prefix: "RE".into(),
            width: 5,
        };
        text.clear();
        format.render(871, 2025, &mut text);
        assert_eq!(text, "RE-2025/00871");
    }

    #[test]
    fn twenty_thousand_vendor_names_are_distinct_and_carry_no_bare_number() {
        let mut book = NameBook::default();
        let mut rng = Rng::new(1, stream::VENDORS);
        let mut seen = HashSet::new();
        for _ in 0..20_000 {
            let name = book.fresh(&mut rng).display();
            assert!(!name.contains(|c: char| c.is_ascii_digit()), "{name}");
            assert!(seen.insert(name.clone()), "{name} twice");
        }
    }

    #[test]
    fn vendor_volumes_add_up_and_fall_with_rank() {
        for rows in [1, 7, 49, 50, 304, 5_000, 1_000_000] {
            let volumes = vendor_volumes(rows);
            assert_eq!(volumes.iter().sum::<u64>(), rows);
            assert!(volumes.windows(2).all(|w| w[0] >= w[1]));
            assert!(volumes.iter().all(|&v| v >= 1));
        }
        let volumes = vendor_volumes(1_000_000);
        assert_eq!(volumes.len(), 20_000);
        assert!(volumes[0] > 20 * volumes[volumes.len() - 1]);
        // Real ledgers have a few vendors with tens of thousands of invoices.
        assert!(volumes[0] <= 60_000, "{:?}", &volumes[..10]);
        assert!(
            volumes[..8].iter().all(|&v| v >= 20_000),
            "{:?}",
            &volumes[..10]
        );
    }

    #[test]
    fn the_number_noise_keeps_what_it_does_not_change() {
        assert_eq!(drop_prefix("INV-2025-0142"), "2025-0142");
        assert_eq!(drop_prefix("TFL003338"), "003338");
        assert_eq!(drop_prefix("2025-0142"), "2025-0142");
        let mut rng = Rng::new(3, 99);
        for _ in 0..100 {
            let t = transpose_digits("RE-2025/00871", &mut rng);
            assert_eq!(t.len(), "RE-2025/00871".len());
            assert_ne!(t, "RE-2025/00871");
            let l = look_alike("RE-2025/00871", &mut rng);
            assert_ne!(l, "RE-2025/00871");
        }
    }

    #[test]
    fn short_numbers_are_unpadded_and_only_the_realistic_profile_draws_them() {
        assert!(!NumberFamily::ALL.contains(&NumberFamily::Short));
        let format = NumberFormat {
            family: NumberFamily::Short,
            prefix: String::new(),
            width: 0,
        };
        let mut text = String::new();
        format.render(1_001, 2025, &mut text);
        assert_eq!(text, "1001");
        let short = |profile| {
            let mut names = NameBook::default();
            plan_vendors(20_000, 3, profile, &mut names)
                .iter()
                .filter(|v| v.format.family == NumberFamily::Short)
                .count()
        };
        assert_eq!(short(SynthProfile::Clean), 0);
        let realistic = short(SynthProfile::Realistic);
        assert!(
            (80..=160).contains(&realistic),
            "{realistic} of 400 vendors"
        );
    }

    fn run(options: &SynthOptions) -> (Vec<u8>, Vec<u8>, Vec<u8>, SynthSummary) {
        let (mut reference, mut documents, mut truth) = (Vec::new(), Vec::new(), Vec::new());
        let path = Path::new("test");
        let summary = generate(
            options,
            &mut SynthSinks {
                reference: Sink {
                    path,
                    writer: &mut reference,
                },
                documents: Sink {
                    path,
                    writer: &mut documents,
                },
                truth: Sink {
                    path,
                    writer: &mut truth,
                },
            },
        )
        .unwrap();
        (reference, documents, truth, summary)
    }

    #[test]
    fn the_ledger_of_a_seed_does_not_depend_on_the_documents() {
        let few = run(&SynthOptions {
            reference_rows: 2_000,
            documents: 10,
            seed: 5,
            profile: SynthProfile::Realistic,
        });
        let many = run(&SynthOptions {
            reference_rows: 2_000,
            documents: 1_000,
            seed: 5,
            profile: SynthProfile::Realistic,
        });
        assert_eq!(few.0, many.0);
        assert_ne!(few.1, many.1);
        assert_eq!(many.3.with_row, 900);
        assert_eq!(many.3.near_misses + many.3.unknown_vendors, 100);
    }

    #[test]
    fn near_misses_cite_numbers_their_vendor_never_issued() {
        let mut names = NameBook::default();
        let vendors = plan_vendors(3_000, 11, SynthProfile::Realistic, &mut names);
        let yearly: Vec<bool> = vendors.iter().map(|v| v.format.family.yearly()).collect();
        let mut pending = vec![PendingNearMisses::default(); vendors.len()];
        let mut ledger = Ledger::new(vendors, 11, 3_000);
        let mut rng = Rng::new(11, 99);
        // A number is (vendor, sequence, year) for yearly formats, (vendor, sequence) else.
        let key = |vendor: usize, seq: u64, year: i32| {
            (vendor, seq, if yearly[vendor] { year } else { 0 })
        };
        let (mut issued, mut cited, mut anchors) = (HashSet::new(), HashSet::new(), 0);
        while let Some(row) = ledger.next_row() {
            assert!(
                issued.insert(key(row.vendor, row.seq, row.year)),
                "issued twice"
            );
            if rng.chance(0.1) {
                anchors += 1;
                if rng.chance(0.5) {
                    pending[row.vendor].in_gap += 1;
                } else {
                    pending[row.vendor].beyond_last += 1;
                }
            }
            for (seq, year, day) in pending[row.vendor].resolve(&row, yearly[row.vendor], &mut rng)
            {
                if yearly[row.vendor] {
                    assert_eq!(
                        ymd(day).year,
                        year,
                        "the date is in the year the number has"
                    );
                }
                assert!(cited.insert(key(row.vendor, seq, year)), "cited twice");
            }
        }
        assert_eq!(issued.len(), 3_000);
        assert_eq!(cited.len(), anchors);
        assert!(cited.is_disjoint(&issued));
    }

    #[test]
    fn options_are_validated_before_anything_is_written() {
        let bad = |reference_rows, documents| {
            SynthOptions {
                reference_rows,
                documents,
                seed: 1,
                profile: SynthProfile::Clean,
            }
            .validate()
            .unwrap_err()
            .to_string()
        };
        assert!(bad(0, 0).contains("--reference-rows"));
        assert!(bad(0, 10).contains("--reference-rows"));
        assert!(bad(10, 100).contains("--documents"));
        assert!(bad(MAX_REFERENCE_ROWS + 1, 1).contains("--reference-rows"));
        let ok = SynthOptions {
            reference_rows: 9,
            documents: 10,
            seed: 1,
            profile: SynthProfile::Realistic,
        };
        assert!(ok.validate().is_ok());
    }
}
