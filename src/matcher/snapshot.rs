//! Index snapshots: a `MatchIndex` written to one file and read back, so that matching on
//! many machines (shards, Spark executors) loads an index instead of reading and indexing
//! the reference CSV each time.
//!
//! The file is `MAGIC`, the format version (u32), the refmatch version that wrote it, the
//! payload's length (u64) and SHA-256, then the payload: little-endian integers and floats,
//! each vector as its length (u64) and items, written and read by hand (`Encode`,
//! `Decode`) in the order of the index's fields. No serialisation crate: the index is a
//! handful of flat vectors, and a hand-written reader checks every length against the bytes
//! left, so a corrupt file cannot make it allocate or index out of bounds. Hash maps are
//! not written; they are rebuilt from their keys in key-id order, which gives the same ids.
//!
//! Reading checks, in order: the magic, the format version, the refmatch version, the
//! length (a truncated file), the checksum (a corrupt one), the mappings the index was built
//! for against the config's, then while decoding every offset, row and id against the sizes
//! it indexes, so that a file that passes the checksum but was crafted (or written by a
//! bug) is refused rather than crashing the matcher later. Knows nothing of files: the
//! caller reads and writes the bytes.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::reference::{ReferenceTable, StrColumn};
use super::{MatchIndex, Parsed};
use crate::config::MatchConfig;
use crate::parse::{Amount, Currency};

/// The first bytes of every snapshot.
pub const MAGIC: &[u8; 8] = b"RMIDX\0\r\n";
/// Bumped whenever the payload's layout changes.
pub const FORMAT_VERSION: u32 = 1;
/// The refmatch version a snapshot must come from: the index's internals may change
/// between releases without a layout change.
pub const REFMATCH_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why a snapshot was refused, as one line for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub type Decoded<T> = std::result::Result<T, Refused>;

fn corrupt(what: &str) -> Refused {
    Refused(format!("is corrupt ({what})"))
}

/// Appends little-endian values to a buffer.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn bytes(&mut self, v: &[u8]) {
        self.u64(v.len() as u64);
        self.buf.extend_from_slice(v);
    }
    pub fn put<T: Encode + ?Sized>(&mut self, v: &T) {
        v.encode(self);
    }
}

/// Reads what `Writer` wrote; every read checks the bytes left.
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    fn take(&mut self, n: usize) -> Decoded<&'a [u8]> {
        if n > self.bytes.len() {
            return Err(corrupt("it ends early"));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Decoded<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Decoded<u8> {
        Ok(self.array::<1>()?[0])
    }
    pub fn u32(&mut self) -> Decoded<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub fn u64(&mut self) -> Decoded<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A length that can be honest: at most the bytes left divided by the smallest size of
    /// one item, so a corrupt length never allocates more than the file holds.
    pub fn len(&mut self, min_item: usize) -> Decoded<usize> {
        let n = self.u64()?;
        let most = self.bytes.len() / min_item.max(1);
        match usize::try_from(n) {
            Ok(n) if n <= most => Ok(n),
            _ => Err(corrupt("a length exceeds the file")),
        }
    }

    pub fn bytes(&mut self) -> Decoded<&'a [u8]> {
        let n = self.len(1)?;
        self.take(n)
    }

    pub fn get<T: Decode>(&mut self) -> Decoded<T> {
        T::decode(self)
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

pub trait Encode {
    fn encode(&self, w: &mut Writer);
}

pub trait Decode: Sized {
    /// The fewest bytes one value takes (for checking vector lengths).
    const MIN_SIZE: usize;
    fn decode(r: &mut Reader) -> Decoded<Self>;
}

macro_rules! number {
    ($t:ty, $n:expr) => {
        impl Encode for $t {
            fn encode(&self, w: &mut Writer) {
                w.buf.extend_from_slice(&self.to_le_bytes());
            }
        }
        impl Decode for $t {
            const MIN_SIZE: usize = $n;
            fn decode(r: &mut Reader) -> Decoded<Self> {
                Ok(<$t>::from_le_bytes(r.array()?))
            }
        }
    };
}
number!(u8, 1);
number!(u32, 4);
number!(i32, 4);
number!(u64, 8);
number!(f32, 4);
number!(f64, 8);

impl Encode for str {
    fn encode(&self, w: &mut Writer) {
        w.bytes(self.as_bytes());
    }
}

impl Encode for String {
    fn encode(&self, w: &mut Writer) {
        w.bytes(self.as_bytes());
    }
}

impl Decode for String {
    const MIN_SIZE: usize = 8;
    fn decode(r: &mut Reader) -> Decoded<Self> {
        let bytes = r.bytes()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| corrupt("text is not UTF-8"))
    }
}

