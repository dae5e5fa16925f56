//! `identifier`: invoice, order and reference numbers, scored as docs/CONTRACT.md (Scoring)
//! says. Case and separators are ignored and OCR look-alikes folded (O/0, I/l/1, Z/2, S/5,
//! G/6, B/8). 1.0 when equal; 0.9 when equal after one side drops a leading letters-only
//! prefix (`INV-2023-0042` vs `2023-0042`); else `1 - d / longest`, where `d` is the
//! optimal-string-alignment distance (an adjacent transposition is one edit), when `d <= 2`
//! and that leaves at least 0.5; else 0. Extracted numbers carry OCR misreads, so one wrong
//! digit lowers the score instead of zeroing it; the neighbouring number of the same vendor
//! is told apart by the other fields. When the prefix rule and the edit rule both apply (a
//! dropped one-letter prefix of a long number is also one edit), the higher score counts:
//! the score stays symmetric and never falls because one more rule applies. The rules do
//! not compose: a dropped prefix plus an edit is scored by the edit rule alone.
//!
//! Index: keys of which every pair scoring above 0 shares one, so walking the document's keys
//! finds every row a full scan would score above 0. A row is keyed by its folded form and its
//! form without prefix (equal and prefix-dropped pairs), and by a few keys that survive up to
//! two edits: a value of at most `SHORT` characters by its deletion neighbourhood (every
//! string left after deleting up to two characters; two values within two edits always meet
//! there), a longer one by its three segments (PassJoin), each keyed by the value's length,
//! the segment's index and its text. Two edits leave one segment intact, shifted by at most
//! two places, unless an adjacent transposition straddles a segment boundary and breaks both
//! segments beside it; the document therefore also probes, once per boundary, the segment
//! right of it with that boundary's pair swapped back. `probe_keys` gives the proof case by
//! case. Depends on text normalisation, the shared posting lists and `fuzzy`'s bounded
//! edit distance; nothing else.

use std::cell::RefCell;
use std::hash::Hasher;

use rustc_hash::FxHasher;

use super::fuzzy::{osa_within, BytePattern};
use super::index::{posting_cap, Accumulator, Postings, PREFETCH};
use super::snapshot::{Decoded, Encode, Reader, Refused, Writer};
use super::{FieldScore, Parsed, StrColumn};

/// Most edits a pair may be apart and still score.
const MAX_EDITS: usize = 2;
/// Score of a pair that is equal once one side drops its letters-only prefix.
const PREFIX_DROPPED: f64 = 0.9;
/// Longest row value keyed by its deletion neighbourhood (at most 16 keys); longer values
/// are keyed by three segments of at least two characters each.
const SHORT: usize = 5;

/// An identifier in the forms the rules compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folded {
    /// Upper case, separators dropped, look-alikes folded to digits.
    full: String,
    /// Bytes of `full` taken by a leading letters-only prefix, 0 when there is none.
    prefix: usize,
}

/// A borrowed `Folded`, as stored in a column.
#[derive(Clone, Copy, Debug)]
struct FoldedRef<'a> {
    full: &'a str,
    prefix: usize,
}

impl Folded {
    fn as_ref(&self) -> FoldedRef<'_> {
        FoldedRef {
            full: &self.full,
            prefix: self.prefix,
        }
    }
}

impl<'a> FoldedRef<'a> {
    /// `full` without the leading letters-only prefix, when there was one.
    fn without_prefix(&self) -> Option<&'a str> {
        (self.prefix > 0)
            .then(|| self.full.get(self.prefix..))
            .flatten()
    }
}

fn fold_char(c: char) -> char {
    match c {
        'O' => '0',
        'I' | 'L' => '1',
        'Z' => '2',
        'S' => '5',
        'G' => '6',
        'B' => '8',
        _ => c,
    }
}

/// Folds an identifier; `None` when it has no letter or digit.
pub fn fold(raw: &str) -> Option<Folded> {
    let compact: Vec<char> = crate::parse::normalize_text(raw)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect();
    if compact.is_empty() {
        return None;
    }
    // The prefix is read before folding: `INV` is a prefix, although it folds to `1NV`.
    let letters = compact.iter().take_while(|c| c.is_alphabetic()).count();
    // Folding maps each character to one of the same width, so byte offsets carry over.
    let prefix = if letters < compact.len() {
        compact[..letters].iter().map(|c| c.len_utf8()).sum()
    } else {
        0
    };
    Some(Folded {
        full: compact.into_iter().map(fold_char).collect(),
        prefix,
    })
}

/// The identifier score of two folded values.
pub fn identifier_score(a: &Folded, b: &Folded) -> f64 {
    score_refs(a.as_ref(), b.as_ref())
}

fn score_refs(a: FoldedRef, b: FoldedRef) -> f64 {
    score_with(a, None, b)
}

/// `score_refs` where `pattern`, when given, is `a`'s value prepared for the edit
/// distance (a walk scores many rows against one document value).
fn score_with(a: FoldedRef, pattern: Option<&BytePattern>, b: FoldedRef) -> f64 {
    if a.full == b.full {
        return 1.0;
    }
    let dropped = a.without_prefix() == Some(b.full) || b.without_prefix() == Some(a.full);
    let prefix = if dropped { PREFIX_DROPPED } else { 0.0 };
    prefix.max(edit_score(a.full, b.full, pattern))
}

/// Reusable rows of the edit-distance table: scoring runs once per credited row.
#[derive(Default)]
struct OsaScratch {
    rows: [Vec<usize>; 3],
    a: Vec<char>,
    b: Vec<char>,
}

thread_local! {
    static OSA: RefCell<OsaScratch> = RefCell::default();
}

/// `1 - d / longest` for two different folded values whose optimal-string-alignment
/// distance `d` is at most 2 and at most half the longer one (so the score is at least
/// 0.5); else 0. `pattern`, when given, is `a` prepared (`BytePattern::new`).
fn edit_score(a: &str, b: &str, pattern: Option<&BytePattern>) -> f64 {
    // The table's scratch only for what the prepared pattern cannot answer.
    let (distance, longest) = if a.is_ascii() && b.is_ascii() {
        let longest = a.len().max(b.len());
        let max = MAX_EDITS.min(longest / 2);
        let d = match pattern {
            Some(p) => (a.len().abs_diff(b.len()) <= max)
                .then(|| p.distance(b.as_bytes()))
                .filter(|&d| d <= max),
            None => {
                OSA.with_borrow_mut(|s| osa_within(a.as_bytes(), b.as_bytes(), max, &mut s.rows))
            }
        };
        (d, longest)
    } else {
        OSA.with_borrow_mut(|s| {
            s.a.clear();
            s.a.extend(a.chars());
            s.b.clear();
            s.b.extend(b.chars());
            let longest = s.a.len().max(s.b.len());
            let max = MAX_EDITS.min(longest / 2);
            (osa_within(&s.a, &s.b, max, &mut s.rows), longest)
        })
    };
    match distance {
        Some(d) if d > 0 => 1.0 - d as f64 / longest as f64,
        _ => 0.0,
    }
}

