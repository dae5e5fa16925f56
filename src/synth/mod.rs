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
//!
//! The files follow the generator's parts: `text` (dates and amounts as invoices write
//! them), `names` (vendor names), `numbers` (invoice numbering schemes), `ledger` (vendors
//! and the reference rows), `documents` (the extracted fields and their noise); this file
//! holds the options, the writer of a set and the tests.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

mod documents;
mod ledger;
mod names;
mod numbers;
mod realistic;
mod rng;
mod text;

use documents::*;
use ledger::*;
use names::*;
use numbers::*;
use text::*;

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
