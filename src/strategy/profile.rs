//! Profiling: what the values of a column or field are (dates, amounts, codes, names,
//! text), the traits one value shows, and how alike two column names are.

use std::path::Path;

use super::*;
use crate::ingest;

/// What the values of a column or field are, as far as choosing a strategy goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// Calendar dates in any written form: `date_range`.
    Date,
    /// Money: decimals or a currency: `numeric_range`.
    Amount,
    /// Codes and reference numbers (digits, letters, separators, one or two words): `identifier`.
    Identifier,
    /// A few short distinct values such as a currency or a status: `exact`.
    Code,
    /// Names and descriptions: `fuzzy`.
    Text,
    /// No value at all.
    Empty,
}

impl ValueKind {
    pub(super) fn strategy(self) -> StrategyKind {
        match self {
            ValueKind::Date => StrategyKind::DateRange,
            ValueKind::Amount => StrategyKind::NumericRange,
            ValueKind::Identifier => StrategyKind::Identifier,
            ValueKind::Code => StrategyKind::Exact,
            ValueKind::Text | ValueKind::Empty => StrategyKind::Fuzzy,
        }
    }

    pub(super) fn describe(self) -> &'static str {
        match self {
            ValueKind::Date => "dates",
            ValueKind::Amount => "amounts",
            ValueKind::Identifier => "identifiers",
            ValueKind::Code => "short codes",
            ValueKind::Text => "names or text",
            ValueKind::Empty => "empty",
        }
    }
}

/// A column or field profiled for strategy generation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Profile {
    pub name: String,
    pub kind: ValueKind,
    /// Non-empty values.
    pub values: usize,
    /// Empty values.
    pub missing: usize,
    /// Distinct non-empty values (as written, trimmed).
    pub distinct: usize,
    /// `distinct / values`: 1 when every value is unique.
    pub uniqueness: f64,
    /// Shannon entropy of the values over `log2(values)`: the share of the bits needed to
    /// single out a row that one value carries (1 for a unique column, low for a currency).
    pub information: f64,
    /// Shares of the non-empty values that read as a date, as money, as an identifier.
    pub date_share: f64,
    pub amount_share: f64,
    pub identifier_share: f64,
    /// Mean number of words (letter-bearing runs of two or more characters) per value.
    pub mean_words: f64,
    /// Numeric dates that can only be day-first (`25/10/2024`) and only month-first
    /// (`10/25/2024`): the evidence for `date_order`.
    pub day_first_dates: usize,
    pub month_first_dates: usize,
}

/// What fitting to labels achieved on the labelled documents of the sample.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Fitted {
    /// F1 of the proposal as given, at its own threshold.
    pub f1_before: f64,
    /// F1 of the fitted config at the fitted threshold (in-sample).
    pub f1_after: f64,
    pub threshold: f64,
    /// F1 of `FOLDS`-fold cross-validation: each fold counted with weights and threshold
    /// fitted on the other folds only.
    pub f1_cross_validated: f64,
}

/// What the unlabelled model estimated.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Calibration {
    /// Share of sampled documents the model expects to have their true row on top.
    pub expected_match_rate: f64,
    /// The F1 the model expects at the chosen threshold.
    pub expected_f1: f64,
    pub threshold: f64,
    /// Whether the data say each reference row is claimed by one document at most.
    pub one_to_one: bool,
}

/// A proposed config: field_mappings (with `rationale`), threshold, as a RawConfig (so it
/// serialises to the config JSON format) plus per-mapping rationale already inside RawMapping.rationale.
#[derive(Clone, Debug)]
pub struct Proposal {
    pub config: RawConfig,
    /// Set by `calibrate::fit`.
    pub metrics: Option<Fitted>,
    /// Set by `calibrate::calibrate`.
    pub calibration: Option<Calibration>,
}