/// The most the edit rule can give two different values of `a` and `b` characters: at
/// least `max(1, |a - b|)` edits apart. 0 when no such pair scores.
fn edit_bound(a: usize, b: usize) -> f32 {
    edit_bound_from(a, b, 1)
}

/// `edit_bound` for values known to be at least `least` edits apart.
fn edit_bound_from(a: usize, b: usize, least: usize) -> f32 {
    let (d, longest) = (a.abs_diff(b).max(least), a.max(b));
    if d > MAX_EDITS || 2 * d > longest {
        0.0
    } else {
        (1.0 - d as f64 / longest as f64) as f32
    }
}

const FULL: u8 = b'F';
const SEGMENT: u8 = b'S';
const DELETION: u8 = b'D';

/// Hashes a key: its kind, the row length and segment index it is about (0 where the kind
/// has none) and its text. A collision only proposes an extra row, never changes a score.
fn key(kind: u8, length: usize, part: usize, chars: impl Iterator<Item = char>) -> u64 {
    let mut h = FxHasher::default();
    h.write_u8(kind);
    h.write_u32(length as u32);
    h.write_u8(part as u8);
    for c in chars {
        h.write_u32(c as u32);
    }
    h.finish()
}

/// Start and length of the three segments of a value of `length > SHORT` characters; the
/// longer segments come last, where the distinctive digits of a number usually are.
fn segments(length: usize) -> [(usize, usize); 3] {
    let (base, extra) = (length / 3, length % 3);
    let lengths = [
        base,
        base + usize::from(extra >= 2),
        base + usize::from(extra >= 1),
    ];
    [
        (0, lengths[0]),
        (lengths[0], lengths[1]),
        (lengths[0] + lengths[1], lengths[2]),
    ]
}

/// Calls `visit` with every non-empty string of at most `longest` characters left after
/// deleting up to two characters of `chars` (with repeats when letters repeat).
fn deletions(chars: &[char], longest: usize, mut visit: impl FnMut(&[char])) {
    let n = chars.len();
    if n <= longest {
        visit(chars);
    }
    let mut buf = Vec::with_capacity(n);
    for i in 0..n {
        if n > 1 && n - 1 <= longest {
            buf.clear();
            buf.extend(chars[..i].iter().chain(&chars[i + 1..]));
            visit(&buf);
        }
        if n > 2 && n - 2 <= longest {
            for j in i + 1..n {
                buf.clear();
                buf.extend(
                    chars[..i]
                        .iter()
                        .chain(&chars[i + 1..j])
                        .chain(&chars[j + 1..]),
                );
                visit(&buf);
            }
        }
    }
}

/// The keys a reference row is listed under: its folded form and its form without prefix,
/// then its deletion neighbourhood when it is short, else its three segments.
fn row_keys(f: FoldedRef, chars: &mut Vec<char>, out: &mut Vec<u64>) {
    out.push(key(FULL, 0, 0, f.full.chars()));
    if let Some(w) = f.without_prefix() {
        out.push(key(FULL, 0, 0, w.chars()));
    }
    chars.clear();
    chars.extend(f.full.chars());
    let n = chars.len();
    if n <= SHORT {
        deletions(chars, SHORT, |c| {
            out.push(key(DELETION, 0, 0, c.iter().copied()));
        });
    } else {
        for (part, (start, len)) in segments(n).into_iter().enumerate() {
            out.push(key(
                SEGMENT,
                n,
                part,
                chars[start..start + len].iter().copied(),
            ));
        }
    }
}

/// A key a document probes.
#[derive(Clone, Copy, Debug)]
struct ProbeKey {
    key: u64,
    /// The most a row found only through this key can score (the residual when its list
    /// is too long to walk).
    bound: f32,
    /// For a segment key, the row length and the segment it is about (see `Unwalked`).
    segment: Option<(usize, usize)>,
    /// Where the key's rows lie in the postings' entries (`prepare` looks each key up
    /// once for every step).
    span: (u32, u32),
}

impl ProbeKey {
    fn span(&self) -> std::ops::Range<usize> {
        self.span.0 as usize..self.span.1 as usize
    }

    /// How many rows share the key.
    fn rows(&self) -> usize {
        self.span().len()
    }
}

/// The document's keys not walked (`add`ed one by one), for the most a row sharing none of
/// the walked keys can score (`bound`): the best of their bounds, except that a row of more
/// than `SHORT` characters one edit away shares keys of two different segments of its
/// length with the document (`probe_keys`: one edit touches one segment, or two beside a
/// boundary, and then the right one is probed with the pair swapped back). So where the
/// unwalked keys of a row length cover one segment, a row of that length found by no
/// walked key is at least two edits away.
struct Unwalked {
    /// The document's length.
    n: usize,
    /// The best bound of unwalked keys that are not segment keys.
    other: f32,
    /// Per row length `n - MAX_EDITS ..= n + MAX_EDITS`, the segments with unwalked keys.
    parts: [u8; 2 * MAX_EDITS + 1],
}

impl Unwalked {
    fn new(n: usize) -> Unwalked {
        Unwalked {
            n,
            other: 0.0,
            parts: [0; 2 * MAX_EDITS + 1],
        }
    }

    fn add(&mut self, k: &ProbeKey) {
        match k.segment {
            Some((m, part)) if m.abs_diff(self.n) <= MAX_EDITS && part < 8 => {
                self.parts[m + MAX_EDITS - self.n] |= 1 << part;
            }
            _ => self.other = self.other.max(k.bound),
        }
    }

    fn bound(&self) -> f32 {
        let n = self.n;
        self.parts
            .iter()
            .enumerate()
            .filter(|&(_, &covered)| covered != 0)
            .map(|(i, covered)| {
                let least = if covered.count_ones() >= 2 { 1 } else { 2 };
                edit_bound_from(n + i - MAX_EDITS, n, least)
            })
            .fold(self.other, f32::max)
    }
}