impl<T: Encode> Encode for [T] {
    fn encode(&self, w: &mut Writer) {
        w.u64(self.len() as u64);
        for v in self {
            v.encode(w);
        }
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, w: &mut Writer) {
        self.as_slice().encode(w);
    }
}

impl<T: Decode> Decode for Vec<T> {
    const MIN_SIZE: usize = 8;
    fn decode(r: &mut Reader) -> Decoded<Self> {
        let n = r.len(T::MIN_SIZE)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::decode(r)?);
        }
        Ok(out)
    }
}

impl<A: Encode, B: Encode> Encode for (A, B) {
    fn encode(&self, w: &mut Writer) {
        self.0.encode(w);
        self.1.encode(w);
    }
}

impl<A: Decode, B: Decode> Decode for (A, B) {
    const MIN_SIZE: usize = A::MIN_SIZE + B::MIN_SIZE;
    fn decode(r: &mut Reader) -> Decoded<Self> {
        Ok((A::decode(r)?, B::decode(r)?))
    }
}

impl<T: Encode> Encode for Parsed<T> {
    fn encode(&self, w: &mut Writer) {
        match self {
            Parsed::Missing => w.u8(0),
            Parsed::Unparsable => w.u8(1),
            Parsed::Value(v) => {
                w.u8(2);
                v.encode(w);
            }
        }
    }
}

impl<T: Decode> Decode for Parsed<T> {
    const MIN_SIZE: usize = 1;
    fn decode(r: &mut Reader) -> Decoded<Self> {
        match r.u8()? {
            0 => Ok(Parsed::Missing),
            1 => Ok(Parsed::Unparsable),
            2 => Ok(Parsed::Value(T::decode(r)?)),
            _ => Err(corrupt("an unknown value tag")),
        }
    }
}

impl Encode for Amount {
    fn encode(&self, w: &mut Writer) {
        self.value.encode(w);
        match self.currency {
            None => w.u8(0),
            Some(Currency(code)) => {
                w.u8(1);
                w.buf.extend_from_slice(&code);
            }
        }
    }
}

impl Decode for Amount {
    const MIN_SIZE: usize = 9;
    fn decode(r: &mut Reader) -> Decoded<Self> {
        let value = f64::decode(r)?;
        let currency = match r.u8()? {
            0 => None,
            1 => Some(Currency(r.array()?)),
            _ => return Err(corrupt("an unknown currency tag")),
        };
        Ok(Amount { value, currency })
    }
}

/// Strings are written as one buffer and each value's length (u32), which takes half the
/// bytes of its end offsets.
impl Encode for StrColumn {
    fn encode(&self, w: &mut Writer) {
        let mut text = Vec::new();
        let mut lengths = Vec::with_capacity(self.len());
        for v in self.iter() {
            text.extend_from_slice(v.as_bytes());
            lengths.push(v.len() as u32);
        }
        w.bytes(&text);
        lengths.encode(w);
    }
}

impl Decode for StrColumn {
    const MIN_SIZE: usize = 16;
    fn decode(r: &mut Reader) -> Decoded<Self> {
        let text = std::str::from_utf8(r.bytes()?).map_err(|_| corrupt("text is not UTF-8"))?;
        let lengths: Vec<u32> = r.get()?;
        StrColumn::from_parts(text.to_string(), &lengths)
            .ok_or_else(|| corrupt("string lengths do not fit their text"))
    }
}

impl Encode for ReferenceTable {
    fn encode(&self, w: &mut Writer) {
        self.columns.encode(w);
        self.ids.encode(w);
        self.values.encode(w);
    }
}

impl Decode for ReferenceTable {
    const MIN_SIZE: usize = 24;
    fn decode(r: &mut Reader) -> Decoded<Self> {
        let columns: Vec<String> = r.get()?;
        let ids: StrColumn = r.get()?;
        let values: Vec<StrColumn> = r.get()?;
        if values.len() != columns.len() || values.iter().any(|v| v.len() != ids.len()) {
            return Err(corrupt("reference columns of different lengths"));
        }
        Ok(ReferenceTable {
            columns,
            ids,
            values,
        })
    }
}

/// Checks CSR offsets: `parts + 1` entries from 0, ascending, ending at `items`.
pub fn check_offsets(offsets: &[u32], parts: usize, items: usize) -> Decoded<()> {
    let ok = offsets.len() == parts + 1
        && offsets.first() == Some(&0)
        && offsets.last().is_some_and(|&l| l as usize == items)
        && offsets.windows(2).all(|w| w[0] <= w[1]);
    if ok {
        Ok(())
    } else {
        Err(corrupt("offsets out of order"))
    }
}

