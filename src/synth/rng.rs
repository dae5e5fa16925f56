//! The generator's own random numbers: SplitMix64 split into named streams, selection
//! sampling and a portable `exp`. Nothing here may come from the platform or a crate
//! whose output could change between versions, because a seed must mean the same bytes
//! everywhere.

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Independent streams, so that drawing more document noise never shifts the ledger and
/// the ledger of a seed is the same whatever the number of documents.
pub(super) mod stream {
    pub const VENDORS: u64 = 1;
    pub const IDS: u64 = 2;
    pub const TRUE_ROWS: u64 = 3;
    pub const NEAR_MISSES: u64 = 4;
    pub const DOCUMENTS: u64 = 5;
    pub const UNKNOWN: u64 = 6;
    pub const SHUFFLE: u64 = 7;
    pub const PO_NUMBERS: u64 = 8;
    /// Plus the vendor's index: each vendor draws its own rows.
    pub const VENDOR_ROWS: u64 = 1 << 32;
}

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny generator with a fixed output sequence,
/// so that a seed means the same bytes everywhere, whatever crate versions are around.
#[derive(Clone, Debug)]
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn new(seed: u64, stream: u64) -> Rng {
        Rng(seed ^ mix64(stream.wrapping_mul(GOLDEN_GAMMA)))
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN_GAMMA);
        mix64(self.0)
    }

    /// Uniform in `0..n` (multiply-shift; the bias is below 2^-40 for every `n` used here);
    /// 0 when `n` is 0.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)`, exactly representable.
    pub(super) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Picks from a constant, non-empty table.
    pub(super) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// Picks from a constant, non-empty table of `(item, weight)`.
    pub(super) fn pick_weighted<T: Copy>(&mut self, items: &[(T, u64)]) -> T {
        let total: u64 = items.iter().map(|&(_, w)| w).sum();
        let mut ticket = self.below(total);
        for &(item, weight) in items {
            if ticket < weight {
                return item;
            }
            ticket -= weight;
        }
        items[items.len() - 1].0
    }

    /// About standard normal: the Irwin-Hall sum of twelve 16-bit uniforms, which needs no
    /// platform `ln` or `cos` and is bounded at ±6.
    pub(super) fn normal(&mut self) -> f64 {
        let mut sum = 0.0;
        for _ in 0..3 {
            let bits = self.next_u64();
            for shift in [0, 16, 32, 48] {
                sum += (((bits >> shift) & 0xFFFF) as f64 + 0.5) / 65_536.0;
            }
        }
        sum - 6.0
    }
}

/// Selection sampling (Knuth's Algorithm S): asked once per row in order, says yes to
/// exactly `wanted` of `population` rows, every subset equally likely, in O(1) memory.
pub(super) struct Sample {
    wanted: u64,
    remaining: u64,
    rng: Rng,
}

impl Sample {
    pub(super) fn new(wanted: u64, population: u64, rng: Rng) -> Sample {
        Sample {
            wanted,
            remaining: population,
            rng,
        }
    }

    pub(super) fn take(&mut self) -> bool {
        let hit = self.rng.below(self.remaining) < self.wanted;
        self.remaining = self.remaining.saturating_sub(1);
        if hit {
            self.wanted -= 1;
        }
        hit
    }
}

/// e^x from IEEE basic operations only: `f64::exp` comes from the platform's libm, whose
/// last bit may differ between machines and flip a rounded cent.
pub(super) fn portable_exp(x: f64) -> f64 {
    let x = x.clamp(-700.0, 700.0);
    let k = (x / std::f64::consts::LN_2).round();
    let r = x - k * std::f64::consts::LN_2;
    // |r| <= ln2/2: eighteen Taylor terms are far below f64 precision.
    let (mut term, mut sum) = (1.0, 1.0);
    for i in 1..=18 {
        term *= r / f64::from(i);
        sum += term;
    }
    sum * f64::from_bits(((k as i64 + 1023) as u64) << 52)
}
