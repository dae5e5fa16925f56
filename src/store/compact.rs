//! The stored form of a result's candidates and evidence (issue 14 part 4). The API shows
//! five candidates, each with per-field evidence that repeats the document's own value, the
//! field's name and its strategy: as JSON text that is most of a result's bytes. The compact
//! form keeps what is the same for every candidate (name, strategy, the document's value)
//! once per result, and per candidate only its row id, confidence and, per field, score,
//! reference value and flag. The result's own `evidence` is the first candidate's, so it is
//! not stored at all unless a review or the resolver replaced it.
//!
//! Reading writes exactly the JSON text `serde_json` wrote for the same value (compact,
//! keys in order, strings and floats through `serde_json` itself), so the API answers the
//! same bytes: serialised through serde (`Compact::candidates`) or by hand for run detail
//! (`Compact::write_candidates`). Any candidates value whose shape the compact form cannot hold exactly stays
//! JSON text; the column's SQLite type (TEXT or BLOB) says which form a row has. This module
//! knows JSON and bytes only, nothing of scoring.
//!
//! Layout, version 1 (`varint`: unsigned LEB128; `str`: varint length then UTF-8 bytes;
//! `opt`: varint 0 for null, else length + 1 then bytes):
//!
//! ```text
//! u8 1 | varint fields | fields x (str name, str strategy, opt source_value)
//!      | varint candidates | candidates x (str reference_row_id, num confidence,
//!                                          fields x (u8 tag, [num score], target))
//! num: u8 0 then varint k, the value being k / 10000 exactly; or u8 1 then f64 LE
//! tag: bit 0 score present (else null), bits 1-2 flag 0 none, 1 missing, 2 unparsable
//! target: varint 0 null, 1 the document's value, 2 the previous candidate's value of the
//!         field, else length + 3 then bytes
//! ```

use std::sync::Arc;

use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::matcher::{CandidateEvidence, FieldEvidence};

const VERSION: u8 = 1;

/// Keys of a candidate and of a field's evidence, in the order the matcher writes them.
const CANDIDATE_KEYS: [&str; 3] = ["reference_row_id", "confidence", "evidence"];
const ENTRY_KEYS: [&str; 4] = ["strategy", "score", "source_value", "target_value"];

const FLAG_NONE: u8 = 0;
const FLAG_MISSING: u8 = 1;
const FLAG_UNPARSABLE: u8 = 2;

/// A result's candidates as stored: the compact form, or JSON text when the value has a
/// shape the compact form does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredCandidates {
    Compact(Vec<u8>),
    Json(String),
}

/// What a result stores for its candidates and evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDetail {
    /// The `evidence` column: None when it is the first candidate's (compact form only).
    pub evidence: Option<String>,
    pub candidates: StoredCandidates,
}

impl StoredDetail {
    /// The stored form of a result whose evidence is its first candidate's (or null when
    /// it has none), as the runner writes every result.
    pub fn from_candidates(candidates: &[CandidateEvidence]) -> StoredDetail {
        match encode(candidates) {
            Some(bytes) => StoredDetail {
                evidence: None,
                candidates: StoredCandidates::Compact(bytes),
            },
            // Serialising into a String does not fail.
            None => StoredDetail {
                evidence: candidates
                    .first()
                    .and_then(|c| serde_json::to_string(&c.evidence).ok()),
                candidates: StoredCandidates::Json(
                    serde_json::to_string(candidates).unwrap_or_else(|_| "[]".into()),
                ),
            },
        }
    }
}

