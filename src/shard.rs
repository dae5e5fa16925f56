//! Sharded matching: `match --shard I/N` takes the documents whose id hashes to I modulo
//! N. The hash is FNV-1a over the id's bytes, fixed forever (never Rust's randomly seeded
//! hasher), so every machine and every release agrees on which shard holds a document.

/// Shard `index` of `count`, `0 <= index < count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// 64-bit FNV-1a.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

impl Shard {
    /// Parses `I/N`, as clap hands it over.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("\"{text}\" is not I/N with 0 <= I < N (e.g. 0/3)");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether the document with this id belongs to the shard.
    pub fn contains(&self, document_id: &str) -> bool {
        fnv1a(document_id.as_bytes()) % self.count == self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn every_id_is_in_exactly_one_shard() {
        for n in [1, 3, 7] {
            for id in ["D-1", "D-2", "", "ü", "doc_99"] {
                let hits = (0..n)
                    .filter(|&i| Shard { index: i, count: n }.contains(id))
                    .count();
                assert_eq!(hits, 1);
            }
        }
    }

    #[test]
    fn parses_i_of_n_and_refuses_the_rest() {
        assert_eq!(Shard::parse("2/7"), Ok(Shard { index: 2, count: 7 }));
        for bad in ["7/7", "0/0", "1", "a/3", "-1/3", "1/3/4", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
