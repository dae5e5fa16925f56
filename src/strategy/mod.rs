//! Strategy generation without a language model (docs/CONTRACT.md; `POST /v1/matching/strategies/generate`,
//! `refmatch generate-config`). `propose` profiles both sides (names, value types, uniqueness,
//! and how many document values find their like in each reference column), pairs document
//! fields with reference columns, and writes a config: a strategy and options per mapping,
//! weights by discriminative power, a threshold, and a one-line rationale per mapping. `fit`
//! tunes the weights and threshold of a proposal to labelled documents by coordinate search,
//! maximising F1 as `evaluate` counts it, on one `MatchIndex` so that only weights change.
//!
//! Pure and deterministic: the same inputs give the same proposal byte for byte. It reads no
//! files and knows nothing of SQLite or HTTP; callers hand it a reference table and a sample
//! of documents. It uses `parse` to read values, `matcher` to score and `evaluate` to count.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::config::{
    MissingValues, RawConfig, RawDateOrder, RawMapping, StrategyKind, DEFAULT_MIN_COVERAGE,
};
use crate::error::{Error, FieldError, Result};
use crate::matcher::combine::round4;
use crate::matcher::ReferenceTable;
use crate::parse::{normalize_text, parse_amount, parse_date, DateOrder};

pub mod calibrate;
mod overlap;
mod profile;

use overlap::*;
use profile::*;
pub use profile::{
    profile_column, profile_documents, profile_reference, Calibration, DocumentSample, Fitted,
    Profile, Proposal, ValueKind,
};

/// The threshold of a proposal before fitting: with missing values ignored, a document must
/// agree on about four fifths of the weight it has.
pub const PROPOSED_THRESHOLD: f64 = 0.8;
/// Origin named in the errors of generation.
pub(crate) const ORIGIN: &str = "generated";
/// Share of a document field's values that must find their like in a reference column for
/// the pair to be plausible on values alone.
const MIN_OVERLAP: f64 = 0.1;
/// Name similarity at which a pair is plausible on names alone (when the types agree).
const NAME_MATCH: f64 = 0.8;
/// Overlap at which a document field may take a reference column another field already has.
const SECOND_USE_OVERLAP: f64 = 0.8;
/// Digits an identifier key needs before sharing it means anything.
const MIN_KEY_DIGITS: usize = 4;
/// Share of values of one type that makes a column that type.
const KIND_SHARE: f64 = 0.7;
/// Currency codes `parse_amount` may read before or after a number that make it money: any
/// three letters parse, and an invoice number such as `CTD202400881` is not an amount.
const CURRENCIES: &[&str] = &[
    "AED", "ARS", "AUD", "BGN", "BRL", "CAD", "CHF", "CLP", "CNY", "COP", "CZK", "DKK", "EGP",
    "EUR", "GBP", "HKD", "HUF", "IDR", "ILS", "INR", "ISK", "JPY", "KES", "KRW", "MAD", "MXN",
    "MYR", "NGN", "NOK", "NZD", "PEN", "PHP", "PLN", "QAR", "RON", "RUB", "SAR", "SEK", "SGD",
    "THB", "TRY", "TWD", "UAH", "USD", "VND", "ZAR",
];
/// Column and field name words that mean the same thing, each mapped to one of them.
const NAME_SYNONYMS: &[(&str, &[&str])] = &[
    (
        "amount",
        &[
            "total", "amount", "amt", "sum", "gross", "net", "value", "betrag", "summe", "montant",
            "importe", "importo", "bedrag", "price",
        ],
    ),
    (
        "number",
        &[
            "number",
            "no",
            "nr",
            "num",
            "nummer",
            "numero",
            "id",
            "ident",
            "identifier",
            "ref",
            "reference",
        ],
    ),
    (
        "date",
        &["date", "datum", "dated", "fecha", "data", "day", "dt"],
    ),
    (
        "party",
        &[
            "vendor",
            "supplier",
            "creditor",
            "seller",
            "lieferant",
            "kreditor",
            "fournisseur",
            "proveedor",
            "fornitore",
            "leverancier",
            "payee",
            "merchant",
            "company",
        ],
    ),
    (
        "currency",
        &[
            "currency", "curr", "ccy", "cur", "waehrung", "wahrung", "devise", "moneda", "valuta",
        ],
    ),
    (
        "invoice",
        &[
            "invoice", "inv", "bill", "rechnung", "facture", "factura", "fattura", "factuur",
        ],
    ),
    (
        "order",
        &[
            "po",
            "order",
            "purchase",
            "bestellung",
            "commande",
            "pedido",
            "ordine",
        ],
    ),
    (
        "customer",
        &["customer", "client", "buyer", "kunde", "debtor"],
    ),
    (
        "description",
        &[
            "description",
            "desc",
            "text",
            "item",
            "product",
            "article",
            "artikel",
        ],
    ),
];
/// Document columns that say where a document came from, not what it is.
const BOOKKEEPING_NAMES: &[&str] = &[
    "id",
    "document_id",
    "doc_id",
    "documentid",
    "external_id",
    "row_id",
    "uuid",
    "file",
    "filename",
    "file_name",
    "path",
    "filepath",
    "file_path",
    "source_file",
    "batch_id",
];
const FILE_EXTENSIONS: &[&str] = &[
    "pdf", "png", "jpg", "jpeg", "tif", "tiff", "gif", "bmp", "xml", "txt", "doc", "docx", "xls",
    "xlsx", "csv", "eml", "msg", "html", "json",
];