/// The compact form of `candidates`, or None when the candidates disagree on the
/// document's side (a field's name, strategy or document value), which the compact form
/// keeps once.
pub fn encode(candidates: &[CandidateEvidence]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(64 + candidates.len() * 96);
    out.push(VERSION);
    // The document side: taken from the first candidate, checked against every other.
    let fields: &[(String, FieldEvidence)] = candidates.first().map_or(&[], |c| &c.evidence.0);
    varint(&mut out, fields.len() as u64);
    for (name, entry) in fields {
        text(&mut out, name);
        text(&mut out, entry.strategy.as_str());
        optional(&mut out, entry.source_value.as_deref());
    }
    varint(&mut out, candidates.len() as u64);
    let mut previous: Vec<Option<&str>> = vec![None; fields.len()];
    for candidate in candidates {
        text(&mut out, &candidate.reference_row_id);
        number(&mut out, candidate.confidence);
        if candidate.evidence.len() != fields.len() {
            return None;
        }
        for (((name, entry), (first_name, first)), previous) in
            candidate.evidence.iter().zip(fields).zip(&mut previous)
        {
            if name != first_name
                || entry.strategy != first.strategy
                || entry.source_value != first.source_value
            {
                return None;
            }
            let flag = match (entry.missing, entry.unparsable) {
                (false, false) => FLAG_NONE,
                (true, false) => FLAG_MISSING,
                (false, true) => FLAG_UNPARSABLE,
                (true, true) => return None,
            };
            out.push(u8::from(entry.score.is_some()) | flag << 1);
            if let Some(score) = entry.score {
                number(&mut out, score);
            }
            let target = entry.target_value.as_deref();
            match target {
                None => varint(&mut out, 0),
                Some(t) if Some(t) == first.source_value.as_deref() => varint(&mut out, 1),
                Some(t) if Some(t) == *previous => varint(&mut out, 2),
                Some(t) => {
                    varint(&mut out, t.len() as u64 + 3);
                    out.extend_from_slice(t.as_bytes());
                }
            }
            *previous = target;
        }
    }
    Some(out)
}

/// The compact form of candidates stored as JSON text, only if it reads back as exactly
/// that text (an integer where the matcher writes floats, keys in another order or a key
/// it does not write: none of those is compacted). Migration 4 compacts old results so.
pub fn encode_text(candidates: &str) -> Option<Vec<u8>> {
    let typed: Vec<CandidateEvidence> = serde_json::from_str(candidates).ok()?;
    let bytes = encode(&typed)?;
    (render(&bytes).ok()?.candidates == candidates).then_some(bytes)
}

fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn text(out: &mut Vec<u8>, s: &str) {
    varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// A string or null.
fn optional(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => varint(out, 0),
        Some(s) => {
            varint(out, s.len() as u64 + 1);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// A float: ten-thousandths when that gives back the very same bits (not for -0.0, say),
/// else the f64 itself.
fn number(out: &mut Vec<u8>, x: f64) {
    let scaled = (x * 10_000.0).round();
    let k = scaled as u64;
    if (0.0..=u32::MAX as f64).contains(&scaled) && (k as f64 / 10_000.0).to_bits() == x.to_bits() {
        out.push(0);
        varint(out, k);
    } else {
        out.push(1);
        out.extend_from_slice(&x.to_le_bytes());
    }
}

/// The stored bytes could not be read back: a database written by something else.
#[derive(Debug, PartialEq, Eq)]
pub struct Corrupt;

/// A result's candidates as JSON text, and its first candidate's evidence.
#[derive(Debug)]
pub struct Rendered {
    pub candidates: String,
    pub first_evidence: Option<String>,
}

impl Rendered {
    pub fn first_evidence(&self) -> Option<&str> {
        self.first_evidence.as_deref()
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, Corrupt> {
        let (&b, rest) = self.bytes.split_first().ok_or(Corrupt)?;
        self.bytes = rest;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, Corrupt> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(Corrupt)
    }

    fn take(&mut self, len: u64) -> Result<&'a str, Corrupt> {
        let len = usize::try_from(len).map_err(|_| Corrupt)?;
        if len > self.bytes.len() {
            return Err(Corrupt);
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        std::str::from_utf8(head).map_err(|_| Corrupt)
    }

    fn text(&mut self) -> Result<&'a str, Corrupt> {
        let len = self.varint()?;
        self.take(len)
    }

    fn optional(&mut self) -> Result<Option<&'a str>, Corrupt> {
        match self.varint()? {
            0 => Ok(None),
            n => self.take(n - 1).map(Some),
        }
    }

    fn number(&mut self) -> Result<f64, Corrupt> {
        match self.byte()? {
            0 => Ok(self.varint()? as f64 / 10_000.0),
            1 => {
                let (head, rest) = self.bytes.split_first_chunk::<8>().ok_or(Corrupt)?;
                self.bytes = rest;
                Ok(f64::from_le_bytes(*head))
            }
            _ => Err(Corrupt),
        }
    }
}

/// Where a string of the blob is in `Compact::text`.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: u32,
    end: u32,
}

/// One field of the document side.
#[derive(Clone, Debug)]
struct Field {
    name: Span,
    strategy: Span,
    source: Option<Span>,
}

#[derive(Clone, Debug)]
struct Candidate {
    reference_row_id: Span,
    confidence: f64,
}

/// One field's evidence for one candidate.
#[derive(Clone, Debug)]
struct Entry {
    score: Option<f64>,
    target: Option<Span>,
    flag: u8,
}

/// Compact candidates read from the database: checked and taken apart once, so that
/// serialising them writes the JSON they stand for straight into the response, with no
/// text to build and parse again.
#[derive(Clone, Debug)]
pub struct Compact {
    /// Every string of the blob, one after the other; the spans point into it.
    text: String,
    fields: Vec<Field>,
    candidates: Vec<Candidate>,
    /// `candidates.len() * fields.len()`, candidate by candidate.
    entries: Vec<Entry>,
}

impl Compact {
    pub fn new(bytes: &[u8]) -> Result<Compact, Corrupt> {
        let mut r = Reader { bytes };
        if r.byte()? != VERSION {
            return Err(Corrupt);
        }
        let mut text = String::with_capacity(bytes.len());
        let mut span = |s: &str| -> Result<Span, Corrupt> {
            let start = u32::try_from(text.len()).map_err(|_| Corrupt)?;
            text.push_str(s);
            let end = u32::try_from(text.len()).map_err(|_| Corrupt)?;
            Ok(Span { start, end })
        };
        let field_count = r.varint()?;
        let mut fields = Vec::new();
        for _ in 0..field_count {
            fields.push(Field {
                name: span(r.text()?)?,
                strategy: span(r.text()?)?,
                source: r.optional()?.map(&mut span).transpose()?,
            });
        }
        let candidate_count = r.varint()?;
        let mut candidates = Vec::new();
        let mut entries: Vec<Entry> = Vec::new();
        for i in 0..candidate_count {
            candidates.push(Candidate {
                reference_row_id: span(r.text()?)?,
                confidence: r.number()?,
            });
            for field in &fields {
                let tag = r.byte()?;
                let score = if tag & 1 == 1 {
                    Some(r.number()?)
                } else {
                    None
                };
                let flag = tag >> 1;
                if flag > FLAG_UNPARSABLE {
                    return Err(Corrupt);
                }
                let target = match r.varint()? {
                    0 => None,
                    1 => Some(field.source.ok_or(Corrupt)?),
                    2 if i > 0 => entries[entries.len() - fields.len()].target,
                    2 => return Err(Corrupt),
                    n => Some(span(r.take(n - 3)?)?),
                };
                entries.push(Entry {
                    score,
                    target,
                    flag,
                });
            }
        }
        if !r.bytes.is_empty() {
            return Err(Corrupt);
        }
        Ok(Compact {
            text,
            fields,
            candidates,
            entries,
        })
    }

    fn str(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    /// The candidates array.
    pub fn candidates(&self) -> impl Serialize + '_ {
        CandidatesView(self)
    }

    /// The first candidate's evidence, the result's own unless a review or the resolver
    /// replaced it; None without candidates.
    pub fn first_evidence(&self) -> Option<impl Serialize + '_> {
        (!self.candidates.is_empty()).then_some(EvidenceView {
            compact: self,
            index: 0,
        })
    }

    /// Appends the candidates' JSON text to `out`: the same bytes as serialising
    /// `candidates()`, written by hand because run detail, the hottest read, is mostly
    /// this text. Each field's name, strategy and document value are escaped once for all
    /// candidates.
    pub fn write_candidates(&self, out: &mut Vec<u8>) {
        let heads = self.field_heads();
        out.push(b'[');
        for index in 0..self.candidates.len() {
            if index > 0 {
                out.push(b',');
            }
            let candidate = &self.candidates[index];
            out.extend_from_slice(b"{\"reference_row_id\":");
            push_str(out, self.str(candidate.reference_row_id));
            out.extend_from_slice(b",\"confidence\":");
            push_f64(out, candidate.confidence);
            out.extend_from_slice(b",\"evidence\":");
            self.write_evidence(index, &heads, out);
            out.push(b'}');
        }
        out.push(b']');
    }

    /// Appends the first candidate's evidence, or `null` without candidates.
    pub fn write_first_evidence(&self, out: &mut Vec<u8>) {
        if self.candidates.is_empty() {
            out.extend_from_slice(b"null");
        } else {
            self.write_evidence(0, &self.field_heads(), out);
        }
    }

    /// Per field: `"name":{"strategy":"..","score":` and `,"source_value":..,"target_value":`.
    fn field_heads(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.fields
            .iter()
            .enumerate()
            .map(|(i, field)| {
                let mut head = Vec::with_capacity(48);
                if i > 0 {
                    head.push(b',');
                }
                push_str(&mut head, self.str(field.name));
                head.extend_from_slice(b":{\"strategy\":");
                push_str(&mut head, self.str(field.strategy));
                head.extend_from_slice(b",\"score\":");
                let mut middle = b",\"source_value\":".to_vec();
                push_opt(&mut middle, field.source.map(|s| self.str(s)));
                middle.extend_from_slice(b",\"target_value\":");
                (head, middle)
            })
            .collect()
    }

    fn write_evidence(&self, index: usize, heads: &[(Vec<u8>, Vec<u8>)], out: &mut Vec<u8>) {
        let n = self.fields.len();
        let entries = self
            .entries
            .get(index * n..(index + 1) * n)
            .unwrap_or_default();
        out.push(b'{');
        for ((head, middle), entry) in heads.iter().zip(entries) {
            out.extend_from_slice(head);
            match entry.score {
                Some(score) => push_f64(out, score),
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(middle);
            push_opt(out, entry.target.map(|s| self.str(s)));
            match entry.flag {
                FLAG_MISSING => out.extend_from_slice(b",\"missing\":true"),
                FLAG_UNPARSABLE => out.extend_from_slice(b",\"unparsable\":true"),
                _ => {}
            }
            out.push(b'}');
        }
        out.push(b'}');
    }

    pub fn render(&self) -> Rendered {
        // Serialising into a String does not fail.
        Rendered {
            candidates: serde_json::to_string(&self.candidates()).unwrap_or_default(),
            first_evidence: self
                .first_evidence()
                .and_then(|e| serde_json::to_string(&e).ok()),
        }
    }
}

/// Appends `s` as serde_json writes a string.
fn push_str(out: &mut Vec<u8>, s: &str) {
    // Writing into a Vec does not fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn push_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => push_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends `x` as serde_json writes an f64.
fn push_f64(out: &mut Vec<u8>, x: f64) {
    let _ = serde_json::to_writer(&mut *out, &x);
}

/// The JSON text of stored compact candidates, exactly as `serde_json` wrote the value.
pub fn render(bytes: &[u8]) -> Result<Rendered, Corrupt> {
    Ok(Compact::new(bytes)?.render())
}

struct CandidatesView<'a>(&'a Compact);
struct CandidateView<'a> {
    compact: &'a Compact,
    index: usize,
}
struct EvidenceView<'a> {
    compact: &'a Compact,
    index: usize,
}
struct EntryView<'a> {
    compact: &'a Compact,
    field: &'a Field,
    entry: &'a Entry,
}