/// Documents as profiled: column names and up to N rows of values (None = missing), plus ids.
#[derive(Clone, Debug, Default)]
pub struct DocumentSample {
    pub columns: Vec<String>,
    pub ids: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// Documents read from a file to profile; the rest of a larger file is not needed for a
/// proposal.
const FILE_SAMPLE: usize = 20_000;

impl DocumentSample {
    /// The first 20,000 documents of a file as `strategy` profiles them, with the scan of
    /// the whole file (its ids).
    pub fn read(
        path: &Path,
        encoding: ingest::Encoding,
        id_column: Option<&str>,
    ) -> Result<(DocumentSample, ingest::DocumentScan)> {
        let scan = ingest::scan_documents(path, encoding, id_column)?;
        let columns: Vec<&str> = scan.headers.iter().map(String::as_str).collect();
        let mut sample = DocumentSample {
            columns: scan.headers.clone(),
            ids: Vec::new(),
            rows: Vec::new(),
        };
        ingest::for_each_document_chunk(path, encoding, &columns, 4_096, |first, rows| {
            for (i, row) in rows.iter().enumerate() {
                if sample.rows.len() < FILE_SAMPLE {
                    sample
                        .ids
                        .push(scan.ids.get(first + i).cloned().unwrap_or_default());
                    sample.rows.push(row.clone());
                }
            }
            Ok(())
        })?;
        Ok((sample, scan))
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The non-empty values of column `c`, in row order.
    pub(super) fn values(&self, c: usize) -> impl Iterator<Item = &str> + '_ {
        self.rows
            .iter()
            .filter_map(move |row| row.get(c).and_then(|v| v.as_deref()))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

/// Profiles the values of one column; empty strings are missing values.
pub fn profile_column<'a>(name: &str, values: impl Iterator<Item = &'a str>) -> Profile {
    let mut counts: FxHashMap<&str, u32> = FxHashMap::default();
    let (mut present, mut missing) = (0usize, 0usize);
    let (mut dates, mut money, mut plain, mut idents, mut words) = (0usize, 0, 0, 0, 0);
    let (mut day_first, mut month_first) = (0usize, 0usize);
    for raw in values {
        let value = raw.trim();
        if value.is_empty() {
            missing += 1;
            continue;
        }
        present += 1;
        *counts.entry(value).or_insert(0) += 1;
        let t = traits(value);
        dates += usize::from(t.date);
        money += usize::from(t.money);
        plain += usize::from(t.plain_integer);
        idents += usize::from(t.identifier);
        words += t.words;
        match numeric_date_order(value) {
            Some(DateOrder::Dmy) => day_first += 1,
            Some(DateOrder::Mdy) => month_first += 1,
            None => {}
        }
    }
    let share = |n: usize| ratio(n, present);
    let distinct = counts.len();
    let uniqueness = share(distinct);
    // Summed in a fixed order so that the result does not depend on hashing.
    let mut frequencies: Vec<u32> = counts.into_values().collect();
    frequencies.sort_unstable();
    let information = if present > 1 {
        let n = present as f64;
        let entropy: f64 = frequencies
            .iter()
            .map(|&c| {
                let p = f64::from(c) / n;
                -p * p.log2()
            })
            .sum();
        (entropy / n.log2()).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (date_share, money_share, plain_share, identifier_share, mean_words) = (
        share(dates),
        share(money),
        share(plain),
        share(idents),
        ratio(words, present),
    );
    let kind = if present == 0 {
        ValueKind::Empty
    } else if date_share >= KIND_SHARE {
        ValueKind::Date
    } else if money_share >= KIND_SHARE && plain_share < 0.5 {
        ValueKind::Amount
    } else if identifier_share >= 0.6 {
        ValueKind::Identifier
    } else if money_share >= KIND_SHARE {
        // Whole numbers that repeat: quantities, or codes when there are few of them.
        if distinct <= 30 {
            ValueKind::Code
        } else {
            ValueKind::Amount
        }
    } else if mean_words <= 1.5 && (distinct <= 30 || uniqueness <= 0.05) {
        ValueKind::Code
    } else {
        ValueKind::Text
    };
    Profile {
        name: name.to_string(),
        kind,
        values: present,
        missing,
        distinct,
        uniqueness: round4(uniqueness),
        information: round4(information),
        date_share: round4(date_share),
        amount_share: round4(money_share),
        identifier_share: round4(identifier_share),
        mean_words: round4(mean_words),
        day_first_dates: day_first,
        month_first_dates: month_first,
    }
}

/// Profiles every column of a reference table, in column order, in parallel on the
/// caller's pool.
pub fn profile_reference(reference: &ReferenceTable) -> Vec<Profile> {
    reference
        .columns
        .par_iter()
        .zip(&reference.values)
        .map(|(name, column)| profile_column(name, column.iter()))
        .collect()
}

/// Profiles every column of a document sample, in column order.
pub fn profile_documents(documents: &DocumentSample) -> Vec<Profile> {
    (0..documents.columns.len())
        .map(|c| {
            let values = documents
                .rows
                .iter()
                .map(move |row| row.get(c).and_then(|v| v.as_deref()).unwrap_or(""));
            profile_column(&documents.columns[c], values)
        })
        .collect()
}

/// What one value looks like.
pub(super) struct Traits {
    pub(super) date: bool,
    /// An amount with decimals or a currency, or a plain whole number of up to six digits.
    pub(super) money: bool,
    /// A whole number without currency: money or a number, the column decides.
    pub(super) plain_integer: bool,
    /// Digits, in one or two words, and not a date or decorated money.
    pub(super) identifier: bool,
    pub(super) words: usize,
}

pub(super) fn traits(value: &str) -> Traits {
    let date = parse_date(value, DateOrder::Dmy).is_some();
    let amount =
        parse_amount(value).filter(|a| a.currency.is_none_or(|c| CURRENCIES.contains(&c.as_str())));
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let fraction = has_fraction(value);
    let plain_integer = amount.is_some_and(|a| a.currency.is_none()) && !fraction;
    let leading_zero = value
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .starts_with('0');
    let money = !date
        && amount
            .is_some_and(|a| a.currency.is_some() || fraction || (digits <= 6 && !leading_zero));
    let alnum = value.chars().filter(|c| c.is_alphanumeric()).count();
    let pieces = value.split_whitespace().count();
    // Money written with decimals or a currency is not a reference number.
    let decorated_money = money && !plain_integer;
    let identifier = !date && !decorated_money && digits > 0 && alnum >= 3 && pieces <= 2;
    Traits {
        date,
        money,
        plain_integer,
        identifier,
        words: words(value).len(),
    }
}

/// True when the number in `value` ends in a decimal part of one or two digits (`12.50`,
/// `1.240,00 EUR`).
pub(super) fn has_fraction(value: &str) -> bool {
    let chars: Vec<char> = value.chars().collect();
    let Some(last) = chars.iter().rposition(char::is_ascii_digit) else {
        return false;
    };
    let run = chars[..=last]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .count();
    let before = last + 1 - run;
    (1..=2).contains(&run)
        && before >= 2
        && matches!(chars[before - 1], '.' | ',')
        && chars[before - 2].is_ascii_digit()
}

/// Which order a numeric date such as `25/10/2024` proves: `None` when it proves neither.
pub(super) fn numeric_date_order(value: &str) -> Option<DateOrder> {
    if value.chars().any(char::is_alphabetic) {
        return None;
    }
    let groups: Vec<&str> = value
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let [a, b, y] = groups.as_slice() else {
        return None;
    };
    if a.len() > 2 || b.len() > 2 || !(y.len() == 2 || y.len() == 4) {
        return None;
    }
    let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
    match (a > 12, b > 12) {
        (true, false) if a <= 31 => Some(DateOrder::Dmy),
        (false, true) if b <= 31 => Some(DateOrder::Mdy),
        _ => None,
    }
}

/// Words of a value: normalised runs of letters and digits that hold a letter, two or more
/// characters long.
pub(super) fn words(value: &str) -> Vec<String> {
    normalize_text(value)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2 && w.chars().any(char::is_alphabetic))
        .map(str::to_string)
        .collect()
}

/// The keys two identifiers share when the `identifier` strategy could call them alike: the
/// digits after folding OCR look-alikes, with and without a leading letters-only prefix.
pub(super) fn digit_keys(value: &str) -> Vec<String> {
    let compact: Vec<char> = normalize_text(value)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect();
    let digits = |chars: &[char]| -> String {
        chars
            .iter()
            .map(|&c| match c {
                'O' => '0',
                'I' | 'L' => '1',
                'S' => '5',
                'B' => '8',
                c => c,
            })
            .filter(char::is_ascii_digit)
            .collect()
    };
    let mut keys = vec![digits(&compact)];
    let prefix = compact.iter().take_while(|c| c.is_alphabetic()).count();
    if prefix > 0 && prefix < compact.len() {
        keys.push(digits(&compact[prefix..]));
    }
    keys.retain(|k| k.len() >= MIN_KEY_DIGITS);
    keys.dedup();
    keys
}

/// The canonical words of a column or field name: `supplierNo` -> {party, number}.
pub(super) fn name_words(name: &str) -> BTreeSet<String> {
    let mut spaced = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_uppercase() && previous_lower {
            spaced.push(' ');
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        spaced.push(c);
    }
    normalize_text(&spaced)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            NAME_SYNONYMS
                .iter()
                .find(|(_, spellings)| spellings.contains(&w))
                .map_or_else(|| w.to_string(), |(canonical, _)| canonical.to_string())
        })
        .collect()
}

