//! The stable hash behind `sticky` sampling.
//!
//! A sticky attack hits a call when the bucket of its sticky facet's value is below the
//! attack's share:
//!
//! 1. hash the value's UTF-8 bytes with 64-bit FNV-1a (offset basis `0xcbf29ce484222325`,
//!    prime `0x100000001b3`);
//! 2. mix the hash with the SplitMix64 finalizer, so that values that differ only in their
//!    last characters spread evenly;
//! 3. the bucket is the mixed hash modulo 10 000; the call is hit when
//!    `bucket < percent * 100`, so the share has a resolution of 0.01 percent.
//!
//! The hash does not depend on the process, the platform or the attack, so every replica
//! of a service picks the same values, and a value hit at 10 percent is also hit at 20.

/// Streams a facet value into 64-bit FNV-1a, as it is formatted.
pub(crate) struct StickyHasher(u64);

impl StickyHasher {
    pub(crate) fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for StickyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl std::fmt::Write for StickyHasher {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        std::hash::Hasher::write(self, text.as_bytes());
        Ok(())
    }
}

/// The bucket, in `0..10_000`, of a value's FNV-1a hash.
pub fn bucket(fnv: u64) -> u64 {
    let mut z = fnv.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    z % 10_000
}

/// Whether a value with this FNV-1a hash falls in the share `percent`.
///
/// The comparison is the documented `bucket < percent * 100`, computed the way a reader
/// of that rule computes it, so that [`sticky_bucket`] predicts every decision, including
/// shares finer than 0.01 percent (rounding the product would disagree with the rule for
/// the bucket the boundary falls in).
#[cfg(feature = "enabled")]
pub(crate) fn sticky_hit(fnv: u64, percent: f64) -> bool {
    // A bucket is below 10 000, so it converts to f64 exactly.
    #[allow(clippy::cast_precision_loss)]
    let bucket = bucket(fnv) as f64;
    bucket < percent * 100.0
}

/// The bucket, in `0..10_000`, that sticky sampling puts a facet value in; the value is hit
/// by sticky attacks whose `percent * 100` exceeds it. Use it to pick test values or check
/// which customers a drill reaches.
pub fn sticky_bucket(value: &str) -> u64 {
    let mut hasher = StickyHasher::new();
    std::hash::Hasher::write(&mut hasher, value.as_bytes());
    bucket(std::hash::Hasher::finish(&hasher))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        let hash = |text: &str| {
            let mut hasher = StickyHasher::new();
            std::hash::Hasher::write(&mut hasher, text.as_bytes());
            std::hash::Hasher::finish(&hasher)
        };
        assert_eq!(hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash("foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn buckets_spread_evenly() {
        let below = (0..20_000)
            .filter(|n| sticky_bucket(&format!("c-{n}")) < 2_500)
            .count();
        // 25 percent of 20 000, within six standard deviations (sd is about 61).
        assert!((4_634..=5_366).contains(&below), "{below}");
    }
}