/// The keys a document probes, each with the most a row found only through it can score
/// (the residual when its list is too long to walk), best first.
///
/// Why every row scoring above 0 shares one (`q` the document, `n` its length, `r` a row,
/// `m` its length): equal pairs share the folded form, prefix-dropped pairs the form
/// without prefix. Otherwise `r` and `q` are `d <= 2` edits apart in one optimal alignment
/// (substitutions, insertions, deletions and transpositions of adjacent characters, no
/// character edited twice), and `|n - m| <= d`.
/// - `m <= SHORT`: apply each edit as deletions, a substitution as one deletion on each
///   side, an insertion as one in `q`, a deletion as one in `r`, a transposition as one on
///   each side (drop the same letter). Each side loses at most two characters and what is
///   left is equal, so `q`'s deletion neighbourhood meets `r`'s.
/// - `m > SHORT`, at most two of `r`'s segments touched by an edit (an insertion between two
///   segments touches neither): an untouched segment appears in `q` intact, moved by `s`,
///   the insertions minus the deletions before it; with `D = n - m` the moves after it add
///   up to `D - s`, so `|s| + |D - s| <= 2`. The document probes every segment of every
///   length `n - 2 ..= n + 2` at every such shift.
/// - `m > SHORT`, all three segments touched: two edits touch three segments only when one
///   is a transposition across a boundary (it touches the segments on both sides) and the
///   other touches the third segment or is the transposition across the other boundary.
///   Undo the transposition across boundary `b` (across the second boundary when there are
///   two): the segment right of `b` is then intact in `q`, moved by `s`, which is `D` when
///   the other edit lies before it and 0 when it lies after it (a transposition moves
///   nothing). So the document swaps back its pair at `b - 1 + s, b + s` for `s` in
///   `{0, D}` (`|D| <= 1` here) and probes that segment at shift `s`.
fn probe_keys(f: FoldedRef) -> Vec<ProbeKey> {
    let plain = |key, bound| ProbeKey {
        key,
        bound,
        segment: None,
        span: (0, 0),
    };
    let mut keys = vec![plain(key(FULL, 0, 0, f.full.chars()), 1.0)];
    if let Some(w) = f.without_prefix() {
        keys.push(plain(key(FULL, 0, 0, w.chars()), 1.0));
    }
    let mut q: Vec<char> = f.full.chars().collect();
    let n = q.len();
    if n <= SHORT + MAX_EDITS {
        deletions(&q, SHORT, |c| {
            let bound = (c.len()..=(c.len() + MAX_EDITS).min(SHORT))
                .map(|m| edit_bound(m, n))
                .fold(0.0, f32::max);
            if bound > 0.0 {
                keys.push(plain(key(DELETION, 0, 0, c.iter().copied()), bound));
            }
        });
    }
    let edits = MAX_EDITS as isize;
    for m in n.saturating_sub(MAX_EDITS).max(SHORT + 1)..=n + MAX_EDITS {
        let bound = edit_bound(m, n);
        if bound == 0.0 {
            continue;
        }
        let delta = n as isize - m as isize;
        let parts = segments(m);
        for (part, &(start, len)) in parts.iter().enumerate() {
            for shift in -edits..=edits {
                if shift.abs() + (delta - shift).abs() > edits {
                    continue;
                }
                let at = start as isize + shift;
                if at < 0 || at as usize + len > n {
                    continue;
                }
                let text = &q[at as usize..at as usize + len];
                keys.push(ProbeKey {
                    key: key(SEGMENT, m, part, text.iter().copied()),
                    bound,
                    segment: Some((m, part)),
                    span: (0, 0),
                });
            }
        }
        if delta.abs() > 1 {
            continue;
        }
        let shifts: &[isize] = if delta == 0 { &[0] } else { &[0, delta] };
        for (part, &(start, len)) in parts.iter().enumerate().skip(1) {
            for &shift in shifts {
                let at = start as isize + shift;
                if at < 1 || at as usize + len > n {
                    continue;
                }
                let at = at as usize;
                if q[at - 1] == q[at] {
                    continue;
                }
                q.swap(at - 1, at);
                keys.push(ProbeKey {
                    key: key(SEGMENT, m, part, q[at..at + len].iter().copied()),
                    bound,
                    segment: Some((m, part)),
                    span: (0, 0),
                });
                q.swap(at - 1, at);
            }
        }
    }
    // A key may come up more than once (from several shifts); all its bounds and segments
    // are equal unless two kinds collide, and then the higher bound without a segment is
    // safe.
    keys.sort_unstable_by(|a, b| a.key.cmp(&b.key).then(b.bound.total_cmp(&a.bound)));
    keys.dedup_by(|dup, kept| {
        if dup.key != kept.key {
            return false;
        }
        if dup.segment != kept.segment {
            kept.segment = None;
        }
        true
    });
    keys.sort_by(|a, b| b.bound.total_cmp(&a.bound).then(a.key.cmp(&b.key)));
    keys
}

/// The `sketch` of each posting entry's row, 0 for a missing value.
fn sketches(full: &StrColumn, postings: &Postings<u64>) -> Vec<u64> {
    let by_row: Vec<u64> = (0..full.len())
        .map(|row| {
            let value = full.get(row);
            if value.is_empty() {
                0
            } else {
                sketch(value)
            }
        })
        .collect();
    postings
        .entries()
        .iter()
        .map(|&row| by_row.get(row as usize).copied().unwrap_or(0))
        .collect()
}

/// Rows a partial key may hold and still be walked (see `IdentifierColumn::cap_of`).
const PARTIAL_CAP: usize = 1_024;

/// Character buckets of a sketch: one per digit, three for letters, one for the rest.
const BUCKETS: usize = 14;
/// Bits a sketch spends per bucket count (saturating at 15).
const COUNT_BITS: u32 = 4;

/// A row's folded value in 64 bits, to rule out a row two edits away without reading the
/// value: how many characters fall in each of `BUCKETS` buckets (saturating at 15) and the
/// length in characters (saturating at 255, the top byte).
///
/// Why it never rules out a row that scores by edits: a substitution changes two bucket
/// counts by one (or none, inside one bucket), an insertion or deletion one count and the
/// length by one, a transposition nothing. So values `d` edits apart have lengths at most
/// `d` apart and bucket counts whose absolute differences sum to at most `2d`; capping a
/// count at 15 only shrinks a difference.
fn sketch(full: &str) -> u64 {
    let mut counts = [0u8; BUCKETS];
    let mut length = 0usize;
    for c in full.chars() {
        length += 1;
        let bucket = match c {
            '0'..='9' => c as usize - '0' as usize,
            'A'..='Z' => 10 + (c as usize - 'A' as usize) % 3,
            _ => BUCKETS - 1,
        };
        counts[bucket] = counts[bucket].saturating_add(1);
    }
    let mut sketch = (length.min(255) as u64) << 56;
    for (i, &n) in counts.iter().enumerate() {
        sketch |= u64::from(n.min(15)) << (i as u32 * COUNT_BITS);
    }
    sketch
}