impl Serialize for CandidatesView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let compact = self.0;
        let mut seq = serializer.serialize_seq(Some(compact.candidates.len()))?;
        for index in 0..compact.candidates.len() {
            seq.serialize_element(&CandidateView { compact, index })?;
        }
        seq.end()
    }
}

impl Serialize for CandidateView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let candidate = &self.compact.candidates[self.index];
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry(
            CANDIDATE_KEYS[0],
            self.compact.str(candidate.reference_row_id),
        )?;
        map.serialize_entry(CANDIDATE_KEYS[1], &candidate.confidence)?;
        map.serialize_entry(
            CANDIDATE_KEYS[2],
            &EvidenceView {
                compact: self.compact,
                index: self.index,
            },
        )?;
        map.end()
    }
}

impl Serialize for EvidenceView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let compact = self.compact;
        let fields = &compact.fields;
        let entries = compact
            .entries
            .get(self.index * fields.len()..(self.index + 1) * fields.len())
            .unwrap_or_default();
        let mut map = serializer.serialize_map(Some(fields.len()))?;
        for (field, entry) in fields.iter().zip(entries) {
            map.serialize_entry(
                compact.str(field.name),
                &EntryView {
                    compact,
                    field,
                    entry,
                },
            )?;
        }
        map.end()
    }
}