/// A document field and a reference column that may be mapped, with the evidence.
#[derive(Clone, Debug)]
struct Pair {
    /// Index into the eligible document fields.
    field: usize,
    /// Index into the reference columns.
    column: usize,
    overlap: f64,
    name: f64,
    score: f64,
}

/// Proposes a config from a reference table and sample documents (column names + values).
///
/// Reference columns are profiled in parallel on the caller's pool (call it inside
/// `pool.install`); the result does not depend on the number of threads.
pub fn propose(reference: &ReferenceTable, documents: &DocumentSample) -> Result<Proposal> {
    if documents.ids.len() != documents.rows.len() {
        return Err(Error::invalid(
            "documents",
            "",
            format!(
                "{} ids for {} rows of values",
                documents.ids.len(),
                documents.rows.len()
            ),
        ));
    }
    let columns = profile_reference(reference);
    let field_profiles = profile_documents(documents);
    let fields: Vec<usize> = (0..documents.columns.len())
        .filter(|&c| !is_bookkeeping(documents, c))
        .collect();
    let present: Vec<usize> = fields.iter().map(|&c| field_profiles[c].values).collect();
    let keys = DocKeys::build(documents, &fields);

    // One pass over each column (in parallel) finds which document values it holds.
    let overlaps: Vec<Vec<f64>> = columns
        .par_iter()
        .zip(&reference.values)
        .map(|(profile, values)| match profile.kind {
            ValueKind::Empty => vec![0.0; fields.len()],
            kind => keys.overlap(values, kind, &fields, &present),
        })
        .collect();
    let mut pairs = Vec::new();
    for (column, profile) in columns.iter().enumerate() {
        if profile.kind == ValueKind::Empty {
            continue;
        }
        let overlaps = &overlaps[column];
        for (field, &c) in fields.iter().enumerate() {
            let field_profile = &field_profiles[c];
            if field_profile.kind == ValueKind::Empty {
                continue;
            }
            let overlap = overlaps[field];
            let name = round4(name_similarity(&documents.columns[c], &profile.name));
            let compatibility = kind_compatibility(field_profile.kind, profile.kind);
            let plausible = overlap >= MIN_OVERLAP || (name >= NAME_MATCH && compatibility >= 1.0);
            if plausible {
                pairs.push(Pair {
                    field,
                    column,
                    overlap,
                    name,
                    score: round4(0.6 * overlap + 0.3 * name + 0.1 * compatibility),
                });
            }
        }
    }
    let chosen = assign(&pairs, fields.len());
    if chosen.is_empty() {
        return Err(Error::Validation {
            origin: ORIGIN.into(),
            details: vec![FieldError::new(
                "field_mappings",
                format!(
                    "no document field has a plausible reference column: no field shares \
                     values ({}% or more) or a name with a column (document fields: {}; \
                     reference columns: {})",
                    (MIN_OVERLAP * 100.0).round(),
                    fields
                        .iter()
                        .map(|&c| documents.columns[c].as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    reference.columns.join(", ")
                ),
            )],
        });
    }

    // Discriminative power: what a value says about which row it is, times how often the
    // documents' values are found in the column at all.
    let power: Vec<f64> = chosen
        .iter()
        .map(|p| (columns[p.column].information * p.overlap).max(0.01))
        .collect();
    let weights = round_weights(&power);
    let mut mappings: Vec<RawMapping> = chosen
        .iter()
        .zip(&weights)
        .map(|(pair, &weight)| {
            let source = &documents.columns[fields[pair.field]];
            let field = &field_profiles[fields[pair.field]];
            mapping(source, &columns[pair.column], field, pair, weight)
        })
        .collect();
    sort_mappings(&mut mappings);

    let config = RawConfig {
        name: Some(format!(
            "Generated from {} documents and {} reference rows",
            documents.rows.len(),
            reference.len()
        )),
        field_mappings: mappings,
        threshold: Some(PROPOSED_THRESHOLD),
        missing_values: Some(MissingValues::Ignore),
        min_coverage: Some(DEFAULT_MIN_COVERAGE),
        ..RawConfig::default()
    };
    config.validate(ORIGIN)?;
    Ok(Proposal {
        config,
        metrics: None,
        calibration: None,
    })
}

/// Heaviest first, then by source and target: the order a reader checks them in.
pub(crate) fn sort_mappings(mappings: &mut [RawMapping]) {
    mappings.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.target.cmp(&b.target))
    });
}