/// Whether two values with these sketches may be at most `MAX_EDITS` edits apart and at
/// most half the longer one (what `edit_score` needs to score above 0).
fn may_be_close(a: u64, b: u64) -> bool {
    let (la, lb) = ((a >> 56) as usize, (b >> 56) as usize);
    if la == 255 || lb == 255 {
        return true;
    }
    let edits = MAX_EDITS.min(la.max(lb) / 2);
    if la.abs_diff(lb) > edits {
        return false;
    }
    let apart = count_distance(a, b);
    apart <= 2 * edits
}

/// The sum over buckets of the absolute differences of two sketches' counts, without a
/// loop: the counts are split into two sets of seven bytes (even and odd buckets), each
/// byte's difference taken with a bias bit that keeps a borrow inside its byte, and the
/// bytes summed by one multiplication.
fn count_distance(a: u64, b: u64) -> usize {
    const LOW: u64 = 0x000F_0F0F_0F0F_0F0F;
    const BIAS: u64 = 0x0080_8080_8080_8080;
    fn half(x: u64, y: u64) -> u64 {
        // Per byte 128 + x - y and 128 + y - x: each in 113..=143, no borrow between bytes.
        let (t, u) = ((x | BIAS) - y, (y | BIAS) - x);
        let x_not_below = ((t & BIAS) >> 7) * 0xFF;
        let apart = ((t ^ BIAS) & x_not_below) | ((u ^ BIAS) & !x_not_below);
        // Seven bytes of at most 15 each: their sum fits the top byte of the product.
        apart.wrapping_mul(0x0101_0101_0101_0101) >> 56
    }
    (half(a & LOW, b & LOW) + half((a >> 4) & LOW, (b >> 4) & LOW)) as usize
}

pub struct IdentifierColumn {
    /// Folded values; an empty one is missing.
    full: StrColumn,
    prefix: Vec<u32>,
    /// The `sketch` of the row of each posting entry (0 when missing), in the postings'
    /// order: a partial key's walk reads its rows' sketches in one run instead of each
    /// row's value somewhere in the table.
    sketches: Vec<u64>,
    postings: Postings<u64>,
    cap: usize,
}

pub struct IdentifierProbe {
    value: Parsed<(Folded, Vec<ProbeKey>)>,
    /// The document value's `sketch`.
    sketch: u64,
}