impl Serialize for EntryView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let c = self.compact;
        let flag = self.entry.flag;
        let mut map = serializer.serialize_map(Some(4 + usize::from(flag != FLAG_NONE)))?;
        map.serialize_entry(ENTRY_KEYS[0], c.str(self.field.strategy))?;
        map.serialize_entry(ENTRY_KEYS[1], &self.entry.score)?;
        map.serialize_entry(ENTRY_KEYS[2], &self.field.source.map(|s| c.str(s)))?;
        map.serialize_entry(ENTRY_KEYS[3], &self.entry.target.map(|s| c.str(s)))?;
        match flag {
            FLAG_MISSING => map.serialize_entry("missing", &true)?,
            FLAG_UNPARSABLE => map.serialize_entry("unparsable", &true)?,
            _ => {}
        }
        map.end()
    }
}

/// Stored JSON as a result row carries it: text as stored, or a view of compact candidates.
#[derive(Clone, Debug)]
pub enum StoredJson {
    Text(Box<RawValue>),
    Candidates(Arc<Compact>),
    FirstEvidence(Arc<Compact>),
}

impl StoredJson {
    /// Appends the JSON text, the same bytes as serialising it.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            StoredJson::Text(raw) => out.extend_from_slice(raw.get().as_bytes()),
            StoredJson::Candidates(compact) => compact.write_candidates(out),
            StoredJson::FirstEvidence(compact) => compact.write_first_evidence(out),
        }
    }
}

