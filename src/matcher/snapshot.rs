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
//! length (a truncated file), the mappings the index was built for against the config's,
//! then while decoding every offset, row and id against the sizes it indexes, and at the
//! end the checksum (a corrupt file), which the payload streams through as it is decoded,
//! so that memory never holds the file beside the index. A file that passes the checksum
//! but was crafted (or written by a bug) is refused rather than crashing the matcher
//! later. Knows nothing of files: the caller hands over a reader and its length.

use std::io::Read;
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

/// Reads what `Writer` wrote from a stream whose length is known; every read checks the
/// bytes left, so a corrupt length is refused before anything is allocated for it.
pub struct Reader<'a> {
    src: &'a mut dyn Read,
    remaining: u64,
}

impl<'a> Reader<'a> {
    /// Reads at most `remaining` bytes of `src`.
    pub fn new(src: &'a mut dyn Read, remaining: u64) -> Self {
        Reader { src, remaining }
    }

    fn fill(&mut self, buf: &mut [u8]) -> Decoded<()> {
        if buf.len() as u64 > self.remaining {
            return Err(corrupt("it ends early"));
        }
        self.src
            .read_exact(buf)
            .map_err(|e| Refused(format!("cannot be read ({e})")))?;
        self.remaining -= buf.len() as u64;
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Decoded<[u8; N]> {
        let mut out = [0u8; N];
        self.fill(&mut out)?;
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
        let most = self.remaining / min_item.max(1) as u64;
        match usize::try_from(n) {
            Ok(n) if n as u64 <= most => Ok(n),
            _ => Err(corrupt("a length exceeds the file")),
        }
    }

    pub fn bytes(&mut self) -> Decoded<Vec<u8>> {
        let n = self.len(1)?;
        let mut out = vec![0u8; n];
        self.fill(&mut out)?;
        Ok(out)
    }

    pub fn get<T: Decode>(&mut self) -> Decoded<T> {
        T::decode(self)
    }

    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }
}

pub trait Encode {
    fn encode(&self, w: &mut Writer);
}

pub trait Decode: Sized {
    /// The fewest bytes one value takes (for checking vector lengths).
    const MIN_SIZE: usize;
    fn decode(r: &mut Reader) -> Decoded<Self>;