impl IdentifierColumn {
    pub fn build<'a>(values: impl Iterator<Item = &'a str>) -> Self {
        let mut full = StrColumn::default();
        let mut prefix = Vec::new();
        let mut pairs = Vec::new();
        let (mut chars, mut keys) = (Vec::new(), Vec::new());
        for (row, raw) in values.enumerate() {
            match fold(raw) {
                Some(f) => {
                    keys.clear();
                    row_keys(f.as_ref(), &mut chars, &mut keys);
                    keys.sort_unstable();
                    keys.dedup();
                    pairs.extend(keys.iter().map(|&k| (k, row as u32)));
                    full.push(&f.full);
                    prefix.push(f.prefix as u32);
                }
                None => {
                    full.push("");
                    prefix.push(0);
                }
            }
        }
        let cap = posting_cap(full.len());
        let postings = Postings::build(pairs);
        IdentifierColumn {
            sketches: sketches(&full, &postings),
            full,
            prefix,
            postings,
            cap,
        }
    }

    pub fn encode(&self, w: &mut Writer) {
        self.full.encode(w);
        self.prefix.encode(w);
        self.postings.encode(w);
    }

    pub fn decode(r: &mut Reader, rows: usize) -> Decoded<Self> {
        let full: StrColumn = r.get()?;
        let prefix: Vec<u32> = r.get()?;
        let postings = Postings::<u64>::decode(r, rows)?;
        if full.len() != rows || prefix.len() != rows {
            return Err(Refused("is corrupt (a column of another length)".into()));
        }
        Ok(IdentifierColumn {
            sketches: sketches(&full, &postings),
            full,
            prefix,
            postings,
            cap: posting_cap(rows),
        })
    }

    fn get(&self, row: u32) -> Option<FoldedRef<'_>> {
        let full = self.full.get(row as usize);
        (!full.is_empty()).then(|| FoldedRef {
            full,
            prefix: self.prefix.get(row as usize).copied().unwrap_or(0) as usize,
        })
    }

    pub fn prepare(&self, raw: Option<&str>) -> IdentifierProbe {
        let (value, sketch) = match raw.and_then(fold) {
            Some(f) => {
                let mut keys = probe_keys(f.as_ref());
                for k in &mut keys {
                    let span = self.postings.span(&k.key);
                    k.span = (span.start as u32, span.end as u32);
                }
                let sketch = sketch(&f.full);
                (Parsed::Value((f, keys)), sketch)
            }
            None => (Parsed::Missing, 0),
        };
        IdentifierProbe { value, sketch }
    }

    pub fn score(&self, probe: &IdentifierProbe, row: u32) -> FieldScore {
        match (&probe.value, self.get(row)) {
            (Parsed::Value((a, _)), Some(b)) => FieldScore::Score(score_refs(a.as_ref(), b)),
            _ => FieldScore::Missing,
        }
    }

    pub fn is_present(probe: &IdentifierProbe) -> bool {
        matches!(probe.value, Parsed::Value(_))
    }

    pub fn row_present(&self, row: u32) -> bool {
        self.get(row).is_some()
    }

    /// Rows `enumerate` walks for `keys`: the lists of the keys of that step.
    pub fn cost(&self, probe: &IdentifierProbe, keys: Keys) -> usize {
        self.costs(probe)[keys as usize]
    }

    /// `cost` of every step, in the order of `Keys`, from one lookup of each key.
    pub fn costs(&self, probe: &IdentifierProbe) -> [usize; 3] {
        let mut costs = [0usize; 3];
        if let Parsed::Value((_, all)) = &probe.value {
            for k in all {
                let n = k.rows();
                if let Some(step) = self.step_of(k.bound, n) {
                    costs[step as usize] = costs[step as usize].saturating_add(n);
                }
            }
        }
        costs
    }

    /// The step that walks a key with this bound and list length: whole-value keys up to
    /// the table's cap; partial keys (segments, deletion variants) up to `PARTIAL_CAP` in
    /// the partial step, since each row they reach costs an edit distance, and a segment
    /// shared by thousands of rows (a year, a vendor's prefix) says little; longer partial
    /// lists, up to the table's cap, in a last step that only documents whose best row is
    /// weak need. `None`: too common to walk at all.
    fn step_of(&self, bound: f32, rows: usize) -> Option<Keys> {
        if rows > self.cap {
            None
        } else if bound >= 1.0 {
            Some(Keys::Whole)
        } else if rows <= PARTIAL_CAP {
            Some(Keys::Partial)
        } else {
            Some(Keys::Common)
        }
    }

    /// Credits every row sharing one of the step's keys with the document with its exact
    /// weighted score, once per row, when that score is above 0. Every row scoring above 0
    /// shares a key, so once every step is walked, rows not credited score 0, unless a key
    /// was too common to walk. Steps are walked in the order of `Keys`; returns the most a
    /// row not credited so far can score: the `Unwalked` bound of the keys of later steps and
    /// of the keys too common to walk.
    pub fn enumerate(
        &self,
        probe: &IdentifierProbe,
        keys: Keys,
        weight: f32,
        acc: &mut Accumulator,
    ) -> f32 {
        self.enumerate_gated(probe, keys, weight, acc, None)
    }

    /// `enumerate`, where partial keys leave uncredited the rows no list reached yet whose
    /// fuzzy value (the accumulator's) `below` says cannot reach the caller's bar whatever
    /// the identifier scores: they are left for being out of reach, not for scoring 0, so
    /// only a caller that never needs them (their confidence is proven below every row it
    /// keeps) may pass one.
    pub fn enumerate_gated(
        &self,
        probe: &IdentifierProbe,
        keys: Keys,
        weight: f32,
        acc: &mut Accumulator,
        below: Option<&dyn Fn(u32) -> bool>,
    ) -> f32 {
        let Parsed::Value((folded, all)) = &probe.value else {
            return 0.0;
        };
        let mut unwalked = Unwalked::new(folded.full.chars().count());
        let pattern = if keys == Keys::Whole || !folded.full.is_ascii() {
            None
        } else {
            BytePattern::new(folded.full.as_bytes())
        };
        for k in all {
            let span = k.span();
            let rows = self.postings.entries().get(span.clone()).unwrap_or(&[]);
            match self.step_of(k.bound, rows.len()) {
                Some(step) if step == keys => {}
                Some(step) if step < keys => continue,
                _ => {
                    // Walked by a later step, if at all.
                    unwalked.add(k);
                    continue;
                }
            }
            if keys != Keys::Whole {
                // A row found through a partial key scores only by edits (a prefix-dropped
                // row shares a whole key, walked first or bounding the rest as a
                // residual), so its sketch rules most rows out before any other read.
                let sketches = self.sketches.get(span).unwrap_or(&[]);
                let doc = (folded, pattern.as_ref(), probe.sketch);
                self.walk_partial(doc, rows, sketches, weight, acc, below);
                continue;
            }
            for batch in rows.chunks(PREFETCH) {
                acc.prefetch(batch.iter().copied());
                self.prefetch(batch);
                for &row in batch {
                    if acc.fresh(row) {
                        if let Some(b) = self.get(row) {
                            let score = score_refs(folded.as_ref(), b);
                            if score > 0.0 {
                                acc.credit(row, weight * score as f32);
                            }
                        }
                    }
                }
            }
        }
        unwalked.bound()
    }

    /// Credits the rows of one partial key's list that score by edits: rows whose sketch
    /// rules them out are skipped without reading their value or their accumulator state,
    /// and only rows that score read the latter.
    fn walk_partial(
        &self,
        (folded, pattern, sketch): (&Folded, Option<&BytePattern>, u64),
        rows: &[u32],
        sketches: &[u64],
        weight: f32,
        acc: &mut Accumulator,
        below: Option<&dyn Fn(u32) -> bool>,
    ) {
        let mut near = [0u32; PREFETCH];
        let mut entries = rows.iter().zip(sketches).peekable();
        while entries.peek().is_some() {
            // Gather a batch of rows the sketch lets through, load their values together
            // (the misses overlap), then score them.
            let mut n = 0;
            for (&row, &row_sketch) in entries.by_ref() {
                if may_be_close(sketch, row_sketch) {
                    near[n] = row;
                    n += 1;
                    if n == PREFETCH {
                        break;
                    }
                }
            }
            if let Some(below) = below {
                // The rows' accumulator state, loaded together, tells which are out of reach.
                acc.prefetch(near[..n].iter().copied());
                let mut kept = 0;
                for i in 0..n {
                    let row = near[i];
                    if !acc.unreached_value(row).is_some_and(below) {
                        near[kept] = row;
                        kept += 1;
                    }
                }
                n = kept;
            }
            let batch = &near[..n];
            self.prefetch(batch);
            // Most rows the sketch lets through still score 0: score them all first, then
            // load the accumulator state of the rest together and credit them (a row
            // credited through an earlier key gets the same score and is not credited
            // twice).
            let mut scored = [(0u32, 0.0f32); PREFETCH];
            let mut m = 0;
            for &row in batch {
                let Some(b) = self.get(row) else {
                    continue;
                };
                let score = score_with(folded.as_ref(), pattern, b);
                if score > 0.0 {
                    scored[m] = (row, weight * score as f32);
                    m += 1;
                }
            }
            let scored = &scored[..m];
            acc.prefetch(scored.iter().map(|&(row, _)| row));
            for &(row, amount) in scored {
                acc.credit(row, amount);
            }
        }
    }

    /// Reads what scoring `row` reads (see `prefetch`).
    pub fn touch(&self, row: u32) -> u32 {
        let value = self.full.get(row as usize);
        let first = u32::from(value.as_bytes().first().copied().unwrap_or(0));
        first.wrapping_add(self.prefix.get(row as usize).copied().unwrap_or(0))
    }

    /// Loads the values of `rows` ahead of scoring them (see `Accumulator::prefetch`): the
    /// rows of a partial key lie anywhere in the table, so each value read misses the cache.
    fn prefetch(&self, rows: &[u32]) {
        let mut sum = 0u32;
        for &row in rows {
            let value = self.full.get(row as usize);
            sum = sum.wrapping_add(u32::from(value.as_bytes().first().copied().unwrap_or(0)));
            sum = sum.wrapping_add(self.prefix.get(row as usize).copied().unwrap_or(0));
        }
        std::hint::black_box(sum);
    }
}