/// Greedy assignment, best pair first: each field gets at most one column, each column at
/// most one field, unless a field left over finds most of its values in a taken column.
fn assign(pairs: &[Pair], fields: usize) -> Vec<Pair> {
    let mut order: Vec<&Pair> = pairs.iter().collect();
    order.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.field.cmp(&b.field))
            .then(a.column.cmp(&b.column))
    });
    let mut taken_fields = vec![false; fields];
    let mut taken_columns: BTreeSet<usize> = BTreeSet::new();
    let mut chosen: Vec<Pair> = Vec::new();
    for pair in &order {
        if !taken_fields[pair.field] && taken_columns.insert(pair.column) {
            taken_fields[pair.field] = true;
            chosen.push((*pair).clone());
        }
    }
    for pair in &order {
        if !taken_fields[pair.field] && pair.overlap >= SECOND_USE_OVERLAP {
            taken_fields[pair.field] = true;
            chosen.push((*pair).clone());
        }
    }
    chosen.sort_by_key(|p| (p.field, p.column));
    chosen
}

/// The mapping of one chosen pair, with its strategy, options and rationale.
fn mapping(
    source: &str,
    column: &Profile,
    field: &Profile,
    pair: &Pair,
    weight: f64,
) -> RawMapping {
    let strategy = column.kind.strategy();
    let mut m = RawMapping {
        source: source.to_string(),
        target: column.name.clone(),
        strategy,
        weight,
        name: None,
        rationale: None,
        min_similarity: None,
        measure: None,
        tolerance_days: None,
        date_order: None,
        tolerance_pct: None,
        tolerance_abs: None,
    };
    let compared = match strategy {
        StrategyKind::DateRange => {
            m.tolerance_days = Some(7);
            // The order reads the documents' dates, so their evidence decides; the
            // reference's counts only when they have none.
            let evidence = if field.day_first_dates + field.month_first_dates > 0 {
                field
            } else {
                column
            };
            m.date_order = Some(if evidence.month_first_dates > evidence.day_first_dates {
                RawDateOrder::Mdy
            } else {
                RawDateOrder::Dmy
            });
            "are the same date as"
        }
        StrategyKind::NumericRange => {
            m.tolerance_pct = Some(1.0);
            "are within 1% of"
        }
        StrategyKind::Identifier => "share digits with",
        StrategyKind::Exact => "equal",
        StrategyKind::Fuzzy => "share most words with",
    };
    let unique = if column.uniqueness >= 0.98 {
        "unique per row".to_string()
    } else {
        format!(
            "{} distinct values over {} rows",
            column.distinct, column.values
        )
    };
    let names = if pair.name >= 1.0 {
        "same name".to_string()
    } else if pair.name >= 0.5 {
        "similar names".to_string()
    } else {
        "names differ, values decide".to_string()
    };
    m.rationale = Some(format!(
        "{}% of {} document {source} values {compared} a reference {}; {} ({}); {unique}, \
         information {:.2}; {names}",
        (pair.overlap * 100.0).round(),
        field.values,
        column.name,
        column.kind.describe(),
        strategy.as_str(),
        column.information,
    ));
    m
}

