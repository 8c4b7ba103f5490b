//! Fingerprints: a 64-bit FNV-1a hash of the inputs of a computation.
//!
//! Resumable files (a half-filled surface, the rays cast so far, a Hessian's saved stages) store
//! the fingerprint of what they were computed from (parameters, data, settings), so that a
//! rerun with other inputs is refused instead of silently mixing two computations. Augmented
//! training batches use one to pick a random stream from their own contents. FNV-1a is not a
//! cryptographic hash; it only has to tell different inputs apart, and it is stable across
//! versions and machines, which is what a file that outlives the process needs.

use crate::Dataset;

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0100_0000_01b3;

/// A running FNV-1a hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Self::new()
    }
}

impl Fingerprint {
    /// The empty hash (FNV's offset basis).
    pub fn new() -> Self {
        Fingerprint(OFFSET)
    }

    /// Hashes `bytes`, one byte at a time (FNV-1a).
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        for &b in bytes {
            self.word(u64::from(b));
        }
        self
    }

    /// Hashes one whole word at once (`h = (h ^ w) * prime`): a cheaper variant for long
    /// inputs whose values are known to fit, such as the bits of `f32`s.
    pub fn word(&mut self, w: u64) -> &mut Self {
        self.0 = (self.0 ^ w).wrapping_mul(PRIME);
        self
    }

    /// Hashes the little-endian bytes of every value.
    pub fn f32s(&mut self, values: &[f32]) -> &mut Self {
        values.iter().for_each(|v| {
            self.bytes(&v.to_le_bytes());
        });
        self
    }

    /// Hashes the little-endian bytes of every value.
    pub fn f64s(&mut self, values: &[f64]) -> &mut Self {
        values.iter().for_each(|v| {
            self.bytes(&v.to_le_bytes());
        });
        self
    }

    /// Hashes a data set's features, then its labels (little-endian bytes).
    pub fn dataset(&mut self, data: &Dataset) -> &mut Self {
        self.f32s(data.features());
        data.labels().iter().for_each(|v| {
            self.bytes(&v.to_le_bytes());
        });
        self
    }

    /// Hashes the UTF-8 bytes of `text`.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.bytes(text.as_bytes())
    }

    /// The hash so far.
    pub fn value(&self) -> u64 {
        self.0
    }

    /// The hash as the `i64` an `.npz` file stores (the same bits).
    pub fn as_i64(&self) -> i64 {
        self.0 as i64
    }
}

/// FNV-1a of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    Fingerprint::new().bytes(bytes).value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_fnv1a_vectors() {
        // From the FNV reference (isthe.com/chongo/tech/comp/fnv): 64-bit FNV-1a.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn a_data_set_hashes_its_features_then_its_labels() {
        let d = Dataset::new(vec![1.0, -2.0, 0.5, 3.0], vec![0, 1], 2, 2).unwrap();
        let mut by_hand = Fingerprint::new();
        for v in [1.0f32, -2.0, 0.5, 3.0] {
            by_hand.bytes(&v.to_le_bytes());
        }
        for y in [0u32, 1] {
            by_hand.bytes(&y.to_le_bytes());
        }
        assert_eq!(Fingerprint::new().dataset(&d).value(), by_hand.value());
        let flipped = Dataset::new(vec![1.0, -2.0, 0.5, 3.0], vec![1, 0], 2, 2).unwrap();
        assert_ne!(
            Fingerprint::new().dataset(&d).value(),
            Fingerprint::new().dataset(&flipped).value()
        );
    }
}