/// Which of a document's keys a walk takes, in walking order: the whole-value keys (its
/// folded form, with and without prefix), which find equal and prefix-dropped rows from
/// short lists; the partial keys, which find rows up to two edits away at the cost of an
/// edit distance per row; and partial keys shared by more than `PARTIAL_CAP` rows. Each is
/// walked only when rows it may find can still matter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Keys {
    Whole,
    Partial,
    Common,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use proptest::prelude::*;

    fn score(a: &str, b: &str) -> f64 {
        identifier_score(&fold(a).unwrap(), &fold(b).unwrap())
    }

    fn edited(d: usize, longest: usize) -> f64 {
        1.0 - d as f64 / longest as f64
    }

    #[test]
    fn spec_rules() {
        // Folding: case, separators and look-alikes, Z/2 and G/6 included.
        assert_eq!(score("INV-2023-0042", "inv 2023/0042"), 1.0);
        assert_eq!(score("INV-2O23-OO42", "INV_2023,0042"), 1.0);
        assert_eq!(score("1NV-2023-0042", "INV.2023.0042"), 1.0);
        assert_eq!(score("INV-Z0Z3-G04Z", "INV-2023-6042"), 1.0);
        assert_eq!(score("PO-ZG1", "po 261"), 1.0);
        // A dropped letters-only prefix, on either side.
        assert_eq!(score("INV-2023-0042", "2023-0042"), 0.9);
        assert_eq!(score("2023-0042", "INV-2023-0042"), 0.9);
        // The rest folds to the other value even when it starts with a look-alike letter.
        assert_eq!(score("INV-012", "O12"), 0.9);
        // One edit: a wrong digit, a transposition, an extra or a missing digit.
        assert_eq!(score("INV-2023-0042", "INV-2023-0043"), edited(1, 11));
        assert_eq!(score("INV-2023-0042", "INV-2023-0024"), edited(1, 11));
        assert_eq!(score("INV-2023-0042", "NIV-2023-0042"), edited(1, 11));
        assert_eq!(score("INV-2023-0042", "INV-2023-00042"), edited(1, 12));
        assert_eq!(score("INV-2023-0042", "INV-2023-042"), edited(1, 11));
        assert_eq!(score("INV-2023-0042", "INW-2023-0042"), edited(1, 11));
        // Two edits; three are 0.
        assert_eq!(score("INV-2023-0042", "INV-2023-0143"), edited(2, 11));
        assert_eq!(score("INV-2023-0042", "INV-2032-0042"), edited(1, 11));
        assert_eq!(score("INV-2023-0042", "INV-2032-0024"), edited(2, 11));
        assert_eq!(score("INV-2023-0042", "INV-2023-0153"), 0.0);
        assert_eq!(score("INV-2023-0042", "INV-2023-00999"), 0.0);
        // The rules do not compose: a dropped prefix plus a wrong digit is four edits.
        assert_eq!(score("INV-2023-0042", "2023-0043"), 0.0);
        // Both rules apply: the higher score counts.
        assert_eq!(score("A1234567890", "1234567890"), edited(1, 11));
        assert_eq!(score("AB-12", "12"), 0.9);
    }

    #[test]
    fn short_values_score_only_while_half_survives() {
        assert_eq!(score("12", "13"), 0.5);
        assert_eq!(score("12", "21"), 0.5);
        assert_eq!(score("1", "12"), 0.5);
        assert_eq!(score("1", "2"), 0.0);
        assert_eq!(score("123", "145"), 0.0);
        assert_eq!(score("123", "321"), 0.0);
        assert_eq!(score("1", "123"), 0.0);
        assert_eq!(score("12", "1234"), 0.5);
        assert_eq!(score("1234", "1243"), 0.75);
        assert_eq!(score("1234", "2143"), 0.5);
    }

    /// One misread digit zeroed the identifier score.
    #[test]
    fn one_misread_digit_zeroed_the_identifier_score() {
        let s = score("INV-2023-0042", "INV-2023-0043");
        assert!((s - (1.0 - 1.0 / 11.0)).abs() < 1e-12, "{s}");
        assert!(s < score("INV-2023-0042", "INV-2023-0042"));
    }

    #[test]
    fn values_without_letters_or_digits_are_missing() {
        assert!(fold(" - / ").is_none());
        let col = IdentifierColumn::build(["INV-1", "--"].into_iter());
        assert_eq!(
            col.score(&col.prepare(Some("INV-1")), 1),
            FieldScore::Missing
        );
        assert_eq!(col.score(&col.prepare(None), 0), FieldScore::Missing);
        assert_eq!(
            col.score(&col.prepare(Some("inv 1")), 0),
            FieldScore::Score(1.0)
        );
    }

    fn keys_of(row: &Folded) -> Vec<u64> {
        let mut keys = Vec::new();
        row_keys(row.as_ref(), &mut Vec::new(), &mut keys);
        keys
    }

    fn probes_of(doc: &Folded) -> Vec<u64> {
        probe_keys(doc.as_ref())
            .into_iter()
            .map(|k| k.key)
            .collect()
    }

    /// Whether the index finds `row` for a document `doc`: one of the document's probes is
    /// one of the row's keys.
    fn found(doc: &Folded, row: &Folded) -> bool {
        let keys = keys_of(row);
        probes_of(doc).iter().any(|k| keys.contains(k))
    }

    fn unfolded(full: &[char]) -> Folded {
        fold(&full.iter().collect::<String>()).unwrap()
    }

    /// Every value one edit (substitution from `alphabet`, insertion, deletion, adjacent
    /// transposition) away from `value`.
    fn one_edit(value: &[char], alphabet: &[char]) -> Vec<Vec<char>> {
        let mut out = Vec::new();
        for i in 0..=value.len() {
            for &c in alphabet {
                let mut v = value.to_vec();
                v.insert(i, c);
                out.push(v);
                if i < value.len() && value[i] != c {
                    let mut v = value.to_vec();
                    v[i] = c;
                    out.push(v);
                }
            }
            if i < value.len() {
                let mut v = value.to_vec();
                v.remove(i);
                out.push(v);
            }
            if i + 1 < value.len() {
                let mut v = value.to_vec();
                v.swap(i, i + 1);
                out.push(v);
            }
        }
        out
    }

    /// All values within two edits of some bases, at every position: each one that scores
    /// is found from both sides. Lengths cross the short/segment border and the segment
    /// boundaries of every length nearby.
    #[test]
    fn every_value_within_two_edits_that_scores_is_found() {
        let bases = [
            "7",
            "12",
            "123",
            "1234",
            "12345",
            "123456",
            "1234567",
            "NV2023",
            "12345678",
            "110010",
            "1NV20230042",
        ];
        let mut scoring = 0;
        for base in bases {
            let chars: Vec<char> = base.chars().collect();
            let mut alphabet: Vec<char> = chars.clone();
            alphabet.push('X');
            alphabet.sort_unstable();
            alphabet.dedup();
            let mut variants = BTreeSet::new();
            for one in one_edit(&chars, &alphabet) {
                for two in one_edit(&one, &alphabet) {
                    variants.insert(two);
                }
                variants.insert(one);
            }
            let b = unfolded(&chars);
            let (b_keys, b_probes) = (keys_of(&b), probes_of(&b));
            for v in variants.iter().filter(|v| !v.is_empty()) {
                let f = unfolded(v);
                let score = identifier_score(&b, &f);
                if score > 0.0 {
                    scoring += 1;
                    // Left unwalked, the keys that find `f` leave a residual it stays
                    // within (more unwalked keys only raise it).
                    let f_keys = keys_of(&f);
                    let mut finding = Unwalked::new(b.full.chars().count());
                    probe_keys(b.as_ref())
                        .iter()
                        .filter(|k| f_keys.contains(&k.key))
                        .for_each(|k| finding.add(k));
                    let left = finding.bound();
                    assert!(
                        f64::from(left) + 1e-6 >= score,
                        "{base} -> {f:?}: {score} over the residual {left}"
                    );
                    let found_f = keys_of(&f).iter().any(|k| b_probes.contains(k));
                    assert!(found_f, "{base} does not find {f:?}");
                    let found_b = probes_of(&f).iter().any(|k| b_keys.contains(k));
                    assert!(found_b, "{f:?} does not find {base}");
                }
            }
        }
        assert!(scoring > 10_000, "{scoring}");
    }

    /// A base code and up to two random edits of it, some of them a dropped prefix.
    fn code_and_edit() -> impl Strategy<Value = (String, String)> {
        let edit = (0u8..5, any::<prop::sample::Index>(), 0usize..16);
        (
            "[A-Z]{0,3}-?[0-9]{2,10}",
            proptest::collection::vec(edit, 0..=2),
        )
            .prop_map(|(base, edits)| {
                const ALPHABET: &[char] = &[
                    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'O', 'I', 'Z', 'G', 'A', 'X',
                ];
                let mut v: Vec<char> = base.chars().collect();
                for (kind, at, c) in edits {
                    let c = ALPHABET[c];
                    match kind {
                        0 if !v.is_empty() => {
                            let i = at.index(v.len());
                            v[i] = c;
                        }
                        1 => {
                            let i = at.index(v.len() + 1);
                            v.insert(i, c);
                        }
                        2 if v.len() > 1 => {
                            v.remove(at.index(v.len()));
                        }
                        3 if v.len() > 1 => {
                            let i = at.index(v.len() - 1);
                            v.swap(i, i + 1);
                        }
                        4 => {
                            let letters = v.iter().take_while(|c| c.is_ascii_uppercase()).count();
                            if letters < v.len() {
                                v.drain(..letters);
                            }
                        }
                        _ => {}
                    }
                }
                (base, v.into_iter().collect())
            })
    }

    proptest! {
        /// A walk scores its rows against the document value prepared once; that gives what
        /// scoring each pair on its own gives, near misses included.
        #[test]
        fn a_prepared_document_value_scores_as_each_pair(
            a in "[0-9A-Z/-]{1,14}",
            edits in proptest::collection::vec((0u8..3, any::<usize>(), "[0-9A-Z]"), 0..4),
        ) {
            let mut b: Vec<char> = a.chars().collect();
            for (op, at, c) in edits {
                let c = c.chars().next().unwrap_or('0');
                let at = at % (b.len() + 1);
                match op {
                    0 if at < b.len() => b[at] = c,
                    1 => b.insert(at, c),
                    _ if at < b.len() => {
                        b.remove(at);
                    }
                    _ => {}
                }
            }
            let b: String = b.into_iter().collect();
            if let (Some(fa), Some(fb)) = (fold(&a), fold(&b)) {
                let pattern = BytePattern::new(fa.full.as_bytes());
                prop_assert_eq!(
                    score_with(fa.as_ref(), pattern.as_ref(), fb.as_ref()),
                    score_refs(fa.as_ref(), fb.as_ref()),
                    "{} vs {}", a, b
                );
            }
        }
    }

    proptest! {
        #[test]
        fn bounded_symmetric_identity(a in "[A-Z]{0,3}-?[0-9OIZGS]{1,8}", b in "[A-Z]{0,3}-?[0-9OIZGS]{1,8}") {
            let (fa, fb) = (fold(&a).unwrap(), fold(&b).unwrap());
            let s = identifier_score(&fa, &fb);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert!(s == 0.0 || s >= 0.5, "{} {} {}", a, b, s);
            prop_assert_eq!(s, identifier_score(&fb, &fa));
            prop_assert_eq!(identifier_score(&fa, &fa), 1.0);
        }

        #[test]
        fn every_pair_that_scores_shares_an_index_key((a, b) in code_and_edit()) {
            let (Some(fa), Some(fb)) = (fold(&a), fold(&b)) else {
                return Ok(());
            };
            if identifier_score(&fa, &fb) > 0.0 {
                prop_assert!(found(&fa, &fb), "{} does not find {}", a, b);
                prop_assert!(found(&fb, &fa), "{} does not find {}", b, a);
            }
        }

        #[test]
        fn unrelated_pairs_that_score_share_an_index_key(a in "[A-Z]{0,2}[0-9A-Z]{1,8}", b in "[A-Z]{0,2}[0-9A-Z]{1,8}") {
            let (fa, fb) = (fold(&a).unwrap(), fold(&b).unwrap());
            if identifier_score(&fa, &fb) > 0.0 {
                prop_assert!(found(&fa, &fb), "{} does not find {}", a, b);
            }
        }
    }

    /// What `enumerate` credits over both steps, by row, and the residual it returns.
    fn walk(col: &IdentifierColumn, doc: &str, rows: usize) -> (Vec<(u32, f32)>, f32) {
        walk_keys(col, doc, rows, &[Keys::Whole, Keys::Partial, Keys::Common])
    }

    /// Every row scoring above 0 against `doc`, with its score: what a full scan finds.
    fn scoring_rows(col: &IdentifierColumn, doc: &str, rows: usize) -> Vec<(u32, f32)> {
        let probe = col.prepare(Some(doc));
        (0..rows as u32)
            .filter_map(|row| match col.score(&probe, row) {
                FieldScore::Score(s) if s > 0.0 => Some((row, s as f32)),
                _ => None,
            })
            .collect()
    }

    fn walk_keys(
        col: &IdentifierColumn,
        doc: &str,
        rows: usize,
        steps: &[Keys],
    ) -> (Vec<(u32, f32)>, f32) {
        let mut acc = Accumulator::new(rows, &[], &[]);
        acc.begin_document();
        acc.begin_field(0);
        let probe = col.prepare(Some(doc));
        let mut residual = 1.0;
        for &keys in steps {
            residual = col.enumerate(&probe, keys, 1.0, &mut acc);
        }
        let mut credited: Vec<(u32, f32)> = acc
            .touched()
            .iter()
            .enumerate()
            .map(|(slot, &row)| (row, acc.linear(slot)))
            .collect();
        credited.sort_by_key(|c| c.0);
        (credited, residual)
    }

    #[test]
    fn the_walk_credits_exactly_the_rows_that_score() {
        let values = [
            "INV-2023-0042",
            "INV-2023-0043",
            "INV-2023-0024",
            "2023-0042",
            "INV-2023-0142",
            "INV-2023-1153",
            "RE-2023-0042",
            "INV-2023-00042",
            "",
            "42",
        ];
        let col = IdentifierColumn::build(values.into_iter());
        for doc in ["INV-2023-0042", "2023-0042", "INV-2O23-OO4Z", "42", "43"] {
            let (credited, residual) = walk(&col, doc, values.len());
            assert_eq!(residual, 0.0);
            assert_eq!(credited, scoring_rows(&col, doc, values.len()), "{doc}");
        }
    }

    #[test]
    fn whole_keys_credit_equal_and_prefix_dropped_rows_and_bound_the_rest() {
        let values = [
            "INV-2023-0042",
            "INV-2023-0043",
            "2023-0042",
            "RE-2023-0042",
        ];
        let col = IdentifierColumn::build(values.into_iter());
        let (credited, residual) = walk_keys(&col, "INV-2O23-OO42", values.len(), &[Keys::Whole]);
        // `RE-2023-0042` shares the form without prefix but not a rule: reached, not credited.
        assert_eq!(credited, vec![(0, 1.0), (2, 0.9)]);
        // One insertion, in 12 characters: the best a row found only by a partial key scores.
        assert!(
            (residual - (1.0 - 1.0 / 12.0) as f32).abs() < 1e-6,
            "{residual}"
        );
        // The partial keys then add the row one edit away, and credit no row twice.
        let (both, residual) = walk(&col, "INV-2O23-OO42", values.len());
        assert_eq!(residual, 0.0);
        assert_eq!(both.len(), 3);
        assert_eq!((both[0], both[2]), (credited[0], credited[1]));
        assert_eq!(both[1].0, 1);
        assert!((both[1].1 - (1.0 - 1.0 / 11.0) as f32).abs() < 1e-6);
    }

    #[test]
    fn partial_keys_shared_by_many_rows_are_walked_last() {
        // 1,500 rows share their first two segments: past `PARTIAL_CAP`, within the cap.
        let values: Vec<String> = (0..1_500).map(|i| format!("INV-2023-{i:06}")).collect();
        let col = IdentifierColumn::build(values.iter().map(String::as_str));
        let doc = "INV-2023-900042";
        let (_, residual) = walk_keys(&col, doc, values.len(), &[Keys::Whole, Keys::Partial]);
        assert!(residual > 0.8, "{residual}");
        let (credited, residual) = walk(&col, doc, values.len());
        assert_eq!(residual, 0.0);
        let expected = scoring_rows(&col, doc, values.len());
        assert!(!expected.is_empty());
        assert_eq!(credited, expected);
    }

    #[test]
    fn a_key_too_common_to_walk_bounds_the_rows_it_would_have_found() {
        // All rows share the first two segments, so those lists are not walked; a row one
        // wrong digit away in the last segment is then only bounded.
        let values: Vec<String> = (0..2_100).map(|i| format!("INV-2023-{i:06}")).collect();
        let col = IdentifierColumn::build(values.iter().map(String::as_str));
        let (credited, residual) = walk(&col, "INV-2023-000042", values.len());
        assert!(
            (residual - (1.0 - 1.0 / 13.0) as f32).abs() < 1e-6,
            "{residual}"
        );
        assert!(credited.iter().any(|&(row, s)| row == 42 && s == 1.0));
        let probe = col.prepare(Some("INV-2023-000042"));
        for row in 0..values.len() as u32 {
            let FieldScore::Score(s) = col.score(&probe, row) else {
                panic!("row {row} missing");
            };
            match credited.iter().find(|c| c.0 == row) {
                Some(&(_, c)) => assert_eq!(c, s as f32),
                None => assert!(s as f32 <= residual + 1e-6, "row {row}: {s} > {residual}"),
            }
        }
    }

    #[test]
    fn sketch_counts_by_bucket_and_length() {
        let counts = |s: &str| -> Vec<u64> {
            let k = sketch(s);
            (0..BUCKETS as u64).map(|i| (k >> (4 * i)) & 15).collect()
        };
        assert_eq!(sketch("1207") >> 56, 4);
        assert_eq!(&counts("1207")[..3], &[1, 1, 1]);
        assert_eq!(counts("1207")[7], 1);
        // Letters share three buckets; other characters one; counts stop at 15.
        assert_eq!(&counts("ADGÉ")[10..], &[3, 0, 0, 1]);
        assert_eq!(counts(&"9".repeat(40))[9], 15);
        assert_eq!(sketch(&"9".repeat(300)) >> 56, 255);
    }

    proptest! {
        #[test]
        fn count_distance_is_the_sum_of_bucket_differences(a in any::<u64>(), b in any::<u64>()) {
            let naive: u64 = (0..BUCKETS as u64)
                .map(|i| ((a >> (4 * i)) & 15).abs_diff((b >> (4 * i)) & 15))
                .sum();
            prop_assert_eq!(count_distance(a, b) as u64, naive);
        }

        /// The sketch filter never rules out a pair that scores by edits.
        #[test]
        fn pairs_that_score_by_edits_pass_the_sketch((a, b) in code_and_edit()) {
            let (fa, fb) = (fold(&a), fold(&b));
            if let (Some(fa), Some(fb)) = (fa, fb) {
                if edit_score(&fa.full, &fb.full, None) > 0.0 {
                    prop_assert!(may_be_close(sketch(&fa.full), sketch(&fb.full)));
                }
            }
        }
    }

    #[test]
    fn keys_per_row_and_probes_per_document_stay_few() {
        let count = |v: &str| {
            let mut keys = Vec::new();
            row_keys(fold(v).unwrap().as_ref(), &mut Vec::new(), &mut keys);
            keys.sort_unstable();
            keys.dedup();
            keys.len()
        };
        assert_eq!(count("INV-2023-000042"), 5);
        assert_eq!(count("2023000042"), 4);
        // The folded form and the sixteen strings left after deleting up to two characters.
        assert_eq!(count("12345"), 17);
        for doc in ["INV-2023-000042", "12345", "1234567", "7"] {
            let probes = probe_keys(fold(doc).unwrap().as_ref()).len();
            assert!(probes <= 80, "{doc}: {probes}");
        }
    }
}