/// Weights proportional to `raw`, in hundredths, each at least 0.01, summing to exactly 1:
/// the rounding error goes to the largest weight.
pub(crate) fn round_weights(raw: &[f64]) -> Vec<f64> {
    let sum: f64 = raw.iter().sum();
    let mut hundredths: Vec<i64> = raw
        .iter()
        .map(|&x| {
            let share = if sum > 0.0 {
                x / sum
            } else {
                1.0 / raw.len() as f64
            };
            ((share * 100.0).round() as i64).max(1)
        })
        .collect();
    let total: i64 = hundredths.iter().sum();
    if let Some(largest) = largest(&hundredths) {
        hundredths[largest] += 100 - total;
        // With many floored weights the largest may not absorb it all.
        while hundredths[largest] < 1 {
            let Some(donor) = largest_except(&hundredths, largest) else {
                break;
            };
            hundredths[donor] -= 1;
            hundredths[largest] += 1;
        }
    }
    hundredths.iter().map(|&h| h as f64 / 100.0).collect()
}

/// The index of the largest value, the first on ties.
fn largest(values: &[i64]) -> Option<usize> {
    (0..values.len()).reduce(|best, i| if values[i] > values[best] { i } else { best })
}

fn largest_except(values: &[i64], except: usize) -> Option<usize> {
    (0..values.len())
        .filter(|&i| i != except && values[i] > 1)
        .reduce(|best, i| if values[i] > values[best] { i } else { best })
}