    /// Appends `n` values (numbers override this to read in bulk).
    fn decode_many(r: &mut Reader, n: usize, out: &mut Vec<Self>) -> Decoded<()> {
        for _ in 0..n {
            out.push(Self::decode(r)?);
        }
        Ok(())
    }
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
            fn decode_many(r: &mut Reader, n: usize, out: &mut Vec<Self>) -> Decoded<()> {
                // In blocks: one read per 64 KiB rather than one per value.
                let mut block = vec![0u8; (1 << 16) / $n * $n];
                let mut left = n;
                while left > 0 {
                    let take = left.min(block.len() / $n);
                    let bytes = &mut block[..take * $n];
                    r.fill(bytes)?;
                    out.extend(
                        bytes
                            .chunks_exact($n)
                            .map(|c| <$t>::from_le_bytes(c.try_into().unwrap_or([0; $n]))),
                    );
                    left -= take;
                }
                Ok(())
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
        String::from_utf8(r.bytes()?).map_err(|_| corrupt("text is not UTF-8"))
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
        T::decode_many(r, n, &mut out)?;
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
        let text = String::from_utf8(r.bytes()?).map_err(|_| corrupt("text is not UTF-8"))?;
        let lengths: Vec<u32> = r.get()?;
        StrColumn::from_parts(text, &lengths)
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

/// The whole file for `index`. The payload is written after a header whose length and
/// checksum are filled in at the end, so the file is built in one buffer.
pub fn encode(index: &MatchIndex) -> Vec<u8> {
    let mut w = Writer::default();
    w.buf.extend_from_slice(MAGIC);
    w.u32(FORMAT_VERSION);
    w.put(REFMATCH_VERSION);
    let length_at = w.buf.len();
    w.u64(0);
    w.buf.extend_from_slice(&[0u8; 32]);
    let payload_at = w.buf.len();
    index.encode_into(&mut w);
    let length = (w.buf.len() - payload_at) as u64;
    let digest = Sha256::digest(&w.buf[payload_at..]);
    w.buf[length_at..length_at + 8].copy_from_slice(&length.to_le_bytes());
    w.buf[length_at + 8..payload_at].copy_from_slice(&digest);
    w.buf
}

/// The payload's length as the header of a whole file states it (0 when unreadable); the
/// payload is the file's last bytes. For tests that damage the payload alone.
pub fn payload_len(bytes: &[u8]) -> usize {
    let mut src = bytes;
    let mut r = Reader::new(&mut src, bytes.len() as u64);
    let _ = r.array::<8>();
    let _ = r.u32();
    let _ = r.bytes();
    r.u64()
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
}

/// Reads a whole file back for `config` (see `read`).
pub fn decode(bytes: &[u8], config: &MatchConfig) -> Decoded<MatchIndex> {
    let mut src = bytes;
    read(&mut src, bytes.len() as u64, config)
}

/// Passes what it reads to a SHA-256 on the way.
struct Hashing<'a> {
    inner: &'a mut dyn Read,
    hasher: Sha256,
}

impl Read for Hashing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Reads a snapshot of `size` bytes from `src` for `config`, which must have the mappings
/// (target column and strategy with its options) the index was built for; weights,
/// threshold, sources and the assignment may differ.
///
/// The payload is decoded as it streams by, hashed on the way: memory holds the index
/// being built, never the file. Decoding checks every length and id, so a damaged payload
/// cannot do harm before the checksum, compared at the end, refuses it; when both fail,
/// the checksum is the reason given.
pub fn read(src: &mut dyn Read, size: u64, config: &MatchConfig) -> Decoded<MatchIndex> {
    let mut r = Reader::new(src, size);
    let magic = r.array::<8>().ok();
    if magic.as_ref() != Some(MAGIC) {
        return Err(Refused("is not a refmatch index snapshot".into()));
    }
    let truncated = || Refused("is truncated (no header)".into());
    let format = r.u32().map_err(|_| truncated())?;
    if format != FORMAT_VERSION {
        return Err(Refused(format!(
            "has snapshot format {format}, this refmatch reads format {FORMAT_VERSION}: \
             rebuild it with `refmatch index build`"
        )));
    }
    let version_len = r.u64().map_err(|_| truncated())?;
    if version_len > 64 {
        return Err(corrupt("a version of over 64 bytes"));
    }
    let mut version = vec![0u8; version_len as usize];
    r.fill(&mut version).map_err(|_| truncated())?;
    let version = String::from_utf8_lossy(&version).into_owned();
    if version != REFMATCH_VERSION {
        return Err(Refused(format!(
            "was written by refmatch {}, this is refmatch {REFMATCH_VERSION}: \
             rebuild it with `refmatch index build`",
            crate::error::loggable(&version)
        )));
    }
    let length = r.u64().map_err(|_| truncated())?;
    let digest = r.array::<32>().map_err(|_| truncated())?;
    let left = r.remaining;
    if left < length {
        return Err(Refused(format!("is truncated ({left} of {length} bytes)")));
    }
    if left > length {
        return Err(corrupt("bytes after the end"));
    }
    let mut hashing = Hashing {
        inner: r.src,
        hasher: Sha256::new(),
    };
    let mut buffered = std::io::BufReader::with_capacity(1 << 16, &mut hashing);
    let decoded = {
        let mut payload = Reader::new(&mut buffered, length);
        decode_body(&mut payload, config).and_then(|index| {
            if payload.is_empty() {
                Ok(index)
            } else {
                Err(corrupt("bytes after the index"))
            }
        })
    };
    // Whatever decoding left unread still counts towards the checksum.
    let drained = std::io::copy(&mut buffered, &mut std::io::sink());
    drop(buffered);
    if drained.is_err() || hashing.hasher.finalize().as_slice() != digest {
        return Err(corrupt("checksum mismatch"));
    }
    decoded
}

/// The payload without the header's checks (the checksum above all): what a corrupt file
/// that passes them meets. Public for tests.
pub fn decode_payload(payload: &[u8], config: &MatchConfig) -> Decoded<MatchIndex> {
    let mut src = payload;
    let mut r = Reader::new(&mut src, payload.len() as u64);
    let index = decode_body(&mut r, config)?;
    if !r.is_empty() {
        return Err(corrupt("bytes after the index"));
    }
    Ok(index)
}

/// Reads the spec, checks it against the config's mappings, then the table and the index.
fn decode_body(r: &mut Reader, config: &MatchConfig) -> Decoded<MatchIndex> {
    let spec: Vec<String> = r.get()?;
    let wanted = spec_lines(config);
    if spec != wanted {
        let describe = |lines: &[String]| {
            lines
                .iter()
                .map(|l| crate::error::loggable(&l.replacen('\u{1f}', " ", 1)).into_owned())
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
    MatchIndex::decode_from(r, config, Arc::new(reference))
}
