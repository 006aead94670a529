//! A hash map keyed by addresses (of graph nodes and tensors), hashed with one multiply: for
//! such keys SipHash's DoS resistance buys nothing and costs most of the lookup.

use std::hash::{BuildHasherDefault, Hasher};

/// The hasher of [`PtrMap`].
#[derive(Default)]
pub(crate) struct PtrHasher(u64);

impl Hasher for PtrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_usize(&mut self, v: usize) {
        // Fibonacci hashing; the high bits are well mixed, and hashbrown uses the top 7 bits.
        self.0 = (v as u64 ^ (v as u64 >> 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A `HashMap` keyed by addresses.
pub(crate) type PtrMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<PtrHasher>>;