/// Checks that every id is below `limit`.
pub fn check_ids(ids: impl IntoIterator<Item = u32>, limit: usize) -> Decoded<()> {
    if ids.into_iter().all(|id| (id as usize) < limit) {
        Ok(())
    } else {
        Err(corrupt("an id out of range"))
    }
}

/// What an index was built for, one line per mapping, to compare with a config's.
pub fn spec_lines(config: &MatchConfig) -> Vec<String> {
    config
        .mappings
        .iter()
        .map(|m| spec_line(&m.target, &m.strategy))
        .collect()
}

/// One mapping's target column and strategy with every option (floats in Rust's exact
/// round-trip form).
pub fn spec_line(target: &str, strategy: &crate::config::Strategy) -> String {
    format!("{target}\u{1f}{strategy:?}")
}

/// The whole file for `index`.
pub fn encode(index: &MatchIndex) -> Vec<u8> {
    let mut payload = Writer::default();
    index.encode_into(&mut payload);
    let payload = payload.buf;
    let mut w = Writer::default();
    w.buf.extend_from_slice(MAGIC);
    w.u32(FORMAT_VERSION);
    w.put(REFMATCH_VERSION);
    w.u64(payload.len() as u64);
    w.buf.extend_from_slice(&Sha256::digest(&payload));
    w.buf.extend_from_slice(&payload);
    w.buf
}

/// The payload's length as the header of a whole file states it (0 when unreadable); the
/// payload is the file's last bytes. For tests that damage the payload alone.
pub fn payload_len(bytes: &[u8]) -> usize {
    let mut r = Reader::new(bytes);
    let _ = r.take(MAGIC.len());
    let _ = r.u32();
    let _ = r.bytes();
    r.u64()
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
}

/// Reads a whole file back for `config`, which must have the mappings (target column and
/// strategy with its options) the index was built for; weights, threshold, sources and
/// the assignment may differ.
pub fn decode(bytes: &[u8], config: &MatchConfig) -> Decoded<MatchIndex> {
    let mut r = Reader::new(bytes);
    let magic = r.take(MAGIC.len()).ok();
    if magic != Some(MAGIC.as_slice()) {
        return Err(Refused("is not a refmatch index snapshot".into()));
    }
    let format = r
        .u32()
        .map_err(|_| Refused("is truncated (no header)".into()))?;
    if format != FORMAT_VERSION {
        return Err(Refused(format!(
            "has snapshot format {format}, this refmatch reads format {FORMAT_VERSION}: \
             rebuild it with `refmatch index build`"
        )));
    }
    let version = r
        .bytes()
        .ok()
        .filter(|v| v.len() <= 64)
        .and_then(|v| std::str::from_utf8(v).ok())
        .ok_or_else(|| Refused("is truncated (no header)".into()))?;
    if version != REFMATCH_VERSION {
        return Err(Refused(format!(
            "was written by refmatch {version}, this is refmatch {REFMATCH_VERSION}: \
             rebuild it with `refmatch index build`"
        )));
    }
    let (length, digest) = match (r.u64(), r.take(32)) {
        (Ok(length), Ok(digest)) => (length, digest),
        _ => return Err(Refused("is truncated (no header)".into())),
    };
    let payload = r.bytes;
    if (payload.len() as u64) < length {
        return Err(Refused(format!(
            "is truncated ({} of {length} bytes)",
            payload.len()
        )));
    }
    if (payload.len() as u64) > length {
        return Err(corrupt("bytes after the end"));
    }
    if Sha256::digest(payload).as_slice() != digest {
        return Err(corrupt("checksum mismatch"));
    }
    decode_payload(payload, config)
}

/// The payload without the header's checks (the checksum above all): what a corrupt file
/// that passes them meets. Public for tests.
pub fn decode_payload(payload: &[u8], config: &MatchConfig) -> Decoded<MatchIndex> {
    let mut r = Reader::new(payload);
    let spec: Vec<String> = r.get()?;
    let wanted = spec_lines(config);
    if spec != wanted {
        let describe = |lines: &[String]| {
            lines
                .iter()
                .map(|l| l.replacen('\u{1f}', " ", 1))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(Refused(format!(
            "was built for other mappings than the config's (index: {}; config: {}): \
             rebuild it with this config",
            describe(&spec),
            describe(&wanted)
        )));
    }
    let reference: ReferenceTable = r.get()?;
    let index = MatchIndex::decode_from(&mut r, config, Arc::new(reference))?;
    if !r.is_empty() {
        return Err(corrupt("bytes after the index"));
    }
    Ok(index)
}