fn ratio(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 / of as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MatchConfig;
    use crate::evaluate::{self, Prediction};
    use crate::ingest::{self, Encoding, Truth};
    use crate::matcher::{Matcher, Mode};
    use std::collections::BTreeMap;
    use std::collections::HashSet;
    use std::path::PathBuf;
    use std::sync::Arc;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/invoices")
            .join(name)
    }

    struct Fixtures {
        reference: Arc<ReferenceTable>,
        documents: DocumentSample,
        truth: Truth,
    }

    fn fixtures() -> Fixtures {
        let reference = ingest::read_reference(&fixture("reference.csv"), Encoding::Utf8, None)
            .expect("reference");
        let scan = ingest::scan_documents(&fixture("documents.csv"), Encoding::Utf8, None)
            .expect("documents");
        let headers: Vec<&str> = scan.headers.iter().map(String::as_str).collect();
        let mut rows = Vec::new();
        ingest::for_each_document_chunk(
            &fixture("documents.csv"),
            Encoding::Utf8,
            &headers,
            64,
            |_, chunk| {
                rows.extend_from_slice(chunk);
                Ok(())
            },
        )
        .expect("rows");
        let documents = DocumentSample {
            columns: scan.headers.clone(),
            ids: scan.ids.clone(),
            rows,
        };
        let ids: HashSet<&str> = scan.ids.iter().map(String::as_str).collect();
        let reference_ids: HashSet<&str> = reference.ids.iter().collect();
        let truth = ingest::truth_from_csv(
            ingest::read_csv(&fixture("truth.csv"), Encoding::Utf8).expect("truth"),
            &ids,
            &|id| reference_ids.contains(id),
        )
        .expect("truth");
        Fixtures {
            reference: Arc::new(reference),
            documents,
            truth,
        }
    }

    /// F1 of `config` on the fixtures at its own threshold.
    fn f1_of(config: MatchConfig, f: &Fixtures, pool: &rayon::ThreadPool) -> f64 {
        let matcher = pool
            .install(|| Matcher::build(config, Arc::clone(&f.reference)))
            .expect("matcher");
        let columns: Vec<usize> = matcher
            .sources()
            .map(|s| f.documents.column(s).expect("source"))
            .collect();
        let values: Vec<Vec<Option<String>>> = f
            .documents
            .rows
            .iter()
            .map(|row| columns.iter().map(|&c| row[c].clone()).collect())
            .collect();
        let outcomes = matcher.match_many(&values, Mode::Indexed, pool, &|| {});
        let predictions: Vec<Prediction> = f
            .documents
            .ids
            .iter()
            .zip(&outcomes)
            .map(|(id, o)| Prediction {
                document_id: id,
                top: o
                    .candidates
                    .first()
                    .map(|c| (f.reference.id(c.row as usize), c.confidence)),
            })
            .collect();
        let report = evaluate::evaluate(
            &predictions,
            &f.truth,
            matcher.config().threshold,
            f.reference.len(),
            false,
        );
        report.f1
    }

    fn hand_written() -> MatchConfig {
        let text = std::fs::read_to_string(fixture("config.json")).expect("config");
        MatchConfig::from_json(&text, "config.json").expect("valid")
    }

    #[test]
    fn proposal_maps_the_fixture_fields_to_their_columns() {
        let f = fixtures();
        let proposal = propose(&f.reference, &f.documents).expect("proposal");
        let mapped: BTreeMap<&str, (&str, StrategyKind)> = proposal
            .config
            .field_mappings
            .iter()
            .map(|m| (m.source.as_str(), (m.target.as_str(), m.strategy)))
            .collect();
        let expected = [
            ("vendor_name", "vendor_name", StrategyKind::Fuzzy),
            ("invoice_number", "invoice_number", StrategyKind::Identifier),
            ("invoice_date", "invoice_date", StrategyKind::DateRange),
            ("total", "total", StrategyKind::NumericRange),
            ("currency", "currency", StrategyKind::Exact),
            ("po_number", "po_number", StrategyKind::Identifier),
        ];
        for (source, target, strategy) in expected {
            assert_eq!(mapped.get(source), Some(&(target, strategy)), "{source}");
        }
        assert_eq!(
            mapped.len(),
            expected.len(),
            "document_id and filename are not mapped"
        );
        for m in &proposal.config.field_mappings {
            let rationale = m.rationale.as_deref().unwrap_or("");
            assert!(
                !rationale.is_empty() && !rationale.contains('\n'),
                "{rationale}"
            );
            assert_eq!(m.weight, (m.weight * 100.0).round() / 100.0);
        }
        let date = &proposal
            .config
            .field_mappings
            .iter()
            .find(|m| m.source == "invoice_date")
            .unwrap();
        assert_eq!(
            (date.tolerance_days, date.date_order),
            (Some(7), Some(RawDateOrder::Dmy))
        );
        let total = &proposal
            .config
            .field_mappings
            .iter()
            .find(|m| m.source == "total")
            .unwrap();
        assert_eq!(total.tolerance_pct, Some(1.0));
        proposal
            .config
            .validate("generated")
            .expect("a valid config");
    }

    #[test]
    fn generated_f1_is_close_to_hand_written_and_fitting_improves_it() {
        let f = fixtures();
        let pool = crate::matcher::thread_pool(2).unwrap();
        let hand = f1_of(hand_written(), &f, &pool);
        let proposal = propose(&f.reference, &f.documents).expect("proposal");
        let generated = f1_of(proposal.config.validate("generated").unwrap(), &f, &pool);
        let fitted = crate::strategy::calibrate::fit(
            proposal.clone(),
            Arc::clone(&f.reference),
            &f.documents,
            &f.truth,
            &pool,
        )
        .expect("fit");
        let metrics = fitted.metrics.expect("metrics");
        let after = f1_of(fitted.config.validate("fitted").unwrap(), &f, &pool);
        eprintln!(
            "hand-written {hand}, generated {generated}, fitted {after} ({metrics:?})\n{}",
            serde_json::to_string_pretty(&fitted.config).unwrap()
        );
        assert!(
            generated >= hand - 0.03,
            "generated {generated} vs hand-written {hand}"
        );
        assert_eq!(metrics.f1_before, generated);
        assert_eq!(metrics.f1_after, after);
        assert!(after >= generated, "fitted {after} < unfitted {generated}");
        assert!(
            after >= hand - 0.005,
            "fitted {after} vs hand-written {hand}"
        );
    }

    #[test]
    fn proposals_are_deterministic() {
        let f = fixtures();
        let a = propose(&f.reference, &f.documents).unwrap();
        let b = propose(&f.reference, &f.documents).unwrap();
        assert_eq!(
            serde_json::to_string(&a.config).unwrap(),
            serde_json::to_string(&b.config).unwrap()
        );
    }

    #[test]
    fn no_plausible_column_is_a_validation_error() {
        let f = fixtures();
        let mut reference = ReferenceTable::new(vec!["colour".into(), "shape".into()]);
        for (i, (colour, shape)) in [("red", "round"), ("blue", "square"), ("green", "oval")]
            .iter()
            .enumerate()
        {
            reference.push_row(&format!("r{i}"), [*colour, *shape]);
        }
        let err = propose(&reference, &f.documents).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let details = err.details();
        assert_eq!(details.len(), 1, "{err}");
        assert_eq!(details[0].field, "field_mappings");
        assert!(
            details[0]
                .message
                .contains("no document field has a plausible reference column"),
            "{}",
            details[0].message
        );
        assert!(
            details[0].message.contains("colour, shape"),
            "{}",
            details[0].message
        );
    }

    /// A generated set (`synth`), read from memory.
    fn synth_set(reference_rows: u64, documents: u64, seed: u64) -> Fixtures {
        use crate::synth::{generate, Sink, SynthOptions, SynthProfile, SynthSinks};
        let (mut r, mut d, mut t) = (Vec::new(), Vec::new(), Vec::new());
        let path = std::path::Path::new("synth");
        generate(
            &SynthOptions {
                reference_rows,
                documents,
                seed,
                // The comparison with the hand-written config was made on these sets.
                profile: SynthProfile::Clean,
            },
            &mut SynthSinks {
                reference: Sink {
                    path,
                    writer: &mut r,
                },
                documents: Sink {
                    path,
                    writer: &mut d,
                },
                truth: Sink {
                    path,
                    writer: &mut t,
                },
            },
        )
        .unwrap();
        let reference =
            ingest::reference_from_csv("reference", &r, Encoding::Utf8, None, "--id-column")
                .unwrap();
        let table = ingest::csv::parse_csv("documents", &d, Encoding::Utf8).unwrap();
        let id_col = table.column("document_id").unwrap();
        let documents = DocumentSample {
            columns: table.headers.clone(),
            ids: table.rows.iter().map(|r| r[id_col].clone()).collect(),
            rows: table
                .rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|v| (!v.trim().is_empty()).then(|| v.clone()))
                        .collect()
                })
                .collect(),
        };
        let ids: HashSet<&str> = documents.ids.iter().map(String::as_str).collect();
        let reference_ids: HashSet<&str> = reference.ids.iter().collect();
        let truth = ingest::truth_from_csv(
            ingest::csv::parse_csv("truth", &t, Encoding::Utf8).unwrap(),
            &ids,
            &|id| reference_ids.contains(id),
        )
        .unwrap();
        Fixtures {
            reference: Arc::new(reference),
            documents,
            truth,
        }
    }

    #[test]
    fn renamed_fields_are_mapped_by_their_values() {
        let mut f = fixtures();
        let original = f.documents.columns.clone();
        f.documents.columns = (1..=original.len()).map(|i| format!("f{i}")).collect();
        let proposal = propose(&f.reference, &f.documents).expect("proposal");
        let mapped: BTreeMap<&str, &str> = proposal
            .config
            .field_mappings
            .iter()
            .map(|m| {
                let c = f.documents.column(&m.source).unwrap();
                (original[c].as_str(), m.target.as_str())
            })
            .collect();
        let expected: BTreeMap<&str, &str> = [
            "vendor_name",
            "invoice_number",
            "invoice_date",
            "total",
            "currency",
            "po_number",
        ]
        .into_iter()
        .map(|c| (c, c))
        .collect();
        assert_eq!(
            mapped, expected,
            "the id and file name columns are left out"
        );
    }

    #[test]
    fn a_generated_set_is_matched_as_well_as_by_the_hand_written_config() {
        let f = synth_set(2_000, 300, 7);
        let pool = crate::matcher::thread_pool(2).unwrap();
        let hand = f1_of(hand_written(), &f, &pool);
        let proposal = pool
            .install(|| propose(&f.reference, &f.documents))
            .expect("proposal");
        let generated = f1_of(proposal.config.validate("generated").unwrap(), &f, &pool);
        assert!(
            generated >= hand - 0.03,
            "generated {generated} vs hand-written {hand}"
        );
    }

    #[test]
    fn profiles_tell_value_kinds_apart() {
        let kind = |values: &[&str]| profile_column("c", values.iter().copied()).kind;
        assert_eq!(
            kind(&["2024-01-19", "02.03.2026", "2 Mar 2026", ""]),
            ValueKind::Date
        );
        assert_eq!(
            kind(&["1.240,00", "£2,915.01", "253.43", "€1240"]),
            ValueKind::Amount
        );
        assert_eq!(
            kind(&["RE-2024/00447", "CTD202400881", "TFL003338", "2026001256"]),
            ValueKind::Identifier
        );
        assert_eq!(kind(&["EUR", "GBP", "EUR", "CHF", "EUR"]), ValueKind::Code);
        assert_eq!(
            kind(&[
                "Nordwind Logistik GmbH",
                "Alpha Office Supplies Inc.",
                "Van der Berg B.V."
            ]),
            ValueKind::Text
        );
        assert_eq!(kind(&["", " "]), ValueKind::Empty);
        let unique = profile_column("c", ["a1", "a2", "a3", "a4"].into_iter());
        assert_eq!((unique.uniqueness, unique.information), (1.0, 1.0));
        let constant = profile_column("c", ["EUR", "EUR", "EUR"].into_iter());
        assert_eq!(constant.information, 0.0);
    }

    #[test]
    fn month_first_dates_are_read_month_first() {
        let mut reference = ReferenceTable::new(vec!["invoice_date".into(), "vendor".into()]);
        let documents = DocumentSample {
            columns: vec!["date".into(), "vendor".into()],
            ids: (1..=4).map(|i| format!("d{i}")).collect(),
            rows: ["10/25/2024", "11/13/2024", "12/03/2024", "01/30/2025"]
                .iter()
                .zip(["Acme Corp", "Globex Inc", "Initech LLC", "Umbrella Ltd"])
                .map(|(d, v)| vec![Some(d.to_string()), Some(v.to_string())])
                .collect(),
        };
        for (i, (d, v)) in [
            ("2024-10-25", "Acme Corp"),
            ("2024-11-13", "Globex Inc"),
            ("2024-12-03", "Initech LLC"),
            ("2025-01-30", "Umbrella Ltd"),
        ]
        .iter()
        .enumerate()
        {
            reference.push_row(&format!("r{i}"), [*d, *v]);
        }
        let proposal = propose(&reference, &documents).expect("proposal");
        let date = proposal
            .config
            .field_mappings
            .iter()
            .find(|m| m.source == "date")
            .expect("date mapped");
        assert_eq!(date.target, "invoice_date");
        assert_eq!(date.date_order, Some(RawDateOrder::Mdy));
    }

    #[test]
    fn weights_are_hundredths_that_sum_to_one() {
        for raw in [
            vec![0.85, 0.88, 0.81, 0.8, 0.54, 0.15],
            vec![1.0, 1.0, 1.0],
            vec![0.001, 5.0, 0.001, 0.001],
            vec![1.0; 64],
        ] {
            let w = round_weights(&raw);
            let sum: f64 = w.iter().sum();
            assert!((sum - 1.0).abs() < 1e-9, "{w:?} sums to {sum}");
            assert!(
                w.iter()
                    .all(|&x| x >= 0.01 && x == (x * 100.0).round() / 100.0),
                "{w:?}"
            );
        }
        assert_eq!(round_weights(&[1.0, 1.0, 1.0]), [0.34, 0.33, 0.33]);
    }

    #[test]
    fn labels_must_name_reference_rows_and_hold_a_true_row() {
        let f = fixtures();
        let pool = crate::matcher::thread_pool(1).unwrap();
        let proposal = propose(&f.reference, &f.documents).unwrap();
        let fit_with = |labels: &Truth| {
            crate::strategy::calibrate::fit(
                proposal.clone(),
                Arc::clone(&f.reference),
                &f.documents,
                labels,
                &pool,
            )
            .unwrap_err()
            .to_string()
        };
        let unknown: Truth = [("D-0001".to_string(), Some("OI-999999".to_string()))].into();
        assert!(fit_with(&unknown).contains("OI-999999"));
        let none: Truth = [("D-0001".to_string(), None)].into();
        assert!(fit_with(&none).contains("no labelled document"));
        let outside: Truth = [("D-9999".to_string(), Some("OI-000148".to_string()))].into();
        assert!(fit_with(&outside).contains("no document of the sample has a label"));
    }
}