impl Serialize for StoredJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            StoredJson::Text(raw) => raw.serialize(serializer),
            StoredJson::Candidates(compact) => compact.candidates().serialize(serializer),
            StoredJson::FirstEvidence(compact) => match compact.first_evidence() {
                Some(evidence) => evidence.serialize(serializer),
                None => serializer.serialize_none(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

    fn typed(value: &Value) -> Vec<CandidateEvidence> {
        serde_json::from_value(value.clone()).expect("the matcher's shape")
    }

    fn entry(strategy: &str, score: Value, source: Value, target: Value, flag: u8) -> Value {
        let mut e = Map::new();
        e.insert("strategy".into(), json!(strategy));
        e.insert("score".into(), score);
        e.insert("source_value".into(), source);
        e.insert("target_value".into(), target);
        match flag {
            1 => {
                e.insert("missing".into(), json!(true));
            }
            2 => {
                e.insert("unparsable".into(), json!(true));
            }
            _ => {}
        }
        Value::Object(e)
    }

    fn round_trip(value: &Value) -> String {
        let bytes = encode(&typed(value)).expect("compact");
        let rendered = render(&bytes).expect("renders");
        let text = value.to_string();
        assert_eq!(rendered.candidates, text);
        let first = value
            .get(0)
            .and_then(|c| c.get("evidence"))
            .map(Value::to_string);
        assert_eq!(rendered.first_evidence().map(str::to_string), first);
        rendered.candidates
    }

    #[test]
    fn the_matchers_shape_round_trips_and_is_smaller() {
        let candidates = json!([
            {"reference_row_id": "INV-1", "confidence": 0.9312, "evidence": {
                "vendor": entry("fuzzy", json!(0.87), json!("Acmé \"Corp\"\n"), json!("ACME CORP"), 0),
                "amount": entry("numeric_range", json!(1.0), json!("1,200.00"), json!("1200"), 0),
                "date": entry("date_range", Value::Null, Value::Null, json!("2024-01-02"), 1),
                "po": entry("exact", json!(0.0), json!("x"), Value::Null, 2),
            }},
            {"reference_row_id": "INV-2", "confidence": 0.1, "evidence": {
                "vendor": entry("fuzzy", json!(0.123456789), json!("Acmé \"Corp\"\n"), json!("B"), 0),
                "amount": entry("numeric_range", json!(1e-7), json!("1,200.00"), json!("7"), 0),
                "date": entry("date_range", Value::Null, Value::Null, json!("2024-01-09"), 1),
                "po": entry("exact", json!(0.0), json!("x"), Value::Null, 2),
            }},
        ]);
        let text = round_trip(&candidates);
        let bytes = encode(&typed(&candidates)).unwrap();
        assert!(
            bytes.len() * 2 < text.len(),
            "{} vs {}",
            bytes.len(),
            text.len()
        );
        round_trip(&json!([]));
    }

    #[test]
    fn shapes_it_cannot_hold_exactly_stay_json() {
        let base =
            |e: Value| json!([{"reference_row_id": "r", "confidence": 0.5, "evidence": {"f": e}}]);
        let ok = entry("exact", json!(1.0), json!("a"), json!("a"), 0);
        assert!(encode_text(&base(ok.clone()).to_string()).is_some());
        // Stored text with an integer where the matcher writes floats, a key out of order,
        // an extra key, a non-array: none is compacted, as none would read back the same.
        let integer = entry("exact", json!(1), json!("a"), json!("a"), 0);
        let mut reordered = Map::new();
        reordered.insert("score".into(), json!(1.0));
        reordered.insert("strategy".into(), json!("exact"));
        reordered.insert("source_value".into(), json!("a"));
        reordered.insert("target_value".into(), json!("a"));
        let mut extra = ok.as_object().unwrap().clone();
        extra.insert("note".into(), json!("x"));
        for bad in [integer, Value::Object(reordered), Value::Object(extra)] {
            assert_eq!(encode_text(&base(bad).to_string()), None);
        }
        assert_eq!(encode_text(&json!({"a": 1}).to_string()), None);
        // Candidates that disagree on the document's side are kept as JSON.
        let two = json!([
            {"reference_row_id": "r", "confidence": 0.5, "evidence": {"f": ok}},
            {"reference_row_id": "s", "confidence": 0.4, "evidence": {"f": entry("exact", json!(1.0), json!("b"), json!("a"), 0)}},
        ]);
        assert_eq!(encode(&typed(&two)), None);
        let detail = StoredDetail::from_candidates(&typed(&two));
        assert_eq!(detail.candidates, StoredCandidates::Json(two.to_string()));
        assert_eq!(detail.evidence, Some(two[0]["evidence"].to_string()));
    }

    #[test]
    fn corrupt_bytes_are_an_error_not_a_panic() {
        let bytes = encode(&typed(
            &json!([{"reference_row_id": "r", "confidence": 0.5, "evidence": {
            "f": entry("exact", json!(1.0), json!("a"), json!("b"), 0)}}]),
        ))
        .unwrap();
        for len in 0..bytes.len() {
            assert_eq!(render(&bytes[..len]).err(), Some(Corrupt), "prefix {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(render(&longer).err(), Some(Corrupt));
        assert_eq!(render(&[2]).err(), Some(Corrupt));
    }

    fn float() -> impl Strategy<Value = f64> {
        prop_oneof![
            (0u32..=10_000).prop_map(|k| f64::from(k) / 10_000.0),
            any::<f64>().prop_filter("finite", |x| x.is_finite()),
            Just(0.0),
            Just(-0.0),
        ]
    }

    fn strategy() -> impl Strategy<Value = &'static str> {
        proptest::sample::select(vec![
            "exact",
            "fuzzy",
            "date_range",
            "numeric_range",
            "identifier",
        ])
    }

    fn text_or_null() -> impl Strategy<Value = Value> {
        // A small alphabet too, so that reference values equal the document's or the
        // previous candidate's as they often do.
        prop_oneof![
            Just(Value::Null),
            "[ab]{0,2}".prop_map(Value::String),
            any::<String>().prop_map(Value::String),
        ]
    }

    proptest! {
        /// Whatever the matcher could write, stored compact, reads back as the same text.
        #[test]
        fn compact_candidates_read_back_as_the_same_json(
            fields in proptest::collection::vec((any::<String>(), strategy(), text_or_null()), 0..6),
            candidates in proptest::collection::vec(
                (any::<String>(), float(), proptest::collection::vec(
                    (proptest::option::of(float()), text_or_null(), 0u8..3), 6)),
                0..6),
        ) {
            // Field names are keys: later duplicates would collapse in the map.
            let mut seen = std::collections::HashSet::new();
            let fields: Vec<_> = fields.into_iter().filter(|f| seen.insert(f.0.clone())).collect();
            let value = Value::Array(candidates.iter().map(|(id, confidence, per_field)| {
                let mut evidence = Map::new();
                for ((name, strategy, source), (score, target, flag)) in fields.iter().zip(per_field) {
                    let score = score.map_or(Value::Null, |s| json!(s));
                    evidence.insert(name.clone(), entry(strategy, score, source.clone(), target.clone(), *flag));
                }
                json!({"reference_row_id": id, "confidence": confidence, "evidence": evidence})
            }).collect());
            let bytes = encode(&typed(&value));
            prop_assert!(bytes.is_some());
            let bytes = bytes.unwrap_or_default();
            let rendered = render(&bytes).map_err(|_| TestCaseError::fail("corrupt"))?;
            prop_assert_eq!(&rendered.candidates, &value.to_string());
            let first = value.get(0).and_then(|c| c.get("evidence")).map(Value::to_string);
            prop_assert_eq!(rendered.first_evidence().map(str::to_string), first.clone());
            // Run detail's hand-written path gives the same bytes.
            let compact = Compact::new(&bytes).map_err(|_| TestCaseError::fail("corrupt"))?;
            let mut by_hand = Vec::new();
            compact.write_candidates(&mut by_hand);
            prop_assert_eq!(String::from_utf8(by_hand).ok(), Some(value.to_string()));
            let mut by_hand = Vec::new();
            compact.write_first_evidence(&mut by_hand);
            let first = first.unwrap_or_else(|| "null".into());
            prop_assert_eq!(String::from_utf8(by_hand).ok(), Some(first));
        }
    }
}