/// Similarity of two names in 0..1: 1 when they are the same after normalising, else the
/// Dice coefficient of their canonical words.
pub(super) fn name_similarity(a: &str, b: &str) -> f64 {
    let (na, nb) = (normalize_text(a), normalize_text(b));
    if na == nb {
        return 1.0;
    }
    let (wa, wb) = (name_words(a), name_words(b));
    if wa.is_empty() || wb.is_empty() {
        return 0.0;
    }
    let common = wa.intersection(&wb).count();
    2.0 * common as f64 / (wa.len() + wb.len()) as f64
}

/// How well the values of a document field of kind `field` suit a column of kind `column`.
pub(super) fn kind_compatibility(field: ValueKind, column: ValueKind) -> f64 {
    use ValueKind::*;
    match (field, column) {
        (a, b) if a == b => 1.0,
        (Code, Text) | (Text, Code) | (Identifier, Code) | (Code, Identifier) => 0.5,
        (Identifier, Text) | (Text, Identifier) => 0.3,
        _ => 0.0,
    }
}

/// True for a document column that says where a document came from (its id, its file)
/// rather than what it is.
pub(super) fn is_bookkeeping(documents: &DocumentSample, c: usize) -> bool {
    let name = normalize_text(&documents.columns[c]).replace([' ', '-'], "_");
    if BOOKKEEPING_NAMES.contains(&name.as_str()) {
        return true;
    }
    let (mut present, mut ids, mut files) = (0usize, 0usize, 0usize);
    for (row, id) in documents.rows.iter().zip(&documents.ids) {
        let Some(value) = row.get(c).and_then(|v| v.as_deref()).map(str::trim) else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        present += 1;
        ids += usize::from(value == id);
        files += usize::from(is_file_name(value));
    }
    present > 0 && (ratio(ids, present) >= 0.9 || ratio(files, present) >= 0.5)
}

pub(super) fn is_file_name(value: &str) -> bool {
    !value.contains(char::is_whitespace)
        && value.rsplit_once('.').is_some_and(|(stem, ext)| {
            !stem.is_empty() && FILE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
        })
}
