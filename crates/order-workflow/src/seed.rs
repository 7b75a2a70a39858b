//! Stable numbers derived from text, for seeds and fault rolls that must be the same on every
//! run: FNV-1a, optionally finished with the engine's SplitMix64 step so that nearby inputs
//! give unrelated numbers.

use sfn_local::SeededRandom;
use sfn_local::intrinsics::RandomSource as _;

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0100_0000_01b3;

/// FNV-1a over byte strings, started from a seed.
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Fnv1a {
    /// A hash whose start is moved by `seed` (0 gives plain FNV-1a).
    pub fn new(seed: u64) -> Self {
        Fnv1a(OFFSET ^ seed)
    }

    /// Adds `bytes`.
    pub fn feed(&mut self, bytes: &[u8]) -> &mut Self {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(PRIME);
        }
        self
    }

    /// The hash so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// A stable 64-bit hash of `text` (FNV-1a), for seeds derived from names.
pub fn fnv1a(text: &str) -> u64 {
    Fnv1a::new(0).feed(text.as_bytes()).finish()
}

/// `z` scrambled by one SplitMix64 step: nearby inputs give unrelated outputs.
pub fn scramble(z: u64) -> u64 {
    SeededRandom::new(z).next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // FNV-1a 64-bit test vectors (Fowler, Noll, Vo: "FNV test suite").
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn scramble_is_splitmix64() {
        // SplitMix64 seeded with 0: its first output (Vigna's reference implementation).
        assert_eq!(scramble(0), 0xe220_a839_7b1d_cdaf);
        assert_ne!(scramble(1), scramble(2));
    }
}
